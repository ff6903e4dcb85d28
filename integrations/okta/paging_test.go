package okta

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/stepgraph/stepgraph/integrations/okta/oktafake"
	"github.com/stepgraph/stepgraph/sdk/runtime"
	"github.com/stepgraph/stepgraph/sdk/sdktest"
)

// loopingTransport rewrites the next link of every users listing page to
// point to the page itself: a provider whose paging never ends.
type loopingTransport struct{}

func (loopingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil || req.URL.Path != pathUsers {
		return resp, err
	}
	if resp.Header.Get("Link") != "" {
		resp.Header.Set("Link", `<`+req.URL.String()+`>; rel="next"`)
	}
	return resp, nil
}

func TestPagingLoopIsNeverSuccess(t *testing.T) {
	f := startFake(t, oktafake.OrgSpec{Users: 450, Seed: 3}, oktafake.ServerOptions{},
		func(o *Options) { o.Transport = loopingTransport{} })
	c := f.run(t, sdktest.RunOptions{AllowFailures: true})
	if st := c.StepStatus(StepUsers); st == runtime.StatusSuccess {
		t.Fatalf("fetch-users ended %s on a listing whose next link loops", st)
	}
	var msg string
	for _, s := range c.Result.Summary.Steps {
		if s.ID == StepUsers {
			msg = s.Error
		}
	}
	if !strings.Contains(msg, "paging loop") || !strings.Contains(msg, pathUsers) {
		t.Errorf("fetch-users error %q does not name the listing and the loop", msg)
	}
	if partial := c.Result.Summary.Metadata.PartialDatasets.Types; !slices.Contains(partial, typeUser) {
		t.Errorf("okta_user is not partial: %v", partial)
	}
}

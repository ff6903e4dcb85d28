package okta

import (
	"bytes"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/stepgraph/stepgraph/integrations/okta/oktafake"
	"github.com/stepgraph/stepgraph/sdk/runtime"
	"github.com/stepgraph/stepgraph/sdk/sdktest"
)

// customAttribute adds to every user of the users listing a custom profile
// attribute "emailDomain" holding a string, where the data model's User
// wants a list of strings, and "costCenter", which breaks nothing.
type customAttribute struct{}

func (customAttribute) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil || req.URL.Path != pathUsers || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	b = bytes.ReplaceAll(b, []byte(`"profile":{`), []byte(`"profile":{"emailDomain":"acme.example","costCenter":"cc-7",`))
	resp.Body = io.NopCloser(bytes.NewReader(b))
	resp.ContentLength = int64(len(b))
	resp.Header.Del("Content-Length")
	return resp, nil
}

// TestProfileAttributeBreakingTheDataModelCostsOnlyThatAttribute: a custom
// profile attribute that breaks a rule of the User class (as JupiterOne's
// validator would reject it) used to fail fetch-users at add time, so no
// user was written. Now every user is written without that attribute (and
// with the others), and the step names the attribute and the users.
func TestProfileAttributeBreakingTheDataModelCostsOnlyThatAttribute(t *testing.T) {
	f := startFake(t, oktafake.OrgSpec{Users: 30, Seed: 5}, oktafake.ServerOptions{}, func(o *Options) { o.Transport = customAttribute{} })
	c := f.run(t, sdktest.RunOptions{})
	users := stepByID(c.Result.Summary, StepUsers)
	if users.Status != runtime.StatusSuccess {
		t.Fatalf("fetch-users %s: %s", users.Status, users.Error)
	}
	written := c.EntitiesOf(typeUser)
	if got, want := len(written), len(f.org.Truth().Users); got != want {
		t.Fatalf("%d users written, want %d", got, want)
	}
	for _, u := range written {
		if _, kept := u.Properties["emailDomain"]; kept {
			t.Errorf("user %s kept the invalid emailDomain %v", u.Key, u.Properties["emailDomain"])
		}
		if u.Properties["costCenter"] != "cc-7" {
			t.Errorf("user %s lost the valid costCenter attribute: %v", u.Key, u.Properties["costCenter"])
		}
	}
	if !slices.ContainsFunc(users.Warnings, func(w string) bool {
		return strings.Contains(w, `"emailDomain"`) && strings.Contains(w, written[0].Key)
	}) {
		t.Errorf("fetch-users does not name the dropped attribute and its users: %q", users.Warnings)
	}
	if slices.Contains(c.Result.Summary.Metadata.PartialDatasets.Types, typeUser) {
		t.Error("okta_user partial: every user was collected")
	}
}

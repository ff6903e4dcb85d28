package okta

import (
	"testing"

	"github.com/stepgraph/stepgraph/integrations/okta/oktafake"
	"github.com/stepgraph/stepgraph/sdk/sdktest"
)

// TestEachRunBuildsItsOwnClient: the API client is built by the
// integration's Setup for one run and dropped when it ends, so nothing a
// run learned (an access token, rate-limit state) carries over to the
// next run of the same collector (#12): two runs authenticate twice. The
// collector's HTTP statistics still count both runs.
func TestEachRunBuildsItsOwnClient(t *testing.T) {
	f := startOAuthFake(t, oktafake.OrgSpec{Users: 20, Seed: 1}, oktafake.ServerOptions{}, newECKey(t), nil)
	f.run(t, sdktest.RunOptions{})
	first := f.srv.Server.Stats().Requests
	f.run(t, sdktest.RunOptions{})
	if ts := f.srv.Server.TokenStats(); ts.Issued != 2 {
		t.Errorf("%d access tokens issued for two runs, want 2 (one per run's client)", ts.Issued)
	}
	var total int64
	for _, s := range f.col.HTTPStats() {
		total += int64(s.Requests)
	}
	if api := f.srv.Server.Stats().Requests; total != api || api <= first {
		t.Errorf("HTTPStats counts %d requests, the fake answered %d (%d in the first run)", total, api, first)
	}
}

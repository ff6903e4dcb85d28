package okta

import (
	"context"
	"testing"

	"github.com/stepgraph/stepgraph/integrations/okta/oktafake"
)

// TestProbe checks validate's permission probe: one request per source, a
// forbidden endpoint reported on its source only, and no data collected.
func TestProbe(t *testing.T) {
	f := startFake(t, oktafake.OrgSpec{Users: 20, Seed: 3}, oktafake.ServerOptions{
		Faults: oktafake.Faults{Forbidden: []string{oktafake.EndpointIAMAssignees, oktafake.EndpointUserFactors}},
	})
	res, err := f.col.Probe(context.Background(), f.cfg)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, r := range res {
		got[r.Source] = r.Err == nil
	}
	want := map[string]bool{"users": true, SourceGroups: true, SourceApplications: true, SourceRules: true,
		"system-log": true, SourceRoles: false, SourceMFADevices: false}
	for src, ok := range want {
		if v, present := got[src]; !present || v != ok {
			t.Errorf("source %s: probed=%v ok=%v, want ok=%v", src, present, v, ok)
		}
	}
	if _, probed := got[SourceDevices]; probed {
		t.Error("devices probed although the source is off by default")
	}
	st := f.srv.Server.Stats()
	if st.Requests > 10 {
		t.Errorf("probe made %d requests, want one per source plus the token check", st.Requests)
	}
}

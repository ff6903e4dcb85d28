package okta

import (
	"testing"

	"github.com/stepgraph/stepgraph/integrations/okta/oktafake"
	"github.com/stepgraph/stepgraph/sdk/runtime"
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

// TestEachRequestBelongsToItsStep: group members, application users and
// application groups are requested by the steps that report them
// (fetch-group-members, fetch-application-users,
// build-group-app-relationships), not prefetched by fetch-groups or
// fetch-applications, so their errors are reported where they happen and
// the listing steps stay clean (#12).
func TestEachRequestBelongsToItsStep(t *testing.T) {
	f := startFake(t, oktafake.OrgSpec{Users: 40, Seed: 4}, oktafake.ServerOptions{
		Faults: oktafake.Faults{Forbidden: []string{oktafake.EndpointGroupUsers, oktafake.EndpointAppUsers, oktafake.EndpointAppGroups}},
	})
	c := f.run(t, sdktest.RunOptions{})
	for _, tc := range []struct {
		step    string
		partial bool
	}{
		{StepGroups, false}, {StepApplications, false},
		{StepGroupMembers, true}, {StepAppUsers, true}, {StepGroupApps, true},
	} {
		s := stepByID(c.Result.Summary, tc.step)
		if s.Status != runtime.StatusSuccess || (len(s.PartialTypes) > 0) != tc.partial {
			t.Errorf("step %s: %s, partial %v, warnings %v; want success, partial=%v", tc.step, s.Status, s.PartialTypes, s.Warnings, tc.partial)
		}
	}
}

// TestUsersAloneCarryMFAEnabled: fetch-users reads the factors its
// mfaEnabled needs whether or not fetch-mfa-devices runs (collect --step
// fetch-users), and none when the mfa-devices source is disabled for the
// run (#12: no WillRun).
func TestUsersAloneCarryMFAEnabled(t *testing.T) {
	f := startFake(t, oktafake.OrgSpec{Users: 30, Seed: 2}, oktafake.ServerOptions{})
	c := f.run(t, sdktest.RunOptions{Only: []string{StepUsers}})
	for _, u := range c.EntitiesOf(typeUser) {
		if _, ok := u.Properties["mfaEnabled"]; !ok {
			t.Fatalf("user %s stored without mfaEnabled by fetch-users alone", u.Key)
		}
	}
	f.srv.Server.ResetStats()
	c = f.run(t, sdktest.RunOptions{Only: []string{StepUsers}, DisableSources: []string{SourceMFADevices}})
	if n := f.srv.Server.Stats().Endpoints[oktafake.EndpointUserFactors]; n != 0 {
		t.Errorf("%d factor requests with the mfa-devices source disabled", n)
	}
	for _, u := range c.EntitiesOf(typeUser) {
		if _, ok := u.Properties["mfaEnabled"]; ok {
			t.Fatalf("user %s has mfaEnabled although factors were not read", u.Key)
		}
	}
}

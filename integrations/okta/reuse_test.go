package okta

import (
	"context"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stepgraph/stepgraph/integrations/okta/oktafake"
	"github.com/stepgraph/stepgraph/sdk/runtime"
	"github.com/stepgraph/stepgraph/sdk/sdktest"
	"github.com/stepgraph/stepgraph/sdk/store"
)

// TestBuildStepsWithReusedDependencies runs the relationship-building steps
// alone, their fetch dependencies replayed from a previous run's output
// (collect --step X --use-cache). The steps that hand them run-local data
// (the factors, group members and app users) run again, saying why; the
// listings of groups and applications are reused, and the build steps
// produce the same relationships as the full run.
func TestBuildStepsWithReusedDependencies(t *testing.T) {
	f := startFake(t, oktafake.OrgSpec{Users: 120, Seed: 7}, oktafake.ServerOptions{})
	ctx := context.Background()
	root := filepath.Join(t.TempDir(), "out")
	full, err := store.NewFilesystem(root, store.FilesystemOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := runtime.Run(ctx, f.col.Integration(), f.cfg, runtime.Options{Store: full}); err != nil {
		t.Fatal(err)
	}
	first, err := store.OpenDir(root)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{}
	for _, typ := range []string{relGroupHasUser, relUserAssignedApp, relGroupAssignedApp, relUserAssignedAWSRole, relUserGroupAssignedAWSRole, typeMFADevice, relUserAssignedFactor} {
		want[typ] = first.Count(typ)
		if want[typ] == 0 {
			t.Fatalf("full run emitted no %s: the fake org should have some", typ)
		}
	}

	f.srv.Server.ResetStats()
	again, err := store.NewFilesystem(root, store.FilesystemOptions{})
	if err != nil {
		t.Fatal(err)
	}
	only := []string{StepUserGroupUsers, StepAppUserGroupUsers, StepUserApps, StepGroupApps, StepMFADevices}
	res, err := runtime.Run(ctx, f.col.Integration(), f.cfg, runtime.Options{Store: again, Only: only, Reuse: first})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range res.Summary.Steps {
		if s.Status != runtime.StatusSuccess && s.Status != runtime.StatusDisabled {
			t.Errorf("%s: %s %s", s.ID, s.Status, s.Error)
		}
	}
	for _, ep := range []string{oktafake.EndpointGroups, oktafake.EndpointApps, oktafake.EndpointOktaSupport} {
		if n := f.srv.Server.Stats().Endpoints[ep]; n > 0 {
			t.Errorf("%s: %d requests although its step was reused", ep, n)
		}
	}
	for _, id := range []string{StepUsers, StepGroupMembers, StepAppUsers} {
		s := stepByID(res.Summary, id)
		if !slices.ContainsFunc(s.Warnings, func(w string) bool { return strings.Contains(w, "not reused") && strings.Contains(w, "run-local") }) {
			t.Errorf("%s: warnings %q do not say why it ran again", id, s.Warnings)
		}
	}
	second, err := store.OpenDir(root)
	if err != nil {
		t.Fatal(err)
	}
	for typ, n := range want {
		if got := second.Count(typ); got != n {
			t.Errorf("%s: %d with reused dependencies, %d in the full run", typ, got, n)
		}
	}
}

// TestReuseMode runs the test kit's reuse mode over the Okta integration:
// every step with dependencies, run alone with them reused from a full
// run's output, emits what it emitted in the full run (issue #10 item 2).
func TestReuseMode(t *testing.T) {
	f := startFake(t, oktafake.OrgSpec{Users: 60, Seed: 3}, oktafake.ServerOptions{})
	f.cfg.EnableDevices = true
	sdktest.CheckReuse(t, f.col.Integration(), f.cfg, sdktest.RunOptions{Logger: slog.New(slog.DiscardHandler)})
}

// TestEveryoneHoldsDeprovisionedUsers: Okta never removes a user from the
// BUILT_IN Everyone group, so it HAS every collected user, DEPROVISIONED
// ones included (okta-spec §4; issue #10 item 4).
func TestEveryoneHoldsDeprovisionedUsers(t *testing.T) {
	f := startFake(t, oktafake.OrgSpec{Users: 200, Seed: 5}, oktafake.ServerOptions{})
	c := f.run(t, sdktest.RunOptions{})
	tr := f.org.Truth()
	everyone := tr.Groups[0].ID
	members := map[string]bool{}
	for _, r := range c.RelationshipsOf(relGroupHasUser) {
		if r.FromKey == everyone {
			members[r.ToKey] = true
		}
	}
	deprovisioned := tr.UsersByStatus[oktafake.StatusDeprovisioned]
	if len(deprovisioned) == 0 {
		t.Fatal("the fake org has no deprovisioned user")
	}
	for _, id := range deprovisioned {
		if !members[id] {
			t.Errorf("deprovisioned user %s is not in Everyone", id)
		}
	}
	if users := len(c.EntitiesOf(typeUser)); len(members) != users {
		t.Errorf("Everyone has %d members, %d users were collected", len(members), users)
	}
}

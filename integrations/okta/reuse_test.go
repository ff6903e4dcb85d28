package okta

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stepgraph/stepgraph/integrations/okta/oktafake"
	"github.com/stepgraph/stepgraph/sdk/runtime"
	"github.com/stepgraph/stepgraph/sdk/store"
)

// TestBuildStepsWithReusedDependencies runs the relationship-building steps
// alone, their fetch dependencies replayed from a previous run's output
// (collect --step X --use-cache): nothing was prefetched in this run, so
// the build steps page the child lists themselves and must produce the
// same relationships as the full run.
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
		if s.Status != store.StatusSuccess && s.Status != store.StatusDisabled {
			t.Errorf("%s: %s %s", s.ID, s.Status, s.Error)
		}
	}
	if n := f.srv.Server.Stats().Endpoints[oktafake.EndpointUsers]; n > 1 {
		t.Errorf("users were listed again (%d requests) although fetch-users was reused", n)
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

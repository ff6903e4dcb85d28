package okta

import (
	"bytes"
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stepgraph/stepgraph/integrations/okta/oktafake"
	"github.com/stepgraph/stepgraph/sdk/cli"
	"github.com/stepgraph/stepgraph/sdk/graph"
	"github.com/stepgraph/stepgraph/sdk/runtime"
	"github.com/stepgraph/stepgraph/sdk/sdktest"
	"github.com/stepgraph/stepgraph/sdk/store"
)

// TestFaultMatrix2000Users is issue #10's fault matrix: against a 2,000-user
// org whose server answers 5% of requests 500 and drops 2% of connections
// mid-body, collect loses nothing (every object of the ground truth),
// marks nothing partial beyond the types declared always partial, and
// exits 0. It runs the real command line over a filesystem output and
// checks the same run's objects against the truth.
func TestFaultMatrix2000Users(t *testing.T) {
	if testing.Short() {
		t.Skip("2,000 users with faults: skipped with -short (CI runs it)")
	}
	f := startFake(t, oktafake.OrgSpec{Users: 2000, Seed: 31}, oktafake.ServerOptions{
		Faults: oktafake.Faults{Seed: 5, ErrorRate: 0.05, DropRate: 0.02},
	})
	f.cfg.EnableDevices = true
	env := map[string]string{"OKTA_ORG_URL": f.cfg.OrgURL, "OKTA_API_KEY": f.cfg.APIKey, "OKTA_ENABLE_DEVICES": "true"}
	var stdout, stderr bytes.Buffer
	app := &cli.App[Config]{
		Integration: f.col.Integration(), Program: "okta", Stdout: &stdout, Stderr: &stderr, NoSignals: true,
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
	}
	out := filepath.Join(t.TempDir(), "out")
	code := app.Main(context.Background(), []string{"collect", "--output", out, "--progress", "off", "--env-file", ""})
	if code != cli.ExitOK {
		t.Fatalf("collect exit %d, want 0\n%s\n%s", code, stdout.String(), stderr.String())
	}
	st := f.srv.Server.Stats()
	if st.Injected5xx == 0 || st.Dropped == 0 {
		t.Fatalf("faults not exercised: %+v", st)
	}
	t.Logf("%d requests, %d answered 500, %d dropped", st.Requests, st.Injected5xx, st.Dropped)

	d, err := store.OpenDir(out)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := runtime.ReadSummary(d)
	if err != nil || sum == nil {
		t.Fatalf("summary: %v", err)
	}
	var declaredPartial []string
	for _, s := range f.col.Integration().Steps {
		for _, r := range s.Relationships {
			if r.Partial {
				declaredPartial = append(declaredPartial, r.Type)
			}
		}
	}
	for _, typ := range sum.Metadata.PartialDatasets.Types {
		if !slices.Contains(declaredPartial, typ) {
			t.Errorf("%s marked partial under recoverable faults", typ)
		}
	}
	for _, s := range sum.Steps {
		if s.Status != runtime.StatusSuccess || len(s.PartialTypes) > 0 {
			t.Errorf("step %s: %s %s partial %v", s.ID, s.Status, s.Error, s.PartialTypes)
		}
	}
	checkAgainstTruth(t, collectionOf(t, d), expect(t, f.org, nil))
}

// collectionOf reads a committed output into a Collection for the truth
// checks (which look objects up by type).
func collectionOf(t *testing.T, d *store.Dir) *sdktest.Collection {
	t.Helper()
	c := &sdktest.Collection{}
	ctx := context.Background()
	for _, typ := range d.EntityTypes() {
		if err := d.IterateEntities(ctx, typ, func(e *graph.Entity) error { c.Entities = append(c.Entities, e); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	for _, typ := range d.RelationshipTypes() {
		if err := d.IterateRelationships(ctx, typ, func(r *graph.Relationship) error { c.Relationships = append(c.Relationships, r); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	slices.SortFunc(c.Entities, func(a, b *graph.Entity) int { return strings.Compare(a.Key, b.Key) })
	slices.SortFunc(c.Relationships, func(a, b *graph.Relationship) int { return strings.Compare(a.Key, b.Key) })
	return c
}

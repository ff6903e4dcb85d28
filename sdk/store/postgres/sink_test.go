package postgres

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stepgraph/stepgraph/sdk/graph"
	"github.com/stepgraph/stepgraph/sdk/integration"
	"github.com/stepgraph/stepgraph/sdk/runtime"
	"github.com/stepgraph/stepgraph/sdk/store"
)

type teamConfig struct {
	Users      int
	FailGroups bool
}

// teamIntegration: users, then groups whose step reads the users back from
// the store (FindEntity, IterateEntities) while the run is going on.
func teamIntegration() *integration.Integration[teamConfig] {
	return &integration.Integration[teamConfig]{
		Name: "team",
		Steps: []integration.Step[teamConfig]{
			{
				ID: "fetch-users", Name: "Users",
				Entities: []integration.EntityType{{Resource: "User", Type: "team_user", Class: []string{"User"}}},
				Run: func(ctx context.Context, sc *integration.StepContext[teamConfig]) error {
					for i := range sc.Config.Users {
						u := entity(fmt.Sprintf("team-user-%04d", i), "team_user", []string{"User"}, fmt.Sprintf("u%d", i),
							map[string]any{"name": fmt.Sprintf("u%d", i), "username": fmt.Sprintf("u%d", i), "email": fmt.Sprintf("u%d@team.example", i), "active": true})
						if err := sc.AddEntities(ctx, u); err != nil {
							return err
						}
					}
					return nil
				},
			},
			{
				ID: "fetch-groups", Name: "Groups", DependsOn: []string{"fetch-users"},
				Entities:      []integration.EntityType{{Resource: "Group", Type: "team_group", Class: []string{"UserGroup"}}},
				Relationships: []integration.RelationshipType{{Type: "team_group_has_user", Class: graph.HAS, Source: "team_group", Target: "team_user"}},
				Run: func(ctx context.Context, sc *integration.StepContext[teamConfig]) error {
					g := entity("team-group-all", "team_group", []string{"UserGroup"}, "all", map[string]any{"name": "all"})
					if err := sc.AddEntities(ctx, g); err != nil {
						return err
					}
					first, err := sc.FindEntity(ctx, "team-user-0000")
					if err != nil {
						return err
					}
					if sc.Config.Users > 0 && first == nil {
						return errors.New("FindEntity did not see the first user")
					}
					var rels []*graph.Relationship
					if err := sc.IterateEntities(ctx, "team_user", func(u *graph.Entity) error {
						rels = append(rels, graph.Direct(g, graph.HAS, u))
						return nil
					}); err != nil {
						return err
					}
					if len(rels) != sc.Config.Users {
						return fmt.Errorf("IterateEntities saw %d users, want %d", len(rels), sc.Config.Users)
					}
					if err := sc.AddRelationships(ctx, rels...); err != nil {
						return err
					}
					if sc.Config.FailGroups {
						return errors.New("groups API is down")
					}
					return nil
				},
			},
		},
	}
}

func TestStoreCollectsIntoDatabase(t *testing.T) {
	t.Parallel()
	db := testDB(t, Options{})
	ctx := context.Background()
	inst := Instance{Integration: "team", Name: "main"}
	run := func(cfg teamConfig, root string) (*Store, *runtime.Result) {
		t.Helper()
		st, err := NewStore(ctx, db, inst, StoreOptions{Root: root})
		if err != nil {
			t.Fatal(err)
		}
		res, err := runtime.Run(ctx, teamIntegration(), &cfg, runtime.Options{Store: st})
		if err != nil {
			t.Fatalf("run: %v", err)
		}
		return st, res
	}

	st, res := run(teamConfig{Users: 50}, "")
	if res.Failed() {
		t.Fatalf("run failed: %+v", res.Summary.Steps)
	}
	pr := st.Result()
	if pr == nil || pr.Entities != 51 || pr.Relationships != 50 || pr.Status != RunSuccess {
		t.Fatalf("result: %v", pr)
	}
	if _, err := os.Stat(filepath.Dir(st.Root())); !os.IsNotExist(err) {
		t.Fatalf("temporary output %s left behind (%v)", st.Root(), err)
	}
	if got := queryInt(t, db, `SELECT count(*) FROM sync_run WHERE source = 'collect' AND status = 'success'`); got != 1 {
		t.Fatalf("%d successful collect runs", got)
	}

	// A failing groups step with fewer users: users shrink, groups and
	// memberships stay whole. The output is kept in Root.
	root := filepath.Join(t.TempDir(), store.DefaultRoot)
	st2, res2 := run(teamConfig{Users: 30, FailGroups: true}, root)
	if res2.StepStatus("fetch-groups") != runtime.StatusFailure {
		t.Fatalf("groups step: %s", res2.StepStatus("fetch-groups"))
	}
	if st2.Result().Status != RunPartial {
		t.Fatalf("status %s", st2.Result().Status)
	}
	if got := queryInt(t, db, `SELECT count(*) FROM entity WHERE type = 'team_user'`); got != 30 {
		t.Fatalf("%d users, want 30", got)
	}
	if got := queryInt(t, db, `SELECT count(*) FROM relationship WHERE type = 'team_group_has_user'`); got != 50 {
		t.Fatalf("%d memberships, want all 50 kept", got)
	}
	if _, err := store.OpenDir(root); err != nil {
		t.Fatalf("Root output not kept: %v", err)
	}
	steps := query(t, db, `SELECT step_id, status FROM sync_step WHERE run_id = $1 ORDER BY step_id`, st2.RunID())
	if len(steps) != 2 || steps[0] != "fetch-groups|failure" || steps[1] != "fetch-users|success" {
		t.Fatalf("steps: %v", steps)
	}
	partial := query(t, db, `SELECT array_to_string(partial_types, ',') FROM sync_run WHERE id = $1`, st2.RunID())
	if partial[0] != "team_group,team_group_has_user" {
		t.Fatalf("partial types: %v", partial)
	}
}

func TestStoreAbortLoadsNothing(t *testing.T) {
	t.Parallel()
	db := testDB(t, Options{})
	ctx := context.Background()
	integ := teamIntegration()
	integ.Validate = func(context.Context, *teamConfig) error { return errors.New("bad config") }
	st, err := NewStore(ctx, db, Instance{Integration: "team"}, StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := runtime.Run(ctx, integ, &teamConfig{Users: 3}, runtime.Options{Store: st}); err == nil {
		t.Fatal("run with a bad config succeeded")
	}
	if got := query(t, db, `SELECT status FROM sync_run`); len(got) != 1 || got[0] != RunAborted {
		t.Fatalf("runs: %v", got)
	}
	if got := queryInt(t, db, `SELECT count(*) FROM entity`); got != 0 {
		t.Fatalf("%d entities after an aborted run", got)
	}
	// The lock is free again.
	st2, err := NewStore(ctx, db, Instance{Integration: "team"}, StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_ = st2.Abort()
}

func TestOpenStoreAndPushURL(t *testing.T) {
	t.Parallel()
	url := os.Getenv(urlEnv)
	if url == "" {
		t.Skipf("%s is not set", urlEnv)
	}
	pool := testPool(t)
	schema := uniqueSchema(t)
	t.Cleanup(func() { _, _ = pool.Exec(context.Background(), `DROP SCHEMA IF EXISTS "`+schema+`" CASCADE`) })
	ctx := context.Background()
	root := filepath.Join(t.TempDir(), store.DefaultRoot)
	st, err := OpenStore(ctx, url, Instance{Integration: "team", Name: "x"}, Options{Schema: schema}, StoreOptions{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := runtime.Run(ctx, teamIntegration(), &teamConfig{Users: 4}, runtime.Options{Store: st}); err != nil {
		t.Fatal(err)
	}
	inst, err := ParseInstance("team/x")
	if err != nil || inst != (Instance{"team", "x"}) {
		t.Fatalf("ParseInstance: %v %v", inst, err)
	}
	// push of the kept output: same content, a later run, no change.
	res, err := PushURL(ctx, url, root, Instance{Name: "x"}, Options{Schema: schema, AllowOlder: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Instance != inst || res.Entities != 5 || res.Added+res.Changed+res.Removed != 0 || res.Generation != 2 {
		t.Fatalf("push: %s", res)
	}
	if !IsURL("postgresql://h/db") || IsURL("/tmp/out") {
		t.Fatal("IsURL")
	}
	if _, err := Open(ctx, "postgres://user:secret@[::1:bad/db", Options{}); err == nil || strings.Contains(err.Error(), "secret") {
		t.Fatalf("bad URL error leaks or passes: %v", err)
	}
}

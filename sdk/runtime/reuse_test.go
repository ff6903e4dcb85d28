package runtime_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stepgraph/stepgraph/sdk/graph"
	"github.com/stepgraph/stepgraph/sdk/integration"
	"github.com/stepgraph/stepgraph/sdk/runtime"
	"github.com/stepgraph/stepgraph/sdk/store"
)

// reuseFixture is a small graph shaped like Okta's: accounts; users and
// groups from the account; roles from users and groups; apps from users.
// Group HAS user relationships come from two steps (one type, two steps).
type reuseFixture struct {
	calls     sync.Map // step id -> *atomic.Int64
	failUsers atomic.Bool
	partial   atomic.Bool // groups marks its type partial
	validated atomic.Int64
}

func (f *reuseFixture) ran(id string) int64 {
	v, _ := f.calls.LoadOrStore(id, &atomic.Int64{})
	return v.(*atomic.Int64).Load()
}

func (f *reuseFixture) count(id string) {
	v, _ := f.calls.LoadOrStore(id, &atomic.Int64{})
	v.(*atomic.Int64).Add(1)
}

var (
	groupEnt     = integration.EntityType{Resource: "Group", Type: "t_group", Class: []string{"UserGroup"}}
	groupHasUser = integration.RelationshipType{Type: "t_group_has_user", Class: graph.HAS, Source: "t_group", Target: "t_user"}
	roleEnt      = integration.EntityType{Resource: "Role", Type: "t_role", Class: []string{"AccessRole"}}
	appEnt       = integration.EntityType{Resource: "App", Type: "t_app", Class: []string{"Application"}}
)

type handedUsers struct {
	IDs   []string `json:"ids"`
	Admin string   `json:"admin"`
}

func group(i int) *graph.Entity {
	return (&graph.Entity{Key: fmt.Sprintf("t_group_%06d", i), Type: "t_group", Class: []string{"UserGroup"}, DisplayName: fmt.Sprint("g", i)}).Set("name", fmt.Sprint("g", i))
}

func (f *reuseFixture) integration() *integration.Integration[cfg] {
	wrap := func(id string, run func(ctx context.Context, sc *integration.StepContext[cfg]) error) func(context.Context, *integration.StepContext[cfg]) error {
		return func(ctx context.Context, sc *integration.StepContext[cfg]) error {
			f.count(id)
			return run(ctx, sc)
		}
	}
	return &integration.Integration[cfg]{
		Name: "t",
		Validate: func(context.Context, *cfg) error {
			f.validated.Add(1)
			return nil
		},
		Steps: []integration.Step[cfg]{
			{ID: "accounts", Name: "A", Entities: []integration.EntityType{accountType},
				Run: wrap("accounts", func(ctx context.Context, sc *integration.StepContext[cfg]) error {
					return sc.AddEntities(ctx, account())
				})},
			{ID: "users", Name: "U", DependsOn: []string{"accounts"}, Entities: []integration.EntityType{userType},
				Data: []integration.DataKey{integration.PersistedData[handedUsers]("users"), integration.RunLocalData("users.scratch")},
				Run: wrap("users", func(ctx context.Context, sc *integration.StepContext[cfg]) error {
					if f.failUsers.Load() {
						return errors.New("users: provider down")
					}
					h := handedUsers{Admin: user(0).Key}
					for i := range 5 {
						h.IDs = append(h.IDs, user(i).Key)
						if err := sc.AddEntities(ctx, user(i)); err != nil {
							return err
						}
					}
					sc.SetData("users", h)
					sc.SetData("users.scratch", "/tmp/some-file")
					return nil
				})},
			{ID: "groups", Name: "G", DependsOn: []string{"accounts", "users"},
				Entities: []integration.EntityType{groupEnt}, Relationships: []integration.RelationshipType{groupHasUser},
				Run: wrap("groups", func(ctx context.Context, sc *integration.StepContext[cfg]) error {
					for i := range 3 {
						if err := sc.AddEntities(ctx, group(i)); err != nil {
							return err
						}
						if err := sc.AddRelationships(ctx, graph.Direct(group(i), graph.HAS, user(i))); err != nil {
							return err
						}
					}
					if f.partial.Load() {
						sc.MarkPartial("one page could not be read", "t_group")
					}
					return nil
				})},
			{ID: "group-members-more", Name: "GM", DependsOn: []string{"groups"},
				Relationships: []integration.RelationshipType{groupHasUser},
				Run: wrap("group-members-more", func(ctx context.Context, sc *integration.StepContext[cfg]) error {
					return sc.AddRelationships(ctx, graph.Direct(group(0), graph.HAS, user(4)))
				})},
			{ID: "roles", Name: "R", DependsOn: []string{"users", "groups"}, Entities: []integration.EntityType{roleEnt},
				NeedsData: []string{"users"},
				Run: wrap("roles", func(ctx context.Context, sc *integration.StepContext[cfg]) error {
					v, ok := sc.GetData("users")
					if !ok {
						return errors.New("no users handed over")
					}
					h := v.(handedUsers) // the same Go type after reuse
					return sc.AddEntities(ctx, (&graph.Entity{Key: "t_role_admin", Type: "t_role", Class: []string{"AccessRole"}, DisplayName: h.Admin}).Set("name", "admin"))
				})},
			{ID: "apps", Name: "P", DependsOn: []string{"users"}, Entities: []integration.EntityType{appEnt},
				Run: wrap("apps", func(ctx context.Context, sc *integration.StepContext[cfg]) error {
					return sc.AddEntities(ctx, (&graph.Entity{Key: "t_app_000001", Type: "t_app", Class: []string{"Application"}, DisplayName: "app"}).Set("name", "app"))
				})},
		},
	}
}

func (f *reuseFixture) run(t *testing.T, root string, only ...string) (*runtime.Result, error) {
	t.Helper()
	opts := runtime.Options{Only: only}
	if len(only) > 0 {
		d, err := store.OpenDir(root)
		if err != nil {
			t.Fatal(err)
		}
		opts.Reuse = d
	}
	fs, err := store.NewFilesystem(root, store.FilesystemOptions{})
	if err != nil {
		t.Fatal(err)
	}
	opts.Store = fs
	return runtime.Run(context.Background(), f.integration(), &cfg{}, opts)
}

func stepSummary(t *testing.T, res *runtime.Result, id string) runtime.StepSummary {
	t.Helper()
	for _, s := range res.Summary.Steps {
		if s.ID == id {
			return s
		}
	}
	t.Fatalf("no step %s in the summary", id)
	return runtime.StepSummary{}
}

// TestReuseNeverTurnsNotCollectedIntoEmpty is issue #10 item 1: the second
// run leaves groups "not selected"; the third must not reuse that as a
// successful, empty collection. It collects groups instead, and every type
// ends complete with the first run's counts.
func TestReuseNeverTurnsNotCollectedIntoEmpty(t *testing.T) {
	root := filepath.Join(t.TempDir(), "out")
	f := &reuseFixture{}
	if _, err := f.run(t, root); err != nil {
		t.Fatal(err)
	}
	res, err := f.run(t, root, "apps")
	if err != nil {
		t.Fatal(err)
	}
	if got := stepSummary(t, res, "groups").Status; got != runtime.StatusDisabled {
		t.Fatalf("second run: groups %s, want disabled", got)
	}
	if !slices.Contains(res.Summary.Metadata.PartialDatasets.Types, "t_group") {
		t.Errorf("second run: t_group not partial: %v", res.Summary.Metadata.PartialDatasets.Types)
	}
	before := f.ran("groups")
	res, err = f.run(t, root, "roles")
	if err != nil {
		t.Fatal(err)
	}
	if f.ran("groups") != before+1 {
		t.Errorf("groups ran %d times in the third run, want 1: it was not collected by the run it would be reused from", f.ran("groups")-before)
	}
	g := stepSummary(t, res, "groups")
	if g.Status != runtime.StatusSuccess || g.EncounteredTypeCounts["t_group"] != 3 {
		t.Errorf("third run: groups %s with %v", g.Status, g.EncounteredTypeCounts)
	}
	if !slices.ContainsFunc(g.Warnings, func(w string) bool { return strings.Contains(w, "not reused") && strings.Contains(w, "disabled") }) {
		t.Errorf("third run: groups warnings %q do not say why it was collected", g.Warnings)
	}
	for _, typ := range []string{"t_group", "t_role", "t_user"} {
		if slices.Contains(res.Summary.Metadata.PartialDatasets.Types, typ) {
			t.Errorf("third run: %s partial, want complete", typ)
		}
	}
	if got := stepSummary(t, res, "users").Warnings; !slices.ContainsFunc(got, func(w string) bool { return strings.Contains(w, "reused") }) {
		t.Errorf("users was not reused: %q", got)
	}
}

// TestReuseRunsStepsThatFailedOrWerePartial: a step that failed, or marked a
// type partial, in the previous run is collected again, never reused as
// success.
func TestReuseRunsStepsThatFailedOrWerePartial(t *testing.T) {
	root := filepath.Join(t.TempDir(), "out")
	f := &reuseFixture{}
	f.failUsers.Store(true)
	f.partial.Store(true)
	if _, err := f.run(t, root); err != nil {
		t.Fatal(err)
	}
	f.failUsers.Store(false)
	f.partial.Store(false)
	u, g := f.ran("users"), f.ran("groups")
	res, err := f.run(t, root, "roles")
	if err != nil {
		t.Fatal(err)
	}
	if f.ran("users") != u+1 || f.ran("groups") != g+1 {
		t.Errorf("users ran %d, groups ran %d times; want both collected again", f.ran("users")-u, f.ran("groups")-g)
	}
	if p := res.Summary.Metadata.PartialDatasets.Types; slices.Contains(p, "t_user") || slices.Contains(p, "t_group") {
		t.Errorf("partial after collecting again: %v", p)
	}
	if res.StepStatus("roles") != runtime.StatusSuccess {
		t.Errorf("roles %s", res.StepStatus("roles"))
	}
}

// TestReuseReplaysOnlyTheStepsOwnFilesInFull: a type two steps emit is
// replayed per step (no duplicate key), and an output whose files hold
// fewer objects than its summary counted is not passed off as complete.
func TestReuseReplaysOnlyTheStepsOwnFilesInFull(t *testing.T) {
	root := filepath.Join(t.TempDir(), "out")
	f := &reuseFixture{}
	if _, err := f.run(t, root); err != nil {
		t.Fatal(err)
	}
	res, err := f.run(t, root, "roles", "group-members-more")
	if err != nil {
		t.Fatal(err)
	}
	if s := stepSummary(t, res, "groups"); s.Status != runtime.StatusSuccess || s.EncounteredTypeCounts["t_group_has_user"] != 3 {
		t.Fatalf("groups reused: %s %v %s", s.Status, s.EncounteredTypeCounts, s.Error)
	}
	// Lose one graph file of users behind the summary's back.
	files, _ := filepath.Glob(filepath.Join(root, "graph", "users", "entities", "*.json"))
	if len(files) == 0 {
		t.Fatal("no users file")
	}
	if err := os.WriteFile(files[0], []byte(`{"entities":[]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err = f.run(t, root, "roles")
	if err != nil {
		t.Fatal(err)
	}
	s := stepSummary(t, res, "users")
	if s.Status != runtime.StatusFailure || !strings.Contains(s.Error, "summary counted 5") {
		t.Errorf("users from a truncated output: %s %q", s.Status, s.Error)
	}
	if !slices.Contains(res.Summary.Metadata.PartialDatasets.Types, "t_user") {
		t.Errorf("t_user not partial: %v", res.Summary.Metadata.PartialDatasets.Types)
	}
}

// TestReuseHandsOverPersistedData is issue #10 item 2: data a reused step
// handed over comes back, as the same Go type, from the previous output;
// and the output of a run that reused the step keeps it for the next.
func TestReuseHandsOverPersistedData(t *testing.T) {
	root := filepath.Join(t.TempDir(), "out")
	f := &reuseFixture{}
	if _, err := f.run(t, root); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, store.StepDataDir, "users.json"))
	if err != nil {
		t.Fatal(err)
	}
	var saved map[string]json.RawMessage
	if err := json.Unmarshal(b, &saved); err != nil || saved["users"] == nil || saved["users.scratch"] != nil {
		t.Fatalf("persisted data %s (%v): want users and not the run-local users.scratch", b, err)
	}
	for range 2 { // the second time from an output that itself reused users
		u := f.ran("users")
		res, err := f.run(t, root, "roles")
		if err != nil {
			t.Fatal(err)
		}
		if f.ran("users") != u {
			t.Fatal("users ran; want it reused")
		}
		if s := stepSummary(t, res, "roles"); s.Status != runtime.StatusSuccess {
			t.Fatalf("roles after reuse: %s %s", s.Status, s.Error)
		}
	}
	d, _ := store.OpenDir(root)
	var got *graph.Entity
	_ = d.IterateEntities(context.Background(), "t_role", func(e *graph.Entity) error { got = e; return nil })
	if got == nil || got.DisplayName != user(0).Key {
		t.Errorf("role built from handed-over data: %+v", got)
	}
}

// TestReuseRunsTheProducerOfNeededRunLocalData: a step that needs a value
// its reused producer never persists (a scratch store, a client) gets it
// from that producer run again, which in turn runs the producer of the
// run-local value it needs itself; the summary says why each was not
// reused.
func TestReuseRunsTheProducerOfNeededRunLocalData(t *testing.T) {
	root := filepath.Join(t.TempDir(), "out")
	f := &reuseFixture{}
	build := func() *integration.Integration[cfg] {
		integ := f.integration()
		for i := range integ.Steps {
			s := &integ.Steps[i]
			switch s.ID {
			case "accounts":
				s.Data = []integration.DataKey{integration.RunLocalData("accounts.client")}
				run := s.Run
				s.Run = func(ctx context.Context, sc *integration.StepContext[cfg]) error {
					sc.SetData("accounts.client", "client")
					return run(ctx, sc)
				}
			case "users":
				s.NeedsData = []string{"accounts.client"}
			case "apps":
				s.NeedsData = []string{"users.scratch"}
				run := s.Run
				s.Run = func(ctx context.Context, sc *integration.StepContext[cfg]) error {
					if _, ok := sc.GetData("users.scratch"); !ok {
						return errors.New("users.scratch was not handed over")
					}
					return run(ctx, sc)
				}
			}
		}
		return integ
	}
	fs, _ := store.NewFilesystem(root, store.FilesystemOptions{})
	if _, err := runtime.Run(context.Background(), build(), &cfg{}, runtime.Options{Store: fs}); err != nil {
		t.Fatal(err)
	}
	accounts, users, apps := f.ran("accounts"), f.ran("users"), f.ran("apps")
	prev, _ := store.OpenDir(root)
	fs2, _ := store.NewFilesystem(root, store.FilesystemOptions{})
	res, err := runtime.Run(context.Background(), build(), &cfg{}, runtime.Options{Store: fs2, Only: []string{"apps"}, Reuse: prev})
	if err != nil {
		t.Fatal(err)
	}
	if f.ran("accounts") != accounts+1 || f.ran("users") != users+1 || f.ran("apps") != apps+1 {
		t.Errorf("accounts ran %d times, users %d, apps %d; want each once", f.ran("accounts")-accounts, f.ran("users")-users, f.ran("apps")-apps)
	}
	for _, tc := range []struct{ step, needer, key string }{{"users", "apps", "users.scratch"}, {"accounts", "users", "accounts.client"}} {
		s := stepSummary(t, res, tc.step)
		if s.Status != runtime.StatusSuccess {
			t.Errorf("%s: %s %s", tc.step, s.Status, s.Error)
		}
		if !slices.ContainsFunc(s.Warnings, func(w string) bool {
			return strings.Contains(w, "not reused") && strings.Contains(w, "step "+tc.needer) && strings.Contains(w, `"`+tc.key+`"`) && strings.Contains(w, "run-local")
		}) {
			t.Errorf("%s: warnings %q do not say that %s needs its run-local %s", tc.step, s.Warnings, tc.needer, tc.key)
		}
	}
	if s := stepSummary(t, res, "apps"); s.Status != runtime.StatusSuccess {
		t.Errorf("apps: %s %s", s.Status, s.Error)
	}
}

// TestSetDataOfUndeclaredKeyFailsTheStep: handed-over data is declared,
// then checked, like types.
func TestSetDataOfUndeclaredKeyFailsTheStep(t *testing.T) {
	integ := &integration.Integration[cfg]{Name: "t", Steps: []integration.Step[cfg]{
		{ID: "a", Name: "A", Run: func(ctx context.Context, sc *integration.StepContext[cfg]) error {
			sc.SetData("surprise", 1)
			return nil
		}},
	}}
	res, err := runtime.Run(context.Background(), integ, &cfg{}, runtime.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s := res.Summary.Steps[0]; s.Status != runtime.StatusFailure || !strings.Contains(s.Error, `"surprise"`) {
		t.Errorf("step a: %s %q", s.Status, s.Error)
	}
}

func TestPlanRejectsBadDataDeclarations(t *testing.T) {
	a, b, c := step("a"), step("b", "a"), step("c")
	a.Data = []integration.DataKey{integration.RunLocalData("k")}
	b.Data = []integration.DataKey{integration.RunLocalData("k")}
	if _, err := runtime.NewPlan([]integration.Step[cfg]{a, b}); err == nil || !strings.Contains(err.Error(), "declared by two steps") {
		t.Errorf("duplicate key: %v", err)
	}
	b.Data = nil
	c.NeedsData = []string{"k"}
	if _, err := runtime.NewPlan([]integration.Step[cfg]{a, b, c}); err == nil || !strings.Contains(err.Error(), "without depending") {
		t.Errorf("needs without dependency: %v", err)
	}
	c.NeedsData = []string{"nope"}
	if _, err := runtime.NewPlan([]integration.Step[cfg]{a, b, c}); err == nil || !strings.Contains(err.Error(), "no step declares") {
		t.Errorf("needs undeclared: %v", err)
	}
}

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
	"time"

	"github.com/stepgraph/stepgraph/sdk/graph"
	"github.com/stepgraph/stepgraph/sdk/integration"
	"github.com/stepgraph/stepgraph/sdk/runtime"
	"github.com/stepgraph/stepgraph/sdk/store"
)

type cfg struct {
	Token string `config:"token" env:"T_TOKEN" secret:"true"`
}

func noop(context.Context, *integration.StepContext[cfg]) error { return nil }

func step(id string, deps ...string) integration.Step[cfg] {
	return integration.Step[cfg]{ID: id, Name: strings.ToUpper(id), DependsOn: deps, Run: noop}
}

func TestPlanRejectsBadGraphs(t *testing.T) {
	tests := []struct {
		name   string
		steps  []integration.Step[cfg]
		want   string
		steps2 []string
	}{
		{"duplicate id", []integration.Step[cfg]{step("a"), step("a")}, "duplicate step id", []string{"a"}},
		{"unknown dep", []integration.Step[cfg]{step("a", "zzz")}, "unknown step", []string{"a", "zzz"}},
		{"self cycle", []integration.Step[cfg]{step("a", "a")}, "cycle", []string{"a"}},
		{"cycle", []integration.Step[cfg]{step("root"), step("a", "c", "root"), step("b", "a"), step("c", "b")}, "cycle", []string{"a", "b", "c"}},
		{"no run", []integration.Step[cfg]{{ID: "x"}}, "no Run", []string{"x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := runtime.NewPlan(tt.steps)
			var ge *runtime.GraphError
			if !errors.As(err, &ge) {
				t.Fatalf("want GraphError, got %v", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
			for _, s := range tt.steps2 {
				if !slices.Contains(ge.Steps, s) {
					t.Errorf("error steps %v do not name %q", ge.Steps, s)
				}
			}
		})
	}
}

func TestPlanOrderIsDeterministic(t *testing.T) {
	steps := []integration.Step[cfg]{step("d", "b", "c"), step("c", "a"), step("b", "a"), step("a"), step("e")}
	want := []string{"a", "c", "b", "d", "e"} // lowest declaration index first among ready steps
	for range 20 {
		p, err := runtime.NewPlan(steps)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Order(); !slices.Equal(got, want) {
			t.Fatalf("order = %v, want %v", got, want)
		}
	}
}

func TestStepsInOrder(t *testing.T) {
	ids := func(ps []*integration.Step[cfg]) []string {
		var out []string
		for _, s := range ps {
			out = append(out, s.ID)
		}
		return out
	}
	steps := []integration.Step[cfg]{step("d", "b", "c"), step("c", "a"), step("b", "a"), step("a"), step("e")}
	ordered := runtime.StepsInOrder(steps)
	if got, want := ids(ordered), []string{"a", "c", "b", "d", "e"}; !slices.Equal(got, want) {
		t.Fatalf("valid plan: order = %v, want %v", got, want)
	}
	if ordered[0] != &steps[3] {
		t.Fatal("StepsInOrder must point into the caller's slice")
	}
	cyclic := []integration.Step[cfg]{step("x", "y"), step("y", "x"), step("z")}
	if got, want := ids(runtime.StepsInOrder(cyclic)), []string{"x", "y", "z"}; !slices.Equal(got, want) {
		t.Fatalf("invalid plan: order = %v, want declaration order %v", got, want)
	}
}

var (
	accountType = integration.EntityType{Resource: "Account", Type: "t_account", Class: []string{"Account"}}
	userType    = integration.EntityType{Resource: "User", Type: "t_user", Class: []string{"User"}}
	hasUser     = integration.RelationshipType{Type: "t_account_has_user", Class: graph.HAS, Source: "t_account", Target: "t_user"}
)

func account() *graph.Entity {
	return (&graph.Entity{Key: "t_account_1", Type: "t_account", Class: []string{"Account"}, DisplayName: "Acct"}).Set("name", "Acct")
}

func user(i int) *graph.Entity {
	return (&graph.Entity{Key: fmt.Sprintf("t_user_%06d", i), Type: "t_user", Class: []string{"User"}, DisplayName: fmt.Sprint("u", i)}).
		Set("name", fmt.Sprint("u", i)).Set("username", fmt.Sprint("u", i)).Set("email", fmt.Sprintf("u%d@x.test", i)).Set("active", true)
}

func TestFailureSemantics(t *testing.T) {
	boom := errors.New("boom")
	var ran sync.Map
	mk := func(id string, err error, deps ...string) integration.Step[cfg] {
		s := step(id, deps...)
		s.Entities = []integration.EntityType{{Type: "t_" + strings.ReplaceAll(id, "-", "_"), Class: []string{"Configuration"}}}
		s.Run = func(ctx context.Context, sc *integration.StepContext[cfg]) error {
			ran.Store(id, true)
			return err
		}
		return s
	}
	integ := &integration.Integration[cfg]{
		Name: "t",
		Steps: []integration.Step[cfg]{
			mk("ok", nil), mk("bad", boom), mk("after-bad", nil, "bad"), mk("after-after", nil, "after-bad"),
			mk("off", nil), mk("after-off", nil, "off"), mk("fails-too", boom, "bad"),
		},
		StepStartStates: func(*cfg) map[string]integration.StepStartState {
			return map[string]integration.StepStartState{"off": {Disabled: true, Reason: "source off"}}
		},
	}
	res, err := runtime.Run(context.Background(), integ, &cfg{}, runtime.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"ok":          runtime.StatusSuccess,
		"bad":         runtime.StatusFailure,
		"after-bad":   runtime.StatusPartialDependencyFailure,
		"after-after": runtime.StatusPartialDependencyFailure,
		"off":         runtime.StatusDisabled,
		"after-off":   runtime.StatusDisabled,
		"fails-too":   runtime.StatusFailure,
	}
	for id, st := range want {
		if got := res.StepStatus(id); got != st {
			t.Errorf("step %s: status %q, want %q", id, got, st)
		}
	}
	if _, ok := ran.Load("after-off"); ok {
		t.Error("a step depending on a disabled step ran")
	}
	for _, s := range res.Summary.Steps {
		if s.ID == "after-off" && !strings.Contains(s.Reason, "off") {
			t.Errorf("after-off reason %q does not name the disabled dependency", s.Reason)
		}
	}
	partial := res.Summary.Metadata.PartialDatasets.Types
	for _, typ := range []string{"t_bad", "t_after_bad", "t_after_after", "t_off", "t_after_off", "t_fails_too"} {
		if !slices.Contains(partial, typ) {
			t.Errorf("partial datasets %v lack %s", partial, typ)
		}
	}
	if slices.Contains(partial, "t_ok") {
		t.Errorf("successful step's type marked partial")
	}
}

func TestFatalErrorCancelsRun(t *testing.T) {
	started := make(chan struct{})
	var sawCancel atomic.Bool
	integ := &integration.Integration[cfg]{Name: "t", Steps: []integration.Step[cfg]{
		{ID: "auth", Name: "Auth", Run: func(ctx context.Context, sc *integration.StepContext[cfg]) error {
			<-started
			return &integration.AuthenticationError{APIError: integration.APIError{Request: integration.Request{Method: "GET", Endpoint: "/api/v1/users"}, Status: 401}}
		}},
		{ID: "slow", Name: "Slow", Run: func(ctx context.Context, sc *integration.StepContext[cfg]) error {
			close(started)
			select {
			case <-ctx.Done():
				sawCancel.Store(true)
				return ctx.Err()
			case <-time.After(10 * time.Second):
				return nil
			}
		}},
		{ID: "later", Name: "Later", DependsOn: []string{"auth"}, Run: noop},
	}}
	dir := t.TempDir()
	root := filepath.Join(dir, "out")
	fs, err := store.NewFilesystem(root, store.FilesystemOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := runtime.Run(context.Background(), integ, &cfg{}, runtime.Options{Store: fs})
	if !integration.IsFatal(err) {
		t.Fatalf("want fatal authentication error, got %v", err)
	}
	if !sawCancel.Load() {
		t.Error("running step was not cancelled")
	}
	if got := res.StepStatus("later"); got != runtime.StatusCancelled {
		t.Errorf("dependent of fatal step: %q, want cancelled", got)
	}
	if _, err := os.Stat(root); !os.IsNotExist(err) {
		t.Errorf("fatal run published output: %v", err)
	}
}

func TestJobStateRules(t *testing.T) {
	tests := []struct {
		name    string
		run     func(ctx context.Context, sc *integration.StepContext[cfg]) error
		wantErr any
		check   func(t *testing.T, err error)
	}{
		{"undeclared entity type", func(ctx context.Context, sc *integration.StepContext[cfg]) error {
			e := user(1)
			e.Type = "t_other"
			return sc.AddEntities(ctx, e)
		}, new(*integration.UndeclaredTypeError), nil},
		{"undeclared relationship type", func(ctx context.Context, sc *integration.StepContext[cfg]) error {
			r := graph.Direct(user(1), graph.HAS, account())
			return sc.AddRelationships(ctx, r)
		}, new(*integration.UndeclaredTypeError), nil},
		{"class differs from declaration", func(ctx context.Context, sc *integration.StepContext[cfg]) error {
			e := account()
			e.Class = []string{"Service"}
			return sc.AddEntities(ctx, e)
		}, new(*integration.InvalidObjectError), nil},
		{"missing required property", func(ctx context.Context, sc *integration.StepContext[cfg]) error {
			e := user(1)
			delete(e.Properties, "name")
			return sc.AddEntities(ctx, e)
		}, new(*integration.InvalidObjectError), func(t *testing.T, err error) {
			if !strings.Contains(err.Error(), `"name"`) {
				t.Errorf("error %q does not name the property", err)
			}
		}},
		{"short key", func(ctx context.Context, sc *integration.StepContext[cfg]) error {
			e := account()
			e.Key = "short"
			return sc.AddEntities(ctx, e)
		}, new(*integration.InvalidObjectError), nil},
		{"nested property", func(ctx context.Context, sc *integration.StepContext[cfg]) error {
			return sc.AddEntities(ctx, account().Set("nested", map[string]any{"a": 1}))
		}, new(*integration.InvalidObjectError), nil},
		{"duplicate across batches shows diff", func(ctx context.Context, sc *integration.StepContext[cfg]) error {
			if err := sc.AddEntities(ctx, user(1)); err != nil {
				return err
			}
			second := user(1).Set("email", "other@x.test")
			return sc.AddEntities(ctx, second)
		}, new(*integration.DuplicateKeyError), func(t *testing.T, err error) {
			if !strings.Contains(err.Error(), "other@x.test") || !strings.Contains(err.Error(), "u1@x.test") {
				t.Errorf("duplicate error does not show the difference: %v", err)
			}
		}},
		{"duplicate within a batch", func(ctx context.Context, sc *integration.StepContext[cfg]) error {
			return sc.AddEntities(ctx, user(1), user(2), user(1))
		}, new(*integration.DuplicateKeyError), func(t *testing.T, err error) {
			if !strings.Contains(err.Error(), "identical") {
				t.Errorf("identical duplicates should say so: %v", err)
			}
		}},
		{"entity and relationship share key space", func(ctx context.Context, sc *integration.StepContext[cfg]) error {
			a, u := account(), user(1)
			if err := sc.AddEntities(ctx, a, u); err != nil {
				return err
			}
			r := graph.Direct(a, graph.HAS, u, graph.WithKey(u.Key))
			return sc.AddRelationships(ctx, r)
		}, new(*integration.DuplicateKeyError), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stepErr error
			integ := &integration.Integration[cfg]{Name: "t", Steps: []integration.Step[cfg]{{
				ID: "s", Name: "S", Entities: []integration.EntityType{accountType, userType},
				Relationships: []integration.RelationshipType{hasUser},
				Run: func(ctx context.Context, sc *integration.StepContext[cfg]) error {
					stepErr = tt.run(ctx, sc)
					return stepErr
				},
			}}}
			res, err := runtime.Run(context.Background(), integ, &cfg{}, runtime.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if res.StepStatus("s") != runtime.StatusFailure {
				t.Fatalf("step status %s, want failure", res.StepStatus("s"))
			}
			if !errors.As(stepErr, tt.wantErr) {
				t.Fatalf("error %v (%T) is not %T", stepErr, stepErr, tt.wantErr)
			}
			if tt.check != nil {
				tt.check(t, stepErr)
			}
			if code := res.Summary.Steps[0].ErrorCode; code == "" || code == string(integration.CodeUnexpected) {
				t.Errorf("summary error code %q, want a stable typed code", code)
			}
		})
	}
}

func TestJobStateConcurrentUse(t *testing.T) {
	const workers, per = 8, 500
	fs, err := store.NewFilesystem(filepath.Join(t.TempDir(), "out"), store.FilesystemOptions{MaxObjectsPerFile: 97})
	if err != nil {
		t.Fatal(err)
	}
	var dupErrs atomic.Int64
	integ := &integration.Integration[cfg]{Name: "t", Steps: []integration.Step[cfg]{
		{ID: "users", Name: "Users", Entities: []integration.EntityType{accountType, userType},
			Relationships: []integration.RelationshipType{hasUser},
			Run: func(ctx context.Context, sc *integration.StepContext[cfg]) error {
				a := account()
				if err := sc.AddEntities(ctx, a); err != nil {
					return err
				}
				var wg sync.WaitGroup
				errs := make(chan error, workers)
				// first[w] is closed once worker w added its first user, so
				// the cross-worker duplicate below never races the owner.
				first := make([]chan struct{}, workers)
				for w := range first {
					first[w] = make(chan struct{})
				}
				for w := range workers {
					wg.Go(func() {
						for i := range per {
							// Every worker also tries one key another worker owns.
							u := user(w*per + i)
							err := sc.AddEntities(ctx, u)
							if err == nil {
								err = sc.AddRelationships(ctx, graph.Direct(a, graph.HAS, u))
							}
							if i == 0 {
								close(first[w])
							}
							if err != nil {
								errs <- err
								return
							}
							if i == per-1 {
								<-first[(w+1)%workers]
								var d *integration.DuplicateKeyError
								if err := sc.AddEntities(ctx, user(((w+1)%workers)*per)); errors.As(err, &d) {
									dupErrs.Add(1)
								}
							}
						}
					})
				}
				wg.Wait()
				close(errs)
				return <-errs
			}},
		{ID: "count", Name: "Count", DependsOn: []string{"users"}, Run: func(ctx context.Context, sc *integration.StepContext[cfg]) error {
			n := 0
			if err := sc.IterateEntities(ctx, "t_user", func(*graph.Entity) error { n++; return nil }); err != nil {
				return err
			}
			if n != workers*per {
				return fmt.Errorf("iterated %d users, want %d", n, workers*per)
			}
			e, err := sc.FindEntity(ctx, user(1234).Key)
			if err != nil || e == nil || e.Prop("email") != "u1234@x.test" {
				return fmt.Errorf("FindEntity = %v, %v", e, err)
			}
			if !sc.HasKey(user(77).Key) || sc.HasKey("t_user_missing") {
				return errors.New("HasKey wrong")
			}
			return nil
		}},
	}}
	res, err := runtime.Run(context.Background(), integ, &cfg{}, runtime.Options{Store: fs})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range res.Summary.Steps {
		if s.Status != runtime.StatusSuccess {
			t.Fatalf("step %s: %s %s", s.ID, s.Status, s.Error)
		}
	}
	if dupErrs.Load() != workers {
		t.Errorf("cross-worker duplicates detected %d times, want %d", dupErrs.Load(), workers)
	}
	if got := res.Summary.Steps[0].EncounteredTypeCounts["t_user"]; got != workers*per {
		t.Errorf("counted %d users", got)
	}
}

func TestParallelismIsBounded(t *testing.T) {
	var cur, peak atomic.Int64
	var steps []integration.Step[cfg]
	for i := range 12 {
		s := step(fmt.Sprint("s", i))
		s.Run = func(ctx context.Context, sc *integration.StepContext[cfg]) error {
			n := cur.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			time.Sleep(20 * time.Millisecond)
			cur.Add(-1)
			return nil
		}
		steps = append(steps, s)
	}
	integ := &integration.Integration[cfg]{Name: "t", Steps: steps}
	if _, err := runtime.Run(context.Background(), integ, &cfg{}, runtime.Options{Concurrency: 3}); err != nil {
		t.Fatal(err)
	}
	if p := peak.Load(); p < 2 || p > 3 {
		t.Errorf("peak parallel steps %d, want 2..3 (bound 3)", p)
	}
}

func TestDependenciesEndBeforeDependentsStart(t *testing.T) {
	var mu sync.Mutex
	var events []string
	rec := func(id string) func(context.Context, *integration.StepContext[cfg]) error {
		return func(context.Context, *integration.StepContext[cfg]) error {
			mu.Lock()
			events = append(events, "start:"+id)
			mu.Unlock()
			time.Sleep(5 * time.Millisecond)
			mu.Lock()
			events = append(events, "end:"+id)
			mu.Unlock()
			return nil
		}
	}
	steps := []integration.Step[cfg]{step("a"), step("b", "a"), step("c", "a"), step("d", "b", "c")}
	for i := range steps {
		steps[i].Run = rec(steps[i].ID)
	}
	integ := &integration.Integration[cfg]{Name: "t", Steps: steps}
	if _, err := runtime.Run(context.Background(), integ, &cfg{}, runtime.Options{}); err != nil {
		t.Fatal(err)
	}
	pos := map[string]int{}
	for i, e := range events {
		pos[e] = i
	}
	for _, s := range steps {
		for _, d := range s.DependsOn {
			if pos["end:"+d] > pos["start:"+s.ID] {
				t.Errorf("%s started before its dependency %s ended: %v", s.ID, d, events)
			}
		}
	}
}

func TestSelectedStepsAndReuse(t *testing.T) {
	root := filepath.Join(t.TempDir(), "out")
	var calls atomic.Int64
	build := func() *integration.Integration[cfg] {
		return &integration.Integration[cfg]{Name: "t", Steps: []integration.Step[cfg]{
			{ID: "accounts", Name: "A", Entities: []integration.EntityType{accountType}, Run: func(ctx context.Context, sc *integration.StepContext[cfg]) error {
				calls.Add(1)
				return sc.AddEntities(ctx, account())
			}},
			{ID: "users", Name: "U", DependsOn: []string{"accounts"}, Entities: []integration.EntityType{userType},
				Relationships: []integration.RelationshipType{hasUser},
				Run: func(ctx context.Context, sc *integration.StepContext[cfg]) error {
					if !sc.HasKey("t_account_1") {
						return errors.New("account missing")
					}
					u := user(1)
					if err := sc.AddEntities(ctx, u); err != nil {
						return err
					}
					return sc.AddRelationships(ctx, graph.DirectByKey("t_account_1", "t_account", graph.HAS, u.Key, u.Type))
				}},
			{ID: "other", Name: "O", Run: noop},
		}}
	}
	fs, _ := store.NewFilesystem(root, store.FilesystemOptions{})
	if _, err := runtime.Run(context.Background(), build(), &cfg{}, runtime.Options{Store: fs}); err != nil {
		t.Fatal(err)
	}
	prev, err := store.OpenDir(root)
	if err != nil {
		t.Fatal(err)
	}
	fs2, _ := store.NewFilesystem(root, store.FilesystemOptions{})
	res, err := runtime.Run(context.Background(), build(), &cfg{}, runtime.Options{Store: fs2, Only: []string{"users"}, Reuse: prev})
	if err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 1 {
		t.Errorf("accounts step ran %d times, want 1 (second run reuses it)", calls.Load())
	}
	if res.StepStatus("other") != runtime.StatusDisabled || res.StepStatus("users") != runtime.StatusSuccess {
		t.Errorf("statuses: other=%s users=%s", res.StepStatus("other"), res.StepStatus("users"))
	}
	d, _ := store.OpenDir(root)
	if d.Count("t_account") != 1 || d.Count("t_user") != 1 || d.Count("t_account_has_user") != 1 {
		t.Errorf("counts after reuse: %d %d %d", d.Count("t_account"), d.Count("t_user"), d.Count("t_account_has_user"))
	}
}

func TestSecretsMaskedInLogsAndWarnings(t *testing.T) {
	const secret = "super-secret-token-value-123"
	var buf strings.Builder
	var mu sync.Mutex
	logger := slogToBuilder(&buf, &mu)
	integ := &integration.Integration[cfg]{Name: "t", Steps: []integration.Step[cfg]{
		{ID: "s", Name: "S", Run: func(ctx context.Context, sc *integration.StepContext[cfg]) error {
			sc.Logger.Info("using " + sc.Config.Token)
			sc.Warn(ctx, "warned", "token", sc.Config.Token)
			return fmt.Errorf("request failed with %s", sc.Config.Token)
		}},
	}}
	root := filepath.Join(t.TempDir(), "out")
	fs, _ := store.NewFilesystem(root, store.FilesystemOptions{})
	if _, err := runtime.Run(context.Background(), integ, &cfg{Token: secret}, runtime.Options{Store: fs, Logger: logger}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	out := buf.String()
	mu.Unlock()
	if strings.Contains(out, secret) {
		t.Errorf("secret leaked to log:\n%s", out)
	}
	b, _ := os.ReadFile(filepath.Join(root, store.SummaryFile))
	if strings.Contains(string(b), secret) {
		t.Errorf("secret leaked to summary.json:\n%s", b)
	}
	var sum runtime.Summary
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	if len(sum.Steps[0].Warnings) != 1 || strings.Contains(sum.Steps[0].Warnings[0], secret) {
		t.Errorf("warnings: %v", sum.Steps[0].Warnings)
	}
}

// TestSourceEnabled: a step asks whether an ingestion source is on in
// this run: off when the run's options or the configuration disable it,
// or when it is not declared (#12; replaces WillRun).
func TestSourceEnabled(t *testing.T) {
	var got map[string]bool
	steps := []integration.Step[cfg]{step("a")}
	steps[0].Run = func(ctx context.Context, sc *integration.StepContext[cfg]) error {
		got = map[string]bool{}
		for _, s := range []string{"x", "y", "z", "nope"} {
			got[s] = sc.SourceEnabled(s)
		}
		return nil
	}
	integ := &integration.Integration[cfg]{Name: "t", Steps: steps,
		Sources:         []integration.Source[cfg]{{Name: "x"}, {Name: "y"}, {Name: "z"}},
		DisabledSources: func(*cfg) map[string]string { return map[string]string{"z": ""} },
	}
	if _, err := runtime.Run(context.Background(), integ, &cfg{}, runtime.Options{DisableSources: []string{"y"}}); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"x": true, "y": false, "z": false, "nope": false}
	for s, w := range want {
		if got[s] != w {
			t.Errorf("SourceEnabled(%s) = %v, want %v", s, got[s], w)
		}
	}
}

package sdktest

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stepgraph/stepgraph/sdk/graph"
	"github.com/stepgraph/stepgraph/sdk/integration"
	"github.com/stepgraph/stepgraph/sdk/runtime"
	"github.com/stepgraph/stepgraph/sdk/store"
)

// CheckReuse is the reuse mode of the test kit: it collects the whole
// integration once into an output folder, then runs every step that has
// dependencies again on its own with those dependencies reused from that
// output (what collect --step X --use-cache does; a producer of run-local
// data the step needs runs again). Each such run must start, the step must
// succeed, and it must emit exactly the objects it emitted in the full run. A step that relies on data a
// reused producer does not hand over (integration.Step.Data) fails here.
//
// opts.Only and opts.Reuse are ignored; the other options apply to every
// run. The integration must collect the same objects on every run (a fake
// or a recording).
func CheckReuse[C any](t testing.TB, integ *integration.Integration[C], cfg *C, opts RunOptions) {
	t.Helper()
	root := filepath.Join(t.TempDir(), ".j1-integration")
	fs, err := store.NewFilesystem(root, store.FilesystemOptions{})
	if err != nil {
		t.Fatal(err)
	}
	full := *cfg
	res, err := runtime.Run(t.Context(), integ, &full, runtime.Options{
		Store: fs, Logger: opts.Logger, Concurrency: opts.Concurrency, Now: opts.Now, SkipValidate: opts.SkipValidate,
	})
	if err != nil {
		t.Fatalf("sdktest: reuse mode: full run of %s: %v", integ.Name, err)
	}
	for _, ss := range res.Summary.Steps {
		if ss.Status == runtime.StatusFailure || ss.Status == runtime.StatusCancelled {
			t.Errorf("sdktest: reuse mode: step %s ended %s in the full run: %s", ss.ID, ss.Status, ss.Error)
		}
	}
	prev, err := store.OpenDir(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range integ.Steps {
		if len(s.DependsOn) == 0 || res.StepStatus(s.ID) != runtime.StatusSuccess {
			continue
		}
		func() {
			o := opts
			o.Only, o.Reuse, o.AllowFailures = []string{s.ID}, prev, true
			again := *cfg
			c := Run(t, integ, &again, o)
			if err := c.Result.Fatal; err != nil {
				t.Errorf("sdktest: reuse mode: run of %s with reused dependencies: %v", s.ID, err)
				return
			}
			for _, ss := range c.Result.Summary.Steps {
				if ss.Status == runtime.StatusFailure || ss.Status == runtime.StatusCancelled {
					t.Errorf("sdktest: reuse mode: step %s ended %s with reused dependencies: %s", ss.ID, ss.Status, ss.Error)
				}
			}
			want := stepKeys(t, prev, &s)
			got := c.Step(s.ID).keys()
			if missing, extra := diffKeys(want, got); len(missing)+len(extra) > 0 {
				t.Errorf("sdktest: reuse mode: step %s with reused dependencies emitted a different graph than in the full run:\n  missing %d: %s\n  extra %d: %s",
					s.ID, len(missing), preview(missing), len(extra), preview(extra))
			}
		}()
	}
}

func (c *Collection) keys() []string {
	var out []string
	for _, e := range c.Entities {
		out = append(out, e.Key)
	}
	for _, r := range c.Relationships {
		out = append(out, r.Key)
	}
	slices.Sort(out)
	return out
}

func stepKeys[C any](t testing.TB, d *store.Dir, s *integration.Step[C]) []string {
	t.Helper()
	var out []string
	ctx := context.Background()
	kinds := map[string]bool{}
	for _, e := range s.Entities {
		kinds[e.Type] = true
	}
	for _, typ := range s.DeclaredTypes() {
		var err error
		if kinds[typ] {
			err = d.IterateStepEntities(ctx, s.ID, typ, func(e *graph.Entity) error { out = append(out, e.Key); return nil })
		} else {
			err = d.IterateStepRelationships(ctx, s.ID, typ, func(r *graph.Relationship) error { out = append(out, r.Key); return nil })
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(out)
	return out
}

func diffKeys(want, got []string) (missing, extra []string) {
	i, j := 0, 0
	for i < len(want) || j < len(got) {
		switch {
		case j == len(got) || (i < len(want) && want[i] < got[j]):
			missing = append(missing, want[i])
			i++
		case i == len(want) || got[j] < want[i]:
			extra = append(extra, got[j])
			j++
		default:
			i++
			j++
		}
	}
	return missing, extra
}

func preview(keys []string) string {
	if len(keys) > 5 {
		return strings.Join(keys[:5], ", ") + ", ..."
	}
	return strings.Join(keys, ", ")
}

package sdktest

import (
	"cmp"
	"log/slog"
	"slices"
	"time"

	"testing"

	"github.com/stepgraph/stepgraph/sdk/graph"
	"github.com/stepgraph/stepgraph/sdk/integration"
	"github.com/stepgraph/stepgraph/sdk/runtime"
	"github.com/stepgraph/stepgraph/sdk/store"
)

// RunOptions configure Run and RunStep.
type RunOptions struct {
	// Only runs just these steps and their dependencies (runtime
	// Options.Only). Empty runs every step.
	Only []string
	// AllowFailures keeps the test going when a step fails or a fatal
	// error cancels the run; the outcome is then in Collection.Result.
	// By default each failed or cancelled step fails the test.
	AllowFailures bool
	// Concurrency bounds the steps running at once (runtime default when 0).
	Concurrency int
	// Logger receives the runtime's events. Nil logs at Info level to the
	// test's output (shown on failure or with -v).
	Logger *slog.Logger
	// Now is the runtime's clock (default time.Now).
	Now func() time.Time
	// SkipValidate skips the integration's Validate function.
	SkipValidate bool
	// Reuse fills the dependencies of the Only steps from a previous
	// run's output (runtime Options.Reuse), as collect --use-cache does.
	Reuse *store.Dir
	// DisableSources switches these ingestion sources off for the run
	// (runtime Options.DisableSources), as --disable-source does.
	DisableSources []string
}

// Collection is what a run collected, read back from its in-memory store.
// A Collection returned by RunStep, or by Step, is a view of one step's
// objects; checks that need the whole run (relationship endpoints) use the
// run it belongs to.
type Collection struct {
	// Result is the runtime's result (summary, fatal error).
	Result *runtime.Result
	// Store is the in-memory store the run wrote to.
	Store *store.Memory
	// Entities and Relationships are the collected objects, sorted by _key.
	Entities      []*graph.Entity
	Relationships []*graph.Relationship
	// Schemas are the class schemas the run validated against
	// (graph.DefaultSchemas plus the integration's Classes).
	Schemas graph.Schemas

	steps []stepInfo
	run   *Collection // the whole run; itself for a full collection
}

// stepInfo is what the assertions need to know about one step.
type stepInfo struct {
	id       string
	status   string
	declared map[string]bool // _type -> declared Partial
}

// Run runs the integration through the real runtime over a fresh in-memory
// store and returns what it collected. It fails the test immediately when
// the run cannot start (invalid step graph, invalid config) and, unless
// opts.AllowFailures is set, reports every failed or cancelled step.
func Run[C any](t testing.TB, integ *integration.Integration[C], cfg *C, opts RunOptions) *Collection {
	t.Helper()
	mem := store.NewMemory()
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(t.Output(), nil))
	}
	res, err := runtime.Run(t.Context(), integ, cfg, runtime.Options{
		Store:        mem,
		Logger:       logger,
		Concurrency:  opts.Concurrency,
		Only:         opts.Only,
		Reuse:        opts.Reuse,
		Now:          opts.Now,
		SkipValidate: opts.SkipValidate,

		DisableSources: opts.DisableSources,
	})
	if res == nil {
		t.Fatalf("sdktest: run %s: %v", integ.Name, err)
	}
	if err != nil && !opts.AllowFailures {
		t.Errorf("sdktest: run %s ended with a fatal error: %v", integ.Name, err)
	}
	c := &Collection{
		Result:  res,
		Store:   mem,
		Schemas: graph.DefaultSchemas().With(integ.Classes...),
	}
	c.run = c
	byID := make(map[string]*integration.Step[C], len(integ.Steps))
	for i := range integ.Steps {
		byID[integ.Steps[i].ID] = &integ.Steps[i]
	}
	for _, ss := range res.Summary.Steps {
		if !opts.AllowFailures && (ss.Status == runtime.StatusFailure || ss.Status == runtime.StatusCancelled) {
			t.Errorf("sdktest: step %s ended %s: %s", ss.ID, ss.Status, ss.Error)
		}
		if ss.Status == runtime.StatusDisabled {
			continue
		}
		info := stepInfo{id: ss.ID, status: ss.Status, declared: map[string]bool{}}
		if s := byID[ss.ID]; s != nil {
			for _, e := range s.Entities {
				info.declared[e.Type] = e.Partial
			}
			for _, r := range s.Relationships {
				info.declared[r.Type] = info.declared[r.Type] || r.Partial
			}
			for _, r := range s.MappedRelationships {
				info.declared[r.Type] = info.declared[r.Type] || r.Partial
			}
		}
		for _, typ := range ss.PartialTypes {
			info.declared[typ] = true
		}
		c.steps = append(c.steps, info)
	}
	ctx := t.Context()
	for _, typ := range mem.EntityTypes() {
		_ = mem.IterateEntities(ctx, typ, func(e *graph.Entity) error {
			c.Entities = append(c.Entities, e)
			return nil
		})
	}
	for _, typ := range mem.RelationshipTypes() {
		_ = mem.IterateRelationships(ctx, typ, func(r *graph.Relationship) error {
			c.Relationships = append(c.Relationships, r)
			return nil
		})
	}
	slices.SortStableFunc(c.Entities, func(a, b *graph.Entity) int { return cmp.Compare(a.Key, b.Key) })
	slices.SortStableFunc(c.Relationships, func(a, b *graph.Relationship) int { return cmp.Compare(a.Key, b.Key) })
	return c
}

// RunStep runs one step and its dependencies (Options.Only) through the real
// runtime and returns the view of what that step emitted (see
// Collection.Step); the whole run is available from its All method.
func RunStep[C any](t testing.TB, integ *integration.Integration[C], cfg *C, stepID string, opts RunOptions) *Collection {
	t.Helper()
	opts.Only = []string{stepID}
	return Run(t, integ, cfg, opts).Step(stepID)
}

// All returns the collection of the whole run this collection belongs to.
func (c *Collection) All() *Collection { return c.run }

// Step returns a view of the objects step id emitted. Endpoint checks on
// the view still see every entity of the run.
func (c *Collection) Step(id string) *Collection {
	full := c.run
	v := &Collection{Result: full.Result, Store: full.Store, Schemas: full.Schemas, run: full}
	for _, s := range full.steps {
		if s.id == id {
			v.steps = append(v.steps, s)
		}
	}
	for _, e := range full.Entities {
		if full.Store.StepOf(e.Key) == id {
			v.Entities = append(v.Entities, e)
		}
	}
	for _, r := range full.Relationships {
		if full.Store.StepOf(r.Key) == id {
			v.Relationships = append(v.Relationships, r)
		}
	}
	return v
}

// StepStatus returns the status a step ended with ("" when unknown).
func (c *Collection) StepStatus(id string) string { return c.Result.StepStatus(id) }

// Entity returns the collected entity with the key, or nil.
func (c *Collection) Entity(key string) *graph.Entity {
	i, ok := slices.BinarySearchFunc(c.Entities, key, func(e *graph.Entity, k string) int { return cmp.Compare(e.Key, k) })
	if !ok {
		return nil
	}
	return c.Entities[i]
}

// EntitiesOf returns the collected entities of a _type, sorted by _key.
func (c *Collection) EntitiesOf(typ string) []*graph.Entity {
	var out []*graph.Entity
	for _, e := range c.Entities {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

// RelationshipsOf returns the collected relationships of a _type, sorted
// by _key.
func (c *Collection) RelationshipsOf(typ string) []*graph.Relationship {
	var out []*graph.Relationship
	for _, r := range c.Relationships {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	return out
}

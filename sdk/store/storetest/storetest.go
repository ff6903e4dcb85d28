// Package storetest is the conformance suite every store.Store passes: the
// in-memory and filesystem stores (package store) and the PostgreSQL sink
// (package store/postgres) run it from their tests, so the runtime can
// rely on one behaviour whichever store a run writes to.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/stepgraph/stepgraph/sdk/graph"
	"github.com/stepgraph/stepgraph/sdk/runtime"
	"github.com/stepgraph/stepgraph/sdk/store"
)

// Open returns a new, empty store for one subtest. The suite ends every
// store it opens with Commit or Abort.
type Open func(t *testing.T) store.Store

// Run runs the suite against the stores open returns.
func Run(t *testing.T, open Open) {
	t.Run("AddFindIterate", func(t *testing.T) { addFindIterate(t, open(t)) })
	t.Run("ConcurrentAdds", func(t *testing.T) { concurrentAdds(t, open(t)) })
	t.Run("IterateStopsOnError", func(t *testing.T) { iterateStops(t, open(t)) })
	t.Run("Abort", func(t *testing.T) { abort(t, open(t)) })
}

func entity(typ string, i int) *graph.Entity {
	return (&graph.Entity{Key: fmt.Sprintf("%s-%06d", typ, i), Type: typ, Class: []string{"Configuration"},
		DisplayName: fmt.Sprint(typ, i)}).Set("name", fmt.Sprint(typ, i)).Set("i", i)
}

// summary is the document the runtime would commit for a run whose steps
// all succeeded.
func summary(steps ...string) json.RawMessage {
	s := &runtime.Summary{Integration: "storetest"}
	for _, id := range steps {
		s.Steps = append(s.Steps, runtime.StepSummary{ID: id, Name: id, Status: runtime.StatusSuccess,
			DependsOn: []string{}, DeclaredTypes: []string{}, PartialTypes: []string{}, EncounteredTypes: []string{},
			EncounteredTypeCounts: map[string]int64{}})
	}
	s.Metadata.PartialDatasets.Types = []string{}
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return b
}

func keysOf(t *testing.T, st store.Store, typ string) []string {
	t.Helper()
	var keys []string
	if err := st.IterateEntities(context.Background(), typ, func(e *graph.Entity) error {
		keys = append(keys, e.Key)
		return nil
	}); err != nil {
		t.Fatalf("IterateEntities(%s): %v", typ, err)
	}
	slices.Sort(keys)
	return keys
}

// addFindIterate: objects added by several steps are found by key and
// iterated by type, with their properties, before and after Flush.
func addFindIterate(t *testing.T, st store.Store) {
	ctx := context.Background()
	var as, bs []*graph.Entity
	for i := range 120 {
		as = append(as, entity("st_a", i))
	}
	for i := range 7 {
		bs = append(bs, entity("st_b", i))
	}
	if err := st.AddEntities(ctx, "step-a", as); err != nil {
		t.Fatal(err)
	}
	if err := st.AddEntities(ctx, "step-b", bs); err != nil {
		t.Fatal(err)
	}
	var rels []*graph.Relationship
	for i := range 7 {
		rels = append(rels, graph.Direct(bs[i], graph.HAS, as[i]))
	}
	if err := st.AddRelationships(ctx, "step-b", rels); err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		if got := keysOf(t, st, "st_a"); len(got) != 120 || got[0] != as[0].Key {
			t.Errorf("%s: iterate st_a: %d keys", when, len(got))
		}
		if got := keysOf(t, st, "st_b"); len(got) != 7 {
			t.Errorf("%s: iterate st_b: %d keys", when, len(got))
		}
		if got := keysOf(t, st, "st_none"); len(got) != 0 {
			t.Errorf("%s: iterate an absent type: %v", when, got)
		}
		e, err := st.FindEntity(ctx, as[42].Key)
		if err != nil || e == nil || e.Type != "st_a" || fmt.Sprint(e.Prop("i")) != "42" {
			t.Errorf("%s: FindEntity: %+v %v", when, e, err)
		}
		if e, err := st.FindEntity(ctx, "st_a-absent"); err != nil || e != nil {
			t.Errorf("%s: FindEntity of an absent key: %+v %v", when, e, err)
		}
		r, err := st.FindRelationship(ctx, rels[3].Key)
		if err != nil || r == nil || r.FromKey != bs[3].Key || r.ToKey != as[3].Key {
			t.Errorf("%s: FindRelationship: %+v %v", when, r, err)
		}
		n := 0
		if err := st.IterateRelationships(ctx, rels[0].Type, func(*graph.Relationship) error { n++; return nil }); err != nil || n != 7 {
			t.Errorf("%s: IterateRelationships: %d %v", when, n, err)
		}
	}
	check("before Flush")
	if err := st.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	check("after Flush")
	if err := st.Commit(ctx, summary("step-a", "step-b")); err != nil {
		t.Fatalf("Commit: %v", err)
	}
}

// concurrentAdds: batches added from many goroutines are all kept.
func concurrentAdds(t *testing.T, st store.Store) {
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range 10 {
				var es []*graph.Entity
				for i := range 25 {
					es = append(es, entity("st_c", w*1000+b*25+i))
				}
				if err := st.AddEntities(ctx, fmt.Sprint("step-", w), es); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := keysOf(t, st, "st_c"); len(got) != 8*10*25 {
		t.Errorf("%d entities after concurrent adds, want %d", len(got), 8*10*25)
	}
	steps := []string{}
	for w := range 8 {
		steps = append(steps, fmt.Sprint("step-", w))
	}
	if err := st.Commit(ctx, summary(steps...)); err != nil {
		t.Fatalf("Commit: %v", err)
	}
}

// iterateStops: an error from fn ends the iteration and is returned.
func iterateStops(t *testing.T, st store.Store) {
	ctx := context.Background()
	defer st.Abort()
	var es []*graph.Entity
	for i := range 10 {
		es = append(es, entity("st_d", i))
	}
	if err := st.AddEntities(ctx, "s", es); err != nil {
		t.Fatal(err)
	}
	stop := errors.New("stop")
	n := 0
	err := st.IterateEntities(ctx, "st_d", func(*graph.Entity) error {
		n++
		if n == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 3 {
		t.Errorf("iteration went on after an error: %d calls, err %v", n, err)
	}
}

// abort: a run can be abandoned after adds without error.
func abort(t *testing.T, st store.Store) {
	if err := st.AddEntities(context.Background(), "s", []*graph.Entity{entity("st_e", 1)}); err != nil {
		t.Fatal(err)
	}
	if err := st.Abort(); err != nil {
		t.Errorf("Abort: %v", err)
	}
}

package integration_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/stepgraph/stepgraph/sdk/graph"
	"github.com/stepgraph/stepgraph/sdk/integration"
)

// recordingState is a JobState that records each AddEntities and
// AddRelationships call (the other methods are not used).
type recordingState struct {
	integration.JobState
	calls []string
	keys  map[string]bool
}

func (s *recordingState) AddEntities(_ context.Context, es ...*graph.Entity) error {
	for _, e := range es {
		s.keys[e.Key] = true
	}
	s.calls = append(s.calls, fmt.Sprintf("e%d", len(es)))
	return nil
}

func (s *recordingState) AddRelationships(_ context.Context, rs ...*graph.Relationship) error {
	for _, r := range rs {
		s.keys[r.Key] = true
	}
	s.calls = append(s.calls, fmt.Sprintf("r%d", len(rs)))
	return nil
}

func (s *recordingState) HasKey(k string) bool { return s.keys[k] }

// TestBatchEmitsInBatchesOfSize: objects are emitted once size of them
// wait, the rest on Flush; OnEmit counts the entities of each emission.
func TestBatchEmitsInBatchesOfSize(t *testing.T) {
	js := &recordingState{keys: map[string]bool{}}
	b := integration.NewEmitter(js).Batch(4)
	var progress []int
	b.OnEmit = func(n int) { progress = append(progress, n) }
	ctx := context.Background()
	for i := range 5 {
		e := &graph.Entity{Key: fmt.Sprint("e", i), Type: "t"}
		r := &graph.Relationship{Key: fmt.Sprint("r", i), Type: "t_has_t"}
		if err := b.Add(ctx, []*graph.Entity{e}, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Add(ctx, nil, &graph.Relationship{Key: "r0", Type: "t_has_t"}); err != nil { // emitted already: left out
		t.Fatal(err)
	}
	if err := b.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Flush(ctx); err != nil { // nothing left: no call
		t.Fatal(err)
	}
	want := []string{"e2", "r2", "e2", "r2", "e1", "r1"}
	if !reflect.DeepEqual(js.calls, want) || !reflect.DeepEqual(progress, []int{2, 2, 1}) {
		t.Errorf("calls %v, progress %v; want %v and [2 2 1]", js.calls, progress, want)
	}
}

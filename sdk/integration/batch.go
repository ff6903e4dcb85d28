package integration

import (
	"context"

	"github.com/stepgraph/stepgraph/sdk/graph"
)

// Batch buffers a step's objects and emits them (JobState.Emit) once at
// least size of them (entities and relationships together) are waiting,
// so that a step building objects one source item at a time (the entries
// of a Scratch, the members of a group) adds them in batches of a bounded
// size. Call Flush at the end for the rest. A Batch is used by one
// goroutine at a time.
type Batch struct {
	js   JobState
	size int
	es   []*graph.Entity
	rs   []*graph.Relationship
	// OnEmit, when set, is called after each emission with the number of
	// entities it held (e.g. for StepContext.Progress).
	OnEmit func(entities int)
}

// NewBatch returns a Batch emitting to js in batches of at least size
// objects (1 when size is less).
func NewBatch(js JobState, size int) *Batch {
	return &Batch{js: js, size: max(size, 1)}
}

// Add buffers es and rs, emitting everything buffered once size objects
// are waiting.
func (b *Batch) Add(ctx context.Context, es []*graph.Entity, rs ...*graph.Relationship) error {
	b.es = append(b.es, es...)
	b.rs = append(b.rs, rs...)
	if len(b.es)+len(b.rs) < b.size {
		return nil
	}
	return b.Flush(ctx)
}

// Flush emits everything buffered (entities first, then relationships, as
// JobState.Emit) and empties the buffer, also when the emission failed.
func (b *Batch) Flush(ctx context.Context) error {
	if len(b.es) == 0 && len(b.rs) == 0 {
		return nil
	}
	err := b.js.Emit(ctx, b.es, b.rs)
	n := len(b.es)
	b.es, b.rs = b.es[:0], b.rs[:0]
	if err == nil && b.OnEmit != nil {
		b.OnEmit(n)
	}
	return err
}

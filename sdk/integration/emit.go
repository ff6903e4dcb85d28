package integration

import (
	"context"
	"maps"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/stepgraph/stepgraph/sdk/graph"
)

// Emitter adds a step's objects to its job state, leaving out those whose
// _key is already in the collection or earlier in the same call: the same
// object reached twice (a user listed by two listings, a role held by two
// principals, a mapped target reached through two parents) is emitted
// once instead of failing the step with a *DuplicateKeyError. Its check
// and add are one atomic step across the step's goroutines. Use
// AddEntities directly when a duplicate is a bug.
type Emitter struct {
	js JobState
	mu sync.Mutex
}

// NewEmitter returns an Emitter adding to js.
func NewEmitter(js JobState) *Emitter { return &Emitter{js: js} }

// Emit adds the new entities, then the new relationships.
func (e *Emitter) Emit(ctx context.Context, es []*graph.Entity, rs []*graph.Relationship) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.js.AddEntities(ctx, fresh(e.js, es, func(x *graph.Entity) string { return x.Key })...); err != nil {
		return err
	}
	return e.js.AddRelationships(ctx, fresh(e.js, rs, func(x *graph.Relationship) string { return x.Key })...)
}

// fresh returns the objects whose key is neither collected nor earlier in
// xs.
func fresh[T any](js JobState, xs []T, key func(T) string) []T {
	seen := make(map[string]bool, len(xs))
	return slices.DeleteFunc(slices.Clone(xs), func(x T) bool {
		k := key(x)
		if seen[k] || js.HasKey(k) {
			return true
		}
		seen[k] = true
		return false
	})
}

// Skips counts what a step leaves out, by reason (a relationship whose
// other end was not collected, a value of the wrong type), for one summary
// warning per reason with its count. Safe for concurrent use.
type Skips struct {
	mu sync.Mutex
	n  map[string]*atomic.Int64
}

// Add counts n objects left out for reason.
func (s *Skips) Add(reason string, n int64) {
	s.mu.Lock()
	if s.n == nil {
		s.n = map[string]*atomic.Int64{}
	}
	c := s.n[reason]
	if c == nil {
		c = &atomic.Int64{}
		s.n[reason] = c
	}
	s.mu.Unlock()
	c.Add(n)
}

// Warn records one warning per reason, "skipped: <reason>" with its
// count, in reason order.
func (s *Skips) Warn(ctx context.Context, js JobState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range slices.Sorted(maps.Keys(s.n)) {
		if n := s.n[r].Load(); n > 0 {
			js.Warn(ctx, "skipped: "+r, "count", n)
		}
	}
}

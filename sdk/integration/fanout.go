package integration

import (
	"context"
	"iter"
)

// Group runs a step's per-item work (one request per user, per group, ...)
// on goroutines under the run's worker budget: every group of every step
// of a run draws from one budget (runtime.Options.Workers), so the
// runtime's bound is the real bound on concurrent work. Get one from
// JobState.Group.
//
// Go blocks while the budget is spent, so a producer that calls Go for
// each listed item is paced by its consumers and memory stays flat. An
// item's error goes through the integration's error policy
// (JobState.Handle): a degraded or skipped item is recorded and the
// others go on; the first error the policy says fails the step cancels
// the group's context and is what Wait returns.
//
// Work started from inside an item (a nested Go) runs on the item's own
// goroutine, so nesting can never deadlock on the budget.
type Group interface {
	// Go runs fn once a worker is free. It reports false, without running
	// fn, once the group has failed or its context is done: stop
	// producing items then.
	Go(fn func(ctx context.Context) error) bool
	// Wait waits for every started fn and returns the group's error.
	Wait() error
}

// ForEach runs fn for each item of items on the run's worker budget (see
// Group) and returns the first error the policy says fails the step.
func ForEach[T any](ctx context.Context, js JobState, items iter.Seq[T], fn func(ctx context.Context, item T) error) error {
	g := js.Group(ctx)
	for it := range items {
		if !g.Go(func(ctx context.Context) error { return fn(ctx, it) }) {
			break
		}
	}
	return g.Wait()
}

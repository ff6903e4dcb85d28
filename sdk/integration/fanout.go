package integration

import (
	"context"
	"iter"
	"sync/atomic"
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

// ForEachInBatches is ForEach for items that arrive in batches (the pages
// of a listing) and whose results must be handed on in order: fn runs for
// every item of every batch on the run's worker budget, and done gets each
// batch, in the order batches arrived, once all of its items finished
// (fn writes an item's result into it through the pointer). The listing
// runs up to two batches ahead of the items and batches keep arriving
// while earlier ones are still being worked on, so neither the listing nor
// the budget idles at batch boundaries; at most ahead batches (ahead < 1
// means 2) wait for done, so memory stays bounded. done runs on the
// caller's goroutine, one batch at a time.
//
// An error of batches or of done, or an item error the policy says fails
// the step, stops the work and is returned; batches already handed to
// done stay done. batches must stop when ctx is done.
func ForEachInBatches[T any](ctx context.Context, js JobState, batches iter.Seq2[[]T, error], ahead int,
	fn func(ctx context.Context, item *T) error, done func(batch []T) error) error {
	if ahead < 1 {
		ahead = 2
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type listed struct {
		items []T
		err   error
	}
	in := make(chan listed, 2)
	go func() {
		defer close(in)
		for items, err := range batches {
			select {
			case in <- listed{items, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	defer func() {
		cancel()
		for range in { // let the lister end
		}
	}()
	type pending struct {
		items []T
		left  atomic.Int64
		wait  chan struct{} // closed when left reaches 0
	}
	finish := func(p *pending) {
		if p.left.Add(-1) == 0 {
			close(p.wait)
		}
	}
	g := js.Group(ctx)
	var queue []*pending
	// flush hands the finished batches at the head of the queue to done,
	// waiting for the head while more than keep batches are queued.
	flush := func(keep int) error {
		for len(queue) > 0 {
			p := queue[0]
			if len(queue) > keep {
				<-p.wait
			} else {
				select {
				case <-p.wait:
				default:
					return nil
				}
			}
			queue = queue[1:]
			if err := done(p.items); err != nil {
				return err
			}
		}
		return nil
	}
	var err error
	for b := range in {
		if err = b.err; err != nil {
			break
		}
		p := &pending{items: b.items, wait: make(chan struct{})}
		p.left.Store(int64(len(p.items)) + 1) // +1 until every item is started
		queue = append(queue, p)
		started := true
		for i := range p.items {
			if !started || !g.Go(func(ctx context.Context) error { defer finish(p); return fn(ctx, &p.items[i]) }) {
				started = false
				finish(p) // never started
			}
		}
		finish(p)
		if !started {
			break
		}
		if err = flush(ahead); err != nil {
			break
		}
	}
	if err != nil {
		cancel() // stop the items in flight
	}
	if gerr := g.Wait(); err == nil {
		err = gerr
	}
	if err != nil {
		return err
	}
	return flush(0)
}

package runtime

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/stepgraph/stepgraph/sdk/integration"
)

// DefaultWorkers bounds the per-item work of all steps' fan-outs at once
// when Options leaves Workers zero. It is above a typical HTTP in-flight
// cap (Okta's client: 32) on purpose: an item whose endpoint family waits
// for its rate-limit window holds its worker while it waits, and the other
// families' items must still find workers (measured with okta bench: at 32
// the users bucket idled, 10.1 s against a 9.0 s floor; at 64 it does not).
const DefaultWorkers = 64

// inWorker marks the context of a fan-out item, so a nested Go runs inline
// instead of waiting for a worker its own parent holds.
type inWorker struct{}

// group is the integration.Group of a step.
type group struct {
	sem    chan struct{}
	handle func(context.Context, error) error
	parent context.Context
	ctx    context.Context
	cancel context.CancelCauseFunc
	nested bool
	wg     sync.WaitGroup
	once   sync.Once
	err    error
}

// Group implements integration.JobState.
func (j *jobState[C]) Group(ctx context.Context) integration.Group {
	gctx, cancel := context.WithCancelCause(ctx)
	return &group{
		sem: j.r.workers, handle: j.Handle, parent: ctx, ctx: gctx, cancel: cancel,
		nested: ctx.Value(inWorker{}) != nil,
	}
}

// Go implements integration.Group.
func (g *group) Go(fn func(ctx context.Context) error) bool {
	if g.ctx.Err() != nil {
		return false
	}
	if g.nested {
		g.finish(g.call(fn))
		return g.ctx.Err() == nil
	}
	select {
	case g.sem <- struct{}{}:
	case <-g.ctx.Done():
		return false
	}
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		defer func() { <-g.sem }()
		g.finish(g.call(fn))
	}()
	return true
}

func (g *group) call(fn func(ctx context.Context) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("fan-out item panicked: %v", p)
		}
	}()
	return fn(context.WithValue(g.ctx, inWorker{}, true))
}

// finish applies the error policy to an item's error; the first error
// that fails the step cancels the group.
func (g *group) finish(err error) {
	if err = g.handle(g.ctx, err); err != nil {
		g.once.Do(func() {
			g.err = err
			g.cancel(err)
		})
	}
}

// Wait implements integration.Group.
func (g *group) Wait() error {
	g.wg.Wait()
	g.cancel(nil)
	if g.err != nil {
		return g.err
	}
	return g.parent.Err()
}

// policyCount aggregates the errors one step degraded or skipped with the
// same action, code and types, for one summary warning each.
type policyCount struct {
	action integration.Action
	reason string
	code   integration.Code
	types  []string
	first  string
	n      int
}

// Handle implements integration.JobState.
func (j *jobState[C]) Handle(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if integration.IsFatal(err) || ctx.Err() != nil ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	classify := j.r.integ.Classify
	if classify == nil {
		return err
	}
	action, reason := classify(err)
	if action != integration.Degrade && action != integration.Skip {
		return err
	}
	var types []string
	if action == integration.Degrade {
		if types = integration.TypesOf(err); types == nil {
			types = j.r.plan.steps[j.step.idx].DeclaredTypes()
		}
	}
	code := integration.ErrorCode(err)
	k := fmt.Sprintf("%d|%s|%s|%s", action, reason, code, strings.Join(types, ","))
	j.step.mu.Lock()
	defer j.step.mu.Unlock()
	if j.step.policy == nil {
		j.step.policy = map[string]*policyCount{}
	}
	pc := j.step.policy[k]
	if pc == nil {
		pc = &policyCount{action: action, reason: reason, code: code, types: types, first: err.Error()}
		j.step.policy[k] = pc
	}
	pc.n++
	for _, t := range types {
		if !containsString(j.step.partial, t) {
			j.step.partial = append(j.step.partial, t)
		}
	}
	return nil
}

func containsString(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// policyWarnings writes one warning per aggregated policy decision.
func (j *jobState[C]) policyWarnings(ctx context.Context) {
	j.step.mu.Lock()
	pcs := make([]*policyCount, 0, len(j.step.policy))
	for _, pc := range j.step.policy {
		pcs = append(pcs, pc)
	}
	j.step.mu.Unlock()
	sort.Slice(pcs, func(a, b int) bool {
		if pcs[a].action != pcs[b].action {
			return pcs[a].action < pcs[b].action
		}
		return pcs[a].first < pcs[b].first
	})
	for _, pc := range pcs {
		msg := "skipped"
		args := []any{"count", pc.n, "code", string(pc.code), "first", pc.first}
		if pc.action == integration.Degrade {
			msg = "types marked partial"
			args = append(args, "types", pc.types)
		}
		if pc.reason != "" {
			msg += ": " + pc.reason
		}
		j.Warn(ctx, msg, args...)
	}
}

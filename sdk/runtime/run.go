package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/stepgraph/stepgraph/sdk/graph"
	"github.com/stepgraph/stepgraph/sdk/integration"
	"github.com/stepgraph/stepgraph/sdk/internal/keyindex"
	"github.com/stepgraph/stepgraph/sdk/internal/redact"
	"github.com/stepgraph/stepgraph/sdk/internal/scratch"
	"github.com/stepgraph/stepgraph/sdk/store"
)

// DefaultConcurrency bounds how many steps run at once when Options leaves it zero.
const DefaultConcurrency = 5

// Options configure a run.
type Options struct {
	// Store receives the objects; nil means a new in-memory store.
	Store store.Store
	// Logger receives lifecycle events; secrets of the config are masked.
	// nil discards.
	Logger *slog.Logger
	// Concurrency bounds the steps running at once (default DefaultConcurrency).
	Concurrency int
	// Workers bounds the per-item work (integration.Group, ForEach) of all
	// running steps at once (default DefaultWorkers).
	Workers int
	// DisableSources switches ingestion sources off for this run (with
	// those the config switches off, integration.Integration.SourcesOff),
	// disabling their steps.
	DisableSources []string
	// Only, when set, runs just these steps and their dependencies; other
	// steps are disabled with reason "not selected".
	Only []string
	// Reuse, when set together with Only, fills the dependencies that were
	// not asked for from a previous run's output instead of running them.
	// Only a step that ended success in that run, with no partial type, is
	// reused, in full (its object counts must match that run's summary)
	// and with the data it handed over; any other dependency is run, and
	// so is a producer of data a running step lists in NeedsData that the
	// previous output cannot hand over (a run-local value such as a
	// Scratch): the plan says so in that step's warnings.
	Reuse *store.Dir
	// OnEvent receives step and progress events (from many goroutines).
	OnEvent func(Event)
	// SkipValidate skips the integration's CheckConfig and Validate (the
	// caller ran them).
	SkipValidate bool
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// EventKind says what an Event reports.
type EventKind string

// Event kinds.
const (
	EventStepStart    EventKind = "step_start"
	EventStepEnd      EventKind = "step_end"
	EventStepSkip     EventKind = "step_skip"
	EventProgress     EventKind = "progress"
	EventWarning      EventKind = "warning"
	EventObjectsAdded EventKind = "objects_added"
)

// Event is a structured progress event.
type Event struct {
	Kind    EventKind
	StepID  string
	Status  string
	Message string
	// Name and Delta carry Progress counters; for EventObjectsAdded Name
	// is the _type.
	Name  string
	Delta int64
	Err   error
}

// Result is what Run returns: the summary and the outcome.
type Result struct {
	Summary *Summary
	// Fatal is the error that cancelled the run, if any.
	Fatal error
}

// StepStatus returns the status of a step in the result, or "".
func (r *Result) StepStatus(id string) string {
	for _, s := range r.Summary.Steps {
		if s.ID == id {
			return s.Status
		}
	}
	return ""
}

// Failed reports whether any step failed or was cancelled.
func (r *Result) Failed() bool {
	for _, s := range r.Summary.Steps {
		if s.Status == StatusFailure || s.Status == StatusCancelled {
			return true
		}
	}
	return false
}

// Partial reports whether any step ended short of complete success.
func (r *Result) Partial() bool {
	if r.Failed() {
		return true
	}
	for _, s := range r.Summary.Steps {
		if s.Status == StatusPartialDependencyFailure {
			return true
		}
	}
	return false
}

type stepRun struct {
	idx      int
	state    string // "", running, or a final status
	reason   string
	err      error
	started  time.Time
	ended    time.Time
	depFails []string
	disabled bool
	reuse    bool
	// reuseNote says why a dependency selected for reuse is run instead.
	reuseNote string
	// prevCounts are the object counts of a reused step in the previous
	// run; restored holds the data it handed over there, as persisted.
	prevCounts map[string]int64
	restored   map[string]json.RawMessage

	// emitMu makes Emit's check and add one step across the step's
	// goroutines.
	emitMu sync.Mutex

	mu       sync.Mutex
	skips    map[string]int64 // Skip's counts by reason
	dataErr  error            // first SetData of an undeclared key
	counts   map[string]int64
	partial  []string
	warnings []string
	declared map[string]declared
	policy   map[string]*policyCount
}

type declared struct {
	kind   byte // 'e', 'r', 'm'
	class  []string
	rclass string
}

type run[C any] struct {
	plan    *Plan[C]
	integ   *integration.Integration[C]
	cfg     *C
	opts    Options
	store   store.Store
	log     *slog.Logger
	schemas graph.Schemas
	steps   []*stepRun

	// mu guards the dedup index and serialises batches into the store so a
	// duplicate is always found in the store by the second writer.
	mu    sync.Mutex
	index *keyindex.Index // set of hash(_key)

	data    sync.Map
	redact  *redact.Redactor
	workers chan struct{} // the run-wide fan-out budget

	scratchMu sync.Mutex
	scratch   store.Scratcher // the run's scratch space, set on first use
	tempDir   *scratch.Temp   // when the store keeps none on disk
	onEnd     []func()        // run state cleanups, in registration order (endMu)
	endMu     sync.Mutex
	// sourcesOff are the sources disabled in this run, with the reason.
	sourcesOff map[string]string
}

// Run validates the config, runs the integration's steps and commits the
// output to the store. The returned error is non-nil when the run could
// not happen at all (bad graph, invalid config) or a fatal provider error
// cancelled it; step failures are reported in the Result's summary.
func Run[C any](ctx context.Context, integ *integration.Integration[C], cfg *C, opts Options) (*Result, error) {
	plan, err := NewPlan(integ.Steps)
	if err != nil {
		return nil, err
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	if opts.Workers <= 0 {
		opts.Workers = DefaultWorkers
	}
	base := opts.Logger
	if base == nil {
		base = slog.New(slog.DiscardHandler)
	}
	log := slog.New(redact.NewHandler(base.Handler(), integration.SecretValues(cfg)...)).With("integration", integ.Name)
	st := opts.Store
	if st == nil {
		st = store.NewMemory()
	}
	r := &run[C]{
		plan: plan, integ: integ, cfg: cfg, opts: opts, store: st, log: log,
		schemas: graph.DefaultSchemas().With(integ.Classes...),
		index:   keyindex.New(false),
		redact:  redact.New(integration.SecretValues(cfg)...),
		workers: make(chan struct{}, opts.Workers),
	}
	// The config's values are checked, then selection and reuse are
	// settled, before Validate, which may make a request: a run with a
	// bad value or that cannot reuse what it needs sends none.
	if !opts.SkipValidate {
		if err := integ.CheckConfig(cfg); err != nil {
			_ = st.Abort()
			return nil, fmt.Errorf("validate config: %w", err)
		}
	}
	if err := r.prepare(); err != nil {
		_ = st.Abort()
		return nil, err
	}
	if !opts.SkipValidate && integ.Validate != nil {
		if err := integ.Validate(ctx, cfg); err != nil {
			_ = st.Abort()
			return nil, fmt.Errorf("validate config: %w", err)
		}
	}
	defer r.end()
	if err := r.setup(ctx); err != nil {
		_ = st.Abort()
		return nil, err
	}
	started := opts.Now()
	fatal := r.execute(ctx)
	summary := r.summary(started)
	if integ.Describe != nil {
		summary.Metadata.Details = integ.Describe(cfg)
	}
	res := &Result{Summary: summary, Fatal: fatal}
	if fatal != nil {
		// A fatal error means nothing trustworthy was collected: keep the
		// previous output.
		_ = st.Abort()
		return res, fatal
	}
	if err := r.persistData(context.WithoutCancel(ctx)); err != nil {
		_ = st.Abort()
		return res, err
	}
	doc, err := json.Marshal(summary)
	if err != nil {
		_ = st.Abort()
		return res, fmt.Errorf("encode summary: %w", err)
	}
	if err := st.Commit(context.WithoutCancel(ctx), doc); err != nil {
		return res, fmt.Errorf("commit output: %w", err)
	}
	return res, nil
}

// prepare sets step start states: selection, reuse and config-disabled steps.
func (r *run[C]) prepare() error {
	r.steps = make([]*stepRun, len(r.plan.steps))
	var selected map[string]bool
	var wanted map[string]bool
	if len(r.opts.Only) > 0 {
		var err error
		if selected, err = r.plan.Closure(r.opts.Only); err != nil {
			return err
		}
		wanted = map[string]bool{}
		for _, id := range r.opts.Only {
			wanted[id] = true
		}
	}
	sourceOff, err := r.disabledSources()
	if err != nil {
		return err
	}
	r.sourcesOff = sourceOff
	var startStates map[string]integration.StepStartState
	if r.integ.StepStartStates != nil {
		startStates = r.integ.StepStartStates(r.cfg)
		for id := range startStates {
			if _, ok := r.plan.byID[id]; !ok {
				return &GraphError{Reason: "start state for unknown step", Steps: []string{id}}
			}
		}
	}
	for i, s := range r.plan.steps {
		sr := &stepRun{idx: i, counts: map[string]int64{}, declared: map[string]declared{}}
		for _, e := range s.Entities {
			sr.declared[e.Type] = declared{kind: 'e', class: e.Class}
		}
		for _, rel := range s.Relationships {
			sr.declared[rel.Type] = declared{kind: 'r', rclass: rel.Class}
		}
		for _, rel := range s.MappedRelationships {
			sr.declared[rel.Type] = declared{kind: 'm', rclass: rel.Class}
		}
		if st, ok := startStates[s.ID]; ok && st.Disabled {
			sr.disabled, sr.reason = true, st.Reason
			if sr.reason == "" {
				sr.reason = "disabled by configuration"
			}
		}
		if why, ok := sourceOff[s.Source]; ok && s.Source != "" && !sr.disabled {
			sr.disabled, sr.reason = true, why
		}
		if selected != nil && !selected[s.ID] {
			sr.disabled, sr.reason = true, "not selected"
		}
		if selected != nil && selected[s.ID] && !wanted[s.ID] && r.opts.Reuse != nil {
			sr.reuse = true
		}
		r.steps[i] = sr
	}
	if r.opts.Reuse != nil {
		if err := r.checkReuse(); err != nil {
			return err
		}
	}
	// Disabled steps disable their dependents, in execution order.
	for _, i := range r.plan.order {
		sr := r.steps[i]
		if sr.disabled {
			continue
		}
		for _, d := range r.plan.deps[i] {
			if r.steps[d].disabled {
				sr.disabled = true
				sr.reason = fmt.Sprintf("dependency %s is disabled (%s)", r.plan.steps[d].ID, r.steps[d].reason)
				break
			}
		}
	}
	return nil
}

// checkReuse keeps for reuse only the steps the previous run collected in
// full and restores the data they handed over; a reused producer of data
// that a step that runs needs but the previous output cannot hand over is
// run instead.
func (r *run[C]) checkReuse() error {
	prev, err := ReadSummary(r.opts.Reuse)
	if err != nil {
		return fmt.Errorf("reuse %s: %w", r.opts.Reuse.Root(), err)
	}
	byID := map[string]*StepSummary{}
	if prev != nil {
		for i := range prev.Steps {
			byID[prev.Steps[i].ID] = &prev.Steps[i]
		}
	}
	for i, sr := range r.steps {
		if !sr.reuse {
			continue
		}
		s := r.plan.steps[i]
		ps := byID[s.ID]
		var why string
		switch {
		case prev == nil:
			why = "the previous output has no " + store.SummaryFile
		case ps == nil:
			why = "the previous run has no result for it"
		case ps.Status != StatusSuccess:
			why = "it ended " + ps.Status + " in the previous run"
			if ps.Reason != "" {
				why += " (" + ps.Reason + ")"
			}
		case len(ps.PartialTypes) > 0:
			why = "its types " + strings.Join(ps.PartialTypes, ", ") + " were partial in the previous run"
		}
		var data map[string]json.RawMessage
		if why == "" {
			if data, err = r.opts.Reuse.StepData(s.ID); err != nil {
				why = "its data cannot be read: " + err.Error()
			}
		}
		if why != "" {
			sr.reuse = false
			sr.reuseNote = "not reused from the previous output (" + why + "): collected in this run"
			continue
		}
		sr.prevCounts = ps.EncounteredTypeCounts
		sr.restored = map[string]json.RawMessage{}
		for _, d := range s.Data {
			b, ok := data[d.Key]
			if !ok || !d.Persisted() {
				continue
			}
			v, err := d.Decode(b)
			if err != nil {
				r.log.Warn("reuse: cannot decode handed-over data", "step", s.ID, "key", d.Key, "error", err)
				continue
			}
			r.data.Store(d.Key, v)
			sr.restored[d.Key] = b
		}
	}
	// A step that runs and needs data its reused producer cannot hand
	// over (run-local, or absent from the previous output) gets it from
	// its producer run again; that producer may in turn need data of its
	// own producers, so repeat until nothing changes.
	for changed := true; changed; {
		changed = false
		for i, sr := range r.steps {
			if sr.disabled || sr.reuse {
				continue
			}
			for _, k := range r.plan.steps[i].NeedsData {
				j := r.plan.dataOwner[k]
				pr := r.steps[j]
				if _, ok := pr.restored[k]; !pr.reuse || ok {
					continue
				}
				why := "the previous output does not hold it"
				if d := dataKey(r.plan.steps[j], k); !d.Persisted() {
					why = "it is run-local (never persisted)"
				}
				pr.reuse, changed = false, true
				pr.reuseNote = fmt.Sprintf("not reused from the previous output (step %s needs its data %q and %s): collected in this run",
					r.plan.steps[i].ID, k, why)
				for key := range pr.restored {
					r.data.Delete(key)
				}
				pr.restored = nil
			}
		}
	}
	return nil
}

func dataKey[C any](s *integration.Step[C], key string) integration.DataKey {
	for _, d := range s.Data {
		if d.Key == key {
			return d
		}
	}
	return integration.DataKey{Key: key}
}

// persistData hands the store, for every step that succeeded, the data it
// declared persistent (as set in this run, or as restored when reused).
func (r *run[C]) persistData(ctx context.Context) error {
	w, ok := r.store.(store.StepDataWriter)
	if !ok {
		return nil
	}
	for _, i := range r.plan.order {
		s, sr := r.plan.steps[i], r.steps[i]
		if sr.state != StatusSuccess || len(s.Data) == 0 {
			continue
		}
		out := map[string]json.RawMessage{}
		for _, d := range s.Data {
			if !d.Persisted() {
				continue
			}
			if sr.reuse {
				if b, ok := sr.restored[d.Key]; ok {
					out[d.Key] = b
				}
				continue
			}
			v, ok := r.data.Load(d.Key)
			if !ok {
				continue
			}
			b, err := json.Marshal(v)
			if err != nil {
				r.log.Warn("cannot persist handed-over data; a run reusing this step will not get it", "step", s.ID, "key", d.Key, "error", err)
				continue
			}
			out[d.Key] = b
		}
		if len(out) == 0 {
			continue
		}
		if err := w.WriteStepData(ctx, s.ID, out); err != nil {
			return fmt.Errorf("persist data of step %s: %w", s.ID, err)
		}
	}
	return nil
}

type stepDone struct {
	idx int
}

// execute schedules the steps and returns the fatal error, if any.
func (r *run[C]) execute(parent context.Context) error {
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	var g errgroup.Group
	g.SetLimit(r.opts.Concurrency)
	doneCh := make(chan stepDone, len(r.steps))
	var fatal atomic.Pointer[error]

	remaining := make([]int, len(r.steps))
	for i := range r.steps {
		remaining[i] = len(r.plan.deps[i])
	}
	finished := 0
	var ready []int
	settle := func(i int) { // step i is final: release dependents
		finished++
		for _, j := range r.plan.dependents[i] {
			if remaining[j]--; remaining[j] == 0 {
				ready = append(ready, j)
			}
		}
	}
	pos := make([]int, len(r.steps))
	for k, i := range r.plan.order {
		pos[i] = k
	}
	for _, i := range r.plan.order {
		if remaining[i] == 0 {
			ready = append(ready, i)
		}
	}
	running := 0
	for finished < len(r.steps) {
		sort.Slice(ready, func(a, b int) bool { return pos[ready[a]] < pos[ready[b]] })
		batch := ready
		ready = nil
		for _, i := range batch {
			sr := r.steps[i]
			s := r.plan.steps[i]
			switch {
			case sr.disabled:
				sr.state = StatusDisabled
				r.log.Info("step disabled", "step", s.ID, "reason", sr.reason)
				r.emit(Event{Kind: EventStepSkip, StepID: s.ID, Status: sr.state, Message: sr.reason})
				settle(i)
			case ctx.Err() != nil:
				sr.state = StatusCancelled
				sr.reason = "run cancelled before the step started"
				r.emit(Event{Kind: EventStepSkip, StepID: s.ID, Status: sr.state, Message: sr.reason})
				settle(i)
			default:
				sr.state = "running"
				for _, d := range r.plan.deps[i] {
					st := r.steps[d].state
					if st == StatusFailure || st == StatusCancelled || st == StatusPartialDependencyFailure {
						sr.depFails = append(sr.depFails, r.plan.steps[d].ID)
					}
				}
				running++
				g.Go(func() error {
					r.runStep(ctx, i, func(err error) {
						fatal.CompareAndSwap(nil, &err)
						cancel(err)
					})
					doneCh <- stepDone{idx: i}
					return nil
				})
			}
		}
		if finished == len(r.steps) {
			break
		}
		if running == 0 && len(ready) == 0 {
			return errors.New("runtime: scheduler stalled") // unreachable for a valid plan
		}
		if running > 0 && len(ready) == 0 {
			d := <-doneCh
			running--
			settle(d.idx)
		}
	}
	_ = g.Wait()
	if p := fatal.Load(); p != nil {
		return *p
	}
	return nil
}

func (r *run[C]) emit(e Event) {
	if r.opts.OnEvent != nil {
		r.opts.OnEvent(e)
	}
}

func (r *run[C]) runStep(ctx context.Context, i int, onFatal func(error)) {
	s := r.plan.steps[i]
	sr := r.steps[i]
	log := r.log.With("step", s.ID)
	sr.started = r.opts.Now()
	log.Info("step start", "name", s.Name, "dependsOn", s.DependsOn)
	r.emit(Event{Kind: EventStepStart, StepID: s.ID})
	js := &jobState[C]{r: r, step: sr, id: s.ID, log: log}
	var err error
	if sr.reuse {
		err = r.reuseStep(ctx, js)
	} else {
		if sr.reuseNote != "" {
			js.Warn(ctx, sr.reuseNote)
		}
		if err = r.missingData(i); err == nil {
			sc := &integration.StepContext[C]{Config: r.cfg, Logger: log, StepID: s.ID, JobState: js}
			err = js.Handle(ctx, safeRun(ctx, s, sc))
		}
		js.skipWarnings(ctx)
		js.policyWarnings(ctx)
		sr.mu.Lock()
		if err == nil && sr.dataErr != nil {
			err = sr.dataErr
		}
		sr.mu.Unlock()
	}
	sr.ended = r.opts.Now()
	switch {
	case err != nil && ctx.Err() != nil && !integration.IsFatal(err):
		sr.state, sr.err = StatusCancelled, err
	case err != nil:
		sr.state, sr.err = StatusFailure, err
		if integration.IsFatal(err) {
			onFatal(err)
		}
	case len(sr.depFails) > 0:
		sr.state = StatusPartialDependencyFailure
	default:
		sr.state = StatusSuccess
	}
	attrs := []any{"status", sr.state, "duration", sr.ended.Sub(sr.started).Round(time.Millisecond)}
	if err != nil {
		attrs = append(attrs, "error", err, "code", string(integration.ErrorCode(err)))
		log.Error("step end", attrs...)
	} else {
		log.Info("step end", attrs...)
	}
	r.emit(Event{Kind: EventStepEnd, StepID: s.ID, Status: sr.state, Err: err})
}

// missingData fails step i before it starts when a value it lists in
// NeedsData was not handed over (its producer failed before handing it).
func (r *run[C]) missingData(i int) error {
	for _, k := range r.plan.steps[i].NeedsData {
		if _, ok := r.data.Load(k); !ok {
			return fmt.Errorf("run state %q is missing: step %s did not hand it over", k, r.plan.steps[r.plan.dataOwner[k]].ID)
		}
	}
	return nil
}

func safeRun[C any](ctx context.Context, s *integration.Step[C], sc *integration.StepContext[C]) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("step %s panicked: %v", s.ID, p)
		}
	}()
	return s.Run(ctx, sc)
}

// reuseStep replays a step's objects from a previous run's output: only
// the files that step wrote, and all of them (the counts must match that
// run's summary), so a reused type is as complete as it was then.
func (r *run[C]) reuseStep(ctx context.Context, js *jobState[C]) error {
	s := r.plan.steps[js.step.idx]
	for _, typ := range s.DeclaredTypes() {
		var n int64
		var err error
		if js.step.declared[typ].kind == 'e' {
			n, err = replay(ctx, s.ID, typ, r.opts.Reuse.IterateStepEntities, js.AddEntities)
		} else {
			n, err = replay(ctx, s.ID, typ, r.opts.Reuse.IterateStepRelationships, js.AddRelationships)
		}
		if err != nil {
			return fmt.Errorf("reuse %s from %s: %w", typ, r.opts.Reuse.Root(), err)
		}
		if want := js.step.prevCounts[typ]; n != want {
			return fmt.Errorf("reuse %s from %s: the output holds %d objects where its summary counted %d", typ, r.opts.Reuse.Root(), n, want)
		}
	}
	js.Warn(ctx, "step output reused from a previous run", "from", r.opts.Reuse.Root())
	return nil
}

// replay feeds the objects of typ that step wrote from iterate to add in
// batches of 500 and returns how many there were.
func replay[T any](ctx context.Context, step, typ string,
	iterate func(context.Context, string, string, func(T) error) error,
	add func(context.Context, ...T) error) (int64, error) {
	var batch []T
	var n int64
	err := iterate(ctx, step, typ, func(o T) error {
		n++
		batch = append(batch, o)
		if len(batch) < 500 {
			return nil
		}
		err := add(ctx, batch...)
		batch = batch[:0]
		return err
	})
	if err == nil && len(batch) > 0 {
		err = add(ctx, batch...)
	}
	return n, err
}

func (r *run[C]) summary(started time.Time) *Summary {
	sum := &Summary{Integration: r.integ.Name, StartedOn: millis(started), EndedOn: millis(r.opts.Now())}
	partial := map[string]bool{}
	for _, i := range r.plan.order {
		s := r.plan.steps[i]
		sr := r.steps[i]
		sr.mu.Lock()
		ss := StepSummary{
			ID:                       s.ID,
			Name:                     s.Name,
			DependsOn:                append([]string{}, s.DependsOn...),
			DeclaredTypes:            s.DeclaredTypes(),
			PartialTypes:             slices.Clone(sr.partial),
			EncounteredTypeCounts:    map[string]int64{},
			Status:                   sr.state,
			Reason:                   sr.reason,
			Warnings:                 slices.Clone(sr.warnings),
			StartedOn:                millis(sr.started),
			EndedOn:                  millis(sr.ended),
			DependencyFailureStepIDs: sr.depFails,
		}
		sr.mu.Unlock()
		if ss.PartialTypes == nil {
			ss.PartialTypes = []string{}
		}
		if !sr.started.IsZero() && !sr.ended.IsZero() {
			ss.Duration = sr.ended.Sub(sr.started).Milliseconds()
		}
		if sr.err != nil {
			ss.Error = r.redact.Redact(sr.err.Error())
			ss.ErrorCode = string(integration.ErrorCode(sr.err))
		}
		for t, n := range sr.counts {
			ss.EncounteredTypes = append(ss.EncounteredTypes, t)
			ss.EncounteredTypeCounts[t] = n
		}
		sort.Strings(ss.EncounteredTypes)
		if ss.EncounteredTypes == nil {
			ss.EncounteredTypes = []string{}
		}
		for _, e := range s.Entities {
			if e.Partial {
				partial[e.Type] = true
			}
		}
		for _, rel := range s.Relationships {
			if rel.Partial {
				partial[rel.Type] = true
			}
		}
		for _, rel := range s.MappedRelationships {
			if rel.Partial {
				partial[rel.Type] = true
			}
		}
		switch sr.state {
		case StatusFailure, StatusCancelled, StatusPartialDependencyFailure, StatusDisabled:
			// Disabled steps collected nothing: a consumer must not
			// read the absence of their types as deletion.
			for _, t := range ss.DeclaredTypes {
				partial[t] = true
			}
		}
		for _, t := range ss.PartialTypes {
			partial[t] = true
		}
		sum.Steps = append(sum.Steps, ss)
	}
	sum.Metadata.PartialDatasets.Types = []string{}
	for t := range partial {
		sum.Metadata.PartialDatasets.Types = append(sum.Metadata.PartialDatasets.Types, t)
	}
	sort.Strings(sum.Metadata.PartialDatasets.Types)
	return sum
}

package runtime

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/stepgraph/stepgraph/sdk/integration"
	"github.com/stepgraph/stepgraph/sdk/internal/redact"
	"github.com/stepgraph/stepgraph/sdk/internal/scratch"
	"github.com/stepgraph/stepgraph/sdk/store"
)

// runState is the integration.RunState of a run: the values Setup shares
// with every step live in the run's data, next to those steps hand over.
type runState[C any] struct{ r *run[C] }

// SetData implements integration.RunState.
func (s runState[C]) SetData(key string, v any) { s.r.data.Store(key, v) }

// GetData implements integration.RunState.
func (s runState[C]) GetData(key string) (any, bool) { return s.r.data.Load(key) }

// OnEnd implements integration.RunState.
func (s runState[C]) OnEnd(fn func()) { s.r.addOnEnd(fn) }

// addOnEnd registers a cleanup of the run; steps register theirs
// concurrently.
func (r *run[C]) addOnEnd(fn func()) {
	r.endMu.Lock()
	r.onEnd = append(r.onEnd, fn)
	r.endMu.Unlock()
}

// setup runs the integration's Setup once, before any step.
func (r *run[C]) setup(ctx context.Context) error {
	if r.integ.Setup == nil {
		return nil
	}
	rc := &integration.RunContext[C]{Config: r.cfg, Logger: r.log, RunState: runState[C]{r}}
	if err := r.integ.Setup(ctx, rc); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	return nil
}

// end runs the cleanups registered with OnEnd, last first, and drops the
// run's state.
func (r *run[C]) end() {
	r.endMu.Lock()
	fns := r.onEnd
	r.onEnd = nil
	r.endMu.Unlock()
	for i := len(fns) - 1; i >= 0; i-- {
		fns[i]()
	}
	r.data.Clear()
	r.scratchMu.Lock()
	if r.tempDir != nil {
		if err := r.tempDir.Remove(); err != nil {
			r.log.Warn("cannot remove the run's scratch folder", "error", err)
		}
	}
	r.scratchMu.Unlock()
}

// scratchDir returns the run's scratch folder: the store's (inside its
// staging folder) when it has one, else a temporary folder removed when
// the run ends.
func (r *run[C]) scratchDir() (string, error) {
	r.scratchMu.Lock()
	if r.scratch == nil {
		if sc, ok := r.store.(store.Scratcher); ok {
			r.scratch = sc
		} else {
			r.tempDir = scratch.NewTemp()
			r.scratch = r.tempDir
		}
	}
	sc := r.scratch
	r.scratchMu.Unlock()
	return sc.ScratchDir()
}

// SourceError reports an ingestion source that is not declared, named by
// a step, the run's options or the integration's DisabledSources, or a
// Required source that the run's options or DisabledSources disable. (A
// config's sources:"disable" list is checked by Integration.SourcesOff,
// which names the field in a *integration.ConfigError.)
type SourceError struct {
	// Source is the unknown name; By says who named it.
	Source, By string
	// Known lists the declared sources.
	Known []string
	// Required is true when the source is declared but Required: it
	// cannot be disabled.
	Required bool
}

// Error implements the error interface.
func (e *SourceError) Error() string {
	if e.Required {
		return fmt.Sprintf("%s disables source %q, which every run reads (it cannot be disabled)", e.By, e.Source)
	}
	if len(e.Known) == 0 {
		return fmt.Sprintf("%s names source %q but the integration declares no sources", e.By, e.Source)
	}
	return fmt.Sprintf("%s names unknown source %q (sources: %s)", e.By, e.Source, strings.Join(e.Known, ", "))
}

// disabledSources checks every source name against the declaration and
// returns the disabled ones with the reason their steps get.
func (r *run[C]) disabledSources() (map[string]string, error) {
	var known []string
	required := map[string]bool{}
	for _, s := range r.integ.Sources {
		known = append(known, s.Name)
		required[s.Name] = s.Required
	}
	check := func(name, by string) error {
		if !slices.Contains(known, name) {
			return &SourceError{Source: name, By: by, Known: known}
		}
		return nil
	}
	for _, s := range r.plan.steps {
		if s.Source != "" {
			if err := check(s.Source, "step "+s.ID); err != nil {
				return nil, err
			}
		}
	}
	disable := func(name, by string) error {
		if err := check(name, by); err != nil {
			return err
		}
		if required[name] {
			return &SourceError{Source: name, By: by, Known: known, Required: true}
		}
		return nil
	}
	off := map[string]string{}
	for _, name := range r.opts.DisableSources {
		if err := disable(name, "the run's disabled sources"); err != nil {
			return nil, err
		}
		off[name] = "source " + name + " disabled for this run"
	}
	byConfig, err := r.integ.SourcesOff(r.cfg)
	if err != nil {
		return nil, err
	}
	for name, why := range byConfig {
		if err := disable(name, "the configuration"); err != nil {
			return nil, err
		}
		if _, ok := off[name]; !ok {
			off[name] = why
		}
	}
	return off, nil
}

// ProbeResult is the outcome of one source's probe.
type ProbeResult struct {
	// Source is the probed source's name.
	Source string
	// Detail is what validate shows for the source: its ProbeDetail's
	// result, else its ProbeEndpoint, else "GET <path>" of its Get, else
	// its Description.
	Detail string
	// Err is nil when the credentials can read the source.
	Err error
}

// Probe runs the probe of every enabled source that declares one (Probe,
// or Get with the integration's Prober), after the integration's Setup and
// without collecting anything, and returns one result per source in
// declaration order. Before a source's probe runs, the Prober says what
// the credentials lack of the source's Needs; that is the source's error
// and its probe is not run. The error is non-nil when
// setup failed or a probe returned a fatal error (authentication), which
// stops probing. The caller validates the config first.
func Probe[C any](ctx context.Context, integ *integration.Integration[C], cfg *C, opts Options) ([]ProbeResult, error) {
	plan, err := NewPlan(integ.Steps)
	if err != nil {
		return nil, err
	}
	base := opts.Logger
	if base == nil {
		base = slog.New(slog.DiscardHandler)
	}
	log := slog.New(redact.NewHandler(base.Handler(), integration.SecretValues(cfg)...)).With("integration", integ.Name)
	r := &run[C]{plan: plan, integ: integ, cfg: cfg, opts: opts, log: log}
	off, err := r.disabledSources()
	if err != nil {
		return nil, err
	}
	defer r.end()
	if err := r.setup(ctx); err != nil {
		return nil, err
	}
	rc := &integration.RunContext[C]{Config: cfg, Logger: r.log, RunState: runState[C]{r}}
	var prober integration.Prober
	if integ.Prober != nil {
		if prober, err = integ.Prober(rc); err != nil {
			return nil, err
		}
	}
	var out []ProbeResult
	for _, s := range integ.Sources {
		if _, disabled := off[s.Name]; disabled || s.Probe == nil && (s.Get == "" || prober == nil) {
			continue
		}
		err := probeSource(ctx, rc, prober, s)
		if integration.IsFatal(err) {
			return out, err
		}
		detail := cmp.Or(s.ProbeEndpoint, s.Description)
		if s.ProbeEndpoint == "" && s.Get != "" {
			path, _, _ := strings.Cut(s.Get, "?")
			detail = "GET " + path
		}
		if s.ProbeDetail != nil {
			detail = s.ProbeDetail(ctx, rc)
		}
		out = append(out, ProbeResult{Source: s.Name, Detail: detail, Err: err})
	}
	return out, nil
}

// probeSource checks what the credentials lack of s's Needs, then runs its
// probe: Probe, or a GET of s.Get through the Prober.
func probeSource[C any](ctx context.Context, rc *integration.RunContext[C], p integration.Prober, s integration.Source[C]) error {
	if p != nil {
		if err := p.Lacks(ctx, s.Needs); err != nil {
			return err
		}
	}
	if s.Probe != nil {
		return s.Probe(ctx, rc)
	}
	return p.Get(ctx, s.Get, s.Needs)
}

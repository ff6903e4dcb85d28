package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/stepgraph/stepgraph/sdk/integration"
	"github.com/stepgraph/stepgraph/sdk/internal/redact"
	"github.com/stepgraph/stepgraph/sdk/runtime"
	"github.com/stepgraph/stepgraph/sdk/store"
)

func collectCommand[C any]() command[C] {
	return command[C]{
		name:    "collect",
		summary: "run the integration and write the collected graph to the output folder",
		long: `Runs the integration's steps through the runtime and writes the graph to the
output folder (JupiterOne's .j1-integration layout: graph/<step>/..., index.json,
summary.json). The previous output is replaced only when the run ends.

On a terminal a live display shows each running step's object counts, progress
towards a known total with an ETA, and HTTP requests and rate-limit waits per
endpoint family; otherwise progress is logged every --progress-interval.
A per-step summary table is printed at the end.

--step runs only those steps and their dependencies; with --use-cache the
dependencies are not run but read from the previous output in --output.
--disable-source skips the steps of an ingestion source (and their dependents).
--every keeps collecting on a schedule (±10% jitter), one run at a time.
--sink postgres://... also loads each run into that PostgreSQL database (see
docs/postgres.md) as instance --instance, after the output is written; when
the load fails the output stays for push (exit 5; exit 6 when another run
is syncing the instance).

Ctrl-C (SIGINT) or SIGTERM stops cleanly: running steps are cancelled and
marked so in summary.json, what was collected is written, and the exit code is
130. A second ctrl-C quits at once.`,
		examples: []string{
			"$PROG collect",
			"$PROG collect --output /tmp/out --log-format json",
			"$PROG collect --step $STEP --use-cache",
			"$PROG collect --disable-source $SOURCES",
			"$PROG collect --every 6h --progress log",
			"$PROG collect --sink postgres://user@db.example:5432/graph --instance acme",
		},
		setup: func(a *App[C], fs *flagSet) func(context.Context, []string) int {
			c := &collector[C]{app: a}
			c.cfgFlags = addConfigFlags[C](fs)
			c.logFlags = addLogFlags(fs)
			c.output = addOutputFlag(fs, "folder the output is written to")
			c.steps = fs.String("step", "", "comma separated step IDs to run (plus their dependencies)")
			c.useCache = fs.Bool("use-cache", false, "with --step: read the dependencies' output from the previous run in --output instead of running them")
			c.disable = fs.String("disable-source", "", "comma separated ingestion sources to skip"+a.sourceList())
			c.concurrency = fs.Int("concurrency", runtime.DefaultConcurrency, "maximum steps running at once")
			c.every = fs.Duration("every", 0, "collect again on this schedule (e.g. 6h), with ±10% jitter")
			c.progress = fs.String("progress", "auto", "progress display: auto (live on a terminal, else log), live, log or off")
			c.interval = fs.Duration("progress-interval", 15*time.Second, "period of progress log lines when not live")
			c.sink = addSinkFlags(a, fs, false)
			c.share = addRateLimitFlag(fs)
			return c.run
		},
	}
}

// sources returns App.Sources, or else the sources the integration
// declares (integration.Source) that a run may disable (not Required),
// each with the steps that name it.
func (a *App[C]) sources() []Source {
	if len(a.Sources) > 0 || a.Integration == nil {
		return a.Sources
	}
	var out []Source
	for _, src := range a.Integration.Sources {
		if src.Required {
			continue
		}
		s := Source{Name: src.Name, Description: src.Description}
		for _, st := range a.Integration.Steps {
			if st.Source == src.Name {
				s.Steps = append(s.Steps, st.ID)
			}
		}
		out = append(out, s)
	}
	return out
}

// declaredSources reports whether the runtime resolves sources itself
// (the integration declares them and the App does not override them).
func (a *App[C]) declaredSources() bool {
	return len(a.Sources) == 0 && a.Integration != nil && len(a.Integration.Sources) > 0
}

func (a *App[C]) sourceNames() []string {
	var names []string
	for _, s := range a.sources() {
		names = append(names, s.Name)
	}
	return names
}

func (a *App[C]) sourceList() string {
	if names := a.sourceNames(); len(names) > 0 {
		return " (" + strings.Join(names, ", ") + ")"
	}
	return ""
}

type collector[C any] struct {
	app         *App[C]
	cfgFlags    *configFlags[C]
	logFlags    *logFlags
	output      *string
	steps       *string
	useCache    *bool
	disable     *string
	disabled    []string // --disable-source, when the runtime resolves it
	concurrency *int
	every       *time.Duration
	progress    *string
	interval    *time.Duration
	sink        *sinkFlags
	share       *string

	cfg     *C
	secrets []string
	log     *slog.Logger
	integ   *integration.Integration[C]
	only    []string
	display *progressDisplay
}

func (c *collector[C]) run(ctx context.Context, args []string) int {
	a := c.app
	if len(args) > 0 {
		a.errorf("collect: unexpected argument %q", args[0])
		return ExitUsage
	}
	if err := c.logFlags.check(); err != nil {
		a.errorf("collect: %v", err)
		return ExitUsage
	}
	switch *c.progress {
	case "auto", "live", "log", "off":
	default:
		a.errorf("collect: --progress %q: want auto, live, log or off", *c.progress)
		return ExitUsage
	}
	if *c.every < 0 || (*c.every > 0 && *c.every < time.Second) {
		a.errorf("collect: --every %s: want a duration of at least 1s", *c.every)
		return ExitUsage
	}
	ctx, err := withRateLimitShare(ctx, *c.share, a.LookupEnv)
	if err != nil {
		return a.reportError(ctx, "collect", err, nil)
	}
	done, err := c.cfgFlags.prepare(ctx, a, "collect")
	defer done()
	if err != nil {
		return a.reportError(ctx, "collect", err, nil)
	}
	cfg, err := c.cfgFlags.load(a)
	if err != nil {
		return a.reportError(ctx, "collect", err, nil)
	}
	c.cfg = cfg
	c.secrets = append(integration.SecretValues(cfg), urlSecrets(c.sink.url())...)
	if u := c.sink.url(); u != "" {
		if _, err := a.sinkFor(u); err != nil { // before any request
			a.errorf("collect: --sink: %v", err)
			return ExitUsage
		}
	}
	if code := c.prepare(); code != ExitOK {
		return code
	}
	mode := *c.progress
	if mode == "auto" {
		mode = "log"
		if a.isTerminal() {
			mode = "live"
		}
	}
	c.display = newProgressDisplay(a.stderr(), mode, *c.interval, a.HTTPStats, a.termWidth)
	logOut := a.stderr()
	if mode == "live" {
		logOut = c.display.logWriter()
	}
	c.log, _ = c.logFlags.logger(logOut, c.secrets)
	if a.Logger != nil {
		a.Logger(c.log)
	}
	a.setNotice(logOut)
	defer a.setNotice(nil)

	if *c.every == 0 {
		return c.runOnce(ctx)
	}
	for n := 1; ; n++ {
		code := c.runOnce(ctx)
		switch {
		case code == ExitUsage || code == ExitAuth:
			return code
		case ctx.Err() != nil:
			return code // the run was interrupted
		}
		wait := jitter(*c.every)
		c.log.Info("next collection scheduled", "integration", a.Integration.Name, "run", n+1, "in", wait.Round(time.Second), "at", time.Now().Add(wait).Format(time.RFC3339))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			c.log.Info("schedule stopped between runs")
			return ExitOK
		case <-t.C:
		}
	}
}

// jitter returns d ± up to 10%.
func jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.9 + 0.2*rand.Float64()))
}

// prepare resolves --step and --disable-source against the declarations.
func (c *collector[C]) prepare() int {
	a := c.app
	integ := *a.Integration
	c.integ = &integ
	ids := map[string]bool{}
	var all []string
	for _, s := range integ.Steps {
		ids[s.ID] = true
		all = append(all, s.ID)
	}
	c.only = splitList(*c.steps)
	for _, id := range c.only {
		if !ids[id] {
			a.errorf("collect: --step: unknown step %q (steps: %s)", id, strings.Join(all, ", "))
			return ExitUsage
		}
	}
	if *c.useCache && len(c.only) == 0 {
		a.errorf("collect: --use-cache needs --step (the steps to run; their dependencies come from the cache)")
		return ExitUsage
	}
	disabled := splitList(*c.disable)
	if len(disabled) == 0 {
		return ExitOK
	}
	sources := a.sources()
	if len(sources) == 0 {
		a.errorf("collect: --disable-source: this integration declares no sources")
		return ExitUsage
	}
	for _, name := range disabled {
		if !slices.ContainsFunc(sources, func(s Source) bool { return s.Name == name }) {
			a.errorf("collect: --disable-source: unknown source %q (sources: %s)", name, strings.Join(a.sourceNames(), ", "))
			return ExitUsage
		}
	}
	if a.declaredSources() {
		c.disabled = disabled // the runtime disables them (Options.DisableSources)
		return ExitOK
	}
	off := map[string]string{} // step -> reason
	for _, name := range disabled {
		i := slices.IndexFunc(sources, func(s Source) bool { return s.Name == name })
		if i < 0 {
			a.errorf("collect: --disable-source: unknown source %q (sources: %s)", name, strings.Join(a.sourceNames(), ", "))
			return ExitUsage
		}
		for _, id := range sources[i].Steps {
			if !ids[id] {
				a.errorf("collect: source %q names unknown step %q", name, id)
				return ExitFailure
			}
			off[id] = fmt.Sprintf("source %s disabled by --disable-source", name)
		}
	}
	orig := integ.StepStartStates
	integ.StepStartStates = func(cfg *C) map[string]integration.StepStartState {
		out := map[string]integration.StepStartState{}
		if orig != nil {
			for k, v := range orig(cfg) {
				out[k] = v
			}
		}
		for id, reason := range off {
			if st, ok := out[id]; !ok || !st.Disabled {
				out[id] = integration.StepStartState{Disabled: true, Reason: reason}
			}
		}
		return out
	}
	return ExitOK
}

// runOnce runs one collection and prints its summary.
func (c *collector[C]) runOnce(ctx context.Context) int {
	a := c.app
	root := *c.output
	var reuse *store.Dir
	if *c.useCache {
		d, err := store.OpenDir(root)
		if err != nil {
			a.errorf("collect: --use-cache: no previous output to reuse: %v", err)
			return ExitUsage
		}
		reuse = d
	}
	// With --sink the run still collects to disk first and loads the
	// committed output afterwards (sinkLoad), so an unreachable database
	// loses nothing.
	fs, err := store.NewFilesystem(root, store.FilesystemOptions{})
	if err != nil {
		return a.reportError(ctx, "collect", err, c.secrets)
	}
	var st store.Store = fs
	c.display.begin(len(c.integ.Steps), c.log)
	var httpBefore []FamilyStats
	if a.HTTPStats != nil {
		httpBefore = a.HTTPStats()
	}
	res, err := runtime.Run(ctx, c.integ, c.cfg, runtime.Options{
		Store:          st,
		Logger:         c.log,
		Concurrency:    *c.concurrency,
		Only:           c.only,
		Reuse:          reuse,
		OnEvent:        c.display.event,
		DisableSources: c.disabled,
	})
	c.display.stop()
	if res == nil {
		if err == nil {
			err = errors.New("runtime returned no result")
		}
		_ = st.Abort()
		return a.reportError(ctx, "collect", err, c.secrets)
	}
	interrupted := ctx.Err() != nil
	printSummary(a.stdout(), res.Summary, declaredKinds(c.integ), redact.New(c.secrets...))
	if a.HTTPStats != nil {
		printHTTPTotals(a.stdout(), httpBefore, a.HTTPStats())
	}
	if err != nil {
		code := a.reportError(ctx, "collect", err, c.secrets)
		if code == ExitAuth {
			fmt.Fprintf(a.stdout(), "Output: not written (authentication failed); %s keeps the previous run's output\n", root)
		}
		return code
	}
	fmt.Fprintf(a.stdout(), "Output: %s\n", root)
	if code := c.sinkLoad(ctx, root, interrupted); code != ExitOK {
		return code
	}
	switch {
	case interrupted:
		fmt.Fprintln(a.stdout(), "Run interrupted: running steps were cancelled; what they collected was written.")
		return ExitInterrupted
	case !res.Partial():
		return ExitOK
	case res.Summary.NoneSucceeded():
		return ExitFailure
	}
	return ExitPartial
}

// sinkLoad loads the committed output at root into the --sink database
// (nothing without --sink). A failed load keeps the output and says how to
// load it later: exit ExitBusy when another run holds the instance, else
// ExitLoadFailed.
func (c *collector[C]) sinkLoad(ctx context.Context, root string, interrupted bool) int {
	a := c.app
	url := c.sink.url()
	if url == "" {
		return ExitOK
	}
	later := fmt.Sprintf("the collection is kept in %s: load it with `push --instance %s %s`", root, *c.sink.inst, root)
	if interrupted {
		fmt.Fprintf(a.stdout(), "Database: not loaded (run interrupted); %s\n", later)
		return ExitOK
	}
	sk, err := a.sinkFor(url)
	var res fmt.Stringer
	if err == nil {
		res, err = sk.Push(ctx, c.sink.request(a.Integration.Name, root, c.log))
	}
	if err != nil {
		a.reportError(ctx, "collect: --sink", err, append(urlSecrets(url), c.secrets...))
		fmt.Fprintf(a.stdout(), "Database: not loaded; %s\n", later)
		return sinkExitCode(err, ExitLoadFailed)
	}
	fmt.Fprintf(a.stdout(), "Database: %s\n", res)
	return ExitOK
}

// declaredKinds maps each declared _type to 'e' (entity) or 'r'
// (relationship, direct or mapped).
func declaredKinds[C any](integ *integration.Integration[C]) map[string]byte {
	out := map[string]byte{}
	for _, s := range integ.Steps {
		for _, e := range s.Entities {
			out[e.Type] = 'e'
		}
		for _, r := range s.Relationships {
			out[r.Type] = 'r'
		}
		for _, r := range s.MappedRelationships {
			out[r.Type] = 'r'
		}
	}
	return out
}

// printSummary writes the per-step table of a run.
func printSummary(w io.Writer, s *runtime.Summary, kinds map[string]byte, red *redact.Redactor) {
	var rows [][]string
	var totalE, totalR int64
	var notes []string
	for _, st := range s.Steps {
		var ne, nr int64
		for t, n := range st.EncounteredTypeCounts {
			if kinds[t] == 'r' {
				nr += n
			} else {
				ne += n
			}
		}
		totalE += ne
		totalR += nr
		dur := "-"
		if st.Status != runtime.StatusDisabled && (st.StartedOn != 0 || st.Duration != 0) {
			dur = (time.Duration(st.Duration) * time.Millisecond).String()
		}
		rows = append(rows, []string{st.ID, st.Status, fmt.Sprint(ne), fmt.Sprint(nr), dur})
		switch {
		case st.Status == runtime.StatusCancelled:
			notes = append(notes, fmt.Sprintf("  %s: cancelled (run interrupted)", st.ID))
		case st.Error != "":
			notes = append(notes, fmt.Sprintf("  %s: %s [%s]", st.ID, red.Redact(oneLine(st.Error)), st.ErrorCode))
		case st.Status != runtime.StatusSuccess && st.Reason != "":
			notes = append(notes, fmt.Sprintf("  %s: %s", st.ID, st.Reason))
		case len(st.DependencyFailureStepIDs) > 0:
			notes = append(notes, fmt.Sprintf("  %s: dependencies failed: %s", st.ID, strings.Join(st.DependencyFailureStepIDs, ", ")))
		}
		for _, warn := range st.Warnings {
			notes = append(notes, fmt.Sprintf("  %s: warning: %s", st.ID, red.Redact(oneLine(warn))))
		}
	}
	dur := time.Duration(s.EndedOn-s.StartedOn) * time.Millisecond
	rows = append(rows, []string{"TOTAL", "", fmt.Sprint(totalE), fmt.Sprint(totalR), dur.String()})
	writeTable(w, []string{"STEP", "STATUS", "ENTITIES", "RELATIONSHIPS", "DURATION"}, []bool{false, false, true, true, true}, rows)
	if len(notes) > 0 {
		fmt.Fprintln(w, "Details:")
		for _, n := range notes {
			fmt.Fprintln(w, n)
		}
	}
	if p := s.Metadata.PartialDatasets.Types; len(p) > 0 {
		fmt.Fprintf(w, "Partial datasets (consumers must not delete missing objects of these types): %s\n", strings.Join(p, ", "))
	}
}

// printHTTPTotals writes one line per endpoint family with what this run
// sent (after minus before: the counters are totals since the process
// started, and --every runs many times): requests, retries, 429s, pacer
// waits and the time requests waited (pacing and backoff).
func printHTTPTotals(w io.Writer, before, after []FamilyStats) {
	prev := map[string]FamilyStats{}
	for _, f := range before {
		prev[f.Family] = f
	}
	for _, f := range sortedStats(after) {
		p := prev[f.Family]
		n := f.Requests - p.Requests
		if n == 0 {
			continue
		}
		fmt.Fprintf(w, "HTTP %s: %d requests, %d retries, %d 429s, %d waits, %s waited\n", f.Family, n,
			f.Retries-p.Retries, f.RateLimited-p.RateLimited, f.Waits-p.Waits, roundDur(f.Waited-p.Waited))
	}
}

// writeTable writes a plain text table; right[i] right-aligns column i.
func writeTable(w io.Writer, header []string, right []bool, rows [][]string) {
	width := make([]int, len(header))
	for i, h := range header {
		width[i] = utf8.RuneCountInString(h)
	}
	for _, r := range rows {
		for i, c := range r {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	line := func(cells []string) {
		var b strings.Builder
		for i, c := range cells {
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			if i > 0 {
				b.WriteString("  ")
			}
			if right[i] {
				b.WriteString(pad + c)
			} else if i < len(cells)-1 {
				b.WriteString(c + pad)
			} else {
				b.WriteString(c)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	line(header)
	for _, r := range rows {
		line(r)
	}
}

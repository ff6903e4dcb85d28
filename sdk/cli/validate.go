package cli

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"

	"github.com/stepgraph/stepgraph/sdk/integration"
	"github.com/stepgraph/stepgraph/sdk/internal/redact"
	"github.com/stepgraph/stepgraph/sdk/runtime"
)

func validateCommand[C any]() command[C] {
	return command[C]{
		name:    "validate",
		summary: "check the configuration and which ingestion sources the credentials can read",
		long: `Loads the configuration (flags > environment > .env file > defaults), prints
it with secrets masked, runs the integration's own validation (which may make one
authentication request) and, when the integration supplies a probe, checks per
ingestion source whether the credentials can read it. No data is collected.

Exits 0 when everything is reachable, 2 for invalid configuration, 3 when the
credentials are rejected and 4 when some sources are not reachable.`,
		examples: []string{
			"$PROG validate",
			"$PROG validate --env-file prod.env",
			"OKTA_API_KEY=... $PROG validate --orgUrl https://example.okta.com",
		},
		setup: func(a *App[C], fs *flagSet) func(context.Context, []string) int {
			cfgFlags := addConfigFlags[C](fs)
			lf := addLogFlags(fs)
			return func(ctx context.Context, args []string) int {
				if len(args) > 0 {
					a.errorf("validate: unexpected argument %q", args[0])
					return ExitUsage
				}
				if err := lf.check(); err != nil {
					a.errorf("validate: %v", err)
					return ExitUsage
				}
				return a.validate(ctx, cfgFlags, lf)
			}
		},
	}
}

func (a *App[C]) validate(ctx context.Context, cf *configFlags[C], lf *logFlags) int {
	done, err := cf.prepare(ctx, a, "validate")
	defer done()
	if err != nil {
		return a.reportError(ctx, "validate", err, nil)
	}
	cfg, err := cf.load(a)
	if err != nil {
		return a.reportError(ctx, "validate", err, nil)
	}
	secrets := integration.SecretValues(cfg)
	log, _ := lf.logger(a.stderr(), secrets)
	if a.Logger != nil {
		a.Logger(log)
	}
	out := a.stdout()
	masked := integration.MaskedConfig(cfg)
	names := make([]string, 0, len(masked))
	for k := range masked {
		names = append(names, k)
	}
	sort.Strings(names)
	fmt.Fprintln(out, "Configuration:")
	for _, k := range names {
		fmt.Fprintf(out, "  %s = %s\n", k, masked[k])
	}
	if err := a.Integration.CheckConfig(cfg); err != nil {
		return a.reportError(ctx, "validate", err, secrets)
	}
	if a.Integration.Validate != nil {
		if err := a.Integration.Validate(ctx, cfg); err != nil {
			return a.reportError(ctx, "validate", err, secrets)
		}
	}
	fmt.Fprintln(out, "Configuration is valid.")
	probe := a.Probe
	if probe == nil && a.declaredSources() {
		probe = a.probeDeclared(log)
	}
	if probe == nil {
		if len(a.sources()) > 0 {
			fmt.Fprintf(out, "Sources (not probed: the integration has no probe):%s\n", a.sourceList())
		}
		return ExitOK
	}
	log.Debug("probing sources")
	results, err := probe(ctx, cfg)
	if err != nil {
		return a.reportError(ctx, "validate: probe", err, secrets)
	}
	red := redact.New(secrets...)
	seen := map[string]bool{}
	var rows [][]string
	unreachable := 0
	var needed []string // unreachable sources every run reads
	for _, r := range results {
		seen[r.Source] = true
		status := "ok"
		detail := r.Detail
		if !r.OK {
			unreachable++
			status = "unreachable"
			if a.requiredSource(r.Source) {
				needed = append(needed, r.Source)
			}
			if r.Err != nil {
				if detail != "" {
					detail += ": "
				}
				detail += oneLine(r.Err.Error()) + codeSuffix(r.Err)
			}
		}
		rows = append(rows, []string{r.Source, status, red.Redact(detail)})
	}
	for _, s := range a.sources() {
		if !seen[s.Name] {
			rows = append(rows, []string{s.Name, "not probed", s.Description})
		}
	}
	fmt.Fprintln(out, "Sources:")
	writeTable(out, []string{"SOURCE", "STATUS", "DETAIL"}, []bool{false, false, false}, rows)
	if unreachable > 0 {
		switch n := unreachable - len(needed); {
		case n > 0 && len(needed) > 0:
			fmt.Fprintf(out, "%d of %d sources are not reachable with these credentials; collect with --disable-source to skip the %d that can be skipped (%s cannot be: every run reads them).\n", unreachable, len(results), n, strings.Join(needed, ", "))
		case n > 0:
			fmt.Fprintf(out, "%d of %d sources are not reachable with these credentials; collect with --disable-source to skip them.\n", unreachable, len(results))
		default:
			fmt.Fprintf(out, "%d of %d sources are not reachable with these credentials; %s cannot be skipped (every run reads them): fix the credentials' permissions.\n", unreachable, len(results), strings.Join(needed, ", "))
		}
		return ExitPartial
	}
	return ExitOK
}

// requiredSource reports whether the integration declares name as a
// Required source (one --disable-source cannot skip).
func (a *App[C]) requiredSource(name string) bool {
	if !a.declaredSources() {
		return false
	}
	return slices.ContainsFunc(a.Integration.Sources, func(s integration.Source[C]) bool { return s.Name == name && s.Required })
}

// probeDeclared probes the sources the integration declares, through the
// runtime (after the integration's Setup).
func (a *App[C]) probeDeclared(log *slog.Logger) func(context.Context, *C) ([]ProbeResult, error) {
	return func(ctx context.Context, cfg *C) ([]ProbeResult, error) {
		res, err := runtime.Probe(ctx, a.Integration, cfg, runtime.Options{Logger: log})
		out := make([]ProbeResult, 0, len(res))
		for _, r := range res {
			out = append(out, ProbeResult{Source: r.Source, OK: r.Err == nil, Detail: r.Detail, Err: r.Err})
		}
		return out, err
	}
}

package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/stepgraph/stepgraph/sdk/integration"
	"github.com/stepgraph/stepgraph/sdk/internal/redact"
)

// Exit codes returned by App.Main. They are stable: scripts, cron jobs and
// CI depend on them (docs/cli.md lists them too).
const (
	// ExitOK: the command did what was asked; for diff, no change matched
	// --fail-on; for document --check, the file is up to date.
	ExitOK = 0
	// ExitFailure: the command failed (no step succeeded, the output
	// could not be written, an unexpected error). diff also exits 1 when
	// a change matches --fail-on and document --check when the file is
	// stale, so a cron job or CI step fails on either.
	ExitFailure = 1
	// ExitUsage: bad command line or invalid configuration (a
	// *integration.ConfigError), nothing was collected.
	ExitUsage = 2
	// ExitAuth: the provider rejected the credentials
	// (*integration.AuthenticationError); the previous output is kept.
	ExitAuth = 3
	// ExitPartial: the run ended but some step failed, ended partial
	// because a dependency failed, or (validate) some source is not
	// reachable. What was collected is written and the incomplete types
	// are listed as partial datasets in summary.json.
	ExitPartial = 4
	// ExitInterrupted: SIGINT/SIGTERM (or cancellation of the context
	// given to Main) stopped a run; what was collected is written with
	// the interrupted steps marked cancelled. 130 = 128 + SIGINT, the
	// shell convention.
	ExitInterrupted = 130
)

// Source is one ingestion source of an integration (for Okta: users,
// groups, applications, ...): a name users can pass to --disable-source
// and that validate probes, and the steps that collect it.
type Source struct {
	// Name is the short name used on the command line, e.g. "groups".
	Name string
	// Description is shown by validate and --help.
	Description string
	// Steps are the IDs of the steps that read this source. Disabling the
	// source disables them (and, through the runtime, their dependents).
	Steps []string
}

// ProbeResult is the outcome of checking whether the configured
// credentials can read one source. A probe must not collect data: one
// cheap request per source (e.g. a page of size 1) is the intent.
type ProbeResult struct {
	// Source is the Source.Name probed.
	Source string
	// OK is true when the credentials can read the source.
	OK bool
	// Detail is a short human explanation, e.g. the endpoint probed.
	Detail string
	// Err is the error that made the probe fail, if any (typically an
	// *integration.AuthorizationError naming the endpoint).
	Err error
}

// FamilyStats is a snapshot of one HTTP endpoint family's counters, as
// reported by the integration's HTTP client through App.HTTPStats. All
// fields are totals since the process started except InFlight, Remaining
// and Limit, which are current values (-1 or 0 when unknown).
type FamilyStats struct {
	// Family is the endpoint family name, e.g. "users".
	Family string
	// Requests is the number of requests sent (including retries).
	Requests int64
	// Retries is the number of retried requests.
	Retries int64
	// RateLimited is the number of 429 responses.
	RateLimited int64
	// Waits is the number of times the pacer delayed a request to stay
	// within the rate-limit budget, and Waited their total duration.
	Waits  int64
	Waited time.Duration
	// InFlight is the number of requests currently in flight.
	InFlight int
	// Remaining and Limit are the last seen rate-limit headers (-1 when unknown).
	Remaining, Limit int
}

// App is the command-line program of one integration over config type C.
// The zero value of every field but Integration is usable (see the
// example).
type App[C any] struct {
	// Integration is what the commands run and document. Required.
	Integration *integration.Integration[C]
	// Program is the binary's name in usage text (default: the
	// integration's name).
	Program string
	// Sources lists the ingestion sources for --disable-source and
	// validate. Optional.
	Sources []Source
	// Probe checks, per source, whether the configured credentials can
	// read it, without collecting data. validate prints its results. It
	// is for integrations that declare no sources: by default validate
	// runs the declared sources' probes (integration.Source.Probe).
	// Return an *integration.AuthenticationError when the credentials are
	// rejected outright. Optional.
	Probe func(ctx context.Context, cfg *C) ([]ProbeResult, error)
	// HTTPStats returns the integration's per-family HTTP counters for
	// the progress display (requests, rate-limit waits). It is called
	// from the display goroutine and must be safe for concurrent use.
	// Optional.
	HTTPStats func() []FamilyStats
	// Logger, when set, receives the logger collect and validate build from
	// --log-level and --log-format (secrets masked) before they run, so the
	// binary can hand it to the layers below the runtime, such as its HTTP
	// client: --log-level debug then reaches every layer. Optional.
	Logger func(*slog.Logger)
	// DocFile is the default --file of document, e.g. "docs/okta.md"
	// (default "docs/<integration name>.md").
	DocFile string
	// OpenGraph lets `visualize --from` draw a graph kept elsewhere than a
	// collection folder, such as an instance in PostgreSQL. Optional.
	OpenGraph GraphOpener

	// Stdout and Stderr default to os.Stdout and os.Stderr.
	Stdout, Stderr io.Writer
	// LookupEnv reads the environment (default os.LookupEnv).
	LookupEnv func(string) (string, bool)
	// Terminal forces (true) or disables (false) the live progress
	// display instead of detecting whether Stderr is a terminal.
	Terminal *bool
	// NoSignals stops Main from handling SIGINT/SIGTERM itself (the
	// caller cancels ctx instead).
	NoSignals bool
	// Builtins, when not nil, are the built-in commands Main mounts, in
	// usage order, instead of all of them (BuiltinCommands). A binary
	// composes its command set from the App's exported commands
	// (CollectCommand, ValidateCommand, DocumentCommand,
	// VisualizeCommand, DiffCommand, PushCommand), wrapped or renamed as
	// it likes (see the composed-commands example of App).
	Builtins []Command
	// Commands are the binary's own commands (see Command), mounted
	// after the built-in ones. A name mounted twice makes Main fail.
	Commands []Command
	// Sinks are the databases collect --sink and push can load into; the
	// binary registers the ones it wants (PostgreSQL: sdk/cli/pgsink), so
	// this package links no database driver.
	Sinks []Sink
	// Prepare optionally runs in collect and validate before the
	// configuration is loaded (see Preparation): it can supply values
	// and register cleanups, e.g. serve a demo org when none is set.
	Prepare func(ctx context.Context, p *Preparation) error

	noticeMu sync.Mutex
	notice   io.Writer // where signal notices go while a command runs
}

// setNotice routes signal notices (nil: stderr), so they do not break the
// live progress display.
func (a *App[C]) setNotice(w io.Writer) {
	a.noticeMu.Lock()
	a.notice = w
	a.noticeMu.Unlock()
}

func (a *App[C]) noticef(format string, args ...any) {
	a.noticeMu.Lock()
	w := a.notice
	a.noticeMu.Unlock()
	if w == nil {
		w = a.stderr()
	}
	fmt.Fprintf(w, format, args...)
}

// Main runs the program for integ with default options: it is
// App{Integration: integ}.Main(ctx, args).
func Main[C any](ctx context.Context, integ *integration.Integration[C], args []string) int {
	return (&App[C]{Integration: integ}).Main(ctx, args)
}

// command is one subcommand. setup registers the command's flags and
// returns the function that runs it with the positional arguments.
type command[C any] struct {
	name     string
	summary  string
	usage    string // arguments after the command name
	long     string
	examples []string
	setup    func(a *App[C], fs *flagSet) func(ctx context.Context, args []string) int
}

// builtins are the built-in commands in usage order.
func (a *App[C]) builtins() []command[C] {
	return []command[C]{
		collectCommand[C](),
		validateCommand[C](),
		documentCommand[C](),
		visualizeCommand[C](),
		diffCommand[C](),
		pushCommand[C](),
	}
}

func (a *App[C]) program() string {
	if a.Program != "" {
		return a.Program
	}
	if a.Integration != nil && a.Integration.Name != "" {
		return a.Integration.Name
	}
	return "integration"
}

func (a *App[C]) stdout() io.Writer {
	if a.Stdout == nil {
		return os.Stdout
	}
	return a.Stdout
}

func (a *App[C]) stderr() io.Writer {
	if a.Stderr == nil {
		return os.Stderr
	}
	return a.Stderr
}

// errInterrupted is the cancellation cause set when a signal arrives.
var errInterrupted = errors.New("interrupted")

// Main parses args (without the program name), runs the command and
// returns the process exit code (see the Exit constants). Unless
// NoSignals is set, the first SIGINT or SIGTERM cancels the running
// command's context so a run stops cleanly and commits what it has; a
// second one exits the process at once with ExitInterrupted.
func (a *App[C]) Main(ctx context.Context, args []string) int {
	if a.Integration == nil {
		fmt.Fprintln(a.stderr(), "error: cli.App has no Integration")
		return ExitUsage
	}
	cmds, err := a.mounted()
	if err != nil {
		a.errorf("%v", err)
		return ExitUsage
	}
	if len(args) == 0 {
		a.printUsage(a.stderr(), cmds)
		return ExitUsage
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help", "help":
		if name == "help" && len(args) > 1 {
			if c, ok := findCommand(cmds, args[1]); ok {
				return c.Run(ctx, []string{"--help"})
			}
			a.errorf("unknown command %q", args[1])
			return ExitUsage
		}
		a.printUsage(a.stdout(), cmds)
		return ExitOK
	}
	c, ok := findCommand(cmds, name)
	if !ok {
		a.errorf("unknown command %q (run %s --help)", name, a.program())
		return ExitUsage
	}
	ctx, stop := a.handleSignals(ctx)
	defer stop()
	return c.Run(ctx, args[1:])
}

// handleSignals returns a context cancelled with errInterrupted on the
// first SIGINT/SIGTERM.
func (a *App[C]) handleSignals(parent context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(parent)
	if a.NoSignals {
		return ctx, func() { cancel(nil) }
	}
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	var once sync.Once
	go func() {
		n := 0
		for {
			select {
			case <-done:
				return
			case s := <-ch:
				n++
				if n == 1 {
					a.noticef("%s: received %s, stopping (press ctrl-C again to quit at once)\n", a.program(), s)
					cancel(errInterrupted)
					continue
				}
				a.noticef("%s: received %s again, quitting\n", a.program(), s)
				os.Exit(ExitInterrupted)
			}
		}
	}()
	return ctx, func() {
		once.Do(func() {
			signal.Stop(ch)
			close(done)
			cancel(nil)
		})
	}
}

func (a *App[C]) printUsage(w io.Writer, cmds []Command) {
	p := a.program()
	fmt.Fprintf(w, "%s: the %s integration's command line.\n\nUsage:\n  %s <command> [flags] [args]\n\nCommands:\n", p, a.Integration.Name, p)
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-10s %s\n", c.Name, c.Summary)
	}
	fmt.Fprintf(w, "\nRun '%s <command> --help' for a command's flags and examples.\n", p)
	fmt.Fprintf(w, "\nExit codes: %d ok, %d failure (or diff changes / stale docs), %d bad usage or config,\n"+
		"%d authentication failed, %d partial success, %d interrupted.\n",
		ExitOK, ExitFailure, ExitUsage, ExitAuth, ExitPartial, ExitInterrupted)
}

// runBuiltin parses the built-in command's flags and runs it.
func (a *App[C]) runBuiltin(ctx context.Context, c command[C], args []string) int {
	fs := newFlagSet(c.name)
	run := c.setup(a, fs)
	pos, err := fs.parse(args)
	if errors.Is(err, errHelp) {
		a.printCommandHelp(a.stdout(), c, fs)
		return ExitOK
	}
	if err != nil {
		a.errorf("%s: %v (run %s %s --help)", c.name, err, a.program(), c.name)
		return ExitUsage
	}
	return run(ctx, pos)
}

func (a *App[C]) printCommandHelp(w io.Writer, c command[C], fs *flagSet) {
	p := a.program()
	fmt.Fprintf(w, "Usage: %s\n\n%s\n", strings.TrimSpace(p+" "+c.name+" [flags] "+c.usage), strings.TrimSpace(strings.ReplaceAll(c.long, "$PROG", p)))
	fmt.Fprintf(w, "\nFlags:\n")
	fs.printDefaults(w)
	if len(c.examples) > 0 {
		fmt.Fprintf(w, "\nExamples:\n")
		r := strings.NewReplacer("$PROG", p, "$STEP", a.exampleStep(), "$SOURCES", a.exampleSources())
		for _, e := range c.examples {
			fmt.Fprintf(w, "  %s\n", r.Replace(e))
		}
	}
}

// errorf prints one error line to stderr.
func (a *App[C]) errorf(format string, args ...any) {
	fmt.Fprintf(a.stderr(), "%s: error: %s\n", a.program(), fmt.Sprintf(format, args...))
}

// reportError prints err as one line, redacting secrets, and returns the
// exit code for it.
func (a *App[C]) reportError(ctx context.Context, what string, err error, secrets []string) int {
	code := exitCodeFor(ctx, err)
	msg := redact.New(secrets...).Redact(oneLine(err.Error()))
	if code == ExitInterrupted {
		a.errorf("%s: interrupted", what)
		return code
	}
	a.errorf("%s: %s%s", what, msg, codeSuffix(err))
	return code
}

// exitCodeFor maps an error to an exit code.
func exitCodeFor(ctx context.Context, err error) int {
	var cfgErr *integration.ConfigError
	var authErr *integration.AuthenticationError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &authErr):
		return ExitAuth
	case errors.As(err, &cfgErr):
		return ExitUsage
	case ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, errInterrupted)):
		return ExitInterrupted
	case ctx.Err() != nil:
		return ExitInterrupted
	}
	return ExitFailure
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\r\n", " ")
	return strings.ReplaceAll(s, "\n", " ")
}

// newLogger builds the slog logger for --log-format/--log-level, masking
// secrets. w is where records go.
func newLogger(w io.Writer, format, level string, secrets []string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	var h slog.Handler
	switch format {
	case "text":
		h = slog.NewTextHandler(w, opts)
	case "json":
		h = slog.NewJSONHandler(w, opts)
	default:
		return nil, fmt.Errorf("--log-format %q: want text or json", format)
	}
	return slog.New(redact.NewHandler(h, secrets...)), nil
}

func sortedCopy(in []string) []string {
	out := append([]string(nil), in...)
	sort.Strings(out)
	return out
}

// codeSuffix returns " [CODE]" for errors carrying a stable code.
func codeSuffix(err error) string {
	var c integration.Coded
	if errors.As(err, &c) {
		return " [" + string(c.Code()) + "]"
	}
	return ""
}

// exampleStep is a step with dependencies, for help examples.
func (a *App[C]) exampleStep() string {
	for i := len(a.Integration.Steps) - 1; i >= 0; i-- {
		if s := a.Integration.Steps[i]; len(s.DependsOn) > 0 {
			return s.ID
		}
	}
	if len(a.Integration.Steps) > 0 {
		return a.Integration.Steps[0].ID
	}
	return "fetch-users"
}

// exampleSources names up to two sources, for help examples.
func (a *App[C]) exampleSources() string {
	names := a.sourceNames()
	if len(names) == 0 {
		return "groups"
	}
	return strings.Join(names[:min(2, len(names))], ",")
}

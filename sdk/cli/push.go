package cli

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
)

// Exit codes of the database sink (collect --sink, push).
const (
	// ExitLoadFailed: collect --sink collected and wrote its output, but
	// loading it into the database failed (unreachable, refused, ...);
	// the collection is kept in the output folder for push.
	ExitLoadFailed = 5
	// ExitBusy: another run is syncing the same instance; nothing was
	// loaded (collect --sink keeps its collection for push).
	ExitBusy = 6
)

// sinkFlags are the database flags of collect and push.
type sinkFlags struct {
	sink       *string
	inst       *string
	schema     *string
	allowOlder *bool
}

// addSinkFlags registers --sink, --instance and --schema (and, for push,
// --allow-older). For push (required) an empty --sink falls back to the
// registered sink's URL variable; for collect it is off.
func addSinkFlags[C any](a *App[C], fs *flagSet, required bool) *sinkFlags {
	usage := "database URL to load the collection into"
	var schemes []string
	for _, s := range a.Sinks {
		schemes = append(schemes, s.Schemes...)
	}
	if len(schemes) > 0 {
		usage += " (" + strings.Join(schemes, ", ") + ")"
	}
	if env := a.sinkURLEnv(); required && env != "" {
		usage += "; default $" + env
	}
	f := &sinkFlags{
		sink:       fs.String("sink", "", usage),
		inst:       fs.String("instance", "default", "name of this integration instance in the database (e.g. the org)"),
		schema:     fs.String("schema", "", "database schema that holds the graph (default: the sink's; created when missing)"),
		allowOlder: new(bool),
	}
	if required {
		f.allowOlder = fs.Bool("allow-older", false, "load a collection that started before the instance's last loaded one (brings back what a newer one removed)")
	}
	return f
}

func (f *sinkFlags) url() string { return *f.sink }

// request is the load of dir into the --sink database.
func (f *sinkFlags) request(integration, dir string, log *slog.Logger) SinkRequest {
	return SinkRequest{URL: *f.sink, Dir: dir, Integration: integration, Instance: *f.inst,
		Schema: *f.schema, AllowOlder: *f.allowOlder, Logger: log}
}

func pushCommand[C any]() command[C] {
	return command[C]{
		name:    "push",
		usage:   "[DIR]",
		summary: "load a collection folder into a graph database (a registered sink)",
		long: `Loads a committed collection (default: the --output folder) into the
database given by --sink (or the registered sink's URL variable) as instance
--instance: entities and relationships are upserted, objects of complete types
that this collection no longer has are removed (never for partial types), the
change log records what was added, removed and changed, and mapped
relationships are resolved. Pushing the same collection twice changes nothing.
A collection older than the instance's last loaded one is refused unless
--allow-older. Exit 6 when another run is syncing the instance. See
docs/postgres.md for the schema and ready queries.`,
		examples: []string{
			"$PROG push --sink postgres://user@localhost:5432/graph --instance acme",
			"$PROG push /backups/2026-11-01/.j1-integration --instance acme",
		},
		setup: func(a *App[C], fs *flagSet) func(context.Context, []string) int {
			output := addOutputFlag(fs, "collection folder to load (when DIR is not given)")
			sink := addSinkFlags(a, fs, true)
			lf := addLogFlags(fs)
			return func(ctx context.Context, args []string) int {
				if len(args) > 1 {
					a.errorf("push: expected at most one folder, got %d arguments", len(args))
					return ExitUsage
				}
				dir := *output
				if len(args) == 1 {
					dir = args[0]
				}
				if sink.url() == "" {
					lookup := a.LookupEnv
					if lookup == nil {
						lookup = os.LookupEnv
					}
					if env := a.sinkURLEnv(); env != "" {
						if v, ok := lookup(env); ok {
							*sink.sink = v
						}
					}
				}
				if sink.url() == "" {
					a.errorf("push: --sink: no database URL (flag --sink or env %s)", a.sinkURLEnv())
					return ExitUsage
				}
				sk, err := a.sinkFor(sink.url())
				if err != nil {
					a.errorf("push: --sink: %v", err)
					return ExitUsage
				}
				if _, err := os.Stat(dir); err != nil {
					a.errorf("push: collection folder %s: %v", dir, err)
					return ExitUsage
				}
				secrets := urlSecrets(sink.url())
				log, err := lf.logger(a.stderr(), secrets)
				if err != nil {
					a.errorf("push: %v", err)
					return ExitUsage
				}
				res, err := sk.Push(ctx, sink.request(a.Integration.Name, dir, log))
				if err != nil {
					code := a.reportError(ctx, "push", err, secrets)
					if code == ExitFailure {
						code = sinkExitCode(err, code)
					}
					return code
				}
				fmt.Fprintf(a.stdout(), "Loaded %s: %s\n", dir, res)
				return ExitOK
			}
		},
	}
}

// urlSecrets returns the password of a database URL, for masking.
func urlSecrets(raw string) []string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return nil
	}
	if p, ok := u.User.Password(); ok && p != "" {
		return []string{p}
	}
	return nil
}

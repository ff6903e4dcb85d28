package cli

import (
	"context"
	"fmt"
	"net/url"
	"os"

	"github.com/stepgraph/stepgraph/sdk/store/postgres"
)

// sinkFlags are the database flags of collect and push.
type sinkFlags struct {
	sink *string
	inst *string
}

// addSinkFlags registers --sink and --instance. For push (required) an
// empty --sink falls back to $STEPGRAPH_POSTGRES_URL; for collect it is off.
func addSinkFlags(fs *flagSet, required bool) *sinkFlags {
	usage := "PostgreSQL URL to load the collection into (postgres://user@host:5432/db)"
	if required {
		usage += "; default $" + postgres.URLEnv
	}
	return &sinkFlags{
		sink: fs.String("sink", "", usage),
		inst: fs.String("instance", "default", "name of this integration instance in the database (e.g. the org)"),
	}
}

func (f *sinkFlags) url() string { return *f.sink }

func (f *sinkFlags) instance(integration string) postgres.Instance {
	return postgres.Instance{Integration: integration, Name: *f.inst}
}

func pushCommand[C any]() command[C] {
	return command[C]{
		name:    "push",
		usage:   "[DIR]",
		summary: "load a collection folder into a PostgreSQL graph database",
		long: `Loads a committed collection (default: the --output folder) into the
PostgreSQL database given by --sink (or $` + postgres.URLEnv + `) as instance
--instance: entities and relationships are upserted, objects of complete types
that this collection no longer has are removed (never for partial types), the
change log records what was added, removed and changed, and mapped
relationships are resolved. Pushing the same collection twice changes nothing.
See docs/postgres.md for the schema and ready queries.`,
		examples: []string{
			"$PROG push --sink postgres://user@localhost:5432/graph --instance acme",
			"$PROG push /backups/2026-11-01/.j1-integration --instance acme",
		},
		setup: func(a *App[C], fs *flagSet) func(context.Context, []string) int {
			output := addOutputFlag(fs, "collection folder to load (when DIR is not given)")
			sink := addSinkFlags(fs, true)
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
					if v, ok := lookup(postgres.URLEnv); ok {
						*sink.sink = v
					}
				}
				if sink.url() == "" {
					a.errorf("push: --sink: no database URL (flag --sink or env %s)", postgres.URLEnv)
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
				res, err := postgres.PushURL(ctx, sink.url(), dir, sink.instance(a.Integration.Name), postgres.Options{Logger: log})
				if err != nil {
					return a.reportError(ctx, "push", err, secrets)
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

// Command okta is the Okta integration's binary. It mounts the stepgraph
// CLI (collect, validate, document, visualize, diff) and the collection
// service's commands (instances, worker, alerts, status; docs/service.md):
//
//	go run ./integrations/okta/cmd/okta collect
//
// With OKTA_ORG_URL (or --orgUrl, or OKTA_ORG_URL in the .env file) and
// credentials it collects from that Okta org. Only when neither an org URL
// nor any credential is set anywhere (environment, .env file, flags) do
// collect and validate run against the bundled demo org (package oktafake):
// a small deterministic org served on a loopback port inside this process,
// so the tool can be tried without credentials. A banner on stderr says so
// and summary.json records it (metadata.details.source). Half a
// configuration (an org URL without a credential, or a credential without
// an org URL) is never the demo: it fails with exit code 2 naming the
// missing field.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/stepgraph/stepgraph/integrations/okta"
	"github.com/stepgraph/stepgraph/integrations/okta/oktafake"
	"github.com/stepgraph/stepgraph/sdk/cli"
	"github.com/stepgraph/stepgraph/sdk/cli/pgsink"
	"github.com/stepgraph/stepgraph/sdk/integration"
)

// fakeUsers is the size of the bundled fake org.
const fakeUsers = 200

// fakeWindow is the bundled fake's rate-limit window.
const fakeWindow = 2 * time.Second

// fakeOrgURL is the org URL entity keys derive from in fake mode.
const fakeOrgURL = "https://acme.okta.com"

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.LookupEnv, os.Stdout, os.Stderr))
}

// run is main without process globals, for tests.
func run(ctx context.Context, args []string, lookupEnv func(string) (string, bool), stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "bench":
			return benchMain(ctx, args[1:], stdout, stderr)
		case "bench-fake":
			return benchFakeMain(ctx, args[1:], stdout, stderr)
		}
	}
	opts := okta.Options{}
	lookup := lookupEnv
	if len(args) > 0 && (args[0] == "collect" || args[0] == "validate") && !orgConfigured(args, lookupEnv) {
		opts.Source = demoSource
		// The org is anchored to the current day so two runs on one day give
		// identical data (a diff between them shows no change).
		org := oktafake.NewOrg(oktafake.OrgSpec{Users: fakeUsers, Seed: 1, Now: time.Now().UTC().Truncate(24 * time.Hour)})
		// Okta's rate-limit windows are a minute; the fake's are shorter so a
		// demo run does not spend most of its time pacing.
		srv, err := oktafake.Start(org, oktafake.ServerOptions{Window: fakeWindow, ObjectBaseURL: fakeOrgURL})
		if err != nil {
			fmt.Fprintf(stderr, "error: starting the bundled fake Okta: %v\n", err)
			return cli.ExitFailure
		}
		defer srv.Close()
		opts.BaseURL = srv.URL
		lookup = func(k string) (string, bool) {
			switch k {
			case "OKTA_ORG_URL":
				return fakeOrgURL, true
			case "OKTA_API_KEY":
				return oktafake.DefaultToken, true
			}
			return lookupEnv(k)
		}
		fmt.Fprintf(stderr, "%s\n", demoBanner)
		slog.New(slog.NewTextHandler(stderr, nil)).Info(
			"no Okta org configured (no org URL and no credential in the environment, .env or flags): using the bundled fake Okta org; set OKTA_ORG_URL and credentials to collect from a real org",
			"fakeOrg", fakeOrgURL, "users", fakeUsers, "servedAt", srv.URL)
	}
	col := okta.NewCollector(opts)
	app := newApp(col, lookup, lookupEnv, stdout, stderr)
	return app.Main(ctx, args)
}

// demoSource is summary.json's metadata.details.source of a demo run.
const demoSource = "demo: the bundled fake Okta org (oktafake), not a real org"

// demoBanner is printed on stderr when the demo org runs.
const demoBanner = `
  ==================================================================
   DEMO MODE: collecting the bundled fake Okta org, NOT a real org.
   No org URL and no credential is set (environment, .env, flags).
  ==================================================================`

// connectionField is a config field that points the binary at a real org.
type connectionField struct{ name, env string }

// connectionFields are the org URL and every credential field of
// okta.Config. Any of them set anywhere means a real org was meant, so the
// demo never runs and the config's validation names what is missing. A new
// credential field goes here (TestConnectionFieldsCoverEveryCredential
// fails until it does).
var connectionFields = []connectionField{
	{"orgUrl", "OKTA_ORG_URL"},
	{"apiKey", "OKTA_API_KEY"},
	{"clientId", "OKTA_CLIENT_ID"},
	{"privateKey", "OKTA_PRIVATE_KEY"},
	{"privateKeyFile", "OKTA_PRIVATE_KEY_FILE"},
	{"keyId", "OKTA_KEY_ID"},
}

// newApp mounts the CLI for col: lookup is the environment the commands
// read (the demo's), lookupEnv the process's.
func newApp(col *okta.Collector, lookup, lookupEnv func(string) (string, bool), stdout, stderr io.Writer) *cli.App[okta.Config] {
	return &cli.App[okta.Config]{
		Integration: col.Integration(),
		Program:     "okta",
		Probe:       probe(col),
		HTTPStats:   httpStats(col),
		// --log-level debug reaches the HTTP client too.
		Logger:    col.SetLogger,
		DocFile:   "docs/okta.md",
		OpenGraph: openGraph,
		Sinks:     []cli.Sink{pgsink.Sink()},
		LookupEnv: lookup,
		Stdout:    stdout,
		Stderr:    stderr,
		Commands:  serviceCommands(serviceRegistry(col, nil), lookupEnv, stdout, stderr),
	}
}

// orgConfigured reports whether an org URL or any credential is set in the
// flags, the environment or the .env file (even empty: a variable that is
// set but blank is a configuration mistake, not a request for the demo).
func orgConfigured(args []string, lookupEnv func(string) (string, bool)) bool {
	for _, f := range connectionFields {
		if _, ok := lookupEnv(f.env); ok {
			return true
		}
	}
	envFile := ".env"
	for i, a := range args {
		if !strings.HasPrefix(a, "-") {
			continue
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !hasVal && i+1 < len(args) {
			val = args[i+1]
		}
		if name == "env-file" {
			envFile = val
		}
		for _, f := range connectionFields {
			if name == f.name {
				return true
			}
		}
	}
	if envFile == "" {
		return false
	}
	vars, err := integration.ReadDotEnv(envFile)
	if err != nil {
		return false
	}
	for _, f := range connectionFields {
		if _, ok := vars[f.env]; ok {
			return true
		}
	}
	return false
}

func probe(col *okta.Collector) func(context.Context, *okta.Config) ([]cli.ProbeResult, error) {
	return func(ctx context.Context, cfg *okta.Config) ([]cli.ProbeResult, error) {
		res, err := col.Probe(ctx, cfg)
		out := make([]cli.ProbeResult, 0, len(res))
		for _, r := range res {
			out = append(out, cli.ProbeResult{Source: r.Source, OK: r.Err == nil, Detail: r.Endpoint, Err: r.Err})
		}
		return out, err
	}
}

func httpStats(col *okta.Collector) func() []cli.FamilyStats {
	return func() []cli.FamilyStats {
		stats := col.HTTPStats()
		names := make([]string, 0, len(stats))
		for n := range stats {
			names = append(names, n)
		}
		slices.Sort(names)
		out := make([]cli.FamilyStats, 0, len(names))
		for _, n := range names {
			s := stats[n]
			out = append(out, cli.FamilyStats{
				Family: n, Requests: s.Requests, Retries: s.Retries, RateLimited: s.RateLimited + s.ConcurrencyLimited,
				Waits: s.Waits, Waited: s.PacingWait + s.BackoffWait, Remaining: -1, Limit: -1,
			})
		}
		return out
	}
}

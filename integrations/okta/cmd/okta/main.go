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
	"time"

	"github.com/stepgraph/stepgraph/integrations/okta"
	"github.com/stepgraph/stepgraph/integrations/okta/oktafake"
	"github.com/stepgraph/stepgraph/sdk/cli"
	"github.com/stepgraph/stepgraph/sdk/cli/pgsink"
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
	app := newApp(okta.NewCollector(okta.Options{}), lookupEnv, lookupEnv, stdout, stderr)
	app.Prepare = demo(app, lookupEnv, stderr)
	return app.Main(ctx, args)
}

// demo is the App.Prepare hook of collect and validate: when no org URL
// and no credential is configured anywhere (flags, environment, .env), it
// serves the bundled fake org on a loopback port, points the
// configuration at it and mounts a collector that sends its requests
// there, for the command's duration.
func demo(app *cli.App[okta.Config], lookupEnv func(string) (string, bool), stderr io.Writer) func(context.Context, *cli.Preparation) error {
	return func(_ context.Context, p *cli.Preparation) error {
		for _, f := range connectionFields {
			// A variable set but blank is a configuration mistake, not a
			// request for the demo.
			if _, blank := lookupEnv(f.env); blank || p.Given[f.name] != "" {
				return nil
			}
		}
		// The org is anchored to the current day so two runs on one day give
		// identical data (a diff between them shows no change).
		org := oktafake.NewOrg(oktafake.OrgSpec{Users: fakeUsers, Seed: 1, Now: time.Now().UTC().Truncate(24 * time.Hour)})
		// Okta's rate-limit windows are a minute; the fake's are shorter so a
		// demo run does not spend most of its time pacing.
		srv, err := oktafake.Start(org, oktafake.ServerOptions{Window: fakeWindow, ObjectBaseURL: fakeOrgURL})
		if err != nil {
			return fmt.Errorf("starting the bundled fake Okta: %w", err)
		}
		p.OnDone(func() { srv.Close() })
		p.Set["orgUrl"], p.Set["apiKey"] = fakeOrgURL, oktafake.DefaultToken
		mount(app, okta.NewCollector(okta.Options{BaseURL: srv.URL, Source: demoSource}))
		fmt.Fprintf(stderr, "%s\n", demoBanner)
		slog.New(slog.NewTextHandler(stderr, nil)).Info(
			"no Okta org configured (no org URL and no credential in the environment, .env or flags): using the bundled fake Okta org; set OKTA_ORG_URL and credentials to collect from a real org",
			"fakeOrg", fakeOrgURL, "users", fakeUsers, "servedAt", srv.URL)
		return nil
	}
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
// okta.Config. Any of them set anywhere (or an environment variable of
// them set but blank) means a real org was meant, so the demo never runs
// and the config's validation names what is missing. A new
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
// read, lookupEnv the process's (the service's commands).
func newApp(col *okta.Collector, lookup, lookupEnv func(string) (string, bool), stdout, stderr io.Writer) *cli.App[okta.Config] {
	app := &cli.App[okta.Config]{
		Program:   "okta",
		DocFile:   "docs/okta.md",
		OpenGraph: openGraph,
		Sinks:     []cli.Sink{pgsink.Sink()},
		LookupEnv: lookup,
		Stdout:    stdout,
		Stderr:    stderr,
		Commands:  serviceCommands(serviceRegistry(col, nil), lookupEnv, stdout, stderr),
	}
	mount(app, col)
	return app
}

// mount makes col the integration app's commands run: its declaration
// (whose declared sources validate probes, like any integration's) and
// HTTP statistics.
func mount(app *cli.App[okta.Config], col *okta.Collector) {
	app.Integration = col.Integration()
	app.HTTPStats = httpStats(col)
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

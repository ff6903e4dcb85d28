// Command okta is the Okta integration's binary. It mounts the stepgraph
// CLI (collect, validate, document, visualize, diff) and the collection
// service's commands (instances, worker, alerts, status; docs/service.md):
//
//	go run ./integrations/okta/cmd/okta collect
//
// With OKTA_ORG_URL (or --orgUrl, or OKTA_ORG_URL in the .env file) and
// OKTA_API_KEY it collects from that Okta org. With no org configured,
// collect and validate run against the bundled fake Okta (package
// oktafake): a small deterministic org served on a loopback port inside this
// process, so the tool can be tried without credentials. The log says which.
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
		slog.New(slog.NewTextHandler(stderr, nil)).Info(
			"no Okta org configured (OKTA_ORG_URL is not set): using the bundled fake Okta org; set OKTA_ORG_URL and OKTA_API_KEY to collect from a real org",
			"fakeOrg", fakeOrgURL, "users", fakeUsers, "servedAt", srv.URL)
	}
	col := okta.NewCollector(opts)
	app := &cli.App[okta.Config]{
		Integration: col.Integration(),
		Program:     "okta",
		Sources:     sources(),
		Probe:       probe(col),
		HTTPStats:   httpStats(col),
		DocFile:     "docs/okta.md",
		LookupEnv:   lookup,
		Stdout:      stdout,
		Stderr:      stderr,
		Commands:    serviceCommands(serviceRegistry(col, nil), lookupEnv, stdout, stderr),
	}
	return app.Main(ctx, args)
}

// orgConfigured reports whether an org URL comes from the flags, the
// environment or the .env file.
func orgConfigured(args []string, lookupEnv func(string) (string, bool)) bool {
	if v, ok := lookupEnv("OKTA_ORG_URL"); ok && strings.TrimSpace(v) != "" {
		return true
	}
	envFile := ".env"
	for i, a := range args {
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") {
			continue
		}
		if !hasVal && i+1 < len(args) {
			val = args[i+1]
		}
		switch name {
		case "orgUrl":
			return true
		case "env-file":
			envFile = val
		}
	}
	if envFile == "" {
		return false
	}
	vars, err := integration.ReadDotEnv(envFile)
	return err == nil && strings.TrimSpace(vars["OKTA_ORG_URL"]) != ""
}

// sources describes the ingestion sources for --disable-source and validate.
func sources() []cli.Source {
	desc := map[string]string{
		okta.SourceGroups:       "groups, their members and their application assignments",
		okta.SourceApplications: "applications and their user/group assignments, AWS role mappings, creators",
		okta.SourceMFADevices:   "users' MFA factors (also sets okta_user.mfaEnabled)",
		okta.SourceRoles:        "admin roles of users and groups",
		okta.SourceRules:        "group rules",
		okta.SourceDevices:      "Okta Identity Engine devices (off unless --enableDevices)",
	}
	var out []cli.Source
	for _, s := range okta.Sources {
		out = append(out, cli.Source{Name: s, Description: desc[s], Steps: okta.SourceSteps(s)})
	}
	return out
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
				Family: n, Requests: s.Requests, Retries: s.Retries, RateLimited: s.RateLimited,
				Waited: s.PacingWait, Remaining: -1, Limit: -1,
			})
		}
		return out
	}
}

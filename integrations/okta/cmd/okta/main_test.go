package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stepgraph/stepgraph/integrations/okta"
	"github.com/stepgraph/stepgraph/integrations/okta/oktafake"
	"github.com/stepgraph/stepgraph/sdk/cli"
	"github.com/stepgraph/stepgraph/sdk/httpclient"
	"github.com/stepgraph/stepgraph/sdk/runtime"
	"github.com/stepgraph/stepgraph/sdk/store"
)

func noEnv(string) (string, bool) { return "", false }

// TestCollectsFromBundledFakeWithoutOrg also checks issue #10 item 11: a
// run without a terminal ends with one line of HTTP totals per request
// family (TestDebugReachesTheHTTPClient checks the debug records).
func TestCollectsFromBundledFakeWithoutOrg(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	var stdout, stderr bytes.Buffer
	t.Chdir(t.TempDir()) // no .env here
	code := run(context.Background(), []string{"collect", "--output", out, "--progress", "off", "--env-file", "", "--log-level", "debug"}, noEnv, &stdout, &stderr)
	if code != cli.ExitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, fam := range []string{"users", "groups", "apps"} {
		re := regexp.MustCompile(`(?m)^HTTP ` + fam + `: [1-9][0-9]* requests, \d+ retries, \d+ 429s, \d+ waits, \S+ waited$`)
		if !re.MatchString(stdout.String()) {
			t.Errorf("no HTTP totals line for %s:\n%s", fam, stdout.String())
		}
	}
	if !strings.Contains(stderr.String(), "bundled fake Okta org") || !strings.Contains(stderr.String(), "DEMO MODE") {
		t.Errorf("stderr has no demo banner: %s", stderr.String())
	}
	raw, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sum struct {
		Steps []struct {
			ID     string         `json:"id"`
			Status string         `json:"status"`
			Counts map[string]int `json:"encounteredTypeCounts"`
		} `json:"integrationStepResults"`
		Metadata struct {
			Details map[string]string `json:"details"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(raw, &sum); err != nil {
		t.Fatal(err)
	}
	if got := sum.Metadata.Details["source"]; got != demoSource {
		t.Errorf("summary.json source %q, want %q", got, demoSource)
	}
	for _, s := range sum.Steps {
		if s.ID == "fetch-users" && s.Counts["okta_user"] != fakeUsers {
			t.Errorf("users: %v", s.Counts)
		}
		if s.Status != "success" && s.ID != "fetch-devices" {
			t.Errorf("step %s: %s", s.ID, s.Status)
		}
	}
}

// TestDemoIsDecidedByPrepare: the demo org is chosen by the App.Prepare
// hook from what the command line, the environment and the .env file set
// (parsed once, by the CLI), never from flags parsed by hand (#12 item 5).
func TestDemoIsDecidedByPrepare(t *testing.T) {
	dir := t.TempDir()
	env := filepath.Join(dir, "x.env")
	os.WriteFile(env, []byte("OKTA_ORG_URL=https://a.okta.com\n"), 0o600)
	cases := []struct {
		args []string
		env  map[string]string
		demo bool
	}{
		{[]string{"--env-file", ""}, nil, true},
		{[]string{"--env-file", ""}, map[string]string{"OKTA_ORG_URL": "https://a.okta.com"}, false},
		{[]string{"--orgUrl", "https://a.okta.com", "--env-file", ""}, nil, false},
		{[]string{"--orgUrl=https://a.okta.com", "--env-file", ""}, nil, false},
		{[]string{"--env-file=" + env}, nil, false},
		{[]string{"--env-file", ""}, map[string]string{"OKTA_API_KEY": "k"}, false},
		{[]string{"--env-file", ""}, map[string]string{"OKTA_ORG_URL": ""}, false},
		{[]string{"--env-file", ""}, map[string]string{"OKTA_PRIVATE_KEY_FILE": "/k.pem"}, false},
		{[]string{"--clientId", "0oa1", "--env-file", ""}, nil, false},
		{[]string{"--enableDevices", "--env-file", ""}, map[string]string{"OKTA_ENABLE_DEVICES": "true"}, true},
	}
	for _, c := range cases {
		look := func(k string) (string, bool) { v, ok := c.env[k]; return v, ok }
		var stdout, stderr bytes.Buffer
		app := newApp(okta.NewCollector(okta.Options{}), look, look, &stdout, &stderr)
		app.Prepare = demo(app, look, &stderr)
		app.Main(context.Background(), append([]string{"validate"}, c.args...))
		if got := strings.Contains(stderr.String(), "DEMO MODE"); got != c.demo {
			t.Errorf("validate %v with %v: demo %v, want %v\n%s%s", c.args, c.env, got, c.demo, stdout.String(), stderr.String())
		}
	}
}

func TestRealOrgConfigErrorsBeforeAnyRequest(t *testing.T) {
	var stderr bytes.Buffer
	env := map[string]string{"OKTA_ORG_URL": "https://acme-admin.okta.com", "OKTA_API_KEY": "k-0123456789abcdef"}
	look := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	code := run(context.Background(), []string{"validate", "--env-file", ""}, look, io.Discard, &stderr)
	if code != cli.ExitUsage {
		t.Errorf("exit %d, want %d", code, cli.ExitUsage)
	}
}

func TestDocsAreUpToDate(t *testing.T) {
	var stderr bytes.Buffer
	code := run(context.Background(), []string{"document", "--check", "--file", "../../../../docs/okta.md"}, noEnv, io.Discard, &stderr)
	if code != cli.ExitOK {
		t.Errorf("docs/okta.md is stale (run go run ./integrations/okta/cmd/okta document): exit %d %s", code, stderr.String())
	}
}

// TestFakeRunsAreStable collects the bundled fake twice: the two
// collections must not differ, so a diff of two demo runs shows no noise.
func TestFakeRunsAreStable(t *testing.T) {
	t.Chdir(t.TempDir())
	dirs := []string{filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")}
	for _, out := range dirs {
		var stderr bytes.Buffer
		if code := run(context.Background(), []string{"collect", "--output", out, "--progress", "off", "--env-file", ""}, noEnv, io.Discard, &stderr); code != cli.ExitOK {
			t.Fatalf("collect: exit %d: %s", code, stderr.String())
		}
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"diff", "--fail-on", "*", dirs[0], dirs[1]}, noEnv, &stdout, &stderr)
	if code != cli.ExitOK || !strings.Contains(stdout.String(), "No changes") {
		t.Errorf("two fake collections differ (exit %d):\n%s%s", code, stdout.String(), stderr.String())
	}
}

// TestHalfConfiguredOrgIsNeverTheDemo is issue #10 item 5: an org URL
// without a credential, or a credential without an org URL (unset, empty,
// or under a misspelled name), wherever it is set, fails with exit 2
// naming the missing field, before any request; the demo never runs.
func TestHalfConfiguredOrgIsNeverTheDemo(t *testing.T) {
	dir := t.TempDir()
	clientOnly := filepath.Join(dir, "client.env")
	os.WriteFile(clientOnly, []byte("OKTA_CLIENT_ID=0oa1abcdefghijklmnop\n"), 0o600)
	cases := []struct {
		name    string
		args    []string
		env     map[string]string
		missing string
	}{
		{"api key, no url", nil, map[string]string{"OKTA_API_KEY": "k-0123456789abcdef"}, "orgUrl"},
		{"api key, empty url", nil, map[string]string{"OKTA_API_KEY": "k-0123456789abcdef", "OKTA_ORG_URL": ""}, "orgUrl"},
		{"api key, misspelled url", nil, map[string]string{"OKTA_API_KEY": "k-0123456789abcdef", "OKTA_ORGURL": "https://acme.okta.com"}, "orgUrl"},
		{"api key flag", []string{"--apiKey", "k-0123456789abcdef"}, nil, "orgUrl"},
		{"client id in .env", []string{"--env-file", clientOnly}, nil, "orgUrl"},
		{"url, no credential", nil, map[string]string{"OKTA_ORG_URL": "https://acme.okta.com"}, "apiKey"},
		{"url flag", []string{"--orgUrl", "https://acme.okta.com"}, nil, "apiKey"},
	}
	t.Chdir(t.TempDir()) // no .env here
	for _, c := range cases {
		for _, cmd := range []string{"collect", "validate"} {
			t.Run(c.name+"/"+cmd, func(t *testing.T) {
				look := func(k string) (string, bool) { v, ok := c.env[k]; return v, ok }
				out := filepath.Join(t.TempDir(), "out")
				args := append([]string{cmd}, c.args...)
				if !slices.Contains(args, "--env-file") {
					args = append(args, "--env-file", "")
				}
				if cmd == "collect" {
					args = append(args, "--output", out, "--progress", "off")
				}
				var stdout, stderr bytes.Buffer
				code := run(context.Background(), args, look, &stdout, &stderr)
				if code != cli.ExitUsage {
					t.Fatalf("exit %d, want %d\n%s%s", code, cli.ExitUsage, stdout.String(), stderr.String())
				}
				if !strings.Contains(stderr.String(), c.missing) || strings.Contains(stderr.String(), "DEMO") {
					t.Errorf("stderr does not name %s (or ran the demo):\n%s", c.missing, stderr.String())
				}
				if _, err := os.Stat(out); err == nil {
					t.Error("output written")
				}
			})
		}
	}
}

// TestConnectionFieldsCoverEveryCredential: every secret field of the
// config is a credential, so setting it must keep the demo off.
func TestConnectionFieldsCoverEveryCredential(t *testing.T) {
	typ := reflect.TypeOf(okta.Config{})
	for i := range typ.NumField() {
		f := typ.Field(i)
		name, env := f.Tag.Get("config"), f.Tag.Get("env")
		listed := slices.Contains(connectionFields, connectionField{name, env})
		if f.Tag.Get("secret") == "true" && !listed {
			t.Errorf("credential field %s (%s) is not in connectionFields", name, env)
		}
	}
	for _, c := range connectionFields {
		f, ok := typ.FieldByNameFunc(func(n string) bool {
			sf, _ := typ.FieldByName(n)
			return sf.Tag.Get("config") == c.name
		})
		if !ok || f.Tag.Get("env") != c.env {
			t.Errorf("connectionFields names %s/%s, which okta.Config does not declare", c.name, c.env)
		}
	}
}

// TestDebugReachesTheHTTPClient is issue #10 item 11: with --log-level
// debug the binary's logger reaches the HTTP client (its retries are
// logged), and the run ends with HTTP totals that count those retries.
func TestDebugReachesTheHTTPClient(t *testing.T) {
	org := oktafake.NewOrg(oktafake.OrgSpec{Users: 60, Seed: 2})
	srv, err := oktafake.Start(org, oktafake.ServerOptions{Window: time.Second,
		Faults: oktafake.Faults{Seed: 3, ErrorRate: 0.2}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	col := okta.NewCollector(okta.Options{BaseURL: srv.URL, Now: org.Now, HTTP: func(c *httpclient.Config) {
		c.BackoffMin, c.BackoffMax, c.MaxAttempts = time.Millisecond, 10*time.Millisecond, 10
	}})
	env := map[string]string{"OKTA_ORG_URL": "https://acme.okta.com", "OKTA_API_KEY": oktafake.DefaultToken}
	look := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	var stdout, stderr bytes.Buffer
	app := newApp(col, look, look, &stdout, &stderr)
	out := filepath.Join(t.TempDir(), "out")
	code := app.Main(context.Background(), []string{"collect", "--output", out, "--progress", "off", "--env-file", "", "--log-level", "debug"})
	if code != cli.ExitOK {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), `level=DEBUG msg="httpclient: retrying request"`) {
		t.Errorf("no debug record of the HTTP client's retries:\n%.2000s", stderr.String())
	}
	if !regexp.MustCompile(`(?m)^HTTP users: \d+ requests, [1-9]\d* retries`).MatchString(stdout.String()) {
		t.Errorf("HTTP totals do not count the retries:\n%s", stdout.String())
	}
}

// TestUseCacheChainRaisesNoFalseRemoval is issue #10's --use-cache scenario
// on the bundled demo org: collect; collect --step
// build-user-app-relationships --use-cache; collect --step fetch-roles
// --use-cache; then diff FIRST FINAL --fail-on '*:removed' raises no alert,
// and every type that shrank is listed as partial in FINAL.
func TestUseCacheChainRaisesNoFalseRemoval(t *testing.T) {
	t.Chdir(t.TempDir())
	out := filepath.Join(t.TempDir(), "out")
	first := filepath.Join(t.TempDir(), "first")
	collect := func(extra ...string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		args := append([]string{"collect", "--output", out, "--progress", "off", "--env-file", ""}, extra...)
		if code := run(context.Background(), args, noEnv, &stdout, &stderr); code != cli.ExitOK && code != cli.ExitPartial {
			t.Fatalf("collect %v: exit %d\n%s%s", extra, code, stdout.String(), stderr.String())
		}
	}
	collect()
	if err := os.CopyFS(first, os.DirFS(out)); err != nil {
		t.Fatal(err)
	}
	collect("--step", "build-user-app-relationships", "--use-cache")
	collect("--step", "fetch-roles", "--use-cache")

	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"diff", first, out, "--fail-on", "*:removed", "--limit", "0"}, noEnv, &stdout, &stderr)
	if code != cli.ExitOK {
		t.Errorf("diff FIRST FINAL --fail-on '*:removed': exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	fd, err := store.OpenDir(first)
	if err != nil {
		t.Fatal(err)
	}
	nd, err := store.OpenDir(out)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := runtime.ReadSummary(nd)
	if err != nil {
		t.Fatal(err)
	}
	shrunk := 0
	for _, typ := range append(fd.EntityTypes(), fd.RelationshipTypes()...) {
		if nd.Count(typ) < fd.Count(typ) {
			shrunk++
			if !slices.Contains(sum.Metadata.PartialDatasets.Types, typ) {
				t.Errorf("%s shrank from %d to %d objects but is not listed as partial", typ, fd.Count(typ), nd.Count(typ))
			}
		}
	}
	if shrunk == 0 {
		t.Error("no type shrank: the scenario did not exercise partial types")
	}
	// fetch-groups was only "not selected" in the second run: the third
	// collected it rather than reuse nothing as complete.
	for _, s := range sum.Steps {
		if s.ID == "fetch-groups" && (s.Status != runtime.StatusSuccess || s.EncounteredTypeCounts["okta_user_group"] != int64(fd.Count("okta_user_group"))) {
			t.Errorf("fetch-groups in the final run: %s %v", s.Status, s.EncounteredTypeCounts)
		}
	}
}

// TestValidateUsesTheDeclaredProbes is issue #12 item 4: the binary adds no
// probe of its own (App.Probe, App.Sources); validate probes the sources
// the integration declares, through the SDK's one code path.
func TestValidateUsesTheDeclaredProbes(t *testing.T) {
	look := func(string) (string, bool) { return "", false }
	app := newApp(okta.NewCollector(okta.Options{}), look, look, io.Discard, io.Discard)
	if app.Probe != nil || app.Sources != nil {
		t.Error("the okta binary overrides the declared sources or their probes")
	}
	if len(app.Integration.Sources) < 9 {
		t.Errorf("%d declared sources, want okta's 9", len(app.Integration.Sources))
	}
	for _, s := range app.Integration.Sources {
		if s.Probe == nil && (s.Get == "" || app.Integration.Prober == nil) {
			t.Errorf("declared source %s has no probe", s.Name)
		}
	}
}

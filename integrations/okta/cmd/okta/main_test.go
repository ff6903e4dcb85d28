package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stepgraph/stepgraph/sdk/cli"
)

func noEnv(string) (string, bool) { return "", false }

func TestCollectsFromBundledFakeWithoutOrg(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	var stderr bytes.Buffer
	t.Chdir(t.TempDir()) // no .env here
	code := run(context.Background(), []string{"collect", "--output", out, "--progress", "off", "--env-file", ""}, noEnv, io.Discard, &stderr)
	if code != cli.ExitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "bundled fake Okta org") {
		t.Errorf("log does not say it used the fake: %s", stderr.String())
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
	}
	if err := json.Unmarshal(raw, &sum); err != nil {
		t.Fatal(err)
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

func TestOrgConfigured(t *testing.T) {
	dir := t.TempDir()
	env := filepath.Join(dir, "x.env")
	os.WriteFile(env, []byte("OKTA_ORG_URL=https://a.okta.com\n"), 0o600)
	cases := []struct {
		args []string
		env  map[string]string
		want bool
	}{
		{[]string{"collect", "--env-file", ""}, nil, false},
		{[]string{"collect", "--env-file", ""}, map[string]string{"OKTA_ORG_URL": "https://a.okta.com"}, true},
		{[]string{"collect", "--orgUrl", "https://a.okta.com", "--env-file", ""}, nil, true},
		{[]string{"collect", "--env-file=" + env}, nil, true},
	}
	for _, c := range cases {
		look := func(k string) (string, bool) { v, ok := c.env[k]; return v, ok }
		if got := orgConfigured(c.args, look); got != c.want {
			t.Errorf("orgConfigured(%v, %v) = %v", c.args, c.env, got)
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

package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stepgraph/stepgraph/sdk/runtime"
	"github.com/stepgraph/stepgraph/sdk/store"
)

func TestConfigPrecedence(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		dotenv  string
		flags   []string
		want    []string // lines expected in validate's output
		code    int
		errWant string
	}{
		{
			name:   "dotenv only",
			dotenv: "TEST_ORG_URL=https://from-dotenv.test\nexport TEST_API_KEY='" + testSecret + "'\n",
			want:   []string{"orgUrl = https://from-dotenv.test", "users = 3"},
		},
		{
			name:   "env beats dotenv",
			env:    map[string]string{"TEST_ORG_URL": "https://from-env.test"},
			dotenv: "TEST_ORG_URL=https://from-dotenv.test\nTEST_API_KEY=" + testSecret + "\nTEST_USERS=7\n",
			want:   []string{"orgUrl = https://from-env.test", "users = 7"},
		},
		{
			name:   "flag beats env and dotenv",
			env:    map[string]string{"TEST_ORG_URL": "https://from-env.test", "TEST_USERS": "5"},
			dotenv: "TEST_ORG_URL=https://from-dotenv.test\nTEST_API_KEY=" + testSecret + "\n",
			flags:  []string{"--orgUrl", "https://from-flag.test", "--users=9", "--failGroups"},
			want:   []string{"orgUrl = https://from-flag.test", "users = 9", "failGroups = true"},
		},
		{
			name:    "missing required field",
			env:     map[string]string{"TEST_ORG_URL": "https://x.test"},
			code:    ExitUsage,
			errWant: "config apiKey: is required (flag --apiKey or env TEST_API_KEY) [CONFIG_VALIDATION_ERROR]",
		},
		{
			name:    "unparsable value names the field",
			env:     map[string]string{"TEST_ORG_URL": "https://x.test", "TEST_API_KEY": testSecret, "TEST_USERS": "many"},
			code:    ExitUsage,
			errWant: `config users: "many" is not a valid integer`,
		},
		{
			name:    "integration validation",
			env:     map[string]string{"TEST_ORG_URL": "http://plain.test", "TEST_API_KEY": testSecret},
			code:    ExitUsage,
			errWant: "config orgUrl: must start with https://",
		},
		{
			name:    "authentication failure",
			env:     map[string]string{"TEST_ORG_URL": "https://x.test", "TEST_API_KEY": "bad-key-0123456789"},
			code:    ExitAuth,
			errWant: "GET /api/v1/org: 401 Unauthorized [PROVIDER_AUTHENTICATION_ERROR]",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			envFile := filepath.Join(dir, ".env")
			if tt.dotenv != "" {
				if err := os.WriteFile(envFile, []byte(tt.dotenv), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			env := tt.env
			if env == nil {
				env = map[string]string{}
			}
			a, out, errb := testApp(nil, env)
			args := append([]string{"validate", "--env-file", envFile}, tt.flags...)
			r := runApp(t, context.Background(), a, out, errb, args...)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d\n%s", r.code, tt.code, r.combinedOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, r.stdout)
				}
			}
			if tt.errWant != "" {
				if !strings.Contains(r.stderr, tt.errWant) {
					t.Errorf("stderr lacks %q:\n%s", tt.errWant, r.stderr)
				}
				if n := strings.Count(strings.TrimSpace(r.stderr), "\n"); n != 0 {
					t.Errorf("error is not one line:\n%s", r.stderr)
				}
			}
			if tt.code == ExitOK && !strings.Contains(r.stdout, "apiKey = ****") {
				t.Errorf("secret not masked in validate output:\n%s", r.stdout)
			}
		})
	}
}

func TestDefaultDotEnvInWorkingDir(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.WriteFile(".env", []byte("TEST_ORG_URL=https://cwd.test\nTEST_API_KEY="+testSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a, out, errb := testApp(nil, nil)
	r := runApp(t, context.Background(), a, out, errb, "validate")
	if r.code != ExitOK || !strings.Contains(r.stdout, "orgUrl = https://cwd.test") {
		t.Fatalf("exit %d:\n%s", r.code, r.combinedOut)
	}
}

func TestValidateProbe(t *testing.T) {
	a, out, errb := testApp(nil, baseEnv())
	a.Probe = func(ctx context.Context, cfg *testConfig) ([]ProbeResult, error) {
		return []ProbeResult{
			{Source: "users", OK: true, Detail: "GET /api/v1/users?limit=1"},
		}, nil
	}
	r := runApp(t, context.Background(), a, out, errb, "validate")
	if r.code != ExitOK {
		t.Fatalf("exit %d:\n%s", r.code, r.combinedOut)
	}
	for _, w := range []string{"users ok", "groups not probed"} {
		if !strings.Contains(norm(r.stdout), w) {
			t.Errorf("stdout lacks %q:\n%s", w, r.stdout)
		}
	}
	a.Probe = func(ctx context.Context, cfg *testConfig) ([]ProbeResult, error) {
		return []ProbeResult{
			{Source: "users", OK: true},
			{Source: "groups", Err: &apiErrForTest{}},
		}, nil
	}
	r = runApp(t, context.Background(), a, out, errb, "validate")
	if r.code != ExitPartial || !strings.Contains(norm(r.stdout), "groups unreachable") || !strings.Contains(r.stdout, "missing okta.groups.read") {
		t.Fatalf("exit %d:\n%s", r.code, r.combinedOut)
	}
}

type apiErrForTest struct{}

func (apiErrForTest) Error() string { return "403 Forbidden: missing okta.groups.read" }

func TestCollectExitCodes(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		code    int
		want    []string
		wantErr string
		written bool
	}{
		{name: "success", code: ExitOK, written: true,
			want: []string{"fetch-account success", "fetch-users success", "fetch-groups success", "TOTAL"}},
		{name: "step failure is partial", env: map[string]string{"TEST_FAIL_GROUPS": "true"}, code: ExitPartial, written: true,
			want: []string{"fetch-groups failure", "GET /api/v1/groups: 500 Internal Server Error [PROVIDER_API_ERROR]", "Partial datasets"}},
		{name: "bad config", env: map[string]string{"TEST_ORG_URL": "ftp://x"}, code: ExitUsage,
			wantErr: "collect: validate config: config orgUrl: must start with https://"},
		{name: "auth failure in validate", env: map[string]string{"TEST_API_KEY": "bad-0123456789"}, code: ExitAuth,
			wantErr: "provider authentication failed"},
		{name: "auth failure in a step is fatal", env: map[string]string{"TEST_AUTH_IN_STEP": "1"}, code: ExitAuth,
			want: []string{"fetch-users failure", "not written"}, wantErr: "GET /api/v1/users: 401"},
		{name: "unknown step", args: []string{"--step", "nope"}, code: ExitUsage, wantErr: `unknown step "nope"`},
		{name: "use-cache needs step", args: []string{"--use-cache"}, code: ExitUsage, wantErr: "--use-cache needs --step"},
		{name: "unknown source", args: []string{"--disable-source", "apps"}, code: ExitUsage, wantErr: `unknown source "apps" (sources: users, groups)`},
		{name: "bad log format", args: []string{"--log-format", "xml"}, code: ExitUsage, wantErr: "--log-format"},
		{name: "unknown flag", args: []string{"--nope"}, code: ExitUsage, wantErr: "flag provided but not defined: -nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := baseEnv()
			for k, v := range tt.env {
				env[k] = v
			}
			root := filepath.Join(t.TempDir(), ".j1-integration")
			a, out, errb := testApp(nil, env)
			args := append([]string{"collect", "--env-file", "", "--output", root}, tt.args...)
			r := runApp(t, context.Background(), a, out, errb, args...)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d\n%s", r.code, tt.code, r.combinedOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(norm(r.stdout), w) {
					t.Errorf("stdout lacks %q:\n%s", w, r.stdout)
				}
			}
			if tt.wantErr != "" && !strings.Contains(r.stderr, tt.wantErr) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantErr, r.stderr)
			}
			_, err := os.Stat(filepath.Join(root, store.SummaryFile))
			if written := err == nil; written != tt.written {
				t.Errorf("summary.json written = %v, want %v", written, tt.written)
			}
		})
	}
}

func TestCollectJSONLogsMaskSecrets(t *testing.T) {
	root := filepath.Join(t.TempDir(), "out")
	a, out, errb := testApp(nil, baseEnv())
	r := runApp(t, context.Background(), a, out, errb, "collect", "--env-file", "", "--data-dir", root, "--log-format", "json", "--log-level", "debug")
	if r.code != ExitOK {
		t.Fatalf("exit %d:\n%s", r.code, r.combinedOut)
	}
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	sawMasked := false
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", l)
		}
		if m["msg"] == "fetching account" {
			sawMasked = m["token"] == "[REDACTED]"
		}
	}
	if !sawMasked {
		t.Errorf("token not redacted in logs:\n%s", r.stderr)
	}
	d, err := store.OpenDir(root)
	if err != nil {
		t.Fatal(err)
	}
	if n := d.Count("test_user"); n != 3 {
		t.Errorf("test_user count %d, want 3", n)
	}
}

func TestCollectStepAndUseCache(t *testing.T) {
	root := filepath.Join(t.TempDir(), ".j1-integration")
	h := &testHooks{}
	a, out, errb := testApp(h, baseEnv())
	base := []string{"collect", "--env-file", "", "--output", root}

	r := runApp(t, context.Background(), a, out, errb, append(base, "--use-cache", "--step", "fetch-groups")...)
	if r.code != ExitUsage || !strings.Contains(r.stderr, "no previous output to reuse") {
		t.Fatalf("use-cache without output: exit %d\n%s", r.code, r.combinedOut)
	}

	r = runApp(t, context.Background(), a, out, errb, append(base, "--step", "fetch-users", "--users", "4")...)
	if r.code != ExitOK {
		t.Fatalf("exit %d\n%s", r.code, r.combinedOut)
	}
	for _, w := range []string{"fetch-account success", "fetch-users success 4", "fetch-groups disabled", "fetch-groups: not selected"} {
		if !strings.Contains(norm(r.stdout), w) {
			t.Errorf("stdout lacks %q:\n%s", w, r.stdout)
		}
	}
	if h.runs.Load() != 1 || h.userRuns.Load() != 1 || h.groupRuns.Load() != 0 {
		t.Fatalf("runs account=%d users=%d groups=%d", h.runs.Load(), h.userRuns.Load(), h.groupRuns.Load())
	}

	// Now only fetch-groups runs; its dependencies come from the cache.
	r = runApp(t, context.Background(), a, out, errb, append(base, "--step", "fetch-groups", "--use-cache")...)
	if r.code != ExitOK {
		t.Fatalf("exit %d\n%s", r.code, r.combinedOut)
	}
	if h.runs.Load() != 1 || h.userRuns.Load() != 1 || h.groupRuns.Load() != 1 {
		t.Fatalf("dependencies ran again: account=%d users=%d groups=%d", h.runs.Load(), h.userRuns.Load(), h.groupRuns.Load())
	}
	for _, w := range []string{"fetch-users success 4", "fetch-groups success 1 4", "reused from a previous run"} {
		if !strings.Contains(norm(r.stdout), w) {
			t.Errorf("stdout lacks %q:\n%s", w, r.stdout)
		}
	}
	d, err := store.OpenDir(root)
	if err != nil {
		t.Fatal(err)
	}
	if d.Count("test_user") != 4 || d.Count("test_group_has_user") != 4 {
		t.Errorf("counts: users %d, memberships %d", d.Count("test_user"), d.Count("test_group_has_user"))
	}
}

func TestCollectDisableSource(t *testing.T) {
	root := filepath.Join(t.TempDir(), "out")
	h := &testHooks{}
	a, out, errb := testApp(h, baseEnv())
	r := runApp(t, context.Background(), a, out, errb, "collect", "--env-file", "", "--output", root, "--disable-source", "groups")
	if r.code != ExitOK {
		t.Fatalf("exit %d\n%s", r.code, r.combinedOut)
	}
	if h.groupRuns.Load() != 0 || !strings.Contains(r.stdout, "fetch-groups: source groups disabled by --disable-source") {
		t.Fatalf("groups not disabled:\n%s", r.stdout)
	}
	// Disabling users disables its dependent fetch-groups too.
	r = runApp(t, context.Background(), a, out, errb, "collect", "--env-file", "", "--output", root, "--disable-source", "users")
	if r.code != ExitOK || !strings.Contains(r.stdout, "fetch-groups: dependency fetch-users is disabled") {
		t.Fatalf("exit %d\n%s", r.code, r.combinedOut)
	}
}

func TestCollectInterrupted(t *testing.T) {
	root := filepath.Join(t.TempDir(), ".j1-integration")
	h := &testHooks{blocked: make(chan struct{})}
	env := baseEnv()
	env["TEST_BLOCK"] = "true"
	a, out, errb := testApp(h, env)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-h.blocked:
			cancel()
		case <-time.After(10 * time.Second):
		}
	}()
	r := runApp(t, ctx, a, out, errb, "collect", "--env-file", "", "--output", root)
	if r.code != ExitInterrupted {
		t.Fatalf("exit %d, want %d\n%s", r.code, ExitInterrupted, r.combinedOut)
	}
	for _, w := range []string{"fetch-users success", "fetch-groups cancelled", "Run interrupted"} {
		if !strings.Contains(norm(r.stdout), w) {
			t.Errorf("stdout lacks %q:\n%s", w, r.stdout)
		}
	}
	d, err := store.OpenDir(root)
	if err != nil {
		t.Fatalf("output not written: %v", err)
	}
	sum, err := runtime.ReadSummary(d)
	if err != nil || sum == nil {
		t.Fatalf("summary: %v", err)
	}
	var status string
	for _, s := range sum.Steps {
		if s.ID == "fetch-groups" {
			status = s.Status
		}
	}
	if status != runtime.StatusCancelled {
		t.Errorf("fetch-groups status %q in summary.json", status)
	}
	if d.Count("test_user") != 3 || d.Count("test_group") != 1 {
		t.Errorf("collected objects not kept: users %d groups %d", d.Count("test_user"), d.Count("test_group"))
	}
}

func TestCollectEveryStopsBetweenRuns(t *testing.T) {
	root := filepath.Join(t.TempDir(), "out")
	h := &testHooks{}
	a, out, errb := testApp(h, baseEnv())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		deadline := time.Now().Add(10 * time.Second)
		for h.groupRuns.Load() < 1 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(300 * time.Millisecond) // the first run ends, the schedule waits ≥ 0.9s
		cancel()
	}()
	r := runApp(t, ctx, a, out, errb, "collect", "--env-file", "", "--output", root, "--every", "2s")
	if r.code != ExitOK {
		t.Fatalf("exit %d\n%s", r.code, r.combinedOut)
	}
	if n := strings.Count(r.stdout, "TOTAL"); n != 1 {
		t.Errorf("%d runs, want 1:\n%s", n, r.stdout)
	}
	if !strings.Contains(r.stderr, "next collection scheduled") || !strings.Contains(r.stderr, "schedule stopped between runs") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
}

func TestJitter(t *testing.T) {
	for range 1000 {
		d := jitter(time.Hour)
		if d < 54*time.Minute || d > 66*time.Minute {
			t.Fatalf("jitter %s outside ±10%%", d)
		}
	}
}

func TestHelpAndUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"--help"}, ExitOK, []string{"Commands:", "collect", "diff", "Exit codes"}},
		{[]string{"help", "diff"}, ExitOK, []string{"Usage: test diff [flags] OLD NEW", "--fail-on", "Examples:"}},
		{[]string{"collect", "--help"}, ExitOK, []string{"--orgUrl string", "env TEST_ORG_URL", "--apiKey", "secret", "--output, --data-dir", "--env-file", "--log-format", "Examples:", "test collect --step fetch-groups --use-cache"}},
		{[]string{"validate", "-h"}, ExitOK, []string{"--users int", "default \"3\""}},
		{[]string{"document", "--help"}, ExitOK, []string{"--check", "docs/test.md"}},
		{[]string{"visualize", "--help"}, ExitOK, []string{"--from", "--format"}},
		{nil, ExitUsage, []string{"Usage:"}},
		{[]string{"frobnicate"}, ExitUsage, []string{`unknown command "frobnicate"`}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			a, out, errb := testApp(nil, nil)
			r := runApp(t, context.Background(), a, out, errb, tt.args...)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d\n%s", r.code, tt.code, r.combinedOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.combinedOut, w) {
					t.Errorf("output lacks %q:\n%s", w, r.combinedOut)
				}
			}
		})
	}
}

func TestFlagsAfterPositionals(t *testing.T) {
	fs := newFlagSet("x")
	f := fs.String("format", "text", "")
	b := fs.Bool("v", false, "")
	pos, err := fs.parse([]string{"a", "--format", "json", "b", "-v", "--", "--c"})
	if err != nil {
		t.Fatal(err)
	}
	if *f != "json" || !*b || strings.Join(pos, " ") != "a b --c" {
		t.Fatalf("format=%s v=%v pos=%v", *f, *b, pos)
	}
}

// norm collapses runs of spaces so table rows can be matched.
func norm(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), " ")
	}
	return strings.Join(lines, "\n")
}

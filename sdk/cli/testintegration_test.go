package cli

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stepgraph/stepgraph/sdk/graph"
	"github.com/stepgraph/stepgraph/sdk/httpclient"
	"github.com/stepgraph/stepgraph/sdk/integration"
)

// testConfig is the tiny test integration's configuration.
type testConfig struct {
	OrgURL     string `config:"orgUrl" env:"TEST_ORG_URL" help:"org URL"`
	APIKey     string `config:"apiKey" env:"TEST_API_KEY" secret:"true" help:"API key"`
	Users      int    `config:"users" env:"TEST_USERS" default:"3" optional:"true" help:"users to emit"`
	FailGroups bool   `config:"failGroups" env:"TEST_FAIL_GROUPS" optional:"true" help:"make fetch-groups fail"`
	AuthInStep bool   `config:"authInStep" env:"TEST_AUTH_IN_STEP" optional:"true" help:"fetch-users gets a 401"`
	Block      bool   `config:"block" env:"TEST_BLOCK" optional:"true" help:"fetch-groups blocks until cancelled"`
	// Skip is the config's disable list, Ratio a value with a range.
	Skip  []string `config:"skip" env:"TEST_SKIP" optional:"true" sources:"disable" help:"sources to skip"`
	Ratio float64  `config:"ratio" env:"TEST_RATIO" optional:"true" range:"(0,1]" help:"a fraction"`
}

const testSecret = "s3cr3t-api-key-value-0123456789"

// testHooks lets a test observe and steer the integration.
type testHooks struct {
	blocked   chan struct{} // closed when fetch-groups blocks
	once      sync.Once
	runs      atomic.Int32 // fetch-account runs
	userRuns  atomic.Int32
	groupRuns atomic.Int32
	share     atomic.Value // rate-limit share seen by fetch-account's ctx
}

func newTestIntegration(h *testHooks) *integration.Integration[testConfig] {
	if h == nil {
		h = &testHooks{}
	}
	if h.blocked == nil {
		h.blocked = make(chan struct{})
	}
	return &integration.Integration[testConfig]{
		Name: "test",
		Validate: func(ctx context.Context, cfg *testConfig) error {
			if !strings.HasPrefix(cfg.OrgURL, "https://") {
				return &integration.ConfigError{Field: "orgUrl", Message: "must start with https://"}
			}
			if strings.HasPrefix(cfg.APIKey, "bad") {
				return &integration.AuthenticationError{APIError: integration.APIError{
					Request: integration.Request{Method: "GET", Endpoint: "/api/v1/org"}, Status: 401,
				}}
			}
			return nil
		},
		Steps: []integration.Step[testConfig]{
			{
				ID: "fetch-account", Name: "Fetch Account",
				Entities: []integration.EntityType{{Resource: "Test Account", Type: "test_account", Class: []string{"Account"}}},
				Run: func(ctx context.Context, sc *integration.StepContext[testConfig]) error {
					h.runs.Add(1)
					if s, ok := httpclient.RateLimitShareFrom(ctx); ok {
						h.share.Store(s)
					}
					sc.Logger.Info("fetching account", "token", sc.Config.APIKey) // must be masked
					return sc.AddEntities(ctx, (&graph.Entity{Key: "test-account-1", Type: "test_account", Class: []string{"Account"}, DisplayName: "Test Org"}).Set("name", "Test Org"))
				},
			},
			{
				ID: "fetch-users", Name: "Fetch Users", DependsOn: []string{"fetch-account"},
				Entities: []integration.EntityType{{Resource: "Test User", Type: "test_user", Class: []string{"User"}}},
				Relationships: []integration.RelationshipType{
					{Type: "test_account_has_user", Class: graph.HAS, Source: "test_account", Target: "test_user"},
				},
				MappedRelationships: []integration.MappedRelationshipType{
					{Type: "test_user_is_person", Class: graph.IS, Source: "test_user", Target: "person", Direction: graph.Forward},
				},
				Run: func(ctx context.Context, sc *integration.StepContext[testConfig]) error {
					h.userRuns.Add(1)
					if sc.Config.AuthInStep {
						return &integration.AuthenticationError{APIError: integration.APIError{
							Request: integration.Request{Method: "GET", Endpoint: "/api/v1/users"}, Status: 401,
						}}
					}
					n := sc.Config.Users
					sc.Progress(TotalPrefix+"test_user", int64(n))
					acct, err := sc.FindEntity(ctx, "test-account-1")
					if err != nil || acct == nil {
						return fmt.Errorf("account not found: %v", err)
					}
					for i := range n {
						u := &graph.Entity{
							Key: fmt.Sprintf("test-user-%04d", i), Type: "test_user", Class: []string{"User"},
							DisplayName: fmt.Sprintf("User %d", i),
						}
						email := fmt.Sprintf("user%d@example.com", i)
						u.Set("username", email).Set("email", email).Set("active", true).Set("name", fmt.Sprintf("User %d", i))
						if err := sc.AddEntities(ctx, u); err != nil {
							return err
						}
						if err := sc.AddRelationships(ctx, graph.Direct(acct, graph.HAS, u),
							graph.Mapped(u, graph.IS, graph.Forward, graph.MappedTarget{
								Entity:     map[string]any{"_type": "person", "_key": "person:" + email, "email": email},
								FilterKeys: [][]string{{"_type", "email"}},
							}, graph.WithType("test_user_is_person"))); err != nil {
							return err
						}
					}
					return nil
				},
			},
			{
				ID: "fetch-groups", Name: "Fetch Groups", DependsOn: []string{"fetch-account", "fetch-users"},
				Entities: []integration.EntityType{{Resource: "Test Group", Type: "test_group", Class: []string{"UserGroup"}}},
				Relationships: []integration.RelationshipType{
					{Type: "test_group_has_user", Class: graph.HAS, Source: "test_group", Target: "test_user"},
				},
				Run: func(ctx context.Context, sc *integration.StepContext[testConfig]) error {
					h.groupRuns.Add(1)
					g := (&graph.Entity{Key: "test-group-admins", Type: "test_group", Class: []string{"UserGroup"}, DisplayName: "Admins"}).Set("name", "Admins")
					if err := sc.AddEntities(ctx, g); err != nil {
						return err
					}
					if sc.Config.FailGroups {
						return &integration.APIError{Request: integration.Request{Method: "GET", Endpoint: "/api/v1/groups"}, Status: 500}
					}
					if sc.Config.Block {
						h.once.Do(func() { close(h.blocked) })
						<-ctx.Done()
						return ctx.Err()
					}
					return sc.IterateEntities(ctx, "test_user", func(u *graph.Entity) error {
						return sc.AddRelationships(ctx, graph.Direct(g, graph.HAS, u))
					})
				},
			},
		},
	}
}

// testApp returns an App over the test integration with captured output
// and the given environment.
func testApp(h *testHooks, env map[string]string) (*App[testConfig], *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	no := false
	a := &App[testConfig]{
		Integration: newTestIntegration(h),
		Sources: []Source{
			{Name: "users", Description: "user accounts", Steps: []string{"fetch-users"}},
			{Name: "groups", Description: "groups and memberships", Steps: []string{"fetch-groups"}},
		},
		Stdout: &out, Stderr: &errb,
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		Terminal:  &no,
		NoSignals: true,
	}
	return a, &out, &errb
}

// baseEnv is a valid configuration.
func baseEnv() map[string]string {
	return map[string]string{"TEST_ORG_URL": "https://example.test", "TEST_API_KEY": testSecret}
}

type cliResult struct {
	code        int
	stdout      string
	stderr      string
	combinedOut string
}

func runApp(t *testing.T, ctx context.Context, a *App[testConfig], out, errb *bytes.Buffer, args ...string) cliResult {
	t.Helper()
	out.Reset()
	errb.Reset()
	code := a.Main(ctx, args)
	r := cliResult{code: code, stdout: out.String(), stderr: errb.String()}
	r.combinedOut = r.stdout + r.stderr
	if strings.Contains(r.combinedOut, testSecret) {
		t.Errorf("%v: output contains the secret:\n%s", args, r.combinedOut)
	}
	return r
}

package service_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stepgraph/stepgraph/sdk/graph"
	"github.com/stepgraph/stepgraph/sdk/integration"
	"github.com/stepgraph/stepgraph/sdk/service"
)

// thingIntegration collects one demo_thing named after its host.
func thingIntegration(name string) *integration.Integration[demoConfig] {
	return &integration.Integration[demoConfig]{
		Name: name,
		Steps: []integration.Step[demoConfig]{{
			ID: "fetch-things", Name: "Fetch things",
			Entities: []integration.EntityType{{Resource: "Thing", Type: "demo_thing", Class: []string{"Configuration"}}},
			Run: func(ctx context.Context, sc *integration.StepContext[demoConfig]) error {
				return sc.AddEntities(ctx, &graph.Entity{Key: "demo-thing-" + sc.Config.Host, Type: "demo_thing", Class: []string{"Configuration"}, DisplayName: sc.Config.Host, Properties: map[string]any{"name": sc.Config.Host}})
			},
		}},
	}
}

// The SDK ships only generic rules; an integration's own rules come with
// its registration (Definition.Rules) and run for its instances only,
// even where another integration emits the same types (issue #12).
func TestIntegrationRules(t *testing.T) {
	ctx := context.Background()
	listed := func(s *service.Service) string {
		t.Helper()
		rules, err := s.Rules(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range rules {
			out = append(out, fmt.Sprintf("%s(builtin=%v,integration=%q)", r.Name, r.Builtin, r.Integration))
		}
		return strings.Join(out, " ")
	}

	// Without registered rules: the SDK's generic ones, nothing of Okta.
	bare := openService(t, demoRegistry(), uniqueSchema(t))
	if got, want := listed(bare), `token-expiry(builtin=true,integration="") user-without-mfa-added-to-app(builtin=true,integration="")`; got != want {
		t.Errorf("SDK rules:\n got %s\nwant %s", got, want)
	}

	// demo registers a rule; lookalike emits the same type without one.
	reg := service.NewRegistry()
	service.Register(reg, service.Definition[demoConfig]{Integration: thingIntegration("demo"), Rules: fstest.MapFS{
		"new-demo-thing.sql": {Data: []byte(newThingRule)},
		"README.md":          {Data: []byte("not a rule")},
	}})
	service.Register(reg, service.Definition[demoConfig]{Integration: thingIntegration("lookalike")})
	s := openService(t, reg, uniqueSchema(t))
	if got, want := listed(s), `new-demo-thing(builtin=true,integration="demo") token-expiry(builtin=true,integration="") user-without-mfa-added-to-app(builtin=true,integration="")`; got != want {
		t.Errorf("rules with demo's registered:\n got %s\nwant %s", got, want)
	}
	// An operator's rule runs for every instance.
	q := strings.Replace(newThingRule, "-- A thing appeared.", "-- Any thing appeared.", 1)
	if err := s.SetRule(ctx, "any-thing", &q, "log", nil); err != nil {
		t.Fatal(err)
	}
	for _, inst := range []service.Instance{
		{Name: "things", Integration: "demo", Config: map[string]string{"host": "t"}, Secrets: map[string]service.SecretRef{"token": "env:DEMO_TOKEN"}},
		{Name: "look", Integration: "lookalike", Config: map[string]string{"host": "l"}, Secrets: map[string]service.SecretRef{"token": "env:DEMO_TOKEN"}},
	} {
		if err := s.AddInstance(ctx, inst); err != nil {
			t.Fatal(err)
		}
	}
	startWorker(ctx, t, s)
	for _, name := range []string{"things", "look"} {
		if _, err := s.RunNow(ctx, name); err != nil {
			t.Fatal(err)
		}
	}
	// Wait until both instances' runs are loaded and evaluated.
	for deadline := time.Now().Add(2 * time.Minute); ; {
		var evaluated int
		if err := s.Pool().QueryRow(ctx, `SELECT count(*) FROM service_instance WHERE alerts_run_id > 0`).Scan(&evaluated); err != nil {
			t.Fatal(err)
		}
		if evaluated == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of 2 instances evaluated within two minutes", evaluated)
		}
		time.Sleep(100 * time.Millisecond)
	}
	rows, err := s.Pool().Query(ctx, `SELECT e.rule || ' ' || i.name || ' ' || e.object_key FROM alert_event e JOIN service_instance i ON i.id = e.instance_id ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	fired, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(fired, "; "), "any-thing look demo-thing-l; any-thing things demo-thing-t; new-demo-thing things demo-thing-t"; got != want {
		t.Errorf("fired:\n got %s\nwant %s", got, want)
	}
	// alerts test of demo's rule looks at demo's instances only.
	ms, err := s.TestRule(ctx, "new-demo-thing", "")
	if err != nil || len(ms) != 1 || ms[0].Instance != "things" || !ms[0].AlreadyFired {
		t.Errorf("TestRule(new-demo-thing): %+v %v", ms, err)
	}
}

// A registered rule that clashes with another's name or is not valid SQL
// with the required columns fails Open, naming the rule.
func TestIntegrationRulesRejected(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name, file, sql, want string
	}{
		{"clash", "token-expiry.sql", newThingRule, "alert rule token-expiry of integration demo: the SDK has a rule of that name"},
		{"columns", "bad.sql", "SELECT 1 AS nope", "alert rule bad:"},
		{"syntax", "worse.sql", "SELEC key FROM entity", "alert rule worse:"},
		{"filename", "bad name.sql", newThingRule, `alert rule file bad name.sql of integration demo`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			reg := service.NewRegistry()
			service.Register(reg, service.Definition[demoConfig]{Integration: thingIntegration("demo"), Rules: fstest.MapFS{tt.file: {Data: []byte(tt.sql)}}})
			s, err := service.Open(ctx, testURL(t), reg, service.Options{Schema: uniqueSchema(t), Logger: slog.New(slog.DiscardHandler)})
			if err == nil {
				s.Close()
				t.Fatalf("Open accepted rule file %s", tt.file)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q lacks %q", err, tt.want)
			}
		})
	}
}

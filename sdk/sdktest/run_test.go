package sdktest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stepgraph/stepgraph/sdk/graph"
	"github.com/stepgraph/stepgraph/sdk/integration"
)

type demoConfig struct {
	Users int `config:"users" env:"DEMO_USERS" default:"2"`
}

const (
	accountKey  = "demo_account:1"
	accountType = "demo_account"
	userType    = "demo_user"
	groupType   = "demo_group"
)

func demoUser(i int) *graph.Entity {
	e := &graph.Entity{Key: "demo_user:" + string(rune('a'+i)) + "-0000", Type: userType, Class: []string{"User"}, DisplayName: "user " + string(rune('a'+i))}
	e.Set("name", e.DisplayName).Set("username", string(rune('a'+i))).Set("active", i%2 == 0)
	return e
}

// demo is a small integration without HTTP: an account, users, groups.
func demo() *integration.Integration[demoConfig] {
	return &integration.Integration[demoConfig]{
		Name: "demo",
		Steps: []integration.Step[demoConfig]{
			{
				ID: "groups", Name: "Groups", DependsOn: []string{"users"},
				Entities: []integration.EntityType{{Resource: "Group", Type: groupType, Class: []string{"UserGroup"}}},
				Relationships: []integration.RelationshipType{
					{Type: "demo_group_has_user", Class: graph.HAS, Source: groupType, Target: userType},
					{Type: "demo_group_has_admin", Class: graph.HAS, Source: groupType, Target: userType, Partial: true},
				},
				Run: func(ctx context.Context, sc *integration.StepContext[demoConfig]) error {
					g := (&graph.Entity{Key: "demo_group:everyone", Type: groupType, Class: []string{"UserGroup"}, DisplayName: "everyone"}).Set("name", "everyone")
					if err := sc.AddEntities(ctx, g); err != nil {
						return err
					}
					return sc.IterateEntities(ctx, userType, func(u *graph.Entity) error {
						return sc.AddRelationships(ctx, graph.Direct(g, graph.HAS, u))
					})
				},
			},
			{
				ID: "account", Name: "Account",
				Entities: []integration.EntityType{{Resource: "Account", Type: accountType, Class: []string{"Account"}}},
				Run: func(ctx context.Context, sc *integration.StepContext[demoConfig]) error {
					return sc.AddEntities(ctx, (&graph.Entity{Key: accountKey, Type: accountType, Class: []string{"Account"}, DisplayName: "Demo <&>"}).Set("name", "Demo <&>"))
				},
			},
			{
				ID: "users", Name: "Users", DependsOn: []string{"account"},
				Entities:      []integration.EntityType{{Resource: "User", Type: userType, Class: []string{"User"}}},
				Relationships: []integration.RelationshipType{{Type: "demo_account_has_user", Class: graph.HAS, Source: accountType, Target: userType}},
				Run: func(ctx context.Context, sc *integration.StepContext[demoConfig]) error {
					for i := range sc.Config.Users {
						u := demoUser(i)
						if err := sc.AddEntities(ctx, u); err != nil {
							return err
						}
						rel := graph.DirectByKey(accountKey, accountType, graph.HAS, u.Key, userType)
						if err := sc.AddRelationships(ctx, rel); err != nil {
							return err
						}
					}
					return nil
				},
			},
		},
	}
}

func TestRunWholeGraph(t *testing.T) {
	c := Run(t, demo(), &demoConfig{Users: 3}, RunOptions{})
	if len(c.Entities) != 5 || len(c.Relationships) != 6 {
		t.Fatalf("collected %d entities, %d relationships", len(c.Entities), len(c.Relationships))
	}
	for i := 1; i < len(c.Entities); i++ {
		if c.Entities[i-1].Key >= c.Entities[i].Key {
			t.Errorf("entities not sorted by _key")
		}
	}
	// demo_group_has_admin is Partial, so it may stay empty.
	AssertAll(t, c)
	AssertGolden(t, c, "demo.golden.json")
	if e := c.Entity(accountKey); e == nil || e.DisplayName != "Demo <&>" {
		t.Errorf("Entity(%q) = %v", accountKey, e)
	}
	if n := len(c.EntitiesOf(userType)); n != 3 {
		t.Errorf("EntitiesOf(%s) = %d", userType, n)
	}
	if n := len(c.RelationshipsOf("demo_group_has_user")); n != 3 {
		t.Errorf("RelationshipsOf = %d", n)
	}
}

func TestRunStepRunsDependenciesOnly(t *testing.T) {
	c := RunStep(t, demo(), &demoConfig{Users: 2}, "users", RunOptions{})
	if got := c.StepStatus("groups"); got != "disabled" {
		t.Errorf("groups status = %q, want disabled", got)
	}
	if got := c.StepStatus("account"); got != "success" {
		t.Errorf("account status = %q, want success", got)
	}
	if len(c.EntitiesOf(accountType)) != 0 || len(c.EntitiesOf(userType)) != 2 || len(c.Relationships) != 2 {
		t.Errorf("step view holds %d entities, %d relationships", len(c.Entities), len(c.Relationships))
	}
	if len(c.All().EntitiesOf(accountType)) != 1 {
		t.Errorf("All() lacks the dependency's account")
	}
	// The relationships point to the account collected by the dependency.
	AssertAll(t, c)
	AssertGolden(t, c, "demo-users.golden.json", WithoutRawData(), IgnoreProperties("active"))
}

func TestAssertTypesReportsTypesNeverEmitted(t *testing.T) {
	c := Run(t, demo(), &demoConfig{Users: 0}, RunOptions{})
	spy := capture(t, func(tb testing.TB) { AssertTypes(tb, c) })
	wantFailure(t, spy, "step users declares demo_user but emitted none", "step users declares demo_account_has_user",
		"step groups declares demo_group_has_user")
	if strings.Contains(spy.messages(), "demo_group_has_admin") {
		t.Errorf("partial type reported: %s", spy.messages())
	}
	spy = capture(t, func(tb testing.TB) {
		AssertTypes(tb, c, userType, "demo_account_has_user", "demo_group_has_user")
	})
	if spy.Failed() {
		t.Errorf("allowed types reported: %s", spy.messages())
	}
}

func TestAssertRelationshipEndpoints(t *testing.T) {
	integ := demo()
	integ.Steps[1].Relationships = []integration.RelationshipType{{Type: "demo_account_has_user", Class: graph.HAS, Source: accountType, Target: userType}}
	integ.Steps[1].Run = func(ctx context.Context, sc *integration.StepContext[demoConfig]) error {
		if err := sc.AddEntities(ctx, (&graph.Entity{Key: accountKey, Type: accountType, Class: []string{"Account"}, DisplayName: "Demo"}).Set("name", "Demo")); err != nil {
			return err
		}
		return sc.AddRelationships(ctx, graph.DirectByKey(accountKey, accountType, graph.HAS, "demo_user:ghost", userType))
	}
	// users also emits demo_account_has_user, with other keys.
	c := Run(t, integ, &demoConfig{Users: 1}, RunOptions{})
	spy := capture(t, func(tb testing.TB) { AssertRelationshipEndpoints(tb, c) })
	wantFailure(t, spy, `_toEntityKey "demo_user:ghost" was not collected`)
}

func TestAssertObjectsAndKeys(t *testing.T) {
	bad := &graph.Entity{Key: "demo_user:bad1", Type: userType, Class: []string{"User"}}
	bad.Set("username", "x")
	other := &graph.Entity{Key: "demo_user:bad1", Type: "demo_other", Class: []string{"Account"}}
	rel := &graph.Relationship{Key: "demo_user:bad1", Type: "demo_rel", Class: "LIKES", FromKey: "a", ToKey: "b"}
	c := &Collection{Schemas: graph.DefaultSchemas(), Entities: []*graph.Entity{bad, other}, Relationships: []*graph.Relationship{rel}}
	c.run = c
	spy := capture(t, func(tb testing.TB) { AssertValidObjects(tb, c) })
	wantFailure(t, spy, `class User requires property "name"`, `unknown relationship class "LIKES"`)
	spy = capture(t, func(tb testing.TB) { AssertNoDuplicateKeys(tb, c) })
	wantFailure(t, spy, `_key "demo_user:bad1" is used by demo_user and demo_other`, "demo_user and demo_rel")
}

func TestRunReportsStepFailures(t *testing.T) {
	integ := demo()
	boom := errors.New("boom")
	integ.Steps[2].Run = func(context.Context, *integration.StepContext[demoConfig]) error { return boom }
	spy := capture(t, func(tb testing.TB) { Run(tb, integ, &demoConfig{}, RunOptions{}) })
	wantFailure(t, spy, "step users ended failure: boom")

	c := Run(t, integ, &demoConfig{}, RunOptions{AllowFailures: true})
	if c.StepStatus("users") != "failure" || c.StepStatus("groups") != "partial_success_due_to_dependency_failure" {
		t.Errorf("statuses: users=%s groups=%s", c.StepStatus("users"), c.StepStatus("groups"))
	}
	// A failed step's missing types are not reported.
	if spy := capture(t, func(tb testing.TB) { AssertTypes(tb, c, "demo_group_has_user") }); spy.Failed() {
		t.Errorf("failed step's types reported: %s", spy.messages())
	}
}

func TestRunFailsOnInvalidGraph(t *testing.T) {
	integ := demo()
	integ.Steps[0].DependsOn = []string{"nope"}
	spy := capture(t, func(tb testing.TB) { Run(tb, integ, &demoConfig{}, RunOptions{}) })
	wantFailure(t, spy, "run demo", "unknown step")
	if !spy.fatal {
		t.Error("an invalid graph must stop the test")
	}
}

func TestGoldenUpdateAndDiff(t *testing.T) {
	c := Run(t, demo(), &demoConfig{Users: 2}, RunOptions{})
	path := filepath.Join(t.TempDir(), "sub", "g.json")

	spy := capture(t, func(tb testing.TB) { AssertGolden(tb, c, path) })
	wantFailure(t, spy, "does not exist", "-update")

	t.Setenv(UpdateEnv, "1")
	if spy := capture(t, func(tb testing.TB) { AssertGolden(tb, c, path) }); spy.Failed() {
		t.Fatalf("update failed: %s", spy.messages())
	}
	t.Setenv(UpdateEnv, "")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), `"displayName": "Demo <&>"`) || !strings.HasPrefix(string(raw), "{\n  \"entities\": [\n") {
		t.Errorf("golden is not indented, unescaped JSON:\n%s", raw)
	}
	if spy := capture(t, func(tb testing.TB) { AssertGolden(tb, c, path) }); spy.Failed() {
		t.Fatalf("unchanged collection differs: %s", spy.messages())
	}

	c.Entity(accountKey).Set("region", "eu")
	spy = capture(t, func(tb testing.TB) { AssertGolden(tb, c, path) })
	wantFailure(t, spy, "differs from golden", accountKey, "region", "-update")
	if spy := capture(t, func(tb testing.TB) { AssertGolden(tb, c, path, IgnoreProperties("region")) }); spy.Failed() {
		t.Errorf("ignored property still compared: %s", spy.messages())
	}
}

func TestGoldenPath(t *testing.T) {
	for in, want := range map[string]string{
		"a.json":         filepath.Join("testdata", "a.json"),
		"golden/a.json":  "golden/a.json",
		"/abs/x.json":    "/abs/x.json",
		"../x/a.json":    "../x/a.json",
		"testdata/.json": "testdata/.json",
	} {
		if got := GoldenPath(in); got != want {
			t.Errorf("GoldenPath(%q) = %q, want %q", in, got, want)
		}
	}
}

package runtime_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stepgraph/stepgraph/sdk/graph"
	"github.com/stepgraph/stepgraph/sdk/integration"
	"github.com/stepgraph/stepgraph/sdk/runtime"
	"github.com/stepgraph/stepgraph/sdk/store"
)

// TestEndToEndFilesystem runs a small multi-step integration through the real
// runtime and filesystem store and checks the files it leaves.
func TestEndToEndFilesystem(t *testing.T) {
	groupType := integration.EntityType{Resource: "Group", Type: "t_group", Class: []string{"UserGroup"}}
	groupHasUser := integration.RelationshipType{Type: "t_group_has_user", Class: graph.HAS, Source: "t_group", Target: "t_user"}
	personMap := integration.MappedRelationshipType{Type: "t_user_is_person", Class: graph.IS, Source: "t_user", Target: "person", Direction: graph.Forward}
	integ := &integration.Integration[cfg]{
		Name: "t",
		Validate: func(ctx context.Context, c *cfg) error {
			if c.Token == "" {
				return &integration.ConfigError{Field: "token", Message: "is required"}
			}
			return nil
		},
		Steps: []integration.Step[cfg]{
			{ID: "fetch-account", Name: "Account", Entities: []integration.EntityType{accountType},
				Run: func(ctx context.Context, sc *integration.StepContext[cfg]) error {
					return sc.AddEntities(ctx, account())
				}},
			{ID: "fetch-users", Name: "Users", DependsOn: []string{"fetch-account"},
				Entities:            []integration.EntityType{userType},
				Relationships:       []integration.RelationshipType{hasUser},
				MappedRelationships: []integration.MappedRelationshipType{personMap},
				Data:                []integration.DataKey{integration.PersistedData[[]string]("user-ids")},
				Run: func(ctx context.Context, sc *integration.StepContext[cfg]) error {
					a, err := sc.FindEntity(ctx, "t_account_1")
					if err != nil || a == nil {
						return fmt.Errorf("account not found: %v", err)
					}
					var ids []string
					for i := range 30 {
						u := user(i)
						ids = append(ids, u.Key)
						if err := sc.AddEntities(ctx, u); err != nil {
							return err
						}
						if err := sc.AddRelationships(ctx, graph.Direct(a, graph.HAS, u)); err != nil {
							return err
						}
						m := graph.Mapped(u, graph.IS, graph.Forward, graph.MappedTarget{
							Entity:     map[string]any{"_type": "person", "email": u.Prop("email")},
							FilterKeys: [][]string{{"_type", "email"}},
						}, graph.WithType("t_user_is_person"))
						if err := sc.AddRelationships(ctx, m); err != nil {
							return err
						}
					}
					sc.SetData("user-ids", ids)
					return nil
				}},
			{ID: "fetch-groups", Name: "Groups", DependsOn: []string{"fetch-users"},
				NeedsData:     []string{"user-ids"},
				Entities:      []integration.EntityType{groupType},
				Relationships: []integration.RelationshipType{groupHasUser},
				Run: func(ctx context.Context, sc *integration.StepContext[cfg]) error {
					v, ok := sc.GetData("user-ids")
					if !ok {
						return errors.New("no user ids handed over")
					}
					g := (&graph.Entity{Key: "t_group_admins", Type: "t_group", Class: []string{"UserGroup"}, DisplayName: "Admins"}).Set("name", "Admins")
					if err := sc.AddEntities(ctx, g); err != nil {
						return err
					}
					for _, id := range v.([]string)[:5] {
						if err := sc.AddRelationships(ctx, graph.DirectByKey(g.Key, g.Type, graph.HAS, id, "t_user")); err != nil {
							return err
						}
					}
					return nil
				}},
			{ID: "broken", Name: "Broken", DependsOn: []string{"fetch-account"},
				Entities: []integration.EntityType{{Type: "t_thing", Class: []string{"Configuration"}}},
				Run: func(ctx context.Context, sc *integration.StepContext[cfg]) error {
					return &integration.APIError{Request: integration.Request{Method: "GET", Endpoint: "/things"}, Status: 500}
				}},
		},
	}
	root := filepath.Join(t.TempDir(), ".j1-integration")

	// Invalid config: no store output, a ConfigError naming the field.
	fs0, _ := store.NewFilesystem(root, store.FilesystemOptions{})
	_, err := runtime.Run(context.Background(), integ, &cfg{}, runtime.Options{Store: fs0})
	var ce *integration.ConfigError
	if !errors.As(err, &ce) || ce.Field != "token" {
		t.Fatalf("want config error on token, got %v", err)
	}

	fs, _ := store.NewFilesystem(root, store.FilesystemOptions{MaxObjectsPerFile: 8})
	res, err := runtime.Run(context.Background(), integ, &cfg{Token: "tok-123456"}, runtime.Options{Store: fs})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"fetch-account", "fetch-users", "fetch-groups"} {
		if res.StepStatus(id) != runtime.StatusSuccess {
			t.Errorf("%s: %s", id, res.StepStatus(id))
		}
	}
	if res.StepStatus("broken") != runtime.StatusFailure {
		t.Errorf("broken: %s", res.StepStatus("broken"))
	}

	files, _ := filepath.Glob(filepath.Join(root, "graph", "fetch-users", "entities", "t_user.*.json"))
	if len(files) != 4 { // 30 users, 8 per file
		t.Errorf("user files: %v", files)
	}
	var users int
	for _, f := range files {
		var doc struct{ Entities []map[string]any }
		b, _ := os.ReadFile(f)
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		users += len(doc.Entities)
		for _, e := range doc.Entities {
			if e["_type"] != "t_user" || e["username"] == nil || e["_class"].([]any)[0] != "User" {
				t.Errorf("bad user object %v", e)
			}
		}
	}
	if users != 30 {
		t.Errorf("%d users on disk", users)
	}
	b, err := os.ReadFile(filepath.Join(root, "graph", "fetch-users", "relationships", "t_user_is_person.1.json"))
	if err != nil {
		t.Fatal(err)
	}
	var mapped struct{ Relationships []map[string]any }
	_ = json.Unmarshal(b, &mapped)
	if len(mapped.Relationships) != 8 || mapped.Relationships[0]["_mapping"] == nil {
		t.Errorf("mapped relationships file: %s", b)
	}

	var sum runtime.Summary
	b, _ = os.ReadFile(filepath.Join(root, store.SummaryFile))
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	if len(sum.Steps) != 4 || sum.Steps[0].ID != "fetch-account" {
		t.Fatalf("summary steps %+v", sum.Steps)
	}
	for _, s := range sum.Steps {
		if s.ID == "fetch-users" {
			if s.EncounteredTypeCounts["t_user"] != 30 || s.EncounteredTypeCounts["t_account_has_user"] != 30 ||
				!slices.Equal(s.DependsOn, []string{"fetch-account"}) || s.StartedOn == 0 || s.EndedOn < s.StartedOn {
				t.Errorf("fetch-users summary %+v", s)
			}
		}
		if s.ID == "broken" && (s.ErrorCode != string(integration.CodeProviderAPI) || s.Error == "") {
			t.Errorf("broken summary %+v", s)
		}
	}
	if !slices.Equal(sum.Metadata.PartialDatasets.Types, []string{"t_thing"}) {
		t.Errorf("partial datasets %v", sum.Metadata.PartialDatasets.Types)
	}
}

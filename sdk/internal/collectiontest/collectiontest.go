// Package collectiontest writes small committed collections for the tests
// of the packages that read them (graphdiff and the CLI's diff).
package collectiontest

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stepgraph/stepgraph/sdk/graph"
	"github.com/stepgraph/stepgraph/sdk/runtime"
	"github.com/stepgraph/stepgraph/sdk/store"
)

// Write commits a collection at root with the given objects; partial
// lists the types its summary marks partial.
func Write(t testing.TB, root string, ents []*graph.Entity, rels []*graph.Relationship, partial ...string) {
	t.Helper()
	per := 7 // several files per type in small fixtures
	if len(ents) > 100 {
		per = 1000
	}
	st, err := store.NewFilesystem(root, store.FilesystemOptions{MaxObjectsPerFile: per})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if len(ents) > 0 {
		if err := st.AddEntities(ctx, "s", ents); err != nil {
			t.Fatal(err)
		}
	}
	if len(rels) > 0 {
		if err := st.AddRelationships(ctx, "s", rels); err != nil {
			t.Fatal(err)
		}
	}
	sum := &runtime.Summary{Integration: "test"}
	sum.Metadata.PartialDatasets.Types = append([]string{}, partial...)
	doc, err := json.Marshal(sum)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Commit(ctx, doc); err != nil {
		t.Fatal(err)
	}
}

// User is test user i with the given status.
func User(i int, status string) *graph.Entity {
	e := &graph.Entity{Key: fmt.Sprintf("test-user-%04d", i), Type: "test_user", Class: []string{"User"}, DisplayName: fmt.Sprintf("User %d", i)}
	e.Set("username", fmt.Sprintf("u%d", i)).Set("active", true).Set("status", status).Set("email", nil)
	return e
}

// Group is a test group with the given key.
func Group(key string) *graph.Entity {
	return &graph.Entity{Key: key, Type: "test_group", Class: []string{"UserGroup"}, DisplayName: key}
}

// DiffPair writes OLD and NEW collections and returns their roots:
// users 0..19 in old; in new user 0 removed, user 1 status changed,
// user 20 added; group-a unchanged; membership group-a->user 2 removed,
// group-a->user 20 added; a mapped relationship's target email changed.
func DiffPair(t *testing.T) (string, string) {
	dir := t.TempDir()
	oldRoot, newRoot := filepath.Join(dir, "old"), filepath.Join(dir, "new")
	var oldE, newE []*graph.Entity
	for i := range 20 {
		oldE = append(oldE, User(i, "ACTIVE"))
		switch i {
		case 0:
		case 1:
			u := User(i, "SUSPENDED")
			u.Set("lastLogin", 1700000000000)
			newE = append(newE, u)
		default:
			newE = append(newE, User(i, "ACTIVE"))
		}
	}
	newE = append(newE, User(20, "ACTIVE"))
	g := Group("test-group-a")
	oldE = append(oldE, g)
	newE = append(newE, g)
	mapped := func(email string) *graph.Relationship {
		return graph.Mapped(User(3, ""), graph.IS, graph.Forward, graph.MappedTarget{
			Entity: map[string]any{"_type": "person", "_key": "person-3-key", "email": email}, FilterKeys: [][]string{{"_type", "_key"}},
		}, graph.WithType("test_user_is_person"))
	}
	oldR := []*graph.Relationship{graph.Direct(g, graph.HAS, User(2, "")), graph.Direct(g, graph.HAS, User(4, "")), mapped("old@example.com")}
	newR := []*graph.Relationship{graph.Direct(g, graph.HAS, User(4, "")), graph.Direct(g, graph.HAS, User(20, "")), mapped("new@example.com")}
	Write(t, oldRoot, oldE, oldR)
	Write(t, newRoot, newE, newR, "test_group_has_user")
	return oldRoot, newRoot
}

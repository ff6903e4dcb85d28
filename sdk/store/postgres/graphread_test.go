package postgres_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/stepgraph/stepgraph/integrations/okta/oktafake"
	"github.com/stepgraph/stepgraph/sdk/graph"
	"github.com/stepgraph/stepgraph/sdk/graphview"
	"github.com/stepgraph/stepgraph/sdk/store"
	"github.com/stepgraph/stepgraph/sdk/store/postgres"
)

// pairsOf lists a relationship type's objects as comparable strings.
func pairsOf(t *testing.T, iterate func(context.Context, string, func(*graph.Relationship) error) error, typ string) []string {
	t.Helper()
	var out []string
	err := iterate(context.Background(), typ, func(r *graph.Relationship) error {
		if r.Mapping != nil {
			out = append(out, fmt.Sprintf("%s %s mapped %s %s %v", r.Key, r.Class, r.Mapping.SourceEntityKey, r.Mapping.Direction, r.Mapping.TargetEntity["_key"]))
		} else {
			out = append(out, fmt.Sprintf("%s %s %s>%s", r.Key, r.Class, r.FromKey, r.ToKey))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// TestReadGraphMatchesCollection pushes two Okta orgs and reads one back:
// every type, entity and relationship of its collection comes back (the
// other instance's do not), plus the person entities and IS relationships
// the user -> person rule derived for its users; the graph draws without
// dangling relationships.
func TestReadGraphMatchesCollection(t *testing.T) {
	db := postgres.OpenTestDB(t, postgres.Options{})
	ctx := context.Background()
	_, acme := collectFake(t, oktafake.OrgSpec{Users: 60, Seed: 1, Name: "acme"})
	_, other := collectFake(t, oktafake.OrgSpec{Users: 30, Seed: 2, Name: "other", EmailDomain: "other.example"})
	acmeInst := postgres.Instance{Integration: "okta", Name: "acme"}
	for inst, d := range map[postgres.Instance]*store.Dir{acmeInst: acme, {Integration: "okta", Name: "other"}: other} {
		if _, err := postgres.Push(ctx, db, d, inst); err != nil {
			t.Fatalf("push %s: %v", inst, err)
		}
	}
	g, err := db.ReadGraph(ctx, acmeInst)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	counts, err := g.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]bool{}
	for _, typ := range append(g.EntityTypes(), g.RelationshipTypes()...) {
		types[typ] = true
	}
	for _, typ := range append(acme.EntityTypes(), acme.RelationshipTypes()...) {
		if !types[typ] {
			t.Errorf("type %s of the collection not read back", typ)
		}
		if counts[typ] != acme.Count(typ) {
			t.Errorf("%s: %d in the database, %d collected", typ, counts[typ], acme.Count(typ))
		}
	}
	// The rule-derived people and IS relationships: one per user with an
	// email (the fake org has no service accounts among them).
	users := acme.Count("okta_user")
	if counts["employee"] != users || counts["okta_user_is_employee"] != users {
		t.Errorf("person mapping: %d employee, %d okta_user_is_employee, want %d each (counts %v)", counts["employee"], counts["okta_user_is_employee"], users, counts)
	}
	for typ := range types {
		if acme.Count(typ) == 0 && typ != "employee" && typ != "okta_user_is_employee" {
			t.Errorf("unexpected type %s (%d)", typ, counts[typ])
		}
	}
	// Relationships come back with their endpoints; the mapped ones whose
	// target is missing with their mapping.
	for _, typ := range acme.RelationshipTypes() {
		want, got := pairsOf(t, acme.IterateRelationships, typ), pairsOf(t, g.IterateRelationships, typ)
		if strings.Join(want, "\n") != strings.Join(got, "\n") {
			t.Errorf("%s differs:\ncollected %d, first %v\nread      %d, first %v", typ, len(want), first(want), len(got), first(got))
		}
	}
	// Entities: key, display name, classes and properties.
	want := map[string]*graph.Entity{}
	acme.IterateEntities(ctx, "okta_user", func(e *graph.Entity) error { want[e.Key] = e; return nil })
	n := 0
	if err := g.IterateEntities(ctx, "okta_user", func(e *graph.Entity) error {
		n++
		w := want[e.Key]
		if w == nil || w.DisplayName != e.DisplayName || strings.Join(w.Class, ",") != strings.Join(e.Class, ",") ||
			e.Properties["email"] != w.Properties["email"] || fmt.Sprint(e.Properties["created"]) != fmt.Sprint(w.Properties["created"]) {
			t.Errorf("user %s read back as %+v", e.Key, e)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n != len(want) {
		t.Errorf("%d users read, %d collected", n, len(want))
	}

	page, err := graphview.Build(ctx, g, graphview.Options{Title: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	st := page.Stats()
	if st.Dangling != 0 || st.Entities-st.Placeholders != counts["employee"]+sumEntities(acme) {
		t.Errorf("page stats %+v", st)
	}

	// An unknown instance is named, with the ones the schema holds.
	_, err = db.ReadGraph(ctx, postgres.Instance{Integration: "okta", Name: "nope"})
	if err == nil || !strings.Contains(err.Error(), "no instance okta/nope") || !strings.Contains(err.Error(), "okta/acme, okta/other") {
		t.Errorf("unknown instance: %v", err)
	}
}

func sumEntities(d *store.Dir) int {
	n := 0
	for _, t := range d.EntityTypes() {
		n += d.Count(t)
	}
	return n
}

func first(s []string) []string {
	if len(s) > 3 {
		return s[:3]
	}
	return s
}

// TestReadGraphIsOneSnapshot: everything a reader returns comes from the
// moment it was opened, so a change committed between two of its reads (a
// sync, or here forgetting the instance) never shows half-way.
func TestReadGraphIsOneSnapshot(t *testing.T) {
	db := postgres.OpenTestDB(t, postgres.Options{})
	ctx := context.Background()
	_, acme := collectFake(t, oktafake.OrgSpec{Users: 20, Seed: 4, Name: "acme"})
	inst := postgres.Instance{Integration: "okta", Name: "acme"}
	if _, err := postgres.Push(ctx, db, acme, inst); err != nil {
		t.Fatal(err)
	}
	g, err := db.ReadGraph(ctx, inst)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if forgot, err := db.ForgetInstance(ctx, inst); err != nil || !forgot {
		t.Fatalf("ForgetInstance = %v, %v", forgot, err)
	}
	n := 0
	if err := g.IterateEntities(ctx, "okta_user", func(*graph.Entity) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if want := acme.Count("okta_user"); n != want {
		t.Errorf("read %d users after the instance was forgotten in another transaction, want the snapshot's %d", n, want)
	}
	if _, err := db.ReadGraph(ctx, inst); err == nil {
		t.Error("a reader opened after ForgetInstance still finds the instance")
	}
}

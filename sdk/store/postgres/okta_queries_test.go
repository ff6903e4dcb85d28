package postgres_test

// The documented queries (queries/*.sql, shown in docs/postgres.md) run
// against a fake Okta org collected by the real Okta integration and loaded
// with Push; each answer is checked against the fake's ground truth.
//
// This test imports integrations/okta, which sits above sdk/ in the
// dependency order; only this external test package does, the library
// itself does not.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stepgraph/stepgraph/integrations/okta"
	"github.com/stepgraph/stepgraph/integrations/okta/oktafake"
	"github.com/stepgraph/stepgraph/sdk/graph"
	"github.com/stepgraph/stepgraph/sdk/runtime"
	"github.com/stepgraph/stepgraph/sdk/store"
	"github.com/stepgraph/stepgraph/sdk/store/postgres"
)

// collectFake runs the Okta integration against a fake org and returns the
// committed output.
func collectFake(t *testing.T, spec oktafake.OrgSpec) (*oktafake.Org, *store.Dir) {
	t.Helper()
	org := oktafake.NewOrg(spec)
	srv, err := oktafake.Start(org, oktafake.ServerOptions{Window: time.Second, DisableRateLimits: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	col := okta.NewCollector(okta.Options{BaseURL: srv.URL, Now: org.Now})
	cfg := &okta.Config{OrgURL: "https://acme.okta.com", APIKey: oktafake.DefaultToken, RateLimitShare: 0.9}
	root := filepath.Join(t.TempDir(), store.DefaultRoot)
	fs, err := store.NewFilesystem(root, store.FilesystemOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := runtime.Run(context.Background(), col.Integration(), cfg, runtime.Options{
		Store: fs, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatalf("collect: %v", err)
	}
	for _, s := range res.Summary.Steps {
		if s.Status != runtime.StatusSuccess && s.Status != runtime.StatusDisabled {
			t.Fatalf("step %s: %s %s", s.ID, s.Status, s.Error)
		}
	}
	d, err := store.OpenDir(root)
	if err != nil {
		t.Fatal(err)
	}
	return org, d
}

// rewrite copies a collection, letting edit change (or drop, returning
// false) each entity.
func rewrite(t *testing.T, d *store.Dir, edit func(*graph.Entity) bool) *store.Dir {
	t.Helper()
	ctx := context.Background()
	root := filepath.Join(t.TempDir(), store.DefaultRoot)
	fs, err := store.NewFilesystem(root, store.FilesystemOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range d.EntityTypes() {
		var es []*graph.Entity
		if err := d.IterateEntities(ctx, typ, func(e *graph.Entity) error {
			if edit(e) {
				es = append(es, e)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if err := fs.AddEntities(ctx, "copy", es); err != nil {
			t.Fatal(err)
		}
	}
	for _, typ := range d.RelationshipTypes() {
		var rs []*graph.Relationship
		if err := d.IterateRelationships(ctx, typ, func(r *graph.Relationship) error {
			rs = append(rs, r)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if err := fs.AddRelationships(ctx, "copy", rs); err != nil {
			t.Fatal(err)
		}
	}
	sum, err := d.SummaryJSON()
	if err != nil {
		t.Fatal(err)
	}
	if err := fs.Commit(ctx, sum); err != nil {
		t.Fatal(err)
	}
	out, err := store.OpenDir(root)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func runQuery(t *testing.T, db *postgres.DB, name string, args ...any) []map[string]any {
	t.Helper()
	q, err := postgres.QueryByName(name)
	if err != nil {
		t.Fatal(err)
	}
	if len(q.Params) != len(args) {
		t.Fatalf("%s takes %v", name, q.Params)
	}
	return postgres.QueryMaps(t, db, q.Positional(), args...)
}

func column(rows []map[string]any, cols ...string) []string {
	var out []string
	for _, r := range rows {
		var parts []string
		for _, c := range cols {
			parts = append(parts, fmt.Sprint(r[c]))
		}
		out = append(out, strings.Join(parts, "|"))
	}
	sort.Strings(out)
	return out
}

func set(xs []string) []string {
	m := map[string]bool{}
	for _, x := range xs {
		m[x] = true
	}
	out := make([]string, 0, len(m))
	for x := range m {
		out = append(out, x)
	}
	sort.Strings(out)
	return out
}

func same(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		var missing, extra []string
		for _, w := range want {
			if !slices.Contains(got, w) {
				missing = append(missing, w)
			}
		}
		for _, g := range got {
			if !slices.Contains(want, g) {
				extra = append(extra, g)
			}
		}
		t.Errorf("%s: got %d rows, want %d; missing %v; extra %v", what, len(got), len(want), missing, extra)
	}
}

func TestDocumentedQueriesOnFakeOkta(t *testing.T) {
	t.Parallel()
	db := postgres.OpenTestDB(t, postgres.Options{})
	ctx := context.Background()
	inst := postgres.Instance{Integration: "okta", Name: "acme"}

	org, raw := collectFake(t, oktafake.OrgSpec{Users: 80, Seed: 7})
	tr := org.Truth()
	// Give some users a userType the person rule skips, and take one
	// user's email away.
	unmapped := map[string]bool{}
	i := 0
	loaded := rewrite(t, raw, func(e *graph.Entity) bool {
		if e.Type != "okta_user" {
			return true
		}
		i++
		switch {
		case i%10 == 3:
			e.Set("userType", "Service")
			unmapped[e.Key] = true
		case i%10 == 6:
			e.Set("userType", "bot")
			unmapped[e.Key] = true
		case i%10 == 8:
			e.Set("userType", "GENERIC")
			unmapped[e.Key] = true
		case i == 1:
			delete(e.Properties, "email")
			unmapped[e.Key] = true
		case i == 2:
			e.Set("userType", "employee")
		}
		return true
	})
	// The database holds several orgs: the same collection as another
	// instance (same keys, same labels) and a different org. Every answer
	// below is about acme alone.
	_, otherOrg := collectFake(t, oktafake.OrgSpec{Users: 60, Seed: 99})
	for _, o := range []struct {
		name string
		dir  *store.Dir
	}{{"twin", loaded}, {"other", otherOrg}} {
		if _, err := postgres.Push(ctx, db, o.dir, postgres.Instance{Integration: "okta", Name: o.name}); err != nil {
			t.Fatal(err)
		}
	}
	res, err := postgres.Push(ctx, db, loaded, inst)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("loaded: %s", res)

	// Who can reach each app: its users (direct and group-derived
	// assignments) and the members of its groups.
	members := map[string][]string{}
	for _, g := range tr.Groups {
		members[g.ID] = g.MemberIDs
	}
	checked := 0
	for _, app := range tr.Apps {
		var want []string
		for _, u := range app.Users {
			want = append(want, u.UserID)
		}
		for _, g := range app.Groups {
			want = append(want, members[g.GroupID]...)
		}
		got := column(runQuery(t, db, "who-can-reach-application", "okta", "acme", app.ID), "user_id")
		same(t, "who can reach "+app.Label, got, set(want))
		if len(want) > 0 {
			checked++
		}
	}
	if checked == 0 {
		t.Fatal("no app has users: the check proved nothing")
	}
	// By label too: one row per app and user, apps sharing a label kept
	// apart.
	byLabelApps := map[string][]string{}
	for _, app := range tr.Apps {
		byLabelApps[app.Label] = append(byLabelApps[app.Label], app.ID)
	}
	for label, ids := range byLabelApps {
		var want []string
		for _, id := range ids {
			want = append(want, column(runQuery(t, db, "who-can-reach-application", "okta", "acme", id), "app_id", "user_id")...)
		}
		sort.Strings(want)
		same(t, "by label "+label, column(runQuery(t, db, "who-can-reach-application", "okta", "acme", label), "app_id", "user_id"), want)
	}

	// Users without MFA: active users with no active factor.
	var noMFA []string
	for _, u := range tr.Users {
		if u.Status == oktafake.StatusActive && len(u.ActiveFactorIDs) == 0 {
			noMFA = append(noMFA, u.ID)
		}
	}
	if len(noMFA) == 0 {
		t.Fatal("fake org has no active user without MFA")
	}
	var acmeNoMFA []map[string]any
	for _, r := range runQuery(t, db, "users-without-mfa") {
		if r["instance"] == "okta/acme" {
			acmeNoMFA = append(acmeNoMFA, r)
		}
	}
	same(t, "users without MFA", column(acmeNoMFA, "user_id"), set(noMFA))

	// Admins: every (user, role label) of the truth, direct or via group.
	var admins []string
	for _, u := range tr.Users {
		for _, r := range u.Roles {
			admins = append(admins, u.ID+"|"+r.Label)
		}
	}
	if len(admins) == 0 {
		t.Fatal("fake org has no admin")
	}
	adminRows := runQuery(t, db, "admins", "okta", "acme")
	same(t, "admins", set(column(adminRows, "user_id", "role")), set(admins))
	same(t, "admin rows are distinct", column(adminRows, "user_id", "role_id", "via"), set(column(adminRows, "user_id", "role_id", "via")))
	var viaGroup int
	for _, r := range adminRows {
		if strings.HasPrefix(fmt.Sprint(r["via"]), "group ") {
			viaGroup++
		}
	}
	if viaGroup == 0 {
		t.Error("no admin via a group: the group path is untested")
	}

	// Okta users not mapped to a person: exactly the ones made so above.
	var wantUnmapped []string
	for k := range unmapped {
		wantUnmapped = append(wantUnmapped, k)
	}
	sort.Strings(wantUnmapped)
	same(t, "users without a person", column(runQuery(t, db, "okta-users-without-person", "okta", "acme"), "user_id"), wantUnmapped)

	// A second collection of a grown org: the last run's changes are the
	// difference of the two collections.
	_, next := collectFake(t, oktafake.OrgSpec{Users: 90, Seed: 7})
	res2, err := postgres.Push(ctx, db, next, inst)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("second load: %s", res2)
	rows := runQuery(t, db, "last-run-changes", "okta", "acme")
	var got []string
	for _, r := range rows {
		// Placeholder people (instance 0) and the user -> person rule's
		// relationships are derived, not collected.
		if r["instance_id"].(int64) != 0 && r["type"] != "okta_user_is_employee" {
			got = append(got, fmt.Sprintf("%s|%s|%s", r["change"], r["kind"], r["key"]))
		}
	}
	sort.Strings(got)
	want := diffCollections(t, loaded, next, res2.CompleteTypes)
	if len(want) == 0 {
		t.Fatal("the two collections do not differ")
	}
	same(t, "last run changes", got, want)
	if res2.Added+res2.Changed+res2.Removed != int64(len(want)) {
		t.Errorf("result counts %s, want %d changes", res2, len(want))
	}
	// Before/after of a changed object are its two versions; an added
	// object shows its document.
	for _, r := range rows {
		if r["change"] == "changed" && r["kind"] == "entity" {
			if reflect.DeepEqual(r["before"], r["after"]) {
				t.Errorf("changed %s with equal before and after", r["key"])
			}
		}
		if r["change"] == "added" && r["instance_id"].(int64) != 0 {
			if doc, _ := r["after"].(map[string]any); doc == nil || doc["_class"] == nil {
				t.Errorf("added %s %s without its document: %v", r["kind"], r["key"], r["after"])
			}
		}
	}
}

// diffCollections computes "change|kind|key" the way the sink defines a
// change, independently of the database.
func diffCollections(t *testing.T, a, b *store.Dir, complete []string) []string {
	t.Helper()
	ctx := context.Background()
	docs := func(d *store.Dir) (map[string]string, map[string]string, map[string]string) {
		ents, rels, types := map[string]string{}, map[string]string{}, map[string]string{}
		for _, typ := range d.EntityTypes() {
			_ = d.IterateEntities(ctx, typ, func(e *graph.Entity) error {
				c := *e
				c.RawData = nil
				ents[e.Key] = canon(t, &c)
				types[e.Key] = e.Type
				return nil
			})
		}
		for _, typ := range d.RelationshipTypes() {
			_ = d.IterateRelationships(ctx, typ, func(r *graph.Relationship) error {
				rels[r.Key] = canon(t, r)
				types[r.Key] = r.Type
				return nil
			})
		}
		return ents, rels, types
	}
	ae, ar, at := docs(a)
	be, br, _ := docs(b)
	var out []string
	cmp := func(kind string, x, y map[string]string) {
		for k, v := range y {
			old, ok := x[k]
			switch {
			case !ok:
				out = append(out, "added|"+kind+"|"+k)
			case old != v:
				out = append(out, "changed|"+kind+"|"+k)
			}
		}
		for k := range x {
			if _, ok := y[k]; !ok && slices.Contains(complete, at[k]) {
				out = append(out, "removed|"+kind+"|"+k)
			}
		}
	}
	cmp("entity", ae, be)
	cmp("relationship", ar, br)
	sort.Strings(out)
	return out
}

// canon is a JSON document with numbers normalised.
func canon(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	b, _ = json.Marshal(m)
	return string(b)
}

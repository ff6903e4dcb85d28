package postgres

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stepgraph/stepgraph/sdk/graph"
)

func awsRole(account, name string) *graph.Entity {
	return entity("arn:aws:iam::"+account+":role/"+name, "aws_iam_role", []string{"AccessRole"}, name,
		map[string]any{"roleName": name, "tag.AccountName": "acct-" + account})
}

func TestMappedRelationships(t *testing.T) {
	t.Parallel()
	db := testDB(t, Options{})
	ctx := context.Background()
	t0 := time.Now().Add(-time.Hour)
	oktaInst := Instance{Integration: "okta", Name: "acme"}
	awsInst := Instance{Integration: "aws", Name: "prod"}

	// AWS has Admin only.
	awsSteps := []stepSpec{{id: "fetch-roles", types: []string{"aws_iam_role"}}}
	mustPush(t, db, (&collection{integration: "aws", steps: awsSteps, entities: []*graph.Entity{awsRole("111111111111", "Admin")}, started: t0}).write(t, t.TempDir()), awsInst)

	user := entity("00u-mapped-0001", "okta_user", []string{"User"}, "m@example.com",
		map[string]any{"username": "m", "email": "m@example.com", "active": true})
	byKey := func(role string, skip bool) *graph.Relationship {
		return graph.Mapped(user, graph.ASSIGNED, graph.Reverse, graph.MappedTarget{
			Entity:             map[string]any{"_type": "aws_iam_role", "_class": "AccessRole", "_key": "arn:aws:iam::111111111111:role/" + role},
			FilterKeys:         [][]string{{"_type", "_key"}},
			SkipTargetCreation: skip,
		}, graph.WithType("okta_user_assigned_aws_iam_role"))
	}
	byName := func(role, account string, skip bool) *graph.Relationship {
		return graph.Mapped(user, graph.ASSIGNED, graph.Reverse, graph.MappedTarget{
			Entity:             map[string]any{"_type": "aws_iam_role", "_class": "AccessRole", "roleName": role, "tag.AccountName": "acct-" + account},
			FilterKeys:         [][]string{{"_type", "roleName", "tag.AccountName"}},
			SkipTargetCreation: skip,
		}, graph.WithType("okta_user_assigned_aws_iam_role"), graph.WithKey("00u-mapped-0001|assigned|"+account+"|"+role))
	}
	rels := []*graph.Relationship{
		byKey("Admin", true),                  // exists: resolved
		byName("Admin", "111111111111", true), // exists by other keys: resolved
		byKey("Audit", true),                  // missing, skip creation: pending
		byKey("Dev", false),                   // missing: placeholder
		byName("Ops", "111111111111", false),  // missing: placeholder keyed by a hash
	}
	oktaSteps := []stepSpec{{id: "fetch-users", types: []string{"okta_user", "okta_user_assigned_aws_iam_role"}}}
	r1 := mustPush(t, db, (&collection{integration: "okta", steps: oktaSteps, entities: []*graph.Entity{user}, rels: rels, started: t0}).write(t, t.TempDir()), oktaInst)
	if r1.AfterSync == nil || r1.AfterSync.Mapped.Resolved != 2 || r1.AfterSync.Mapped.PlaceholdersCreated != 2 || r1.AfterSync.Mapped.Pending != 1 {
		t.Fatalf("after sync: %+v", r1.AfterSync)
	}
	state := func() []string {
		return query(t, db, `
SELECT r.key, r.mapping_status, coalesce(f.key, '-'), coalesce(fi.name, '-'), coalesce(u.key, '-')
FROM relationship r
LEFT JOIN entity f ON f.id = r.from_id LEFT JOIN instance fi ON fi.id = f.instance_id
LEFT JOIN entity u ON u.id = r.to_id
WHERE r.mapping IS NOT NULL ORDER BY r.key`)
	}
	got := state()
	want := []string{
		"00u-mapped-0001|assigned|111111111111|Admin|resolved|arn:aws:iam::111111111111:role/Admin|prod|00u-mapped-0001",
		"00u-mapped-0001|assigned|111111111111|Ops|created|aws_iam_role:" + placeholderHash(t, db, "Ops") + "|mapped|00u-mapped-0001",
		"00u-mapped-0001|assigned|arn:aws:iam::111111111111:role/Admin|resolved|arn:aws:iam::111111111111:role/Admin|prod|00u-mapped-0001",
		"00u-mapped-0001|assigned|arn:aws:iam::111111111111:role/Audit|pending|-|-|00u-mapped-0001",
		"00u-mapped-0001|assigned|arn:aws:iam::111111111111:role/Dev|created|arn:aws:iam::111111111111:role/Dev|mapped|00u-mapped-0001",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("after the okta load:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}
	ph := query(t, db, `SELECT key, type, array_to_string(classes, ','), properties->>'roleName' FROM entity WHERE instance_id = 0 AND type = 'aws_iam_role' ORDER BY key`)
	if len(ph) != 2 || !strings.HasPrefix(ph[0], "arn:aws:iam::111111111111:role/Dev|aws_iam_role|AccessRole|") || !strings.HasSuffix(ph[1], "|aws_iam_role|AccessRole|Ops") {
		t.Fatalf("placeholders: %v", ph)
	}

	// AWS now has every role. The aws load touches only aws rows; the
	// next okta sync re-resolves its pending relationships and moves them
	// off placeholders, which go.
	roles := []*graph.Entity{awsRole("111111111111", "Admin"), awsRole("111111111111", "Audit"), awsRole("111111111111", "Dev"), awsRole("111111111111", "Ops")}
	r2 := mustPush(t, db, (&collection{integration: "aws", steps: awsSteps, entities: roles, started: t0.Add(time.Minute)}).write(t, t.TempDir()), awsInst)
	if r2.AfterSync.Mapped.Resolved != 0 {
		t.Fatalf("the aws load resolved okta's relationships: %+v", r2.AfterSync)
	}
	r2 = mustPush(t, db, (&collection{integration: "okta", steps: oktaSteps, entities: []*graph.Entity{user}, rels: rels, started: t0.Add(90 * time.Second)}).write(t, t.TempDir()), oktaInst)
	if r2.AfterSync.Mapped.Resolved != 3 || r2.AfterSync.Mapped.Pending != 0 || r2.AfterSync.PlaceholdersRemoved != 2 {
		t.Fatalf("after the next okta load: %+v", r2.AfterSync)
	}
	for _, row := range state() {
		if !strings.Contains(row, "|resolved|arn:aws:iam::111111111111:role/") || !strings.Contains(row, "|prod|") {
			t.Fatalf("not resolved to the aws instance: %s", row)
		}
	}
	if n := queryInt(t, db, `SELECT count(*) FROM entity WHERE instance_id = 0 AND type = 'aws_iam_role'`); n != 0 {
		t.Fatalf("%d placeholders left", n)
	}

	// An identical okta push keeps the resolution (nothing changes).
	r3 := mustPush(t, db, (&collection{integration: "okta", steps: oktaSteps, entities: []*graph.Entity{user}, rels: rels, started: t0.Add(2 * time.Minute)}).write(t, t.TempDir()), oktaInst)
	if r3.Added+r3.Changed+r3.Removed != 0 || r3.AfterSync.Mapped.Resolved != 0 {
		t.Fatalf("identical push: %s / %+v", r3, r3.AfterSync)
	}
	if n := queryInt(t, db, `SELECT count(*) FROM relationship WHERE mapping IS NOT NULL AND mapping_status = 'resolved'`); n != 5 {
		t.Fatalf("%d resolved after an identical push, want 5", n)
	}

	// A removed AWS role turns its relationships pending again (skip) or
	// into placeholders, at okta's next sync (or AfterSync).
	mustPush(t, db, (&collection{integration: "aws", steps: awsSteps, entities: roles[:1], started: t0.Add(3 * time.Minute)}).write(t, t.TempDir()), awsInst)
	r4, err := db.AfterSync(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if r4.Mapped.Pending != 1 || r4.Mapped.PlaceholdersCreated != 2 {
		t.Fatalf("after roles were removed: %+v", r4)
	}
	if r, err := db.ResolveMappings(ctx); err != nil || r.PlaceholdersCreated != 0 {
		t.Fatal(r, err)
	}
}

func placeholderHash(t *testing.T, db *DB, role string) string {
	t.Helper()
	rows := query(t, db, `SELECT md5(jsonb_build_object('roleName', $1::text, 'tag.AccountName', 'acct-111111111111')::text)`, role)
	return rows[0]
}

func TestUserToPersonRule(t *testing.T) {
	t.Parallel()
	db := testDB(t, Options{})
	ctx := context.Background()
	t0 := time.Now().Add(-time.Hour)
	okta := Instance{Integration: "okta", Name: "acme"}
	hr := Instance{Integration: "hr", Name: "main"}

	// HR knows Alice (with a differently cased email).
	hrSteps := []stepSpec{{id: "fetch-employees", types: []string{"employee"}}}
	alice := entity("hr-employee-0001", "employee", []string{"Person"}, "Alice", map[string]any{"email": "Alice@Example.com", "firstName": "Alice"})
	mustPush(t, db, (&collection{integration: "hr", steps: hrSteps, entities: []*graph.Entity{alice}, started: t0}).write(t, t.TempDir()), hr)

	us := []synthUser{
		{id: "00u-alice-0001", email: "alice@example.com"},
		{id: "00u-bob-00002", email: "Bob@Example.com", userType: "employee"},
		{id: "00u-svc-00003", email: "svc@example.com", userType: "Service"},
		{id: "00u-bot-00004", email: "bot@example.com", userType: "BOT"},
		{id: "00u-gen-00005", email: "gen@example.com", userType: "generic"},
		{id: "00u-none-0006", email: ""},
		{id: "00u-bob2-0007", email: "bob@example.com"}, // a second account of Bob
	}
	ents, rels := synthOrg(us, 0)
	mustPush(t, db, (&collection{integration: "okta", steps: fullSteps(), entities: ents, rels: rels, started: t0}).write(t, t.TempDir()), okta)

	mapping := func() []string {
		return query(t, db, `
SELECT u.key, r.type, r.class, p.key, p.instance_id = 0
FROM relationship r JOIN entity u ON u.id = r.from_id JOIN entity p ON p.id = r.to_id
WHERE r.rule = 'user_is_person' ORDER BY u.key`)
	}
	got := mapping()
	want := []string{
		"00u-alice-0001|okta_user_is_employee|IS|hr-employee-0001|false",
		"00u-bob-00002|okta_user_is_employee|IS|employee:bob@example.com|true",
		"00u-bob2-0007|okta_user_is_employee|IS|employee:bob@example.com|true",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("user -> person:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}
	people := query(t, db, `SELECT key, array_to_string(classes, ','), properties->>'email' FROM entity WHERE type = 'employee' ORDER BY key`)
	if !slices.Equal(people, []string{"employee:bob@example.com|Person|bob@example.com", "hr-employee-0001|Person|Alice@Example.com"}) {
		t.Fatalf("people: %v", people)
	}

	// Run 2: Bob's second account goes, the service account becomes a
	// regular user, Alice changes her email to one HR does not know.
	us2 := []synthUser{
		{id: "00u-alice-0001", email: "alice.new@example.com"},
		{id: "00u-bob-00002", email: "Bob@Example.com", userType: "employee"},
		{id: "00u-svc-00003", email: "svc@example.com", userType: "Employee"},
		{id: "00u-bot-00004", email: "bot@example.com", userType: "BOT"},
	}
	ents2, rels2 := synthOrg(us2, 0)
	r2 := mustPush(t, db, (&collection{integration: "okta", steps: fullSteps(), entities: ents2, rels: rels2, started: t0.Add(time.Minute)}).write(t, t.TempDir()), okta)
	got = mapping()
	want = []string{
		"00u-alice-0001|okta_user_is_employee|IS|employee:alice.new@example.com|true",
		"00u-bob-00002|okta_user_is_employee|IS|employee:bob@example.com|true",
		"00u-svc-00003|okta_user_is_employee|IS|employee:svc@example.com|true",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("after run 2:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}
	p := r2.AfterSync.UserIsPerson
	if p.UsersMapped != 3 || p.PeopleCreated != 2 || p.Added != 1 || p.Changed != 1 || p.Removed != 1 {
		t.Fatalf("rule counts: %+v", p)
	}
	// HR learns about Alice's new address: okta's next sync moves her to
	// the real person and the placeholder goes.
	alice2 := entity("hr-employee-0001", "employee", []string{"Person"}, "Alice", map[string]any{"email": "alice.new@example.com"})
	mustPush(t, db, (&collection{integration: "hr", steps: hrSteps, entities: []*graph.Entity{alice2}, started: t0.Add(2 * time.Minute)}).write(t, t.TempDir()), hr)
	mustPush(t, db, (&collection{integration: "okta", steps: fullSteps(), entities: ents2, rels: rels2, started: t0.Add(3 * time.Minute)}).write(t, t.TempDir()), okta)
	if got := mapping(); got[0] != "00u-alice-0001|okta_user_is_employee|IS|hr-employee-0001|false" {
		t.Fatalf("alice: %v", got[0])
	}
	if n := queryInt(t, db, `SELECT count(*) FROM entity WHERE instance_id = 0 AND key = 'employee:alice.new@example.com'`); n != 0 {
		t.Fatal("placeholder person not removed")
	}
	// The Go entry point is idempotent.
	res, err := db.MapUsersToPeople(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.UsersMapped != 3 || res.Added+res.Changed+res.Removed+res.PeopleCreated != 0 {
		t.Fatalf("second rule run: %+v", res)
	}
}

func TestForgetInstance(t *testing.T) {
	t.Parallel()
	db := testDB(t, Options{})
	ctx := context.Background()
	t0 := time.Now().Add(-time.Hour)
	awsInst := Instance{Integration: "aws", Name: "prod"}
	awsSteps := []stepSpec{{id: "fetch-roles", types: []string{"aws_iam_role"}}}
	mustPush(t, db, (&collection{integration: "aws", steps: awsSteps, entities: []*graph.Entity{awsRole("111111111111", "Admin")}, started: t0}).write(t, t.TempDir()), awsInst)
	user := entity("00u-mapped-0001", "okta_user", []string{"User"}, "m@example.com", map[string]any{"username": "m", "email": "m@example.com", "active": true})
	rel := graph.Mapped(user, graph.ASSIGNED, graph.Reverse, graph.MappedTarget{
		Entity:     map[string]any{"_type": "aws_iam_role", "_key": "arn:aws:iam::111111111111:role/Admin"},
		FilterKeys: [][]string{{"_type", "_key"}}, SkipTargetCreation: true,
	}, graph.WithType("okta_user_assigned_aws_iam_role"))
	oktaSteps := []stepSpec{{id: "fetch-users", types: []string{"okta_user", "okta_user_assigned_aws_iam_role"}}}
	mustPush(t, db, (&collection{integration: "okta", steps: oktaSteps, entities: []*graph.Entity{user}, rels: []*graph.Relationship{rel}, started: t0}).write(t, t.TempDir()), Instance{"okta", "acme"})
	if got := query(t, db, `SELECT mapping_status FROM relationship WHERE mapping IS NOT NULL`); got[0] != "resolved" {
		t.Fatalf("status %v", got)
	}
	// Busy while a run holds it.
	st, err := NewStore(ctx, db, awsInst, StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ForgetInstance(ctx, awsInst); err == nil || !strings.Contains(err.Error(), "being synced") {
		t.Fatalf("forget during a run: %v", err)
	}
	_ = st.Abort()
	ok, err := db.ForgetInstance(ctx, awsInst)
	if err != nil || !ok {
		t.Fatalf("forget: %v %v", ok, err)
	}
	if got := query(t, db, `SELECT mapping_status, from_id IS NULL FROM relationship WHERE mapping IS NOT NULL`); got[0] != "pending|true" {
		t.Fatalf("after forget: %v", got)
	}
	if n := queryInt(t, db, `SELECT count(*) FROM entity WHERE type = 'aws_iam_role'`); n != 0 {
		t.Fatalf("%d roles left", n)
	}
	if ok, _ := db.ForgetInstance(ctx, awsInst); ok {
		t.Fatal("forgot twice")
	}
}

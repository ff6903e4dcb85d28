package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stepgraph/stepgraph/sdk/graph"
	"github.com/stepgraph/stepgraph/sdk/runtime"
	"github.com/stepgraph/stepgraph/sdk/store"
)

// Steps of the synthetic Okta-like collections.
var (
	stepUsers  = stepSpec{id: "fetch-users", types: []string{"okta_user", "okta_account_has_user"}}
	stepGroups = stepSpec{id: "fetch-groups", types: []string{"okta_user_group"}}
	stepMember = stepSpec{id: "build-group-users", types: []string{"okta_group_has_user"}}
	stepAcct   = stepSpec{id: "fetch-account", types: []string{"okta_account"}}
)

type synthUser struct {
	id, email, userType string
	mfa                 bool
}

// synthOrg builds a small Okta-like collection: an account, users, groups
// and memberships (member i of group j when i%groups == j).
func synthOrg(users []synthUser, groups int) (ents []*graph.Entity, rels []*graph.Relationship) {
	acct := entity("okta_account_acme.okta.com/", "okta_account", []string{"Account"}, "acme", map[string]any{"name": "acme"})
	ents = append(ents, acct)
	var gs []*graph.Entity
	for j := range groups {
		g := entity(fmt.Sprintf("00g%012d", j), "okta_user_group", []string{"UserGroup"}, fmt.Sprintf("group-%d", j), map[string]any{"name": fmt.Sprintf("group-%d", j)})
		gs = append(gs, g)
		ents = append(ents, g)
	}
	for i, u := range users {
		props := map[string]any{"username": u.id, "email": u.email, "active": true, "status": "active", "mfaEnabled": u.mfa}
		if u.userType != "" {
			props["userType"] = u.userType
		}
		ue := entity(u.id, "okta_user", []string{"User"}, u.email, props)
		ents = append(ents, ue)
		rels = append(rels, graph.Direct(acct, graph.HAS, ue))
		if groups > 0 {
			g := gs[i%groups]
			rels = append(rels, graph.Direct(g, graph.HAS, ue, graph.WithType("okta_group_has_user")))
		}
	}
	return ents, rels
}

func users(n int) []synthUser {
	var out []synthUser
	for i := range n {
		out = append(out, synthUser{id: fmt.Sprintf("00u%012d", i), email: fmt.Sprintf("user%d@example.com", i), mfa: i%2 == 0})
	}
	return out
}

func fullSteps() []stepSpec { return []stepSpec{stepAcct, stepUsers, stepGroups, stepMember} }

func TestPushIdempotent(t *testing.T) {
	t.Parallel()
	db := testDB(t, Options{})
	ents, rels := synthOrg(users(300), 7)
	c := &collection{integration: "okta", steps: fullSteps(), entities: ents, rels: rels, started: time.Now().Add(-time.Hour)}
	d := c.write(t, t.TempDir())
	inst := Instance{Integration: "okta", Name: "acme"}

	r1 := mustPush(t, db, d, inst)
	if r1.Status != RunSuccess || r1.Entities != int64(len(ents)) || r1.Relationships != int64(len(rels)) {
		t.Fatalf("first push: %+v", r1)
	}
	if r1.Added != int64(len(ents)+len(rels)) || r1.Changed != 0 || r1.Removed != 0 {
		t.Fatalf("first push changes: %s", r1)
	}
	// Row versions: an identical push must not rewrite a row.
	versions := func() []string {
		return query(t, db, `SELECT 'e', key, xmin::text, ctid::text, missing_since IS NULL FROM entity WHERE instance_id <> 0
			UNION ALL SELECT 'r', key, xmin::text, ctid::text, missing_since IS NULL FROM relationship WHERE instance_id <> 0
			ORDER BY 1, 2`)
	}
	before := versions()
	logRows := queryInt(t, db, `SELECT count(*) FROM change_log`)

	r2 := mustPush(t, db, d, inst)
	if r2.Added != 0 || r2.Changed != 0 || r2.Removed != 0 {
		t.Fatalf("second push of the same collection changed things: %s", r2)
	}
	if r2.Entities != int64(len(ents)) || r2.Relationships != int64(len(rels)) {
		t.Fatalf("second push did not count what it read: %s", r2)
	}
	if got := queryInt(t, db, `SELECT count(*) FROM change_log`); got != logRows {
		t.Fatalf("change log grew from %d to %d rows on an identical push", logRows, got)
	}
	// Nothing changed and no instance holds real employees: the user ->
	// person rule is not evaluated again.
	if r1.AfterSync.UserIsPerson.Skipped || !r2.AfterSync.UserIsPerson.Skipped {
		t.Fatalf("rule skipped on the first push %v, on the identical one %v", r1.AfterSync.UserIsPerson.Skipped, r2.AfterSync.UserIsPerson.Skipped)
	}
	if after := versions(); !slices.Equal(before, after) {
		t.Fatalf("rows rewritten on an identical push (xmin/ctid moved)")
	}
	// Every direct relationship resolved its endpoints.
	if n := queryInt(t, db, `SELECT count(*) FROM relationship WHERE instance_id <> 0 AND rule IS NULL AND (from_id IS NULL OR to_id IS NULL)`); n != 0 {
		t.Fatalf("%d relationships with unresolved endpoints", n)
	}

	// The same objects collected later: the instance's last collection
	// moves, the rows stay as they are.
	c.started = time.Now()
	d2 := c.write(t, t.TempDir())
	r3 := mustPush(t, db, d2, inst)
	if r3.Added != 0 || r3.Changed != 0 || r3.Removed != 0 {
		t.Fatalf("later identical collection changed things: %s", r3)
	}
	if after := versions(); !slices.Equal(before, after) {
		t.Fatalf("rows rewritten by a later identical collection")
	}
	if n := queryInt(t, db, `SELECT count(*) FROM instance WHERE last_run_id = $1 AND last_collected_at > (SELECT max(first_seen) FROM entity WHERE instance_id <> 0)`, r3.RunID); n != 1 {
		t.Fatal("the instance's last collection did not move")
	}
	if n := queryInt(t, db, `SELECT count(*) FROM entity WHERE instance_id <> 0 AND modified_at <> first_seen`); n != 0 {
		t.Fatalf("%d entities got a new modified_at without a change", n)
	}
	// An older collection is refused.
	if _, err := Push(context.Background(), db, d, inst); !errors.Is(err, ErrOlderCollection) {
		t.Fatalf("pushing an older collection: got %v, want ErrOlderCollection", err)
	}
	runs := query(t, db, `SELECT generation, status, source FROM sync_run ORDER BY id`)
	want := []string{"1|success|push", "2|success|push", "3|success|push", "4|failed|push"}
	if !slices.Equal(runs, want) {
		t.Fatalf("runs = %v, want %v", runs, want)
	}
	steps := query(t, db, `SELECT step_id, status FROM sync_step WHERE run_id = $1 ORDER BY step_id`, r1.RunID)
	if len(steps) != 4 || steps[0] != "build-group-users|success" {
		t.Fatalf("steps = %v", steps)
	}
}

func TestCleanupGatedOnPartialTypes(t *testing.T) {
	t.Parallel()
	db := testDB(t, Options{})
	inst := Instance{Integration: "okta", Name: "acme"}
	t0 := time.Now().Add(-time.Hour)
	ents, rels := synthOrg(users(20), 4)
	d := (&collection{integration: "okta", steps: fullSteps(), entities: ents, rels: rels, started: t0}).write(t, t.TempDir())
	mustPush(t, db, d, inst)
	count := func(table, typ string) int64 {
		return queryInt(t, db, `SELECT count(*) FROM `+table+` WHERE instance_id <> 0 AND type = $1`, typ)
	}
	if count("entity", "okta_user_group") != 4 || count("relationship", "okta_group_has_user") != 20 {
		t.Fatal("first load incomplete")
	}

	// Run 2: 15 users left; the groups step failed and collected nothing,
	// so its dependent (memberships) ended partial with nothing either.
	ents2, rels2 := synthOrg(users(15), 0)
	failed := stepGroups
	failed.status = runtime.StatusFailure
	dep := stepMember
	dep.status = runtime.StatusPartialDependencyFailure
	d2 := (&collection{integration: "okta", steps: []stepSpec{stepAcct, stepUsers, failed, dep}, entities: ents2, rels: rels2, started: t0.Add(time.Minute)}).write(t, t.TempDir())
	r2 := mustPush(t, db, d2, inst)
	if r2.Status != RunPartial {
		t.Fatalf("status %s, want partial", r2.Status)
	}
	if !slices.Contains(r2.PartialTypes, "okta_user_group") || slices.Contains(r2.CompleteTypes, "okta_user_group") {
		t.Fatalf("types: complete %v partial %v", r2.CompleteTypes, r2.PartialTypes)
	}
	if got := count("entity", "okta_user_group"); got != 4 {
		t.Fatalf("failed step: %d of 4 groups left, want all", got)
	}
	if got := count("relationship", "okta_group_has_user"); got != 20 {
		t.Fatalf("dependency-failed step: %d of 20 memberships left, want all", got)
	}
	if got := count("entity", "okta_user"); got != 15 {
		t.Fatalf("complete type okta_user: %d users, want 15", got)
	}
	if got := count("relationship", "okta_account_has_user"); got != 15 {
		t.Fatalf("complete type okta_account_has_user: %d, want 15", got)
	}
	// Memberships of removed users stay, their user end is gone.
	if got := queryInt(t, db, `SELECT count(*) FROM relationship WHERE type = 'okta_group_has_user' AND to_id IS NULL`); got != 5 {
		t.Fatalf("%d memberships lost their user, want 5", got)
	}
	if got := queryInt(t, db, `SELECT count(*) FROM change_log WHERE run_id = $1 AND change = 'removed' AND type IN ('okta_user_group', 'okta_group_has_user')`, r2.RunID); got != 0 {
		t.Fatalf("%d removals logged for partial types", got)
	}

	// Run 3: the group steps are disabled and a success step marks the user
	// type partial (e.g. a permission it lacked): nothing of those types goes.
	dis, dis2 := stepGroups, stepMember
	dis.status, dis2.status = runtime.StatusDisabled, runtime.StatusDisabled
	users3 := stepUsers
	users3.partial = []string{"okta_user"}
	ents3, rels3 := synthOrg(users(3), 0)
	d3 := (&collection{integration: "okta", steps: []stepSpec{stepAcct, users3, dis, dis2}, entities: ents3, rels: rels3, started: t0.Add(2 * time.Minute)}).write(t, t.TempDir())
	r3 := mustPush(t, db, d3, inst)
	if r3.Status != RunSuccess {
		t.Fatalf("disabled steps: status %s, want success", r3.Status)
	}
	if got := count("entity", "okta_user"); got != 15 {
		t.Fatalf("partial type okta_user: %d users, want 15 (none removed)", got)
	}
	if got := count("entity", "okta_user_group"); got != 4 {
		t.Fatalf("disabled step: %d groups, want 4", got)
	}
	if got := count("relationship", "okta_account_has_user"); got != 3 {
		t.Fatalf("complete okta_account_has_user: %d, want 3", got)
	}

	// Run 4: a summary whose steps do not mention the groups at all (the
	// steps did not run): their types stay.
	ents4, rels4 := synthOrg(users(15), 0)
	d4 := (&collection{integration: "okta", steps: []stepSpec{stepAcct, stepUsers}, entities: ents4, rels: rels4, started: t0.Add(3 * time.Minute)}).write(t, t.TempDir())
	mustPush(t, db, d4, inst)
	if got := count("entity", "okta_user_group"); got != 4 {
		t.Fatalf("types of steps that did not run: %d groups, want 4", got)
	}
	if got := count("relationship", "okta_group_has_user"); got != 20 {
		t.Fatalf("types of steps that did not run: %d memberships, want 20", got)
	}

	// Run 5: everything succeeds with no groups: now they go.
	d5 := (&collection{integration: "okta", steps: fullSteps(), entities: ents4, rels: rels4, started: t0.Add(4 * time.Minute)}).write(t, t.TempDir())
	r5 := mustPush(t, db, d5, inst)
	if got := count("entity", "okta_user_group"); got != 0 {
		t.Fatalf("complete run: %d groups left", got)
	}
	if got := count("relationship", "okta_group_has_user"); got != 0 {
		t.Fatalf("complete run: %d memberships left", got)
	}
	if r5.Removed != 4+20 {
		t.Fatalf("removed %d, want 24", r5.Removed)
	}
}

func TestChangeLog(t *testing.T) {
	t.Parallel()
	db := testDB(t, Options{})
	inst := Instance{Integration: "okta", Name: "acme"}
	t0 := time.Now().Add(-time.Hour)
	us := []synthUser{
		{id: "00u-alice-0001", email: "alice@example.com", mfa: true},
		{id: "00u-bob-00002", email: "bob@example.com"},
		{id: "00u-carol-0003", email: "carol@example.com"},
	}
	ents, rels := synthOrg(us, 1)
	mustPush(t, db, (&collection{integration: "okta", steps: fullSteps(), entities: ents, rels: rels, started: t0}).write(t, t.TempDir()), inst)

	// alice unchanged, bob's email and MFA change, carol leaves, dave joins.
	us2 := []synthUser{us[0], {id: "00u-bob-00002", email: "robert@example.com", mfa: true}, {id: "00u-dave-0004", email: "dave@example.com"}}
	ents2, rels2 := synthOrg(us2, 1)
	r2 := mustPush(t, db, (&collection{integration: "okta", steps: fullSteps(), entities: ents2, rels: rels2, started: t0.Add(time.Minute)}).write(t, t.TempDir()), inst)

	got := query(t, db, `SELECT kind, change, key FROM change_log WHERE run_id = $1 AND instance_id <> 0 ORDER BY kind, change, key`, r2.RunID)
	want := []string{
		"entity|added|00u-dave-0004",
		"entity|changed|00u-bob-00002",
		"entity|removed|00u-carol-0003",
		"relationship|added|00g000000000000|has|00u-dave-0004",
		"relationship|added|1/00u-dave-0004|is|employee",
		"relationship|added|okta_account_acme.okta.com/|has|00u-dave-0004",
		"relationship|changed|1/00u-bob-00002|is|employee",
		"relationship|removed|00g000000000000|has|00u-carol-0003",
		"relationship|removed|1/00u-carol-0003|is|employee",
		"relationship|removed|okta_account_acme.okta.com/|has|00u-carol-0003",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("change log of run 2:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}
	// The user -> person rule's relationships (above) belong to the
	// instance; the placeholder people it made or dropped are logged under
	// the run in the mapped pseudo-instance 0.
	got = query(t, db, `SELECT kind, change, key FROM change_log WHERE run_id = $1 AND instance_id = 0 ORDER BY kind, change, key`, r2.RunID)
	want = []string{
		"entity|added|employee:dave@example.com",
		"entity|added|employee:robert@example.com",
		"entity|removed|employee:bob@example.com",
		"entity|removed|employee:carol@example.com",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("derived changes of run 2:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}
	if r2.Added != 3 || r2.Changed != 1 || r2.Removed != 3 || r2.AfterSync.UserIsPerson.Added != 1 || r2.AfterSync.UserIsPerson.Removed != 1 {
		t.Fatalf("counts: %s", r2)
	}
	var before, after map[string]any
	row := query(t, db, `SELECT before::text, after::text FROM change_log WHERE run_id = $1 AND change = 'changed' AND kind = 'entity' AND instance_id <> 0`, r2.RunID)
	parts := strings.SplitN(row[0], "|", 2)
	if err := json.Unmarshal([]byte(parts[0]), &before); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(parts[1]), &after); err != nil {
		t.Fatal(err)
	}
	if before["email"] != "bob@example.com" || after["email"] != "robert@example.com" || before["mfaEnabled"] != false || after["mfaEnabled"] != true {
		t.Fatalf("before %v after %v", before, after)
	}
	if after["displayName"] != "robert@example.com" || fmt.Sprint(after["_class"]) != "[User]" {
		t.Fatalf("after doc %v lacks displayName/_class", after)
	}
	rm := query(t, db, `SELECT before->>'email', after IS NULL FROM change_log WHERE run_id = $1 AND change = 'removed' AND kind = 'entity' AND instance_id <> 0`, r2.RunID)
	if !slices.Equal(rm, []string{"carol@example.com|true"}) {
		t.Fatalf("removed row: %v", rm)
	}
	if n := queryInt(t, db, `SELECT count(*) FROM entity WHERE key = '00u-bob-00002' AND modified_at > first_seen`); n != 1 {
		t.Fatal("bob's modified_at did not move")
	}
}

func TestConcurrentInstances(t *testing.T) {
	t.Parallel()
	db := testDB(t, Options{})
	const n = 2000
	t0 := time.Now().Add(-time.Hour)
	// Both instances use the same keys: instances must not see each other.
	ents, rels := synthOrg(users(n), 10)
	dA := (&collection{integration: "okta", steps: fullSteps(), entities: ents, rels: rels, started: t0}).write(t, t.TempDir())
	entsB, relsB := synthOrg(users(n/2), 5)
	dB := (&collection{integration: "okta", steps: fullSteps(), entities: entsB, rels: relsB, started: t0}).write(t, t.TempDir())

	insts := []Instance{{"okta", "a"}, {"okta", "b"}, {"okta", "c"}, {"okta", "d"}}
	dirs := []*store.Dir{dA, dB, dA, dB}
	for round := range 2 {
		var wg sync.WaitGroup
		errs := make([]error, len(insts))
		for i := range insts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = Push(context.Background(), db, dirs[i], insts[i])
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d: push %s: %v", round, insts[i], err)
			}
		}
	}
	for i, inst := range insts {
		wantE := len(ents)
		if dirs[i] == dB {
			wantE = len(entsB)
		}
		got := queryInt(t, db, `SELECT count(*) FROM entity e JOIN instance i ON i.id = e.instance_id WHERE i.integration = $1 AND i.name = $2`, inst.Integration, inst.Name)
		if got != int64(wantE) {
			t.Fatalf("%s: %d entities, want %d", inst, got, wantE)
		}
	}
	if n := queryInt(t, db, `SELECT count(*) FROM change_log c JOIN sync_run r ON r.id = c.run_id WHERE r.generation = 2`); n != 0 {
		t.Fatalf("second round logged %d changes", n)
	}
}

func TestSameInstanceIsSerialised(t *testing.T) {
	t.Parallel()
	db := testDB(t, Options{})
	ctx := context.Background()
	inst := Instance{Integration: "okta", Name: "acme"}
	ents, rels := synthOrg(users(5), 1)
	d := (&collection{integration: "okta", steps: fullSteps(), entities: ents, rels: rels}).write(t, t.TempDir())

	st, err := NewStore(ctx, db, inst, StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Push(ctx, db, d, inst)
	var be *BusyError
	if !errors.As(err, &be) || !errors.Is(err, ErrBusy) {
		t.Fatalf("second run: got %v, want a BusyError", err)
	}
	if be.Since.IsZero() || be.RunID != st.RunID() || time.Since(be.Since) > time.Minute {
		t.Fatalf("busy error lacks the other run: %+v", be)
	}
	if !strings.Contains(err.Error(), "instance okta/acme is being synced by another run since ") {
		t.Fatalf("message: %v", err)
	}
	// Another instance is not blocked.
	if _, err := Push(ctx, db, d, Instance{Integration: "okta", Name: "other"}); err != nil {
		t.Fatalf("other instance: %v", err)
	}
	if err := st.Abort(); err != nil {
		t.Fatal(err)
	}
	if _, err := Push(ctx, db, d, inst); err != nil {
		t.Fatalf("after the first run ended: %v", err)
	}

	// A holder that dies releases the lock; its run is marked abandoned.
	s, err := db.begin(ctx, inst, "collect")
	if err != nil {
		t.Fatal(err)
	}
	_ = s.conn.Hijack().Close(ctx) // the process "dies": its session ends
	// The server notices the closed connection a moment later.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		_, err := Push(ctx, db, d, inst)
		if err == nil {
			break
		}
		if !errors.Is(err, ErrBusy) || time.Now().After(deadline) {
			t.Fatalf("after the holder died: %v", err)
		}
	}
	got := query(t, db, `SELECT r.status FROM sync_run r JOIN instance i ON i.id = r.instance_id WHERE i.name = 'acme' ORDER BY r.id`)
	want := []string{"aborted", "success", "abandoned", "success"}
	if !slices.Equal(got, want) {
		t.Fatalf("runs %v, want %v", got, want)
	}
}

func TestMigrateIsIdempotentAndConcurrent(t *testing.T) {
	t.Parallel()
	pool := testPool(t)
	schema := uniqueSchema(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = New(context.Background(), pool, Options{Schema: schema})
		}()
	}
	wg.Wait()
	t.Cleanup(func() { _, _ = pool.Exec(context.Background(), `DROP SCHEMA "`+schema+`" CASCADE`) })
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	db, err := New(context.Background(), pool, Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	got := query(t, db, `SELECT version, name FROM schema_migrations ORDER BY version`)
	if len(got) != SchemaVersion() || got[0] != "1|init" {
		t.Fatalf("migrations: %v", got)
	}
	if _, err := New(context.Background(), pool, Options{Schema: "bad-name"}); err == nil {
		t.Fatal("accepted a bad schema name")
	}
}

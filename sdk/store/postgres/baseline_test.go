package postgres

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// An instance's first load is its baseline: it stores no change-log row
// (for its objects, its rule relationships or the placeholder people its
// after-sync creates), and the change_log view states the rows the
// per-object log held: one 'added' row per object, with no before or
// after document, at the time of the load. They stay the same after
// later runs change, remove and re-create those objects.
func TestBaselineChangeLogStatesTheFirstLoad(t *testing.T) {
	t.Parallel()
	db := testDB(t, Options{})
	inst := Instance{"okta", "acme"}
	t0 := time.Now().Add(-time.Hour)
	org1 := users(30)
	org1[1].userType = "service" // no person
	ents, rels := synthOrg(org1, 3)
	r1 := mustPush(t, db, (&collection{integration: "okta", steps: fullSteps(), entities: ents, rels: rels, started: t0}).write(t, t.TempDir()), inst)

	if n := queryInt(t, db, `SELECT count(*) FROM change_log_entry WHERE run_id = $1`, r1.RunID); n != 0 {
		t.Fatalf("the baseline stored %d change-log rows", n)
	}
	if !slices.Equal(query(t, db, `SELECT baseline FROM sync_run ORDER BY id`), []string{"true"}) {
		t.Fatalf("runs marked baseline: %v", query(t, db, `SELECT id, baseline FROM sync_run ORDER BY id`))
	}
	// What the per-object log held after the first load: an added row
	// for every object of the instance (rule relationships included) and
	// every placeholder the run created.
	want := query(t, db, `
		SELECT instance_id, 'entity', key, type FROM entity WHERE instance_id = (SELECT id FROM instance WHERE name = 'acme')
		UNION ALL
		SELECT instance_id, 'relationship', key, type FROM relationship WHERE instance_id = (SELECT id FROM instance WHERE name = 'acme')
		UNION ALL
		SELECT 0, 'entity', key, type FROM entity WHERE instance_id = 0 AND run_id = $1
		ORDER BY 1, 2, 3`, r1.RunID)
	if got, n := len(want), r1.Added+r1.AfterSync.UserIsPerson.Added+r1.AfterSync.UserIsPerson.PeopleCreated; int64(got) != n {
		t.Fatalf("%d objects, the run reports %d added", got, n)
	}
	if !slices.Contains(want, "0|entity|employee:user5@example.com|employee") ||
		!slices.Contains(want, "1|relationship|1/00u000000000005|is|employee|okta_user_is_employee") {
		t.Fatalf("the first load lacks the rule's person and relationship: %v", want)
	}
	baseline := func() []string {
		t.Helper()
		if bad := queryInt(t, db, `SELECT count(*) FROM change_log c JOIN sync_run b ON b.id = c.run_id
			WHERE c.run_id = $1 AND (c.change <> 'added' OR c.before IS NOT NULL OR c.after IS NOT NULL OR c.at <> b.loaded_at)`, r1.RunID); bad != 0 {
			t.Fatalf("%d baseline rows are not plain added rows at the load's time", bad)
		}
		return query(t, db, `SELECT instance_id, kind, key, type FROM change_log WHERE run_id = $1 ORDER BY 1, 2, 3`, r1.RunID)
	}
	if got := baseline(); !slices.Equal(got, want) {
		t.Fatalf("baseline rows after the first load:\n got %v\nwant %v", got, want)
	}

	// Run 2: user 2 and 3 go (with their memberships, rule relationships
	// and placeholder people), user 4 changes email (a new person; its
	// old placeholder goes), a user is new.
	org2 := append(append([]synthUser{}, org1[:2]...), org1[4:]...)
	org2[2].email = "moved@example.com"
	org2 = append(org2, synthUser{id: "00u-new-000001", email: "new@example.com"})
	ents, rels = synthOrg(org2, 3)
	r2 := mustPush(t, db, (&collection{integration: "okta", steps: fullSteps(), entities: ents, rels: rels, started: t0.Add(time.Minute)}).write(t, t.TempDir()), inst)
	if r2.Added == 0 || r2.Changed == 0 || r2.Removed == 0 {
		t.Fatalf("run 2 changed too little: %s", r2)
	}
	if n := queryInt(t, db, `SELECT count(*) FROM sync_run WHERE baseline`); n != 1 {
		t.Fatalf("%d baseline runs after a second load", n)
	}
	// Run 3: user 2 is back (a new object, not the baseline's).
	ents, rels = synthOrg(append(org2, org1[2]), 3)
	r3 := mustPush(t, db, (&collection{integration: "okta", steps: fullSteps(), entities: ents, rels: rels, started: t0.Add(2 * time.Minute)}).write(t, t.TempDir()), inst)
	if got := baseline(); !slices.Equal(got, want) {
		t.Fatalf("baseline rows after later runs changed and removed its objects:\n got %v\nwant %v", got, want)
	}

	history := func(inst int64, key string) string {
		return strings.Join(query(t, db, `SELECT change || ' ' || run_id FROM change_log WHERE instance_id = $1 AND key = $2 ORDER BY at, id`, inst, key), ", ")
	}
	for _, c := range []struct {
		inst      int64
		key, want string
	}{
		{1, "00u000000000002", "added 1, removed 2, added 3"},
		{1, "00u000000000004", "added 1, changed 2"},
		{1, "00u000000000005", "added 1"},
		{1, "00u-new-000001", "added 2"},
		{1, "1/00u000000000004|is|employee", "added 1, changed 2"},
		{1, "1/00u000000000003|is|employee", "added 1, removed 2"},
		{1, "okta_account_acme.okta.com/|has|00u000000000003", "added 1, removed 2"},
		{0, "employee:user3@example.com", "added 1, removed 2"},
		{0, "employee:user4@example.com", "added 1, removed 2"},
		{0, "employee:moved@example.com", "added 2"},
		{0, "employee:user5@example.com", "added 1"},
	} {
		if got := history(c.inst, c.key); got != c.want {
			t.Errorf("history of %d/%s: %q, want %q", c.inst, c.key, got, c.want)
		}
	}
	// Later runs store their rows as before.
	if got := query(t, db, `SELECT change, key FROM change_log WHERE run_id = $1 AND kind = 'entity' ORDER BY 1, 2`, r3.RunID); !slices.Equal(got, []string{"added|00u000000000002", "added|employee:user2@example.com"}) {
		t.Errorf("entity rows of run 3: %v", got)
	}
	if n := queryInt(t, db, `SELECT count(*) FROM change_log_entry WHERE run_id = $1`, r2.RunID); n != r2.Added+r2.Changed+r2.Removed+
		r2.AfterSync.UserIsPerson.Added+r2.AfterSync.UserIsPerson.Changed+r2.AfterSync.UserIsPerson.Removed+
		r2.AfterSync.UserIsPerson.PeopleCreated+r2.AfterSync.PlaceholdersRemoved {
		t.Errorf("run 2 stored %d rows for %s / %+v", n, r2, r2.AfterSync)
	}
	// Each object of the baseline that run 2 changed or removed got its
	// added row stored first (under the baseline run, at its time).
	stored := query(t, db, `SELECT instance_id, kind, key FROM change_log_entry WHERE run_id = $1 ORDER BY 1, 2, 3`, r1.RunID)
	touched := query(t, db, `SELECT instance_id, kind, key FROM change_log_entry WHERE run_id = $1 AND change <> 'added' ORDER BY 1, 2, 3`, r2.RunID)
	if !slices.Equal(stored, touched) || !slices.Contains(stored, "0|entity|employee:user3@example.com") || !slices.Contains(stored, "1|entity|00u000000000004") {
		t.Errorf("stored rows of the baseline run:\n%v\nobjects run 2 changed or removed:\n%v", stored, touched)
	}
}

// A second instance's first load is its own baseline: the view states its
// objects under its run and none of the first instance's, and neither
// instance's rows change the other's baseline.
func TestBaselinePerInstance(t *testing.T) {
	t.Parallel()
	db := testDB(t, Options{})
	t0 := time.Now().Add(-time.Hour)
	ents, rels := synthOrg(users(10), 2)
	a := mustPush(t, db, (&collection{integration: "okta", steps: fullSteps(), entities: ents, rels: rels, started: t0}).write(t, t.TempDir()), Instance{"okta", "a"})
	ents, rels = synthOrg(users(12), 2)
	b := mustPush(t, db, (&collection{integration: "okta", steps: fullSteps(), entities: ents, rels: rels, started: t0}).write(t, t.TempDir()), Instance{"okta", "b"})
	count := func(run int64) string {
		return strings.Join(query(t, db, `SELECT instance_id, kind, count(*) FROM change_log WHERE run_id = $1 GROUP BY 1, 2 ORDER BY 1, 2`, run), ", ")
	}
	// a: 1 account + 2 groups + 10 users, 20 memberships + 10 rule
	// relationships, 10 people; b: the same 12 users' people exist, two new.
	if got, want := count(a.RunID), "0|entity|10, 1|entity|13, 1|relationship|30"; got != want {
		t.Errorf("baseline of a: %s, want %s", got, want)
	}
	if got, want := count(b.RunID), "0|entity|2, 2|entity|15, 2|relationship|36"; got != want {
		t.Errorf("baseline of b: %s, want %s", got, want)
	}
	if n := queryInt(t, db, `SELECT count(*) FROM change_log_entry`); n != 0 {
		t.Errorf("%d rows stored for two baselines", n)
	}
}

// An after-sync that stopped pointing to no placeholder reads none: the
// clean-up of placeholders costs nothing then, however many placeholders
// the database holds.
func TestGCPlaceholdersWithNothingToCollectReadsNothing(t *testing.T) {
	t.Parallel()
	db := testDB(t, Options{})
	ents, rels := synthOrg(users(300), 2)
	mustPush(t, db, (&collection{integration: "okta", steps: fullSteps(), entities: ents, rels: rels, started: time.Now().Add(-time.Hour)}).write(t, t.TempDir()), Instance{"okta", "acme"})
	exec(t, db, `ANALYZE entity`)
	if n := queryInt(t, db, `SELECT count(*) FROM entity WHERE instance_id = 0`); n != 300 {
		t.Fatalf("%d placeholders", n)
	}
	// Rows of entity the call reads (the transaction's statistics
	// before and after it).
	var read int64
	err := db.inTx(context.Background(), nil, func(tx pgx.Tx) error {
		ctx := context.Background()
		const rows = `SELECT coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0) FROM pg_stat_xact_user_tables WHERE relid = 'entity'::regclass`
		var before, after int64
		if err := tx.QueryRow(ctx, rows).Scan(&before); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `SELECT sg_scratch(); SELECT gc_placeholders(NULL)`); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, rows).Scan(&after); err != nil {
			return err
		}
		read = after - before
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if read != 0 {
		t.Errorf("gc_placeholders with nothing to collect read %d entity rows", read)
	}
}

// A first load of a collection that repeats a key goes through the
// staging tables (the last object of the key wins) and is a baseline all
// the same: nothing stored, every object stated once. A relationship a
// later run changes gets its added row stored first.
func TestBaselineWithRepeatedKeys(t *testing.T) {
	t.Parallel()
	db := testDB(t, Options{})
	inst := Instance{"okta", "acme"}
	t0 := time.Now().Add(-time.Hour)
	ents, rels := synthOrg(users(5), 1)
	again := entity("00u000000000001", "okta_user", []string{"User"}, "later@example.com",
		map[string]any{"username": "00u000000000001", "email": "later@example.com", "active": true, "status": "active", "mfaEnabled": true})
	r1 := mustPush(t, db, (&collection{integration: "okta", steps: fullSteps(), entities: append(ents, again), rels: append(rels, rels[0]), started: t0}).write(t, t.TempDir()), inst)
	if r1.Entities != int64(len(ents)+1) || r1.Added != int64(len(ents)+len(rels)) {
		t.Fatalf("first load of a collection repeating two keys: %s", r1)
	}
	if got := query(t, db, `SELECT properties->>'email' FROM entity WHERE key = '00u000000000001'`); !slices.Equal(got, []string{"later@example.com"}) {
		t.Fatalf("the repeated user is %v, want the last one", got)
	}
	if n := queryInt(t, db, `SELECT count(*) FROM change_log_entry`); n != 0 {
		t.Fatalf("the baseline stored %d change-log rows", n)
	}
	stated := queryInt(t, db, `SELECT count(*) FROM change_log WHERE run_id = $1 AND instance_id = 1`, r1.RunID)
	distinct := queryInt(t, db, `SELECT count(DISTINCT (kind, key)) FROM change_log WHERE run_id = $1 AND instance_id = 1`, r1.RunID)
	if want := int64(len(ents)+len(rels)) + r1.AfterSync.UserIsPerson.Added; stated != want || distinct != want {
		t.Fatalf("the baseline states %d rows (%d objects), want %d", stated, distinct, want)
	}

	// Run 2: the account's relationship to user 3 gets a property.
	ents, rels = synthOrg(users(5), 1)
	var changed string
	for _, r := range rels {
		if r.Type == "okta_account_has_user" && strings.HasSuffix(r.Key, "00u000000000003") {
			r.Set("since", "2020")
			changed = r.Key
		}
	}
	r2 := mustPush(t, db, (&collection{integration: "okta", steps: fullSteps(), entities: ents, rels: rels, started: t0.Add(time.Minute)}).write(t, t.TempDir()), inst)
	got := strings.Join(query(t, db, `SELECT change || ' ' || run_id || ' ' || type FROM change_log WHERE instance_id = 1 AND key = $1 ORDER BY at, id`, changed), ", ")
	if want := "added 1 okta_account_has_user, changed 2 okta_account_has_user"; got != want {
		t.Errorf("history of %s: %q, want %q (run 2: %s)", changed, got, want, r2)
	}
}

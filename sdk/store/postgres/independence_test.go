package postgres

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stepgraph/stepgraph/sdk/runtime"
	"github.com/stepgraph/stepgraph/sdk/store"
)

// holdAt returns a DB over db's schema whose loads stop at the end of
// phase (see load and afterSync) with their transaction open: reached
// receives the backend pid of that transaction; the load goes on when
// release is closed.
func holdAt(t *testing.T, db *DB, phase string) (held *DB, reached chan uint32, release chan struct{}) {
	t.Helper()
	held, err := New(context.Background(), db.pool, Options{Schema: db.schema})
	if err != nil {
		t.Fatal(err)
	}
	reached, release = make(chan uint32, 1), make(chan struct{})
	held.hook = func(ctx context.Context, p string, tx pgx.Tx) error {
		if p != phase {
			return nil
		}
		reached <- tx.Conn().PgConn().PID()
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return held, reached, release
}

// finishesWithout runs fn and fails the test if, before fn returns, any
// backend waits for a lock that backend pid holds. No timing: it watches
// the server's lock graph until fn is done.
func finishesWithout(t *testing.T, db *DB, pid uint32, what string, fn func() error) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- fn() }()
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			return
		default:
		}
		var waiting int64
		if err := db.pool.QueryRow(context.Background(),
			`SELECT count(*) FROM pg_stat_activity WHERE $1::int = ANY(pg_blocking_pids(pid))`, int32(pid)).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			rows := query(t, db, `SELECT query FROM pg_stat_activity WHERE $1::int = ANY(pg_blocking_pids(pid))`, int32(pid))
			t.Fatalf("%s waits for a lock the other instance's load holds: %s", what, strings.Join(rows, "; "))
		}
		time.Sleep(10 * time.Millisecond) // polling interval, not a deadline
	}
}

func orgCollection(t *testing.T, prefix string, n int, started time.Time, shared int) *store.Dir {
	t.Helper()
	us := make([]synthUser, n)
	for i := range us {
		email := fmt.Sprintf("%s%d@example.com", prefix, i)
		if i < shared {
			email = fmt.Sprintf("shared%d@example.com", i) // the same person in both orgs
		}
		us[i] = synthUser{id: fmt.Sprintf("00u%s%08d", prefix, i), email: email}
	}
	ents, rels := synthOrg(us, 3)
	return (&collection{integration: "okta", steps: fullSteps(), entities: ents, rels: rels, started: started}).write(t, t.TempDir())
}

// TestInstancesDoNotWaitForEachOther holds a large load of one instance
// open at several points of its transaction and shows that a whole push
// of another instance (load and after_sync, with users mapped to the same
// people) completes meanwhile without waiting for any of its locks.
func TestInstancesDoNotWaitForEachOther(t *testing.T) {
	t.Parallel()
	t0 := time.Now().Add(-time.Hour)
	for _, phase := range []string{"copy entities", "upsert relationships", "commit"} {
		t.Run(strings.ReplaceAll(phase, " ", "_"), func(t *testing.T) {
			t.Parallel()
			db := testDB(t, Options{})
			ctx := context.Background()
			big, small := Instance{"okta", "big"}, Instance{"okta", "small"}
			// The big instance exists already (its second load upserts).
			dBig := orgCollection(t, "big", 600, t0, 5)
			mustPush(t, db, orgCollection(t, "big", 300, t0.Add(-time.Minute), 5), big)
			held, reached, release := holdAt(t, db, phase)
			bigDone := make(chan error, 1)
			go func() {
				_, err := held.Push(ctx, dBig, big)
				bigDone <- err
			}()
			pid := <-reached
			var res *PushResult
			finishesWithout(t, db, pid, "a push of another instance", func() error {
				var err error
				res, err = db.Push(ctx, orgCollection(t, "small", 10, t0, 5), small)
				return err
			})
			close(release)
			if err := <-bigDone; err != nil {
				t.Fatalf("big load: %v", err)
			}
			if res.Added != (1+3+10)+(10+10) || res.AfterSync.UserIsPerson.UsersMapped != 10 {
				t.Fatalf("small push: %s / %+v", res, res.AfterSync)
			}
			// Both instances' users map to the shared people.
			n := queryInt(t, db, `SELECT count(DISTINCT r.instance_id) FROM relationship r JOIN entity p ON p.id = r.to_id
				WHERE r.rule = 'user_is_person' AND p.key = 'employee:shared0@example.com'`)
			if n != 2 {
				t.Fatalf("shared person reached from %d instances, want 2", n)
			}
		})
	}
}

// TestChangeLogUnderOverlappingSyncs runs a sync of one instance entirely
// inside another's (held open at the end of its load, then inside its
// after_sync) and checks that every change-log row belongs to the run
// that caused it.
func TestChangeLogUnderOverlappingSyncs(t *testing.T) {
	t.Parallel()
	t0 := time.Now().Add(-time.Hour)
	for _, phase := range []string{"commit", "after sync"} {
		t.Run(strings.ReplaceAll(phase, " ", "_"), func(t *testing.T) {
			t.Parallel()
			db := testDB(t, Options{})
			ctx := context.Background()
			a, b := Instance{"okta", "a"}, Instance{"okta", "b"}
			held, reached, release := holdAt(t, db, phase)
			aDone := make(chan *PushResult, 1)
			go func() {
				r, err := held.Push(ctx, orgCollection(t, "a", 40, t0, 0), a)
				if err != nil {
					t.Error(err)
				}
				aDone <- r
			}()
			<-reached
			rb, err := db.Push(ctx, orgCollection(t, "b", 25, t0, 0), b)
			if err != nil {
				t.Fatal(err)
			}
			close(release)
			ra := <-aDone
			if ra == nil {
				t.FailNow()
			}
			for _, c := range []struct {
				res   *PushResult
				users int
				inst  string
			}{{ra, 40, "a"}, {rb, 25, "b"}} {
				// Rows of the instance: its objects and its rule relationships.
				got := query(t, db, `SELECT c.kind, c.change, count(*) FROM change_log c
					WHERE c.run_id = $1 AND c.instance_id <> 0 GROUP BY 1, 2 ORDER BY 1, 2`, c.res.RunID)
				objects := 1 + 3 + c.users  // account, groups, users
				rels := c.users*2 + c.users // account/group memberships + user IS person
				want := []string{fmt.Sprintf("entity|added|%d", objects), fmt.Sprintf("relationship|added|%d", rels)}
				if strings.Join(got, ",") != strings.Join(want, ",") {
					t.Fatalf("run of %s logged %v, want %v", c.inst, got, want)
				}
				foreign := queryInt(t, db, `SELECT count(*) FROM change_log c JOIN instance i ON i.id = c.instance_id
					WHERE c.run_id = $1 AND c.instance_id <> 0 AND i.name <> $2`, c.res.RunID, c.inst)
				if foreign != 0 {
					t.Fatalf("run of %s logged %d rows of another instance", c.inst, foreign)
				}
				// Placeholder people: exactly its users' emails.
				people := queryInt(t, db, `SELECT count(*) FROM change_log WHERE run_id = $1 AND instance_id = 0
					AND key LIKE 'employee:' || $2 || '%'`, c.res.RunID, c.inst)
				all := queryInt(t, db, `SELECT count(*) FROM change_log WHERE run_id = $1 AND instance_id = 0`, c.res.RunID)
				if people != int64(c.users) || all != people {
					t.Fatalf("run of %s logged %d placeholder people (%d of its users), want %d", c.inst, all, people, c.users)
				}
			}
		})
	}
}

// TestEndedAtIsTheRealEnd holds a push inside its after_sync, notes the
// server's clock there, and checks that sync_run.ended_at is later.
func TestEndedAtIsTheRealEnd(t *testing.T) {
	t.Parallel()
	db := testDB(t, Options{})
	held, err := New(context.Background(), db.pool, Options{Schema: db.schema})
	if err != nil {
		t.Fatal(err)
	}
	var inside time.Time
	held.hook = func(ctx context.Context, phase string, tx pgx.Tx) error {
		if phase != "after sync" {
			return nil
		}
		return tx.QueryRow(ctx, `SELECT clock_timestamp()`).Scan(&inside)
	}
	res := mustPush(t, held, orgCollection(t, "e", 20, time.Now().Add(-time.Hour), 0), Instance{"okta", "e"})
	var started, ended time.Time
	if err := db.pool.QueryRow(context.Background(), `SELECT started_at, ended_at FROM `+db.SearchPath()+`.sync_run WHERE id = $1`, res.RunID).Scan(&started, &ended); err != nil {
		t.Fatal(err)
	}
	if inside.IsZero() || !ended.After(inside) || !inside.After(started) {
		t.Fatalf("started %v, after_sync ran at %v, ended_at %v: not the real end", started, inside, ended)
	}
}

// TestPartialTypesNeverChangedOrRemoved loads a run in which okta_user is
// partial: stored users it has with other values keep their stored
// version, users it lacks are kept (marked missing), new users are added;
// the change log has no changed or removed row of that type. The next
// complete run applies both.
func TestPartialTypesNeverChangedOrRemoved(t *testing.T) {
	t.Parallel()
	db := testDB(t, Options{})
	inst := Instance{"okta", "acme"}
	t0 := time.Now().Add(-time.Hour)
	us := []synthUser{{id: "00u-alice-0001", email: "alice@example.com"}, {id: "00u-bob-00002", email: "bob@example.com"}, {id: "00u-carol-0003", email: "carol@example.com"}}
	ents, rels := synthOrg(us, 1)
	mustPush(t, db, (&collection{integration: "okta", steps: fullSteps(), entities: ents, rels: rels, started: t0}).write(t, t.TempDir()), inst)

	// Interrupted: bob's email differs (maybe half-read), carol is absent,
	// dave is new.
	us2 := []synthUser{us[0], {id: "00u-bob-00002", email: "robert@example.com"}, {id: "00u-dave-0004", email: "dave@example.com"}}
	ents2, rels2 := synthOrg(us2, 1)
	partialUsers := stepSpec{id: "fetch-users", types: stepUsers.types, partial: []string{"okta_user"}}
	steps := []stepSpec{stepAcct, partialUsers, stepGroups, stepMember}
	r2 := mustPush(t, db, (&collection{integration: "okta", steps: steps, entities: ents2, rels: rels2, started: t0.Add(time.Minute)}).write(t, t.TempDir()), inst)
	got := query(t, db, `SELECT change, key FROM change_log WHERE run_id = $1 AND type = 'okta_user' ORDER BY 1, 2`, r2.RunID)
	if strings.Join(got, ",") != "added|00u-dave-0004" {
		t.Fatalf("okta_user changes in a partial run: %v", got)
	}
	state := query(t, db, `SELECT key, properties->>'email', missing_since IS NOT NULL FROM entity WHERE type = 'okta_user' AND instance_id <> 0 ORDER BY key`)
	want := []string{"00u-alice-0001|alice@example.com|false", "00u-bob-00002|bob@example.com|false", "00u-carol-0003|carol@example.com|true", "00u-dave-0004|dave@example.com|false"}
	if strings.Join(state, ",") != strings.Join(want, ",") {
		t.Fatalf("users after a partial run:\n got %v\nwant %v", state, want)
	}
	// Complete again: bob changes, carol goes.
	r3 := mustPush(t, db, (&collection{integration: "okta", steps: fullSteps(), entities: ents2, rels: rels2, started: t0.Add(2 * time.Minute)}).write(t, t.TempDir()), inst)
	got = query(t, db, `SELECT change, key FROM change_log WHERE run_id = $1 AND type = 'okta_user' ORDER BY 1, 2`, r3.RunID)
	if strings.Join(got, ",") != "changed|00u-bob-00002,removed|00u-carol-0003" {
		t.Fatalf("okta_user changes in the next complete run: %v", got)
	}
	if n := queryInt(t, db, `SELECT count(*) FROM entity WHERE missing_since IS NOT NULL`); n != 0 {
		t.Fatalf("%d entities still marked missing", n)
	}
}

// TestDisabledSourcePropertyIsUnknown loads a run in which a step was
// disabled and users lack a property (as Okta users lack mfaEnabled when
// the MFA source is off): nobody is logged as changed for it and the
// stored value stays; a real change of another property still is. A run
// without disabled steps then applies the removal.
func TestDisabledSourcePropertyIsUnknown(t *testing.T) {
	t.Parallel()
	db := testDB(t, Options{})
	inst := Instance{"okta", "acme"}
	t0 := time.Now().Add(-time.Hour)
	us := []synthUser{{id: "00u-alice-0001", email: "alice@example.com", mfa: true}, {id: "00u-bob-00002", email: "bob@example.com"}}
	mfaStep := stepSpec{id: "fetch-mfa-devices", types: []string{"mfa_device"}}
	ents, rels := synthOrg(us, 1)
	steps := append(fullSteps(), mfaStep)
	mustPush(t, db, (&collection{integration: "okta", steps: steps, entities: ents, rels: rels, started: t0}).write(t, t.TempDir()), inst)

	us2 := []synthUser{us[0], {id: "00u-bob-00002", email: "robert@example.com"}}
	ents2, rels2 := synthOrg(us2, 1)
	for _, e := range ents2 {
		delete(e.Properties, "mfaEnabled")
	}
	disabled := stepSpec{id: "fetch-mfa-devices", types: []string{"mfa_device"}, status: runtime.StatusDisabled}
	r2 := mustPush(t, db, (&collection{integration: "okta", steps: append(fullSteps(), disabled), entities: ents2, rels: rels2, started: t0.Add(time.Minute)}).write(t, t.TempDir()), inst)
	got := query(t, db, `SELECT change, key, before->>'mfaEnabled', after->>'mfaEnabled', after->>'email' FROM change_log
		WHERE run_id = $1 AND type = 'okta_user' ORDER BY key`, r2.RunID)
	if strings.Join(got, ",") != "changed|00u-bob-00002|false|false|robert@example.com" {
		t.Fatalf("okta_user changes with the MFA source disabled: %v", got)
	}
	state := query(t, db, `SELECT key, properties->>'mfaEnabled' FROM entity WHERE type = 'okta_user' ORDER BY key`)
	if strings.Join(state, ",") != "00u-alice-0001|true,00u-bob-00002|false" {
		t.Fatalf("mfaEnabled after the run with the source disabled: %v", state)
	}
	// All steps enabled again, and the property really is gone.
	r3 := mustPush(t, db, (&collection{integration: "okta", steps: steps, entities: ents2, rels: rels2, started: t0.Add(2 * time.Minute)}).write(t, t.TempDir()), inst)
	got = query(t, db, `SELECT change, key FROM change_log WHERE run_id = $1 AND type = 'okta_user' ORDER BY key`, r3.RunID)
	if strings.Join(got, ",") != "changed|00u-alice-0001,changed|00u-bob-00002" {
		t.Fatalf("okta_user changes once every step runs: %v", got)
	}
}

// TestRuleRunsAfterAFailedAfterSync: an identical push skips the user ->
// person rule only when the previous run's after_sync succeeded; after a
// load without after_sync (as when it failed) the next push evaluates it.
func TestRuleRunsAfterAFailedAfterSync(t *testing.T) {
	t.Parallel()
	db := testDB(t, Options{})
	noAfter, err := New(context.Background(), db.pool, Options{Schema: db.schema, NoAfterSync: true})
	if err != nil {
		t.Fatal(err)
	}
	inst := Instance{"okta", "acme"}
	d := orgCollection(t, "r", 12, time.Now().Add(-time.Hour), 0)
	mustPush(t, noAfter, d, inst)
	if n := queryInt(t, db, `SELECT count(*) FROM relationship WHERE rule = 'user_is_person'`); n != 0 {
		t.Fatalf("%d rule relationships without after_sync", n)
	}
	r := mustPush(t, db, d, inst)
	if r.AfterSync.UserIsPerson.Skipped || r.AfterSync.UserIsPerson.Added != 12 {
		t.Fatalf("identical push after a run without after_sync: %+v", r.AfterSync.UserIsPerson)
	}
	r = mustPush(t, db, d, inst)
	if !r.AfterSync.UserIsPerson.Skipped {
		t.Fatalf("identical push after a complete one: %+v", r.AfterSync.UserIsPerson)
	}
}

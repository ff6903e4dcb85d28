package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stepgraph/stepgraph/sdk/graph"
)

// A database created by the previous schema version, holding loaded
// instances, upgrades to the current one and then syncs exactly as a
// database created at the current version: same user -> person mapping,
// same change log for an unchanged re-push and for a changed collection.
func TestUpgradeFromPreviousSchemaVersion(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	latest := SchemaVersion()
	t0 := time.Now().Add(-time.Hour)
	hr := Instance{Integration: "hr", Name: "main"}
	okta := Instance{Integration: "okta", Name: "acme"}
	hrSteps := []stepSpec{{id: "fetch-employees", types: []string{"employee"}}}
	employees := []*graph.Entity{entity("hr-0001", "employee", []string{"Person"}, "Alice", map[string]any{"email": "Alice@Example.com"})}
	org1 := users(40)
	org1[0].email = "alice@example.com"
	org1[1].userType = "service"
	org2 := append(append([]synthUser{}, org1[:2]...), org1[4:]...) // two users go
	org2[2].email = "moved@example.com"
	org2 = append(org2, synthUser{id: "00u-new-000001", email: "new@example.com"})

	type outcome struct{ mapping, log1, log2, log3 []string }
	sync := func(t *testing.T, db *DB, before, upgrade func()) outcome {
		before()
		mustPush(t, db, (&collection{integration: "hr", steps: hrSteps, entities: employees, started: t0}).write(t, t.TempDir()), hr)
		ents, rels := synthOrg(org1, 3)
		first := (&collection{integration: "okta", steps: fullSteps(), entities: ents, rels: rels, started: t0}).write(t, t.TempDir())
		r1 := mustPush(t, db, first, okta)
		upgrade()
		var o outcome
		changes := func(run int64) []string {
			return query(t, db, `SELECT change || ' ' || kind || ' ' || key FROM change_log WHERE run_id = $1 ORDER BY 1`, run)
		}
		o.log2 = changes(mustPush(t, db, first, okta).RunID)
		ents, rels = synthOrg(org2, 3)
		o.log3 = changes(mustPush(t, db, (&collection{integration: "okta", steps: fullSteps(), entities: ents, rels: rels, started: t0.Add(time.Minute)}).write(t, t.TempDir()), okta).RunID)
		o.mapping = query(t, db, `SELECT u.key || ' -> ' || p.key FROM relationship r
			JOIN entity u ON u.id = r.from_id JOIN entity p ON p.id = r.to_id
			WHERE r.rule = 'user_is_person' ORDER BY 1`)
		o.log1 = changes(r1.RunID)
		return o
	}

	fresh := sync(t, testDB(t, Options{}), func() {}, func() {})

	if len(fresh.log2) != 0 {
		t.Errorf("unchanged re-push logged %v", fresh.log2)
	}
	if !slices.Contains(fresh.mapping, "00u000000000000 -> hr-0001") || len(fresh.mapping) != 38 ||
		!slices.Contains(fresh.mapping, "00u000000000004 -> employee:moved@example.com") {
		t.Errorf("mapping of the fresh database: %v", fresh.mapping)
	}
	if !slices.Contains(fresh.log3, "removed entity 00u000000000002") || !slices.Contains(fresh.log3, "added entity 00u-new-000001") {
		t.Errorf("change log of the changed collection: %v", fresh.log3)
	}

	// From the previous version, and from version 8 (the last one that
	// stored a row per object of a first load).
	from := []int{latest - 1}
	if latest-1 > 8 {
		from = append(from, 8)
	}
	for _, v := range from {
		t.Run(fmt.Sprintf("from version %d", v), func(t *testing.T) {
			pool := testPool(t)
			schema := uniqueSchema(t)
			t.Cleanup(func() { _, _ = pool.Exec(context.Background(), `DROP SCHEMA "`+schema+`" CASCADE`) })
			old := &DB{pool: pool, schema: schema, opts: Options{Schema: schema}, log: slog.New(slog.DiscardHandler)}
			if err := old.migrateTo(ctx, v); err != nil {
				t.Fatal(err)
			}
			// This program's loads write what version 9 added
			// (sync_run.baseline and loaded_at, change_log_entry): before
			// an upgrade from version 8 they run through a shim, and the
			// change-log rows version 8 stored for a first load (one
			// 'added' row per object of the instance; its functions
			// logged the placeholders and rule relationships themselves)
			// are then written the way it wrote them.
			shim, unshim := func() {}, func() {}
			if v < 9 {
				shim = func() {
					exec(t, old, `ALTER TABLE sync_run ADD COLUMN baseline boolean NOT NULL DEFAULT false, ADD COLUMN loaded_at timestamptz;
						CREATE VIEW change_log_entry AS SELECT * FROM change_log`)
				}
				unshim = func() {
					exec(t, old, `INSERT INTO change_log (run_id, instance_id, at, kind, change, key, type)
						SELECT b.id, b.instance_id, b.loaded_at, x.kind, 'added', x.key, x.type
						FROM sync_run b, LATERAL (
							SELECT 'entity' AS kind, key, type, id FROM entity WHERE instance_id = b.instance_id
							UNION ALL
							SELECT 'relationship', key, type, id FROM relationship WHERE instance_id = b.instance_id AND rule IS NULL) x
						WHERE b.baseline
						ORDER BY b.id, x.kind, x.id;
						DROP VIEW change_log_entry;
						ALTER TABLE sync_run DROP COLUMN baseline, DROP COLUMN loaded_at`)
				}
			}
			upgraded := sync(t, old, shim, func() {
				unshim()
				if got := queryInt(t, old, `SELECT max(version) FROM schema_migrations`); got != int64(v) {
					t.Fatalf("schema at version %d before the upgrade, want %d", got, v)
				}
				if _, err := New(ctx, pool, Options{Schema: schema}); err != nil {
					t.Fatalf("upgrade: %v", err)
				}
				if got := queryInt(t, old, `SELECT max(version) FROM schema_migrations`); got != int64(latest) {
					t.Fatalf("schema at version %d after the upgrade, want %d", got, latest)
				}
			})
			for _, c := range []struct {
				what      string
				got, want []string
			}{
				{"mapping", upgraded.mapping, fresh.mapping},
				// stored by version 8, stated by the baseline now: the same rows
				{"change log of the first load", upgraded.log1, fresh.log1},
				{"change log of the unchanged re-push", upgraded.log2, fresh.log2},
				{"change log of the changed collection", upgraded.log3, fresh.log3},
			} {
				if !slices.Equal(c.got, c.want) {
					t.Errorf("%s after the upgrade:\n got %s\nwant %s", c.what, strings.Join(c.got, "\n     "), strings.Join(c.want, "\n     "))
				}
			}
		})
	}
}

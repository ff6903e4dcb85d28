package postgres

import (
	"slices"
	"testing"
	"time"
)

// A first load inserts the relationships in key order (so the
// (instance_id, key) index grows at its right end), whatever order the
// collection has them in, and reads each object where it is.
func TestFirstLoadInsertsRelationshipsInKeyOrder(t *testing.T) {
	t.Parallel()
	firstLoadInKeyOrder(t, 0)
}

// The same with each reader keeping one file open at a time.
func TestFirstLoadInKeyOrderWithFewOpenFiles(t *testing.T) {
	t.Parallel()
	firstLoadInKeyOrder(t, 1)
}

func firstLoadInKeyOrder(t *testing.T, openFiles int) {
	db := testDB(t, Options{NoAfterSync: true})
	db.openFiles = openFiles
	ents, rels := synthOrg(users(600), 7) // more than one file per type
	slices.Reverse(rels)
	d := (&collection{integration: "okta", steps: fullSteps(), entities: ents, rels: rels, started: time.Now().Add(-time.Hour)}).write(t, t.TempDir())
	if files := graphFiles(d, relationshipKind); len(files) < 4 {
		t.Fatalf("the collection has %d relationship files", len(files))
	}
	r := mustPush(t, db, d, Instance{"okta", "acme"})
	if r.Relationships != int64(len(rels)) {
		t.Fatalf("loaded %d relationships, want %d", r.Relationships, len(rels))
	}
	byID := query(t, db, `SELECT key FROM relationship ORDER BY id`)
	if !slices.IsSorted(byID) || len(byID) != len(rels) {
		t.Errorf("relationships not inserted in key order: first %v", byID[:5])
	}
	// Each row is its object: ends resolved, properties as collected.
	if n := queryInt(t, db, `SELECT count(*) FROM relationship r JOIN entity f ON f.id = r.from_id AND f.key = r.from_key
		JOIN entity e ON e.id = r.to_id AND e.key = r.to_key
		WHERE r.key = r.from_key || '|has|' || r.to_key AND r.type IN ('okta_account_has_user', 'okta_group_has_user')`); n != int64(len(rels)) {
		t.Errorf("%d of %d relationships have the ends their keys name", n, len(rels))
	}
}

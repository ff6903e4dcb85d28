package postgres

import (
	"slices"
	"strings"
	"testing"
)

// The indexes a load maintains per object, each with what reads it (see
// the migrations and docs/postgres.md, Performance). A new index costs
// every first load: add it here with its reader, or do not add it.
func TestGraphTablesIndexes(t *testing.T) {
	t.Parallel()
	db := testDB(t, Options{})
	got := query(t, db, `SELECT c.relname || ' ' || i.relname || coalesce(' WHERE ' || pg_get_expr(x.indpred, x.indrelid), '')
		FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid
		WHERE c.relnamespace = $1::regnamespace AND c.relname IN ('entity', 'relationship', 'change_log_entry')
		ORDER BY 1`, db.Schema())
	want := []string{
		"change_log_entry change_log_entry_object", // an object's history; the alert rules' joins on key
		"change_log_entry change_log_instance",     // an instance's changes over time
		"change_log_entry change_log_pkey",         // id
		"change_log_entry change_log_run",          // what changed in a run
		"entity entity_employee_email WHERE ((type = 'employee'::text) AND (properties ? 'email'::text) AND (instance_id <> 0))", // the user -> person rule finds real employees by email (placeholders by key)
		"entity entity_instance_id_key_key", // load conflict target, an instance's rows, lookups by key
		"entity entity_pkey",                // relationships' from_id / to_id
		"entity entity_type_key",            // mapped relationships matched by _type and _key; queries by type
		"relationship relationship_dangling WHERE ((mapping IS NULL) AND (rule IS NULL) AND ((from_id IS NULL) OR (to_id IS NULL)))", // relink of direct relationships with a missing end
		"relationship relationship_from",                                // edges followed from an entity
		"relationship relationship_instance_id_key_key",                 // load conflict target, lookups by key
		"relationship relationship_mapping WHERE (mapping IS NOT NULL)", // after_sync's mapped relationships of an instance
		"relationship relationship_pkey",                                // id
		"relationship relationship_rule WHERE (rule IS NOT NULL)",       // after_sync's rule relationships of an instance
		"relationship relationship_to",                                  // edges followed to an entity
	}
	if !slices.Equal(got, want) {
		t.Errorf("indexes of the graph tables:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}
}

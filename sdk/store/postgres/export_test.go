package postgres

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

// Helpers for the external test package (postgres_test).

// OpenTestDB is testDB for postgres_test.
func OpenTestDB(t testing.TB, opts Options) *DB { return testDB(t, opts) }

// QueryStrings is query for postgres_test.
func QueryStrings(t testing.TB, db *DB, sql string, args ...any) []string {
	t.Helper()
	return query(t, db, sql, args...)
}

// QueryMaps runs sql in the db's schema and returns each row as a map.
func QueryMaps(t testing.TB, db *DB, sql string, args ...any) []map[string]any {
	t.Helper()
	var out []map[string]any
	err := db.inTx(context.Background(), nil, func(tx pgx.Tx) error {
		rows, err := tx.Query(context.Background(), sql, args...)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, pgx.RowToMap)
		return err
	})
	if err != nil {
		t.Fatalf("query: %v\n%s", err, sql)
	}
	return out
}

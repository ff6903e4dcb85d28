package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// MappingResult reports a resolve_mapped_relationships() call.
type MappingResult struct {
	// Resolved relationships now point to a real entity.
	Resolved int64 `json:"resolved"`
	// PlaceholdersCreated entities were created for missing targets.
	PlaceholdersCreated int64 `json:"placeholders_created"`
	// PointedAtPlaceholders relationships now point to a placeholder.
	PointedAtPlaceholders int64 `json:"pointed_at_placeholders"`
	// Pending relationships have no target (skipTargetCreation).
	Pending int64 `json:"pending"`
}

// PeopleResult reports a map_users_to_people() call.
type PeopleResult struct {
	// UsersMapped is the number of users related to a person.
	UsersMapped int64 `json:"users_mapped"`
	// PeopleCreated placeholder employees were created.
	PeopleCreated int64 `json:"people_created"`
	// Added, Changed and Removed count the rule's relationships.
	Added   int64 `json:"added"`
	Changed int64 `json:"changed"`
	Removed int64 `json:"removed"`
}

// AfterSyncResult reports an after_sync() call.
type AfterSyncResult struct {
	// Mapped is what resolve_mapped_relationships() did.
	Mapped MappingResult `json:"mapped"`
	// UserIsPerson is what map_users_to_people() did.
	UserIsPerson PeopleResult `json:"userIsPerson"`
	// PlaceholdersRemoved counts the placeholders gc_placeholders() removed.
	PlaceholdersRemoved int64 `json:"placeholdersRemoved"`
}

// AfterSync runs what follows every load: resolve_mapped_relationships(),
// map_users_to_people() and gc_placeholders(), in one transaction under the
// schema's resolve lock. Call it yourself after changing data by other
// means or when Options.NoAfterSync is set. runID, when not zero, is
// recorded on the change-log rows it writes.
func (db *DB) AfterSync(ctx context.Context, runID int64) (*AfterSyncResult, error) {
	return db.afterSync(ctx, nil, runID)
}

func runArg(runID int64) *int64 {
	if runID == 0 {
		return nil
	}
	return &runID
}

func (db *DB) afterSync(ctx context.Context, conn *pgxpool.Conn, runID int64) (*AfterSyncResult, error) {
	var raw []byte
	err := db.inTx(ctx, conn, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT after_sync($1)`, runArg(runID)).Scan(&raw)
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: after_sync: %w", err)
	}
	res := &AfterSyncResult{}
	if err := json.Unmarshal(raw, res); err != nil {
		return nil, fmt.Errorf("postgres: after_sync result: %w", err)
	}
	return res, nil
}

// ResolveMappings runs resolve_mapped_relationships(): mapped relationships
// whose target matches an entity by its targetFilterKeys point to it;
// missing targets are created as placeholders of the "mapped"
// pseudo-instance (0) unless skipTargetCreation, which leaves them pending
// for later runs.
func (db *DB) ResolveMappings(ctx context.Context) (*MappingResult, error) {
	res := &MappingResult{}
	err := db.inTx(ctx, nil, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT resolved, placeholders_created, pointed_at_placeholders, pending FROM resolve_mapped_relationships(NULL)`).
			Scan(&res.Resolved, &res.PlaceholdersCreated, &res.PointedAtPlaceholders, &res.Pending)
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: resolve_mapped_relationships: %w", err)
	}
	return res, nil
}

// MapUsersToPeople runs map_users_to_people(), the rule "map users to
// employees": every User-class entity with an email IS a Person (_type
// employee) with that email, created when missing; users whose userType is
// generic, service or bot (any case) are skipped. Placeholders no longer
// referenced are removed afterwards (gc_placeholders()).
func (db *DB) MapUsersToPeople(ctx context.Context) (*PeopleResult, error) {
	res := &PeopleResult{}
	err := db.inTx(ctx, nil, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT users_mapped, people_created, added, changed, removed FROM map_users_to_people(NULL)`).
			Scan(&res.UsersMapped, &res.PeopleCreated, &res.Added, &res.Changed, &res.Removed); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `SELECT gc_placeholders(NULL)`)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: map_users_to_people: %w", err)
	}
	return res, nil
}

// ForgetInstance deletes an instance and everything loaded for it (see
// forget_instance() in docs/postgres.md). It reports whether the instance
// existed; it fails while a run of the instance is going on.
func (db *DB) ForgetInstance(ctx context.Context, inst Instance) (bool, error) {
	var n int64
	err := db.inTx(ctx, nil, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT forget_instance($1, $2)`, inst.Integration, inst.name()).Scan(&n)
	})
	if err != nil {
		return false, fmt.Errorf("postgres: forget instance %s: %w", inst, err)
	}
	return n == 1, nil
}

package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
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
	// Skipped is true when the rule was not evaluated because it could not
	// change anything: the load changed no entity of the instance, the
	// previous after_sync succeeded, and no instance holds real employees
	// with an email.
	Skipped bool `json:"skipped,omitempty"`
}

// AfterSyncResult reports an after_sync() call.
type AfterSyncResult struct {
	// Mapped is what resolve_mapped_relationships() did.
	Mapped MappingResult `json:"mapped"`
	// UserIsPerson is what map_users_to_people() did (Skipped when the
	// load changed no entity and nothing else could change its result).
	UserIsPerson PeopleResult `json:"userIsPerson"`
	// PlaceholdersRemoved counts the placeholders gc_placeholders() removed.
	PlaceholdersRemoved int64 `json:"placeholdersRemoved"`
}

// AfterSync runs what follows every load for every instance that no run
// holds at the moment: resolve_mapped_relationships(),
// map_users_to_people() and gc_placeholders() of that instance, one
// transaction per instance, under the instance's lock (busy instances are
// skipped: their run does it). Call it after changing data by other means,
// when Options.NoAfterSync is set, or to resolve mapped relationships
// against entities another instance loaded since. runID, when not zero, is
// recorded on the change-log rows it writes. The result is the sum.
func (db *DB) AfterSync(ctx context.Context, runID int64) (*AfterSyncResult, error) {
	total := &AfterSyncResult{}
	err := db.eachInstance(ctx, func(conn *pgxpool.Conn, id int64) error {
		r, err := db.afterSync(ctx, conn, runID, id, true)
		if err != nil {
			return err
		}
		total.add(r)
		return nil
	})
	return total, err
}

func (r *AfterSyncResult) add(o *AfterSyncResult) {
	r.Mapped.Resolved += o.Mapped.Resolved
	r.Mapped.PlaceholdersCreated += o.Mapped.PlaceholdersCreated
	r.Mapped.PointedAtPlaceholders += o.Mapped.PointedAtPlaceholders
	r.Mapped.Pending += o.Mapped.Pending
	r.UserIsPerson.UsersMapped += o.UserIsPerson.UsersMapped
	r.UserIsPerson.PeopleCreated += o.UserIsPerson.PeopleCreated
	r.UserIsPerson.Added += o.UserIsPerson.Added
	r.UserIsPerson.Changed += o.UserIsPerson.Changed
	r.UserIsPerson.Removed += o.UserIsPerson.Removed
	r.PlaceholdersRemoved += o.PlaceholdersRemoved
}

// eachInstance calls fn for each instance (but the mapped pseudo-instance)
// on a connection holding that instance's lock; instances another run
// holds are skipped.
func (db *DB) eachInstance(ctx context.Context, fn func(conn *pgxpool.Conn, id int64) error) error {
	var ids []int64
	err := db.inTx(ctx, nil, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id FROM instance WHERE id <> 0 ORDER BY id`)
		if err != nil {
			return err
		}
		ids, err = pgx.CollectRows(rows, pgx.RowTo[int64])
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: list instances: %w", err)
	}
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: connect: %w", err)
	}
	defer conn.Release()
	for _, id := range ids {
		var key int64
		var locked bool
		err := db.inTx(ctx, conn, func(tx pgx.Tx) error {
			return tx.QueryRow(ctx, `SELECT instance_lock_key($1)`, id).Scan(&key)
		})
		if err == nil {
			err = conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&locked)
		}
		if err != nil {
			return fmt.Errorf("postgres: lock instance %d: %w", id, err)
		}
		if !locked {
			continue
		}
		err = fn(conn, id)
		if _, uerr := conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, key); uerr != nil {
			_ = conn.Conn().Close(ctx)
			if err == nil {
				err = uerr
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func runArg(runID int64) *int64 {
	if runID == 0 {
		return nil
	}
	return &runID
}

// afterSync runs after_sync(run, instance, people) on conn, which must
// hold the instance's lock. A deadlock with another instance's after_sync
// (both touching the same placeholders) is retried.
func (db *DB) afterSync(ctx context.Context, conn *pgxpool.Conn, runID, instanceID int64, people bool) (*AfterSyncResult, error) {
	var raw []byte
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		err = db.inTx(ctx, conn, func(tx pgx.Tx) error {
			if err := tx.QueryRow(ctx, `SELECT after_sync($1, $2, $3)`, runArg(runID), instanceID, people).Scan(&raw); err != nil {
				return err
			}
			if db.hook != nil {
				if err := db.hook(ctx, "after sync", tx); err != nil {
					return err
				}
			}
			if runID != 0 {
				// The run ends here.
				_, err := tx.Exec(ctx, `UPDATE sync_run SET ended_at = clock_timestamp() WHERE id = $1`, runID)
				return err
			}
			return nil
		})
		var pe *pgconn.PgError
		if err == nil || !errors.As(err, &pe) || (pe.Code != "40P01" && pe.Code != "40001") {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: after_sync: %w", err)
	}
	res := &AfterSyncResult{}
	if err := json.Unmarshal(raw, res); err != nil {
		return nil, fmt.Errorf("postgres: after_sync result: %w", err)
	}
	return res, nil
}

// ResolveMappings runs resolve_mapped_relationships() for every instance
// no run holds: mapped relationships whose target matches an entity by
// its targetFilterKeys point to it; missing targets are created as
// placeholders of the "mapped" pseudo-instance (0) unless
// skipTargetCreation, which leaves them pending for later runs.
func (db *DB) ResolveMappings(ctx context.Context) (*MappingResult, error) {
	res := &MappingResult{}
	err := db.eachInstance(ctx, func(conn *pgxpool.Conn, id int64) error {
		return db.inTx(ctx, conn, func(tx pgx.Tx) error {
			var r MappingResult
			if err := tx.QueryRow(ctx, `SELECT resolved, placeholders_created, pointed_at_placeholders, pending FROM resolve_mapped_relationships(NULL, $1)`, id).
				Scan(&r.Resolved, &r.PlaceholdersCreated, &r.PointedAtPlaceholders, &r.Pending); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `SELECT gc_placeholders(NULL)`); err != nil {
				return err
			}
			res.Resolved += r.Resolved
			res.PlaceholdersCreated += r.PlaceholdersCreated
			res.PointedAtPlaceholders += r.PointedAtPlaceholders
			res.Pending += r.Pending
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: resolve_mapped_relationships: %w", err)
	}
	return res, nil
}

// MapUsersToPeople runs map_users_to_people() for every instance no run
// holds, the rule "map users to employees": every User-class entity with
// an email IS a Person (_type employee) with that email, created when
// missing; users whose userType is generic, service or bot (any case) are
// skipped. Placeholders no longer referenced are removed afterwards.
func (db *DB) MapUsersToPeople(ctx context.Context) (*PeopleResult, error) {
	res := &PeopleResult{}
	err := db.eachInstance(ctx, func(conn *pgxpool.Conn, id int64) error {
		return db.inTx(ctx, conn, func(tx pgx.Tx) error {
			var r PeopleResult
			if err := tx.QueryRow(ctx, `SELECT users_mapped, people_created, added, changed, removed FROM map_users_to_people(NULL, $1)`, id).
				Scan(&r.UsersMapped, &r.PeopleCreated, &r.Added, &r.Changed, &r.Removed); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `SELECT gc_placeholders(NULL)`); err != nil {
				return err
			}
			res.UsersMapped += r.UsersMapped
			res.PeopleCreated += r.PeopleCreated
			res.Added += r.Added
			res.Changed += r.Changed
			res.Removed += r.Removed
			return nil
		})
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

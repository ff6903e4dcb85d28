package postgres

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/stepgraph/stepgraph/sdk/store"
)

// A first load of an instance (no stored object of a kind) skips staging:
// objects are copied straight into entity / relationship, and one INSERT
// ... SELECT writes their change-log rows. Relationship ends are resolved
// in Go from the instance's entity ids (entityIDs below); an end that
// cannot be resolved there is left null and linked by relink() on the
// server, by key.

// entityIDs maps the instance's entity keys to ids by two independent
// seeded hashes of the key (so a wrong match needs a 128-bit collision).
// Keys sharing the first hash are dropped (resolved by the server).
type entityIDs struct {
	seed1, seed2 maphash.Seed
	ids          map[uint64]entityRef
}

type entityRef struct {
	id    int64 // -1: several keys share the hash
	check uint64
}

func loadEntityIDs(ctx context.Context, tx pgx.Tx, instanceID int64) (*entityIDs, error) {
	m := &entityIDs{seed1: maphash.MakeSeed(), seed2: maphash.MakeSeed(), ids: map[uint64]entityRef{}}
	rows, err := tx.Query(ctx, `SELECT id, key FROM entity WHERE instance_id = $1`,
		pgx.QueryResultFormats{pgx.BinaryFormatCode}, instanceID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		vals := rows.RawValues()
		if len(vals) != 2 || len(vals[0]) != 8 {
			return nil, errors.New("unexpected row shape reading entity ids")
		}
		h := maphash.Bytes(m.seed1, vals[1])
		ref := entityRef{id: int64(binary.BigEndian.Uint64(vals[0])), check: maphash.Bytes(m.seed2, vals[1])}
		if _, dup := m.ids[h]; dup {
			ref.id = -1
		}
		m.ids[h] = ref
	}
	return m, rows.Err()
}

// lookup returns the id of the entity with key k, or nil.
func (m *entityIDs) lookup(k *string) any {
	if k == nil {
		return nil
	}
	ref, ok := m.ids[maphash.String(m.seed1, *k)]
	if !ok || ref.id < 0 || ref.check != maphash.String(m.seed2, *k) {
		return nil
	}
	return ref.id
}

var (
	directEntityColumns = []string{"instance_id", "key", "type", "classes", "display_name", "properties", "raw_data", "doc_hash",
		"first_seen", "modified_at", "run_id"}
	directRelColumns = []string{"instance_id", "key", "type", "class", "display_name", "from_key", "to_key", "from_id", "to_id",
		"properties", "mapping", "reverse", "mapping_status", "doc_hash", "first_seen", "modified_at", "run_id"}
)

// directTarget is the copy target of a first load of kind k.
func directTarget(ctx context.Context, tx pgx.Tx, k kind, s *session, collected time.Time) (copyTarget, error) {
	if k.name == "entity" {
		return copyTarget{table: "entity", columns: directEntityColumns, row: func(obj []byte, key, typ string, h docHash) ([]any, error) {
			r, err := entityRow(obj, key, typ, h)
			if err != nil {
				return nil, err
			}
			// r: ord, key, type, classes, display_name, properties, raw_data, doc_hash
			return []any{s.instanceID, r[1], r[2], r[3], r[4], r[5], r[6], r[7], collected, collected, s.runID}, nil
		}}, nil
	}
	ids, err := loadEntityIDs(ctx, tx, s.instanceID)
	if err != nil {
		return copyTarget{}, fmt.Errorf("read entity ids: %w", err)
	}
	return copyTarget{table: "relationship", columns: directRelColumns, row: func(obj []byte, key, typ string, h docHash) ([]any, error) {
		r, err := relationshipRow(obj, key, typ, h)
		if err != nil {
			return nil, err
		}
		// r: ord, key, type, class, display_name, from_key, to_key, mapping, reverse, properties, doc_hash
		from, _ := r[5].(*string)
		to, _ := r[6].(*string)
		var status any
		if r[7] != nil {
			status = "pending"
		}
		return []any{s.instanceID, r[1], r[2], r[3], r[4], r[5], r[6], ids.lookup(from), ids.lookup(to),
			r[9], r[7], r[8], status, r[10], collected, collected, s.runID}, nil
	}}, nil
}

// copyDirect copies every object of kind k straight into its table. It
// reports false (and has written nothing) when the collection repeats a
// key: the caller then loads through the staging tables, which pick the
// last object of a key.
//
// Relationships go in key order (see sorted.go); sorted, when not nil,
// returns their sorted references (read ahead while the entities load).
func copyDirect(ctx context.Context, tx pgx.Tx, dir *store.Dir, k kind, kn *known, partial map[string]bool, to copyTarget,
	sorted func() (*sortedObjects, []string, error), maxOpen int) (*scanStats, bool, error) {
	var refs *sortedObjects
	var files []string
	if k.name == "relationship" {
		if sorted == nil {
			sorted = func() (*sortedObjects, []string, error) {
				files := graphFiles(dir, k)
				refs, err := sortedRefs(ctx, dir, k, files)
				return refs, files, err
			}
		}
		var err error
		if refs, files, err = sorted(); errors.Is(err, errRepeatedKey) {
			return nil, false, nil
		} else if err != nil {
			return nil, false, fmt.Errorf("copy %s: %w", k.list, err)
		}
	}
	sp, err := tx.Begin(ctx) // savepoint
	if err != nil {
		return nil, false, err
	}
	var st *scanStats
	if refs != nil && len(refs.refs) > 0 {
		st = &scanStats{objects: int64(len(refs.refs)), sent: int64(len(refs.refs))}
		if err = copySorted(ctx, sp, dir, files, refs, to, maxOpen); err != nil {
			err = fmt.Errorf("copy %s: %w", k.list, err)
		}
	} else {
		st, err = stagePass(ctx, sp, dir, k, kn, partial, nil, to)
	}
	if err != nil {
		_ = sp.Rollback(ctx)
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "23505" {
			return nil, false, nil
		}
		return nil, false, err
	}
	return st, true, sp.Commit(ctx)
}

// logAddedDirect writes the change-log rows of a first load of kind k:
// every object of the kind the instance now has was added by this run.
func logAddedDirect(ctx context.Context, tx pgx.Tx, k kind, s *session) (int64, error) {
	q := `INSERT INTO change_log_entry (run_id, instance_id, kind, change, key, type)
		SELECT $2, $1, 'entity', 'added', key, type FROM entity WHERE instance_id = $1`
	if k.name == "relationship" {
		q = `INSERT INTO change_log_entry (run_id, instance_id, kind, change, key, type)
		SELECT $2, $1, 'relationship', 'added', key, type FROM relationship WHERE instance_id = $1 AND rule IS NULL`
	}
	tag, err := tx.Exec(ctx, q, s.instanceID, s.runID)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

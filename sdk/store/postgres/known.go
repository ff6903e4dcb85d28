package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
)

// docHash identifies the bytes of a collected object: the first 16 bytes
// of their SHA-256 (a collision that hides a change cannot be crafted).
type docHash [16]byte

func hashDoc(obj []byte) docHash {
	sum := sha256.Sum256(obj)
	var h docHash
	copy(h[:], sum[:16])
	return h
}

// storedRow is what a load needs to know about one object of the
// instance already in the database.
type storedRow struct {
	id      int64
	hash    docHash
	hasHash bool
	typ     string
	missing bool // missing_since is set
	shared  bool // another stored key has the same key hash
}

// known indexes the instance's stored objects of one kind (entities or
// relationships) by a hash of their key: the compact per-object state the
// loader keeps in memory (DESIGN §1.3). The hash is seeded per load, so two
// keys sharing it is as unlikely as 2^-64 per pair and cannot be arranged;
// when it happens anyway, objects with that hash are always sent and the
// stored rows sharing it are left alone for this run (never deleted by
// mistake).
type known struct {
	seed  maphash.Seed
	byKey map[uint64]int32 // key hash -> row index, or -1 when shared
	rows  []storedRow
	seen  []atomic.Uint64 // bit per row
	types map[string]string
}

func (k *known) keyHash(key string) uint64 { return maphash.String(k.seed, key) }

// lookup returns the stored row for key's hash: (-1, false) when there is
// none, (-1, true) when several stored keys share the hash.
func (k *known) lookup(h uint64) (idx int32, shared bool) {
	i, ok := k.byKey[h]
	if !ok {
		return -1, false
	}
	if i < 0 {
		return -1, true
	}
	return i, false
}

// markSeen records that row i is in the collection; it reports whether it
// already was (the collection repeats the key).
func (k *known) markSeen(i int32) (again bool) {
	w, bit := i/64, uint64(1)<<(uint(i)%64)
	return k.seen[w].Or(bit)&bit != 0
}

func (k *known) wasSeen(i int32) bool {
	return k.seen[i/64].Load()&(uint64(1)<<(uint(i)%64)) != 0
}

// loadKnown reads the instance's stored objects of table (entity or
// relationship; rule-derived relationships are not the collection's and
// are left out).
func loadKnown(ctx context.Context, tx pgx.Tx, table string, instanceID int64) (*known, error) {
	k := &known{seed: maphash.MakeSeed(), byKey: map[uint64]int32{}, types: map[string]string{}}
	q := `SELECT id, key, type, doc_hash, missing_since IS NOT NULL FROM entity WHERE instance_id = $1`
	if table == "relationship" {
		q = `SELECT id, key, type, doc_hash, missing_since IS NOT NULL FROM relationship WHERE instance_id = $1 AND rule IS NULL`
	}
	// Binary results: the id is 8 bytes big-endian, the bool one byte.
	rows, err := tx.Query(ctx, q, pgx.QueryResultFormats{pgx.BinaryFormatCode}, instanceID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		// Raw values: no string per key, the key is only hashed.
		vals := rows.RawValues()
		if len(vals) != 5 || len(vals[0]) != 8 || len(vals[4]) != 1 {
			return nil, fmt.Errorf("unexpected row shape reading %s", table)
		}
		typ := string(vals[2])
		t, ok := k.types[typ]
		if !ok {
			t = typ
			k.types[typ] = t
		}
		r := storedRow{id: int64(binary.BigEndian.Uint64(vals[0])), typ: t, missing: vals[4][0] != 0}
		if len(vals[3]) == len(r.hash) {
			copy(r.hash[:], vals[3])
			r.hasHash = true
		}
		h := maphash.Bytes(k.seed, vals[1])
		if j, dup := k.byKey[h]; dup {
			if j >= 0 {
				k.rows[j].shared = true
			}
			k.byKey[h] = -1
			r.shared = true
		} else {
			k.byKey[h] = int32(len(k.rows))
		}
		k.rows = append(k.rows, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(k.rows) >= 1<<31-1 {
		return nil, fmt.Errorf("instance holds too many %s rows", table)
	}
	k.seen = make([]atomic.Uint64, (len(k.rows)+63)/64)
	return k, nil
}

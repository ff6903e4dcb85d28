package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/stepgraph/stepgraph/sdk/graph"
)

// GraphReader reads one instance's graph back out of the database, type
// by type, with the same methods as store.Dir (EntityTypes,
// RelationshipTypes, IterateEntities, IterateRelationships), so whatever
// draws or exports a collection folder can read an instance too (e.g.
// `visualize --from`).
//
// The instance's graph is its own entities and relationships, plus the
// relationships of the mapped pseudo-instance 0 (those derived by mapping
// rules) that touch its entities, plus the entities of other instances
// (placeholders included) that these relationships point to. A
// relationship whose two ends are resolved comes back as a direct one
// between their keys; a mapped relationship still waiting for its target
// comes back with its _mapping.
//
// It reads only the entity, relationship and instance tables, each type
// with one query, all in one read-only repeatable-read transaction: every
// method sees the same snapshot, so a load committing meanwhile is seen
// either entirely or not at all. The methods must not be called
// concurrently, and Close ends the transaction.
type GraphReader struct {
	db                *DB
	tx                pgx.Tx
	inst              Instance
	id                int64
	entityTypes       []string
	relationshipTypes []string
	// foreign are the ids of other instances' entities the graph's
	// relationships point to, found once.
	foreign []int64
}

// ReadGraph opens the graph of inst for reading. It fails when the
// database has no such instance.
func (db *DB) ReadGraph(ctx context.Context, inst Instance) (*GraphReader, error) {
	if err := inst.validate(); err != nil {
		return nil, err
	}
	tx, err := db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, fmt.Errorf("postgres: read instance %s: %w", inst, err)
	}
	g := &GraphReader{db: db, tx: tx, inst: inst}
	if err := g.open(ctx); err != nil {
		_ = tx.Rollback(context.Background())
		return nil, err
	}
	return g, nil
}

// Close ends the reader's transaction. The reader is unusable afterwards.
func (g *GraphReader) Close() error {
	return g.tx.Rollback(context.Background())
}

// open finds the instance and lists what its graph holds.
func (g *GraphReader) open(ctx context.Context) error {
	db, inst := g.db, g.inst
	err := g.tx.QueryRow(ctx, `SELECT id FROM `+db.graphTable("instance")+` WHERE integration = $1 AND name = $2 AND id <> 0`,
		inst.Integration, inst.name()).Scan(&g.id)
	if errors.Is(err, pgx.ErrNoRows) {
		var known []string
		rows, qerr := g.tx.Query(ctx, `SELECT integration || '/' || name FROM `+db.graphTable("instance")+` WHERE id <> 0 ORDER BY 1`)
		if qerr == nil {
			known, _ = pgx.CollectRows(rows, pgx.RowTo[string])
		}
		if len(known) == 0 {
			return fmt.Errorf("postgres: no instance %s in schema %s (it holds none: push a collection first)", inst, db.schema)
		}
		return fmt.Errorf("postgres: no instance %s in schema %s (it holds %s)", inst, db.schema, strings.Join(known, ", "))
	}
	if err != nil {
		return fmt.Errorf("postgres: read instance %s: %w", inst, err)
	}
	ent := db.graphTable("entity")
	rows, err := g.tx.Query(ctx, `SELECT x.id FROM `+ent+` x WHERE x.instance_id <> $1 AND x.id IN (
			SELECT s.from_id FROM (`+g.relationshipScope()+`) s WHERE s.from_id IS NOT NULL
			UNION SELECT s.to_id FROM (`+g.relationshipScope()+`) s WHERE s.to_id IS NOT NULL)`, g.id)
	if err == nil {
		g.foreign, err = pgx.CollectRows(rows, pgx.RowTo[int64])
	}
	if err != nil {
		return fmt.Errorf("postgres: read %s: entities of other instances: %w", inst, err)
	}
	if g.entityTypes, err = g.types(ctx, `SELECT DISTINCT e.type FROM `+g.entityScope()+` ORDER BY 1`); err != nil {
		return err
	}
	if g.relationshipTypes, err = g.types(ctx, `SELECT DISTINCT r.type FROM (`+g.relationshipScope()+`) r ORDER BY 1`); err != nil {
		return err
	}
	return nil
}

// table returns the schema-qualified name of a table of the sink.
func (db *DB) graphTable(name string) string { return db.SearchPath() + "." + name }

// relationshipScope selects the instance's relationships ($1 = instance
// id) and the instance-0 relationships that touch its entities.
func (g *GraphReader) relationshipScope() string {
	rel, ent := g.db.graphTable("relationship"), g.db.graphTable("entity")
	cols := `r.key, r.type, r.class, r.from_key, r.to_key, r.from_id, r.to_id, r.properties, r.mapping`
	return `SELECT ` + cols + ` FROM ` + rel + ` r WHERE r.instance_id = $1
		UNION ALL
		SELECT ` + cols + ` FROM ` + rel + ` r WHERE r.instance_id = 0 AND $1 <> 0
		  AND (r.from_id IN (SELECT id FROM ` + ent + ` WHERE instance_id = $1)
		    OR r.to_id IN (SELECT id FROM ` + ent + ` WHERE instance_id = $1))`
}

// entityScope is a FROM item "e" of the instance's entities ($1) and those
// of other instances its relationships point to ($2, g.foreign).
func (g *GraphReader) entityScope() string {
	ent := g.db.graphTable("entity")
	return `(SELECT * FROM ` + ent + ` WHERE instance_id = $1
		UNION ALL
		SELECT * FROM ` + ent + ` WHERE id = ANY($2::bigint[])) e`
}

func (g *GraphReader) types(ctx context.Context, sql string) ([]string, error) {
	args := []any{g.id}
	if strings.Contains(sql, "$2") {
		args = append(args, g.foreign)
	}
	rows, err := g.tx.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: list types of %s: %w", g.inst, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("postgres: list types of %s: %w", g.inst, err)
	}
	return out, nil
}

// Instance returns the instance read.
func (g *GraphReader) Instance() Instance { return g.inst }

// EntityTypes returns the entity _types of the graph, sorted.
func (g *GraphReader) EntityTypes() []string { return g.entityTypes }

// RelationshipTypes returns the relationship _types of the graph, sorted.
func (g *GraphReader) RelationshipTypes() []string { return g.relationshipTypes }

// IterateEntities calls fn for each entity of typ, by key. _rawData is not
// read.
func (g *GraphReader) IterateEntities(ctx context.Context, typ string, fn func(*graph.Entity) error) error {
	rows, err := g.tx.Query(ctx, `SELECT e.key, e.classes, coalesce(e.display_name, ''), e.properties FROM `+g.entityScope()+
		` WHERE e.type = $3 ORDER BY e.key`, g.id, g.foreign, typ)
	if err != nil {
		return fmt.Errorf("postgres: read %s of %s: %w", typ, g.inst, err)
	}
	defer rows.Close()
	for rows.Next() {
		e := &graph.Entity{Type: typ}
		if err := rows.Scan(&e.Key, &e.Class, &e.DisplayName, &e.Properties); err != nil {
			return fmt.Errorf("postgres: read %s of %s: %w", typ, g.inst, err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("postgres: read %s of %s: %w", typ, g.inst, err)
	}
	return nil
}

// IterateRelationships calls fn for each relationship of typ, by key.
func (g *GraphReader) IterateRelationships(ctx context.Context, typ string, fn func(*graph.Relationship) error) error {
	rows, err := g.tx.Query(ctx, `SELECT r.key, r.class, coalesce(r.from_key, ''), coalesce(r.to_key, ''),
		r.from_id IS NOT NULL AND r.to_id IS NOT NULL, r.properties, r.mapping
		FROM (`+g.relationshipScope()+`) r WHERE r.type = $2 ORDER BY r.key`, g.id, typ)
	if err != nil {
		return fmt.Errorf("postgres: read %s of %s: %w", typ, g.inst, err)
	}
	defer rows.Close()
	for rows.Next() {
		r := &graph.Relationship{Type: typ}
		var resolved bool
		var mapping []byte
		if err := rows.Scan(&r.Key, &r.Class, &r.FromKey, &r.ToKey, &resolved, &r.Properties, &mapping); err != nil {
			return fmt.Errorf("postgres: read %s of %s: %w", typ, g.inst, err)
		}
		if mapping != nil && !resolved {
			// Still waiting for its target: hand the mapping on.
			r.Mapping = &graph.Mapping{}
			if err := json.Unmarshal(mapping, r.Mapping); err != nil {
				return fmt.Errorf("postgres: %s %s: _mapping: %w", typ, r.Key, err)
			}
			r.FromKey, r.ToKey = "", ""
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("postgres: read %s of %s: %w", typ, g.inst, err)
	}
	return nil
}

// Counts returns the number of objects of each type of the graph (entity
// and relationship types), e.g. to compare with a collection folder.
func (g *GraphReader) Counts(ctx context.Context) (map[string]int, error) {
	out := map[string]int{}
	for _, q := range []string{
		`SELECT e.type, count(*) FROM ` + g.entityScope() + ` GROUP BY 1`,
		`SELECT r.type, count(*) FROM (` + g.relationshipScope() + `) r GROUP BY 1`,
	} {
		args := []any{g.id}
		if strings.Contains(q, "$2") {
			args = append(args, g.foreign)
		}
		rows, err := g.tx.Query(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("postgres: count %s: %w", g.inst, err)
		}
		for rows.Next() {
			var t string
			var n int
			if err := rows.Scan(&t, &n); err != nil {
				rows.Close()
				return nil, err
			}
			out[t] += n
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

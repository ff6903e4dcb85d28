package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/stepgraph/stepgraph/sdk/graph"
	"github.com/stepgraph/stepgraph/sdk/runtime"
	"github.com/stepgraph/stepgraph/sdk/store"
)

const urlEnv = "STEPGRAPH_TEST_POSTGRES_URL"

var nonIdent = regexp.MustCompile(`[^a-z0-9_]+`)

// testPool returns a pool on the test server, or skips the test.
func testPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	url := os.Getenv(urlEnv)
	if url == "" {
		t.Skipf("%s is not set: no PostgreSQL to test against (run `source .ci/postgres.sh` first)", urlEnv)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatalf("parse %s: %v", urlEnv, err)
	}
	cfg.MaxConns = 8
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// uniqueSchema returns a fresh schema name for t.
func uniqueSchema(t testing.TB) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	name := nonIdent.ReplaceAllString(strings.ToLower(t.Name()), "_")
	if len(name) > 40 {
		name = name[:40]
	}
	return "t_" + name + "_" + hex.EncodeToString(b[:])
}

// testDB opens the sink in a schema of its own, dropped when t ends.
func testDB(t testing.TB, opts Options) *DB {
	t.Helper()
	pool := testPool(t)
	if opts.Schema == "" {
		opts.Schema = uniqueSchema(t)
	}
	ctx := context.Background()
	db, err := New(ctx, pool, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if os.Getenv("STEPGRAPH_TEST_KEEP_SCHEMA") != "" {
			t.Logf("kept schema %s", opts.Schema)
			return
		}
		if _, err := pool.Exec(context.Background(), `DROP SCHEMA `+db.SearchPath()+` CASCADE`); err != nil {
			t.Logf("drop schema: %v", err)
		}
	})
	return db
}

// collection describes a synthetic .j1-integration output.
type collection struct {
	integration string
	started     time.Time
	// steps: id -> declared types and status; objects go to the step
	// that declares their type.
	steps    []stepSpec
	entities []*graph.Entity
	rels     []*graph.Relationship
}

type stepSpec struct {
	id       string
	types    []string
	status   string
	partial  []string
	required bool
}

// write publishes c under dir/.j1-integration and opens it.
func (c *collection) write(t testing.TB, dir string) *store.Dir {
	t.Helper()
	root := filepath.Join(dir, store.DefaultRoot)
	fs, err := store.NewFilesystem(root, store.FilesystemOptions{MaxObjectsPerFile: 250})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	stepOf := map[string]string{}
	for _, s := range c.steps {
		for _, typ := range s.types {
			stepOf[typ] = s.id
		}
	}
	byStep := map[string][]*graph.Entity{}
	for _, e := range c.entities {
		st := stepOf[e.Type]
		if st == "" {
			t.Fatalf("no step declares %s", e.Type)
		}
		byStep[st] = append(byStep[st], e)
	}
	for st, es := range byStep {
		if err := fs.AddEntities(ctx, st, es); err != nil {
			t.Fatal(err)
		}
	}
	relsByStep := map[string][]*graph.Relationship{}
	for _, r := range c.rels {
		st := stepOf[r.Type]
		if st == "" {
			t.Fatalf("no step declares %s", r.Type)
		}
		relsByStep[st] = append(relsByStep[st], r)
	}
	for st, rs := range relsByStep {
		if err := fs.AddRelationships(ctx, st, rs); err != nil {
			t.Fatal(err)
		}
	}
	started := c.started
	if started.IsZero() {
		started = time.Now()
	}
	sum := &runtime.Summary{Integration: c.integration, StartedOn: started.UnixMilli(), EndedOn: started.Add(time.Second).UnixMilli()}
	partial := map[string]bool{}
	for _, s := range c.steps {
		status := s.status
		if status == "" {
			status = runtime.StatusSuccess
		}
		ss := runtime.StepSummary{ID: s.id, Name: s.id, DeclaredTypes: append([]string{}, s.types...), PartialTypes: append([]string{}, s.partial...),
			EncounteredTypeCounts: map[string]int64{}, Status: status, StartedOn: started.UnixMilli(), EndedOn: started.Add(time.Second).UnixMilli()}
		if status != runtime.StatusSuccess {
			for _, typ := range s.types {
				partial[typ] = true
			}
		}
		for _, typ := range s.partial {
			partial[typ] = true
		}
		sum.Steps = append(sum.Steps, ss)
	}
	for typ := range partial {
		sum.Metadata.PartialDatasets.Types = append(sum.Metadata.PartialDatasets.Types, typ)
	}
	sort.Strings(sum.Metadata.PartialDatasets.Types)
	doc, err := json.Marshal(sum)
	if err != nil {
		t.Fatal(err)
	}
	if err := fs.Commit(ctx, doc); err != nil {
		t.Fatal(err)
	}
	d, err := store.OpenDir(root)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func entity(key, typ string, class []string, name string, props map[string]any) *graph.Entity {
	e := &graph.Entity{Key: key, Type: typ, Class: class, DisplayName: name}
	for k, v := range props {
		e.Set(k, v)
	}
	return e
}

// query runs sql in the db's schema and returns the rows as strings
// joined by "|".
func query(t testing.TB, db *DB, sql string, args ...any) []string {
	t.Helper()
	var out []string
	err := db.inTx(context.Background(), nil, func(tx pgx.Tx) error {
		rows, err := tx.Query(context.Background(), sql, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				return err
			}
			parts := make([]string, len(vals))
			for i, v := range vals {
				if v == nil {
					parts[i] = "<nil>"
				} else {
					parts[i] = fmt.Sprint(v)
				}
			}
			out = append(out, strings.Join(parts, "|"))
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatalf("query %q: %v", sql, err)
	}
	return out
}

func queryInt(t testing.TB, db *DB, sql string, args ...any) int64 {
	t.Helper()
	var n int64
	err := db.inTx(context.Background(), nil, func(tx pgx.Tx) error {
		return tx.QueryRow(context.Background(), sql, args...).Scan(&n)
	})
	if err != nil {
		t.Fatalf("query %q: %v", sql, err)
	}
	return n
}

func mustPush(t testing.TB, db *DB, d *store.Dir, inst Instance) *PushResult {
	t.Helper()
	res, err := Push(context.Background(), db, d, inst)
	if err != nil {
		t.Fatalf("Push: %v", err)
	}
	return res
}

func rawDefault(b []byte) graph.RawData {
	return graph.RawData{Name: "default", Data: json.RawMessage(b)}
}

// exec runs sql (statements without parameters) in the db's schema.
func exec(t testing.TB, db *DB, sql string) {
	t.Helper()
	err := db.inTx(context.Background(), nil, func(tx pgx.Tx) error {
		_, err := tx.Exec(context.Background(), sql)
		return err
	})
	if err != nil {
		t.Fatalf("exec %q: %v", sql, err)
	}
}

package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/stepgraph/stepgraph/sdk/graph"
	"github.com/stepgraph/stepgraph/sdk/store"
)

// copyBatch is how many rows a reader hands to COPY at once.
const copyBatch = 512

// kind is what the loader needs to know about entities or relationships.
type kind struct {
	name    string // "entity" or "relationship": table and change_log.kind
	list    string // the graph file's array: "entities" or "relationships"
	stage   string // temporary staging table
	columns []string
	// row splits a raw object into the staging columns after ord.
	row func(obj []byte, key, typ string, h docHash) ([]any, error)
}

var entityKind = kind{
	name: "entity", list: "entities", stage: "stage_entity",
	columns: []string{"ord", "key", "type", "classes", "display_name", "properties", "raw_data", "doc_hash"},
	row:     entityRow,
}

var relationshipKind = kind{
	name: "relationship", list: "relationships", stage: "stage_rel",
	columns: []string{"ord", "key", "type", "class", "display_name", "from_key", "to_key", "mapping", "reverse", "properties", "doc_hash"},
	row:     relationshipRow,
}

const stageDDL = `
CREATE TEMP TABLE stage_entity (ord bigint NOT NULL, key text NOT NULL, type text NOT NULL,
	classes text[] NOT NULL, display_name text, properties jsonb NOT NULL, raw_data jsonb,
	doc_hash bytea NOT NULL) ON COMMIT DROP;
CREATE TEMP TABLE stage_rel (ord bigint NOT NULL, key text NOT NULL, type text NOT NULL,
	class text NOT NULL, display_name text, from_key text, to_key text, mapping jsonb,
	reverse boolean NOT NULL, properties jsonb NOT NULL, doc_hash bytea NOT NULL) ON COMMIT DROP`

// errFound stops a member walk early.
var errFound = errors.New("found")

// keyAndType returns an object's _key and _type ("" when absent or not a
// string). Objects written by this SDK start with both, so the walk stops
// there instead of crossing the whole object (its _rawData above all).
func keyAndType(obj []byte) (key, typ string, err error) {
	var haveKey, haveType bool
	err = eachMember(obj, func(m member) error {
		var err error
		switch {
		case nameIs(m.name, "_key"):
			key, _, err = jsonString(m.value)
			haveKey = true
		case nameIs(m.name, "_type"):
			typ, _, err = jsonString(m.value)
			haveType = true
		}
		if err == nil && haveKey && haveType {
			return errFound
		}
		return err
	})
	if errors.Is(err, errFound) {
		err = nil
	}
	return key, typ, err
}

// propsBuilder collects the flat properties of an object as a JSON object.
type propsBuilder struct{ buf []byte }

func (p *propsBuilder) add(m member) {
	if len(p.buf) == 0 {
		p.buf = append(p.buf, '{')
	} else {
		p.buf = append(p.buf, ',')
	}
	p.buf = append(p.buf, '"')
	p.buf = append(p.buf, m.name...)
	p.buf = append(p.buf, '"', ':')
	p.buf = append(p.buf, m.value...)
}

func (p *propsBuilder) bytes() []byte {
	if len(p.buf) == 0 {
		return []byte("{}")
	}
	return append(p.buf, '}')
}

func entityRow(obj []byte, key, typ string, h docHash) ([]any, error) {
	var (
		classes = []string{}
		display *string
		raw     []byte
		props   propsBuilder
	)
	err := eachMember(obj, func(m member) error {
		switch {
		case nameIs(m.name, "_key"), nameIs(m.name, "_type"):
		case nameIs(m.name, "_class"):
			c, err := jsonStrings(m.value)
			if err != nil {
				return fmt.Errorf("_class: %w", err)
			}
			classes = c
		case nameIs(m.name, "displayName"):
			s, ok, err := jsonString(m.value)
			if err != nil {
				return fmt.Errorf("displayName: %w", err)
			}
			if ok && s != "" {
				display = &s
			}
		case nameIs(m.name, "_rawData"):
			if string(m.value) != "null" && string(m.value) != "[]" {
				raw = m.value
			}
		default:
			props.add(m)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var rawArg any
	if raw != nil {
		rawArg = raw
	}
	return []any{nil, key, typ, classes, display, props.bytes(), rawArg, h[:]}, nil
}

func relationshipRow(obj []byte, key, typ string, h docHash) ([]any, error) {
	var (
		class, display string
		from, to       *string
		mapping        []byte
		props          propsBuilder
	)
	err := eachMember(obj, func(m member) error {
		var err error
		switch {
		case nameIs(m.name, "_key"), nameIs(m.name, "_type"):
		case nameIs(m.name, "_class"):
			class, _, err = jsonString(m.value)
		case nameIs(m.name, "displayName"):
			display, _, err = jsonString(m.value)
		case nameIs(m.name, "_fromEntityKey"):
			var s string
			s, _, err = jsonString(m.value)
			from = nullString(s)
		case nameIs(m.name, "_toEntityKey"):
			var s string
			s, _, err = jsonString(m.value)
			to = nullString(s)
		case nameIs(m.name, "_mapping"):
			if string(m.value) != "null" {
				mapping = m.value
			}
		default:
			props.add(m)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", m.name, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if display == "" {
		display = class
	}
	reverse := false
	var mappingArg any
	if mapping != nil {
		var mp graph.Mapping
		if err := json.Unmarshal(mapping, &mp); err != nil {
			return nil, fmt.Errorf("_mapping: %w", err)
		}
		// The source end is in this instance; the target is resolved
		// after the load.
		reverse = mp.Direction == graph.Reverse
		if reverse {
			from, to = nil, nullString(mp.SourceEntityKey)
		} else {
			from, to = nullString(mp.SourceEntityKey), nil
		}
		mappingArg = mapping
	}
	return []any{nil, key, typ, class, display, from, to, mappingArg, reverse, props.bytes(), h[:]}, nil
}

// graphFiles lists the files holding objects of kind k, each once.
func graphFiles(dir *store.Dir, k kind) []string {
	var types []string
	files := func(string) []string { return nil }
	if k.name == "entity" {
		types, files = dir.EntityTypes(), dir.EntityFiles
	} else {
		types, files = dir.RelationshipTypes(), dir.RelationshipFiles
	}
	seen := map[string]bool{}
	var out []string
	for _, t := range types {
		for _, f := range files(t) {
			if !seen[f] {
				seen[f] = true
				out = append(out, f)
			}
		}
	}
	return out
}

// copyTarget is where a pass sends the objects it keeps: a staging table
// (rows start with the order column) or, for an instance that has no
// object of the kind yet, the final table itself.
type copyTarget struct {
	table   string
	columns []string
	ordered bool // the first column is the order number
	row     func(obj []byte, key, typ string, h docHash) ([]any, error)
}

func stagingTarget(k kind) copyTarget {
	return copyTarget{table: k.stage, columns: k.columns, ordered: true, row: k.row}
}

// scanStats is what one pass over a kind's files found.
type scanStats struct {
	mu      sync.Mutex
	objects int64    // objects with a _key and a _type
	sent    int64    // objects staged
	again   []uint64 // key hashes of stored rows the collection repeats
	unmiss  []int64  // stored rows seen again, not staged, with missing_since set
}

// stagePass reads every object of kind k from dir and stages those that
// need writing: objects the instance does not have, objects whose bytes
// differ from the stored ones (except stored objects of partial types,
// which are kept as they are), and, when only is not nil, every object
// whose key hash is in only. Rows of k it sees are marked in kn.
func stagePass(ctx context.Context, tx pgx.Tx, dir *store.Dir, k kind, kn *known, partial map[string]bool, only map[uint64]bool, to copyTarget) (*scanStats, error) {
	files := graphFiles(dir, k)
	st := &scanStats{}
	err := copyRows(ctx, tx, to.table, to.columns, to.ordered, len(files), func(ctx context.Context, part int, emit func([]any) error) error {
		path := files[part]
		b, err := os.ReadFile(filepath.Join(dir.Root(), filepath.FromSlash(path)))
		if err != nil {
			return err
		}
		var objects, sent int64
		var again []uint64
		var unmiss []int64
		err = eachObject(b, k.list, func(obj []byte) error {
			key, typ, err := keyAndType(obj)
			if err != nil {
				return err
			}
			if key == "" || typ == "" {
				return nil
			}
			objects++
			kh := kn.keyHash(key)
			h := hashDoc(obj)
			send := true
			if only != nil {
				send = only[kh]
			} else if i, shared := kn.lookup(kh); !shared && i >= 0 {
				row := &kn.rows[i]
				if kn.markSeen(i) {
					again = append(again, kh)
				} else if (row.hasHash && row.hash == h) || partial[typ] {
					send = false
					if row.missing {
						unmiss = append(unmiss, row.id)
					}
				}
			}
			if !send {
				return nil
			}
			sent++
			r, err := to.row(obj, key, typ, h)
			if err != nil {
				return fmt.Errorf("%s %q: %w", k.name, key, err)
			}
			return emit(r)
		})
		if err != nil {
			return fmt.Errorf("read %s: %w", path, err)
		}
		st.mu.Lock()
		st.objects += objects
		st.sent += sent
		st.again = append(st.again, again...)
		st.unmiss = append(st.unmiss, unmiss...)
		st.mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("copy %s: %w", k.list, err)
	}
	return st, nil
}

// uniqueKeys indexes a staging table by key, first removing all but the
// last object of a duplicated key (collections written by this SDK have
// none; other tools' may).
func uniqueKeys(ctx context.Context, tx pgx.Tx, table string) error {
	sp, err := tx.Begin(ctx) // savepoint
	if err != nil {
		return err
	}
	if _, err := sp.Exec(ctx, `CREATE UNIQUE INDEX ON `+table+` (key)`); err == nil {
		if err := sp.Commit(ctx); err != nil {
			return err
		}
	} else {
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "23505" {
			_ = sp.Rollback(ctx)
			return err
		}
		if err := sp.Rollback(ctx); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM `+table+` a USING `+table+` b
			WHERE a.key = b.key AND (a.ord < b.ord OR (a.ord = b.ord AND a.ctid < b.ctid))`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE UNIQUE INDEX ON `+table+` (key)`); err != nil {
			return err
		}
	}
	_, err = tx.Exec(ctx, `ANALYZE `+table)
	return err
}

// copyRows streams rows into table with COPY. The rows of part i (one
// graph file) come from produce(ctx, i, emit), run by a few goroutines in
// parallel so reading the collection uses the spare cores while the server
// ingests; when ordered, the first column is set to an order number (part
// << 32 | position) that makes "the last object of a key wins"
// deterministic.
func copyRows(ctx context.Context, tx pgx.Tx, table string, columns []string, ordered bool, parts int,
	produce func(ctx context.Context, part int, emit func([]any) error) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan [][]any, 8)
	next := make(chan int)
	workers := min(goruntime.GOMAXPROCS(0), 4, max(parts, 1))
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			batch := make([][]any, 0, copyBatch)
			send := func() error {
				select {
				case batches <- batch:
					batch = make([][]any, 0, copyBatch)
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			for part := range next {
				var pos int64
				err := produce(ctx, part, func(row []any) error {
					pos++
					if ordered {
						row[0] = int64(part)<<32 | pos
					}
					batch = append(batch, row)
					if len(batch) == copyBatch {
						return send()
					}
					return nil
				})
				if err != nil {
					errs[w] = err
					cancel()
					return
				}
			}
			if len(batch) > 0 {
				if err := send(); err != nil {
					errs[w] = err
					cancel()
				}
			}
		}()
	}
	go func() {
		defer close(next)
		for i := range parts {
			select {
			case next <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() {
		wg.Wait()
		close(batches)
	}()
	var cur [][]any
	i := 0
	src := pgx.CopyFromFunc(func() ([]any, error) {
		for i >= len(cur) {
			b, ok := <-batches
			if !ok {
				return nil, nil
			}
			cur, i = b, 0
		}
		row := cur[i]
		i++
		return row, nil
	})
	_, err := tx.CopyFrom(ctx, pgx.Identifier{table}, columns, src)
	cancel()
	for range batches { // let the producers finish
	}
	for _, e := range errs {
		if e != nil && !errors.Is(e, context.Canceled) {
			return e
		}
	}
	if err != nil {
		return err
	}
	if ctxErr := context.Cause(ctx); ctxErr != nil && !errors.Is(ctxErr, context.Canceled) {
		return ctxErr
	}
	return nil
}

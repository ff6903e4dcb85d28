package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	goruntime "runtime"
	"sort"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/stepgraph/stepgraph/sdk/graph"
	"github.com/stepgraph/stepgraph/sdk/store"
)

// Run statuses recorded in sync_run.status.
const (
	RunRunning   = "running"
	RunSuccess   = "success"
	RunPartial   = "partial"
	RunFailed    = "failed"
	RunAborted   = "aborted"
	RunAbandoned = "abandoned"
)

// PushResult reports one load.
type PushResult struct {
	// Instance is the instance loaded.
	Instance Instance
	// RunID is the sync_run row; Generation the instance's run counter.
	RunID      int64
	Generation int64
	// Status is RunSuccess or RunPartial (some step did not succeed, or
	// the collection had no summary.json).
	Status string
	// Entities and Relationships count the objects loaded.
	Entities, Relationships int64
	// Added, Changed and Removed count the change-log rows of the load
	// (entities and relationships of the instance).
	Added, Changed, Removed int64
	// CompleteTypes were eligible for stale cleanup; PartialTypes were not.
	CompleteTypes, PartialTypes []string
	// AfterSync is what the resolution after the load did (nil when
	// Options.NoAfterSync is set).
	AfterSync *AfterSyncResult
	// Duration is the wall time of the load (and resolution).
	Duration time.Duration
}

// String is a one-line report, e.g. for a CLI.
func (r *PushResult) String() string {
	return fmt.Sprintf("instance %s: run %d (generation %d, %s): %d entities, %d relationships loaded; %d added, %d changed, %d removed; %d types cleaned up, %d partial; %s",
		r.Instance, r.RunID, r.Generation, r.Status, r.Entities, r.Relationships, r.Added, r.Changed, r.Removed,
		len(r.CompleteTypes), len(r.PartialTypes), r.Duration.Round(time.Millisecond))
}

// ErrOlderCollection is returned by Push for a collection that started
// before the instance's last loaded one (see Options.AllowOlder).
var ErrOlderCollection = errors.New("collection is older than the last one loaded for this instance")

// Push loads a committed .j1-integration folder into db as a run of inst:
// bulk upserts (COPY into temporary staging tables, then INSERT ... ON
// CONFLICT), a change-log row per added, changed or removed object, stale
// cleanup of the complete types, and the mapped-relationship resolution.
// Loading the same collection twice changes nothing but last_seen and
// generation. It fails with a *BusyError when another run holds inst.
func Push(ctx context.Context, db *DB, dir *store.Dir, inst Instance) (*PushResult, error) {
	return db.Push(ctx, dir, inst)
}

// Push is the method form of the package-level Push.
func (db *DB) Push(ctx context.Context, dir *store.Dir, inst Instance) (*PushResult, error) {
	s, err := db.begin(ctx, inst, "push")
	if err != nil {
		return nil, err
	}
	res, err := db.loadAndResolve(ctx, s, dir)
	if err != nil && res == nil {
		s.end(ctx, RunFailed, err)
		return nil, err
	}
	s.end(ctx, "", nil)
	return res, err
}

func (db *DB) loadAndResolve(ctx context.Context, s *session, dir *store.Dir) (*PushResult, error) {
	start := time.Now()
	res, err := db.load(ctx, s, dir)
	if err != nil {
		return nil, err
	}
	if !db.opts.NoAfterSync {
		as, err := db.afterSync(ctx, s.conn, s.runID)
		res.AfterSync = as
		res.Duration = time.Since(start)
		if err != nil {
			return res, fmt.Errorf("postgres: instance %s loaded (run %d), but resolving mapped relationships failed (the next sync retries): %w", s.inst, s.runID, err)
		}
	}
	res.Duration = time.Since(start)
	db.log.Info("sync loaded", "instance", s.inst.String(), "run", res.RunID, "status", res.Status,
		"entities", res.Entities, "relationships", res.Relationships,
		"added", res.Added, "changed", res.Changed, "removed", res.Removed, "duration", res.Duration)
	return res, nil
}

// cleanupTypes splits the declared types of a summary: complete types
// (declared by a step that succeeded, and not listed partial anywhere) may
// lose stale objects; every other type may not.
func cleanupTypes(sum *store.Summary) (complete, partial []string) {
	if sum == nil {
		return nil, nil
	}
	part := map[string]bool{}
	for _, t := range sum.Metadata.PartialDatasets.Types {
		part[t] = true
	}
	for _, st := range sum.Steps {
		for _, t := range st.PartialTypes {
			part[t] = true
		}
		if st.Status != store.StatusSuccess {
			// failed, cancelled, partial because of a dependency,
			// disabled, or a status we do not know: not complete.
			for _, t := range st.DeclaredTypes {
				part[t] = true
			}
		}
	}
	comp := map[string]bool{}
	for _, st := range sum.Steps {
		if st.Status != store.StatusSuccess {
			continue
		}
		for _, t := range st.DeclaredTypes {
			if !part[t] {
				comp[t] = true
			}
		}
	}
	for t := range comp {
		complete = append(complete, t)
	}
	for t := range part {
		partial = append(partial, t)
	}
	sort.Strings(complete)
	sort.Strings(partial)
	return complete, partial
}

func runStatus(sum *store.Summary) string {
	if sum == nil {
		return RunPartial
	}
	for _, st := range sum.Steps {
		switch st.Status {
		case store.StatusSuccess, store.StatusDisabled:
		default:
			return RunPartial
		}
	}
	return RunSuccess
}

func millisTime(ms int64) *time.Time {
	if ms <= 0 {
		return nil
	}
	t := time.UnixMilli(ms).UTC()
	return &t
}

// load writes one collection in one transaction on the session's
// connection (the one holding the instance lock).
func (db *DB) load(ctx context.Context, s *session, dir *store.Dir) (*PushResult, error) {
	sum, err := dir.Summary()
	if err != nil {
		return nil, fmt.Errorf("postgres: read summary of %s: %w", dir.Root(), err)
	}
	if sum != nil && sum.Integration != "" && sum.Integration != s.inst.Integration {
		return nil, fmt.Errorf("postgres: %s holds a collection of integration %q, not %q", dir.Root(), sum.Integration, s.inst.Integration)
	}
	complete, partial := cleanupTypes(sum)
	if sum == nil {
		db.log.Warn("collection has no summary.json: loading without stale cleanup", "dir", dir.Root())
	}
	res := &PushResult{Instance: s.inst, RunID: s.runID, Generation: s.generation, Status: runStatus(sum),
		CompleteTypes: complete, PartialTypes: partial}
	if res.CompleteTypes == nil {
		res.CompleteTypes = []string{}
	}
	if res.PartialTypes == nil {
		res.PartialTypes = []string{}
	}
	collected := time.Now().UTC()
	var collStart, collEnd *time.Time
	if sum != nil {
		collStart, collEnd = millisTime(sum.StartedOn), millisTime(sum.EndedOn)
		if collStart != nil {
			collected = *collStart
		}
	}
	var summaryJSON []byte
	if sum != nil {
		if summaryJSON, err = json.Marshal(sum); err != nil {
			return nil, err
		}
	}

	err = db.inTx(ctx, s.conn, func(tx pgx.Tx) error {
		// Resolutions wait for loads, loads of different instances don't
		// wait for each other.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock_shared(resolve_lock_key())`); err != nil {
			return err
		}
		if collStart != nil && !db.opts.AllowOlder {
			var last *time.Time
			if err := tx.QueryRow(ctx, `SELECT last_collected_at FROM instance WHERE id = $1`, s.instanceID).Scan(&last); err != nil {
				return err
			}
			if last != nil && collStart.Before(*last) {
				return fmt.Errorf("postgres: %w: %s started %s, the last loaded one %s (set AllowOlder to load it anyway)",
					ErrOlderCollection, dir.Root(), collStart.Format(time.RFC3339), last.UTC().Format(time.RFC3339))
			}
		}
		phase := time.Now()
		lap := func(name string) {
			db.log.Debug("load phase", "instance", s.inst.String(), "phase", name, "duration", time.Since(phase))
			phase = time.Now()
		}
		if err := stageCollection(ctx, tx, dir, lap); err != nil {
			return err
		}
		if err := upsertEntities(ctx, tx, s, collected, res); err != nil {
			return fmt.Errorf("upsert entities: %w", err)
		}
		lap("upsert entities")
		if err := upsertRelationships(ctx, tx, s, collected, res); err != nil {
			return fmt.Errorf("upsert relationships: %w", err)
		}
		lap("upsert relationships")
		if len(complete) > 0 {
			if err := cleanup(ctx, tx, s, complete, res); err != nil {
				return fmt.Errorf("stale cleanup: %w", err)
			}
		}
		lap("cleanup")
		if _, err := tx.Exec(ctx, `UPDATE sync_run SET status = $2, ended_at = now(),
				collection_started_at = $3, collection_ended_at = $4,
				partial_types = $5, complete_types = $6,
				entities_loaded = $7, relationships_loaded = $8,
				added = $9, changed = $10, removed = $11, summary = $12
			WHERE id = $1`,
			s.runID, res.Status, collStart, collEnd, res.PartialTypes, res.CompleteTypes,
			res.Entities, res.Relationships, res.Added, res.Changed, res.Removed, summaryJSON); err != nil {
			return err
		}
		if sum != nil {
			if err := insertSteps(ctx, tx, s.runID, sum); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `UPDATE instance SET last_run_id = $2,
				last_collected_at = greatest(coalesce(last_collected_at, $3), $3)
			WHERE id = $1`, s.instanceID, s.runID, collected)
		return err
	})
	if err != nil {
		if !errors.Is(err, ErrOlderCollection) {
			err = fmt.Errorf("postgres: load %s into instance %s: %w", dir.Root(), s.inst, err)
		}
		return nil, err
	}
	return res, nil
}

func insertSteps(ctx context.Context, tx pgx.Tx, runID int64, sum *store.Summary) error {
	b := &pgx.Batch{}
	for _, st := range sum.Steps {
		counts, _ := json.Marshal(st.EncounteredTypeCounts)
		if st.EncounteredTypeCounts == nil {
			counts = []byte("{}")
		}
		b.Queue(`INSERT INTO sync_step (run_id, step_id, name, status, reason, declared_types, partial_types,
				type_counts, started_at, ended_at, error, error_code)
			VALUES ($1, $2, $3, $4, nullif($5, ''), $6, $7, $8, $9, $10, nullif($11, ''), nullif($12, ''))
			ON CONFLICT (run_id, step_id) DO NOTHING`,
			runID, st.ID, st.Name, st.Status, st.Reason, nonNil(st.DeclaredTypes), nonNil(st.PartialTypes),
			counts, millisTime(st.StartedOn), millisTime(st.EndedOn), st.Error, st.ErrorCode)
	}
	return tx.SendBatch(ctx, b).Close()
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// copyBatch is how many rows the reader hands to COPY at once.
const copyBatch = 512

var (
	entityColumns = []string{"ord", "key", "type", "classes", "display_name", "properties", "raw_data"}
	relColumns    = []string{"ord", "key", "type", "class", "display_name", "from_key", "to_key", "mapping", "reverse", "properties"}
)

// stageCollection streams every object of dir with COPY into temporary
// staging tables (dropped at commit), one column per field, and makes keys
// unique (the last object of a key wins, as in a JSON file read in order).
func stageCollection(ctx context.Context, tx pgx.Tx, dir *store.Dir, lap func(string)) error {
	for _, q := range []string{
		`CREATE TEMP TABLE stage_entity (ord bigint NOT NULL, key text NOT NULL, type text NOT NULL,
			classes text[] NOT NULL, display_name text, properties jsonb NOT NULL, raw_data jsonb) ON COMMIT DROP`,
		`CREATE TEMP TABLE stage_rel (ord bigint NOT NULL, key text NOT NULL, type text NOT NULL,
			class text NOT NULL, display_name text, from_key text, to_key text, mapping jsonb,
			reverse boolean NOT NULL, properties jsonb NOT NULL) ON COMMIT DROP`,
	} {
		if _, err := tx.Exec(ctx, q); err != nil {
			return err
		}
	}
	etypes, rtypes := dir.EntityTypes(), dir.RelationshipTypes()
	err := copyRows(ctx, tx, "stage_entity", entityColumns, len(etypes), func(ctx context.Context, part int, emit func([]any) error) error {
		{
			typ := etypes[part]
			err := dir.IterateEntities(ctx, typ, func(e *graph.Entity) error {
				if e.Key == "" || e.Type == "" {
					return nil
				}
				props, err := jsonProps(e.Properties)
				if err != nil {
					return fmt.Errorf("entity %q: %w", e.Key, err)
				}
				raw, err := jsonRawData(e.RawData)
				if err != nil {
					return fmt.Errorf("entity %q: %w", e.Key, err)
				}
				return emit([]any{nil, e.Key, e.Type, nonNil(e.Class), nullString(e.DisplayName), props, raw})
			})
			if err != nil {
				return fmt.Errorf("read %s entities: %w", typ, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("copy entities: %w", err)
	}
	lap("copy entities")
	err = copyRows(ctx, tx, "stage_rel", relColumns, len(rtypes), func(ctx context.Context, part int, emit func([]any) error) error {
		{
			typ := rtypes[part]
			err := dir.IterateRelationships(ctx, typ, func(r *graph.Relationship) error {
				if r.Key == "" || r.Type == "" {
					return nil
				}
				props, err := jsonProps(r.Properties)
				if err != nil {
					return fmt.Errorf("relationship %q: %w", r.Key, err)
				}
				dn := r.DisplayName
				if dn == "" {
					dn = r.Class
				}
				from, to := nullString(r.FromKey), nullString(r.ToKey)
				var mapping []byte
				reverse := false
				if m := r.Mapping; m != nil {
					if mapping, err = json.Marshal(m); err != nil {
						return fmt.Errorf("relationship %q: _mapping: %w", r.Key, err)
					}
					// The source end is in this instance; the target is
					// resolved later.
					reverse = m.Direction == graph.Reverse
					if reverse {
						from, to = nil, nullString(m.SourceEntityKey)
					} else {
						from, to = nullString(m.SourceEntityKey), nil
					}
				}
				return emit([]any{nil, r.Key, r.Type, r.Class, dn, from, to, mapping, reverse, props})
			})
			if err != nil {
				return fmt.Errorf("read %s relationships: %w", typ, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("copy relationships: %w", err)
	}
	lap("copy relationships")
	for _, table := range []string{"stage_entity", "stage_rel"} {
		if err := uniqueKeys(ctx, tx, table); err != nil {
			return err
		}
	}
	lap("index staging")
	return nil
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
		if _, err := tx.Exec(ctx, `DELETE FROM `+table+` a USING `+table+` b WHERE a.key = b.key AND a.ord < b.ord`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE UNIQUE INDEX ON `+table+` (key)`); err != nil {
			return err
		}
	}
	_, err = tx.Exec(ctx, `ANALYZE `+table)
	return err
}

func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// jsonProps encodes flat properties as a JSON object ({} when none).
func jsonProps(p map[string]any) ([]byte, error) {
	if len(p) == 0 {
		return []byte("{}"), nil
	}
	return json.Marshal(p)
}

// jsonRawData encodes _rawData, writing json.RawMessage data as is (it was
// decoded from valid JSON); nil when there is none.
func jsonRawData(rd []graph.RawData) ([]byte, error) {
	if len(rd) == 0 {
		return nil, nil
	}
	buf := []byte{'['}
	for i, r := range rd {
		if i > 0 {
			buf = append(buf, ',')
		}
		name, _ := json.Marshal(r.Name)
		buf = append(buf, `{"name":`...)
		buf = append(buf, name...)
		buf = append(buf, `,"rawData":`...)
		switch d := r.Data.(type) {
		case json.RawMessage:
			if len(d) == 0 {
				buf = append(buf, "null"...)
			} else {
				buf = append(buf, d...)
			}
		default:
			b, err := json.Marshal(d)
			if err != nil {
				return nil, fmt.Errorf("_rawData %q: %w", r.Name, err)
			}
			buf = append(buf, b...)
		}
		buf = append(buf, '}')
	}
	return append(buf, ']'), nil
}

// copyRows streams rows into table with COPY. The rows of part i (one
// _type of the collection) come from produce(ctx, i, emit), run by a few
// goroutines in parallel so decoding the collection uses the spare cores
// while the server ingests; the first column is set to an order number
// (part << 32 | position) that makes "the last object of a key wins"
// deterministic.
func copyRows(ctx context.Context, tx pgx.Tx, table string, columns []string, parts int,
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
			for part := range next {
				var pos int64
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
				err := produce(ctx, part, func(row []any) error {
					pos++
					row[0] = int64(part)<<32 | pos
					batch = append(batch, row)
					if len(batch) == copyBatch {
						return send()
					}
					return nil
				})
				if err == nil && len(batch) > 0 {
					err = send()
				}
				if err != nil {
					errs[w] = err
					cancel()
					return
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

func upsertEntities(ctx context.Context, tx pgx.Tx, s *session, collected time.Time, res *PushResult) error {
	return tx.QueryRow(ctx, `
WITH prev AS (
	SELECT e.key, e.type, e.classes, e.display_name, e.properties
	FROM entity e JOIN stage_entity s ON s.key = e.key
	WHERE e.instance_id = $1),
logged AS (
	INSERT INTO change_log (run_id, instance_id, kind, change, key, type, before, after)
	SELECT $2, $1, 'entity', CASE WHEN p.key IS NULL THEN 'added' ELSE 'changed' END, s.key, s.type,
		CASE WHEN p.key IS NOT NULL THEN entity_doc(p.classes, p.display_name, p.properties) END,
		entity_doc(s.classes, s.display_name, s.properties)
	FROM stage_entity s LEFT JOIN prev p ON p.key = s.key
	WHERE p.key IS NULL
	   OR (p.type, p.classes, p.display_name, p.properties) IS DISTINCT FROM (s.type, s.classes, s.display_name, s.properties)
	RETURNING change),
up AS (
	INSERT INTO entity AS e (instance_id, key, type, classes, display_name, properties, raw_data,
		first_seen, last_seen, modified_at, generation, run_id)
	SELECT $1, s.key, s.type, s.classes, s.display_name, s.properties, s.raw_data, $3, $3, $3, $4, $2
	FROM stage_entity s
	ON CONFLICT (instance_id, key) DO UPDATE SET
		type = excluded.type,
		classes = excluded.classes,
		display_name = excluded.display_name,
		-- keep the stored value (and its TOAST) when equal
		properties = CASE WHEN e.properties = excluded.properties THEN e.properties ELSE excluded.properties END,
		raw_data = CASE WHEN e.raw_data IS NOT DISTINCT FROM excluded.raw_data THEN e.raw_data ELSE excluded.raw_data END,
		modified_at = CASE WHEN (e.type, e.classes, e.display_name, e.properties)
				IS DISTINCT FROM (excluded.type, excluded.classes, excluded.display_name, excluded.properties)
			THEN excluded.modified_at ELSE e.modified_at END,
		last_seen = greatest(e.last_seen, excluded.last_seen),
		generation = excluded.generation,
		run_id = excluded.run_id
	RETURNING 1)
SELECT (SELECT count(*) FROM up),
	count(*) FILTER (WHERE change = 'added'),
	count(*) FILTER (WHERE change = 'changed')
FROM logged`, s.instanceID, s.runID, collected, s.generation).Scan(&res.Entities, addTo(&res.Added), addTo(&res.Changed))
}

func upsertRelationships(ctx context.Context, tx pgx.Tx, s *session, collected time.Time, res *PushResult) error {
	return tx.QueryRow(ctx, `
WITH prev AS (
	SELECT r.key, r.type, r.class, r.display_name, r.from_key, r.to_key, r.mapping, r.properties
	FROM relationship r JOIN stage_rel s ON s.key = r.key
	WHERE r.instance_id = $1),
logged AS (
	INSERT INTO change_log (run_id, instance_id, kind, change, key, type, before, after)
	SELECT $2, $1, 'relationship', CASE WHEN p.key IS NULL THEN 'added' ELSE 'changed' END, s.key, s.type,
		CASE WHEN p.key IS NOT NULL THEN relationship_doc(p.class, p.display_name, p.from_key, p.to_key, p.mapping, p.properties) END,
		relationship_doc(s.class, s.display_name, s.from_key, s.to_key, s.mapping, s.properties)
	FROM stage_rel s LEFT JOIN prev p ON p.key = s.key
	WHERE p.key IS NULL
	   OR (p.type, p.class, p.display_name, p.properties, p.mapping,
	       CASE WHEN p.mapping IS NULL THEN p.from_key END, CASE WHEN p.mapping IS NULL THEN p.to_key END)
	      IS DISTINCT FROM (s.type, s.class, s.display_name, s.properties, s.mapping,
	       CASE WHEN s.mapping IS NULL THEN s.from_key END, CASE WHEN s.mapping IS NULL THEN s.to_key END)
	RETURNING change),
up AS (
	INSERT INTO relationship AS r (instance_id, key, type, class, display_name, from_key, to_key, from_id, to_id,
		properties, mapping, reverse, mapping_status, first_seen, last_seen, modified_at, generation, run_id)
	SELECT $1, s.key, s.type, s.class, s.display_name, s.from_key, s.to_key, fe.id, te.id,
		s.properties, s.mapping, s.reverse, CASE WHEN s.mapping IS NOT NULL THEN 'pending' END,
		$3, $3, $3, $4, $2
	FROM stage_rel s
	LEFT JOIN entity fe ON fe.instance_id = $1 AND fe.key = s.from_key
	LEFT JOIN entity te ON te.instance_id = $1 AND te.key = s.to_key
	ON CONFLICT (instance_id, key) DO UPDATE SET
		type = excluded.type,
		class = excluded.class,
		display_name = excluded.display_name,
		properties = CASE WHEN r.properties = excluded.properties THEN r.properties ELSE excluded.properties END,
		-- an unchanged mapping keeps its resolved target
		from_id = CASE WHEN excluded.mapping IS NOT NULL AND r.mapping = excluded.mapping AND excluded.reverse
			THEN r.from_id ELSE excluded.from_id END,
		from_key = CASE WHEN excluded.mapping IS NOT NULL AND r.mapping = excluded.mapping AND excluded.reverse
			THEN r.from_key ELSE excluded.from_key END,
		to_id = CASE WHEN excluded.mapping IS NOT NULL AND r.mapping = excluded.mapping AND NOT excluded.reverse
			THEN r.to_id ELSE excluded.to_id END,
		to_key = CASE WHEN excluded.mapping IS NOT NULL AND r.mapping = excluded.mapping AND NOT excluded.reverse
			THEN r.to_key ELSE excluded.to_key END,
		mapping_status = CASE WHEN excluded.mapping IS NULL THEN NULL
			WHEN r.mapping = excluded.mapping THEN r.mapping_status ELSE 'pending' END,
		mapping = CASE WHEN r.mapping = excluded.mapping THEN r.mapping ELSE excluded.mapping END,
		reverse = excluded.reverse,
		modified_at = CASE WHEN (r.type, r.class, r.display_name, r.properties, r.mapping,
				CASE WHEN r.mapping IS NULL THEN r.from_key END, CASE WHEN r.mapping IS NULL THEN r.to_key END)
				IS DISTINCT FROM (excluded.type, excluded.class, excluded.display_name, excluded.properties, excluded.mapping,
				CASE WHEN excluded.mapping IS NULL THEN excluded.from_key END, CASE WHEN excluded.mapping IS NULL THEN excluded.to_key END)
			THEN excluded.modified_at ELSE r.modified_at END,
		last_seen = greatest(r.last_seen, excluded.last_seen),
		generation = excluded.generation,
		run_id = excluded.run_id
	RETURNING 1)
SELECT (SELECT count(*) FROM up),
	count(*) FILTER (WHERE change = 'added'),
	count(*) FILTER (WHERE change = 'changed')
FROM logged`, s.instanceID, s.runID, collected, s.generation).Scan(&res.Relationships, addTo(&res.Added), addTo(&res.Changed))
}

// cleanup removes the objects of complete types the run did not see.
// Relationships go first; an entity's removal sets the from_id / to_id of
// relationships (of partial types, or other instances' mapped ones) that
// still point to it to null.
func cleanup(ctx context.Context, tx pgx.Tx, s *session, complete []string, res *PushResult) error {
	var rels, ents int64
	if err := tx.QueryRow(ctx, `
WITH gone AS (
	DELETE FROM relationship r
	WHERE r.instance_id = $1 AND r.type = ANY($3) AND r.generation < $4
	RETURNING r.key, r.type, r.class, r.display_name, r.from_key, r.to_key, r.mapping, r.properties),
logged AS (
	INSERT INTO change_log (run_id, instance_id, kind, change, key, type, before)
	SELECT $2, $1, 'relationship', 'removed', key, type,
		relationship_doc(class, display_name, from_key, to_key, mapping, properties)
	FROM gone
	RETURNING 1)
SELECT count(*) FROM logged`, s.instanceID, s.runID, complete, s.generation).Scan(&rels); err != nil {
		return err
	}
	if err := tx.QueryRow(ctx, `
WITH gone AS (
	DELETE FROM entity e
	WHERE e.instance_id = $1 AND e.type = ANY($3) AND e.generation < $4
	RETURNING e.id, e.key, e.type, e.classes, e.display_name, e.properties),
unlinked AS (
	UPDATE relationship r SET
		from_id = CASE WHEN r.from_id IN (SELECT id FROM gone) THEN NULL ELSE r.from_id END,
		to_id = CASE WHEN r.to_id IN (SELECT id FROM gone) THEN NULL ELSE r.to_id END
	WHERE r.from_id IN (SELECT id FROM gone) OR r.to_id IN (SELECT id FROM gone)
	RETURNING 1),
logged AS (
	INSERT INTO change_log (run_id, instance_id, kind, change, key, type, before)
	SELECT $2, $1, 'entity', 'removed', key, type, entity_doc(classes, display_name, properties)
	FROM gone
	RETURNING 1)
SELECT count(*) FROM logged`, s.instanceID, s.runID, complete, s.generation).Scan(&ents); err != nil {
		return err
	}
	res.Removed += rels + ents
	return nil
}

// addTo scans an int64 and adds it to *dst.
type adder struct{ dst *int64 }

func addTo(dst *int64) *adder { return &adder{dst} }

// Scan implements sql.Scanner.
func (a *adder) Scan(src any) error {
	switch v := src.(type) {
	case int64:
		*a.dst += v
	case nil:
	default:
		return fmt.Errorf("postgres: unexpected count %T", src)
	}
	return nil
}

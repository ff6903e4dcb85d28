package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

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

	// peopleUnchanged: the user -> person rule cannot change its result
	// (see AfterSyncResult.UserIsPerson.Skipped).
	peopleUnchanged bool
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
	db.analyzeIfGrown(ctx, s, res.Added)
	if !db.opts.NoAfterSync {
		as, err := db.afterSync(ctx, s.conn, s.runID, s.instanceID, !res.peopleUnchanged)
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

// analyzeIfGrown refreshes the planner statistics of the graph tables
// after a load that added a large share of their rows (typically the first
// load of a big instance), so that after_sync and the queries that follow
// are planned for the real sizes. It samples lightly (statistics target
// 30: 9,000 rows per table instead of 30,000, a quarter of the CPU; row
// counts and the common values of instance_id, type and rule are what
// those plans need), and skips when another session is analysing the
// table, so it never waits. A later ANALYZE (autovacuum's, once a tenth of
// the rows changed, or an operator's) refines them.
func (db *DB) analyzeIfGrown(ctx context.Context, s *session, added int64) {
	if added < 1000 {
		return
	}
	err := db.inTx(ctx, s.conn, func(tx pgx.Tx) error {
		var est float64
		if err := tx.QueryRow(ctx, `SELECT coalesce(sum(greatest(reltuples, 0)), 0) FROM pg_class
			WHERE oid IN ('entity'::regclass, 'relationship'::regclass)`).Scan(&est); err != nil {
			return err
		}
		if float64(added) < 0.1*est {
			return nil
		}
		if _, err := tx.Exec(ctx, `SET LOCAL default_statistics_target = 30`); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `ANALYZE (SKIP_LOCKED) entity, relationship`)
		return err
	})
	if err != nil {
		db.log.Warn("analyze after load failed", "instance", s.inst.String(), "error", err)
	}
}

// cleanupTypes splits the declared types of a summary: complete types
// (declared by a step that succeeded, and not listed partial anywhere) may
// lose stale objects; every other type may not.
func cleanupTypes(sum *runSummary) (complete, partial []string) {
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
		if st.Status != statusSuccess {
			// failed, cancelled, partial because of a dependency,
			// disabled, or a status we do not know: not complete.
			for _, t := range st.DeclaredTypes {
				part[t] = true
			}
		}
	}
	comp := map[string]bool{}
	for _, st := range sum.Steps {
		if st.Status != statusSuccess {
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

// disabledSince reports whether a step disabled in this run (by
// configuration or a disabled source) succeeded in an earlier loaded run
// of the instance (enabled): the stored objects may carry properties that
// step computed, unknown in this run.
func disabledSince(sum *runSummary, enabled []string) bool {
	if sum == nil {
		return false
	}
	for _, st := range sum.Steps {
		if st.Status == statusDisabled && slices.Contains(enabled, st.ID) {
			return true
		}
	}
	return false
}

// succeededSteps lists the steps of the run that ended success.
func succeededSteps(sum *runSummary) []string {
	out := []string{}
	if sum == nil {
		return out
	}
	for _, st := range sum.Steps {
		if st.Status == statusSuccess {
			out = append(out, st.ID)
		}
	}
	return out
}

func runStatus(sum *runSummary) string {
	if sum == nil {
		return RunPartial
	}
	for _, st := range sum.Steps {
		switch st.Status {
		case statusSuccess, statusDisabled:
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
// connection (the one holding the instance lock). It reads what the
// instance holds (ids, key hashes, object hashes), then the collection:
// objects whose bytes are unchanged are not sent at all; new and changed
// ones are streamed with COPY into staging tables and upserted with their
// change-log rows; objects of complete types the collection lacks are
// deleted, those of other types are marked missing. Only rows of the
// instance are read or written, and no lock but the instance's is taken.
func (db *DB) load(ctx context.Context, s *session, dir *store.Dir) (*PushResult, error) {
	sum, err := readSummary(dir)
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
		summaryJSON = sum.doc
	}
	isComplete, isPartial := map[string]bool{}, map[string]bool{}
	for _, t := range complete {
		isComplete[t] = true
	}
	for _, t := range partial {
		isPartial[t] = true
	}

	err = db.inTx(ctx, s.conn, func(tx pgx.Tx) error {
		var last *time.Time
		var enabledSteps []string
		var ruleOK, realPeople, baseline bool
		if err := tx.QueryRow(ctx, `SELECT last_collected_at, enabled_steps,
				last_run_id IS NOT NULL AND after_sync_run_id IS NOT DISTINCT FROM last_run_id,
				EXISTS (SELECT 1 FROM entity WHERE type = 'employee' AND properties ? 'email' AND instance_id <> 0),
				last_run_id IS NULL
					AND NOT EXISTS (SELECT 1 FROM entity WHERE instance_id = $1)
					AND NOT EXISTS (SELECT 1 FROM relationship WHERE instance_id = $1)
			FROM instance WHERE id = $1`, s.instanceID).Scan(&last, &enabledSteps, &ruleOK, &realPeople, &baseline); err != nil {
			return err
		}
		if collStart != nil && !db.opts.AllowOlder {
			if last != nil && collStart.Before(*last) {
				return &OlderCollectionError{Dir: dir.Root(), Started: *collStart, Last: last.UTC()}
			}
		}
		phase := time.Now()
		lap := func(name string) error {
			db.log.Debug("load phase", "instance", s.inst.String(), "phase", name, "duration", time.Since(phase))
			phase = time.Now()
			if db.hook != nil {
				return db.hook(ctx, name, tx)
			}
			return nil
		}
		if _, err := tx.Exec(ctx, stageDDL); err != nil {
			return err
		}
		var sortedRels func() (*sortedObjects, []string, error)
		if baseline {
			// The relationships go straight in, in key order: find and
			// sort them while the entities load.
			done := make(chan struct{})
			var refs *sortedObjects
			var rerr error
			files := graphFiles(dir, relationshipKind)
			rctx, stop := context.WithCancel(ctx)
			go func() {
				defer close(done)
				refs, rerr = sortedRefs(rctx, dir, relationshipKind, files)
			}()
			defer func() { stop(); <-done }()
			sortedRels = func() (*sortedObjects, []string, error) {
				<-done
				return refs, files, rerr
			}
		}
		kinds := []kind{entityKind, relationshipKind}
		stored := make([]*known, len(kinds))
		stats := make([]*scanStats, len(kinds))
		var entitiesAdded, entitiesChanged int64
		relDirect := false
		for i, k := range kinds {
			if stored[i], err = loadKnown(ctx, tx, k.name, s.instanceID); err != nil {
				return fmt.Errorf("read stored %s rows: %w", k.name, err)
			}
			if err := lap("read stored " + k.list); err != nil {
				return err
			}
			direct := false
			if len(stored[i].rows) == 0 {
				// Nothing of this kind yet (a first load): straight into
				// the table, no staging, no upsert.
				to, err := directTarget(ctx, tx, k, s, collected)
				if err != nil {
					return err
				}
				if stats[i], direct, err = copyDirect(ctx, tx, dir, k, stored[i], isPartial, to, sortedRels, db.openFiles); err != nil {
					return err
				}
				relDirect = direct && i == 1
				if direct {
					// The instance's baseline logs nothing: the
					// change_log view states its added objects.
					n := stats[i].sent
					if !baseline {
						if n, err = logAddedDirect(ctx, tx, k, s); err != nil {
							return fmt.Errorf("log added %s: %w", k.list, err)
						}
					}
					res.Added += n
					if i == 0 {
						entitiesAdded = n
					}
				}
			}
			if !direct {
				if stats[i], err = stagePass(ctx, tx, dir, k, stored[i], isPartial, nil, stagingTarget(k)); err != nil {
					return err
				}
				if len(stats[i].again) > 0 {
					// The collection repeats keys the instance has: stage every
					// occurrence, so the last one wins as in a plain read.
					only := map[uint64]bool{}
					for _, h := range stats[i].again {
						only[h] = true
					}
					if _, err := stagePass(ctx, tx, dir, k, stored[i], isPartial, only, stagingTarget(k)); err != nil {
						return err
					}
				}
				if err := uniqueKeys(ctx, tx, k.stage); err != nil {
					return err
				}
			}
			if err := lap("copy " + k.list); err != nil {
				return err
			}
			if !direct {
				if i == 0 {
					before := res.Changed
					if err := upsertEntities(ctx, tx, s, collected, disabledSince(sum, enabledSteps), baseline, res, &entitiesAdded); err != nil {
						return fmt.Errorf("upsert entities: %w", err)
					}
					entitiesChanged = res.Changed - before
					res.Added += entitiesAdded
				} else if err := upsertRelationships(ctx, tx, s, collected, baseline, res); err != nil {
					return fmt.Errorf("upsert relationships: %w", err)
				}
				if err := lap("upsert " + k.list); err != nil {
					return err
				}
			}
		}
		res.Entities, res.Relationships = stats[0].objects, stats[1].objects
		if entitiesAdded > 0 || relDirect {
			if err := relink(ctx, tx, s); err != nil {
				return fmt.Errorf("link relationships to new entities: %w", err)
			}
			if err := lap("relink"); err != nil {
				return err
			}
		}
		entitiesRemoved, err := cleanup(ctx, tx, s, collected, stored, stats, isComplete, res)
		if err != nil {
			return fmt.Errorf("stale cleanup: %w", err)
		}
		res.peopleUnchanged = ruleOK && !realPeople && entitiesAdded+entitiesChanged+entitiesRemoved == 0
		if err := lap("cleanup"); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE sync_run SET status = $2, ended_at = clock_timestamp(),
				collection_started_at = $3, collection_ended_at = $4,
				partial_types = $5, complete_types = $6,
				entities_loaded = $7, relationships_loaded = $8,
				added = $9, changed = $10, removed = $11, summary = $12,
				baseline = $13, loaded_at = now()
			WHERE id = $1`,
			s.runID, res.Status, collStart, collEnd, res.PartialTypes, res.CompleteTypes,
			res.Entities, res.Relationships, res.Added, res.Changed, res.Removed, summaryJSON, baseline); err != nil {
			return err
		}
		if sum != nil {
			if err := insertSteps(ctx, tx, s.runID, sum); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, `UPDATE instance SET last_run_id = $2,
				last_collected_at = greatest(coalesce(last_collected_at, $3), $3),
				enabled_steps = ARRAY(SELECT DISTINCT x FROM unnest(enabled_steps || $4::text[]) x ORDER BY 1)
			WHERE id = $1`, s.instanceID, s.runID, collected, succeededSteps(sum))
		if err != nil {
			return err
		}
		return lap("commit")
	})
	if err != nil {
		var oe *OlderCollectionError
		if !errors.As(err, &oe) {
			err = fmt.Errorf("postgres: load %s into instance %s: %w", dir.Root(), s.inst, err)
		}
		return nil, err
	}
	return res, nil
}

// OlderCollectionError is returned by Push for a collection that started
// before the instance's last loaded one: loading it would bring back
// objects a newer collection removed. Options.AllowOlder (push
// --allow-older) loads it anyway. errors.Is(err, ErrOlderCollection) is
// true.
type OlderCollectionError struct {
	// Dir is the collection; Started its start; Last the start of the
	// instance's last loaded collection.
	Dir           string
	Started, Last time.Time
}

// Error says which collection is older than which.
func (e *OlderCollectionError) Error() string {
	return fmt.Sprintf("postgres: %v: %s started %s, the last loaded one %s (load it anyway with push --allow-older, or Options.AllowOlder)",
		ErrOlderCollection, e.Dir, e.Started.UTC().Format(time.RFC3339), e.Last.Format(time.RFC3339))
}

// Is makes errors.Is(err, ErrOlderCollection) true.
func (e *OlderCollectionError) Is(target error) bool { return target == ErrOlderCollection }

// upsertEntities writes the staged entities. With keepAbsent (a run in
// which a step that ran before for the instance is disabled), a property the stored entity has and the
// collected one lacks is unknown in this run, not removed: the stored
// value is kept and nothing is logged for it.
//
// On the instance's baseline (a first load that repeats keys, so staged)
// added objects are not logged: the change_log view states them.
func upsertEntities(ctx context.Context, tx pgx.Tx, s *session, collected time.Time, keepAbsent, baseline bool, res *PushResult, inserted *int64) error {
	var written int64
	err := tx.QueryRow(ctx, `
WITH merged AS (
	SELECT s.key, s.type, s.classes, s.display_name, s.raw_data, s.doc_hash, s.properties AS collected,
		CASE WHEN $4 AND e.key IS NOT NULL
			THEN (e.properties - ARRAY(SELECT jsonb_object_keys(s.properties))) || s.properties
			ELSE s.properties END AS properties
	FROM stage_entity s LEFT JOIN entity e ON e.instance_id = $1 AND e.key = s.key),
src AS (
	-- a row that kept unknown properties is not the collected bytes: no
	-- doc_hash, so the next run compares it in full
	SELECT key, type, classes, display_name, raw_data, properties,
		CASE WHEN properties = collected THEN doc_hash END AS doc_hash
	FROM merged),
prev AS (
	SELECT e.key, e.type, e.classes, e.display_name, e.properties, e.run_id
	FROM entity e JOIN stage_entity s ON s.key = e.key
	WHERE e.instance_id = $1),
stated AS (
	-- an object still as the instance's baseline left it: its added row
	-- is stored before the change (see migration 9)
	INSERT INTO change_log_entry (run_id, instance_id, at, kind, change, key, type)
	SELECT p.run_id, $1, b.loaded_at, 'entity', 'added', p.key, p.type
	FROM src s JOIN prev p ON p.key = s.key JOIN sync_run b ON b.id = p.run_id AND b.baseline
	WHERE (p.type, p.classes, p.display_name, p.properties) IS DISTINCT FROM (s.type, s.classes, s.display_name, s.properties)),
logged AS (
	INSERT INTO change_log_entry (run_id, instance_id, kind, change, key, type, before, after)
	SELECT $2, $1, 'entity', CASE WHEN p.key IS NULL THEN 'added' ELSE 'changed' END, s.key, s.type,
		CASE WHEN p.key IS NOT NULL THEN entity_doc(p.classes, p.display_name, p.properties) END,
		CASE WHEN p.key IS NOT NULL THEN entity_doc(s.classes, s.display_name, s.properties) END
	FROM src s LEFT JOIN prev p ON p.key = s.key
	WHERE (p.key IS NULL AND NOT $5)
	   OR (p.key IS NOT NULL AND (p.type, p.classes, p.display_name, p.properties) IS DISTINCT FROM (s.type, s.classes, s.display_name, s.properties))
	RETURNING change),
up AS (
	INSERT INTO entity AS e (instance_id, key, type, classes, display_name, properties, raw_data, doc_hash,
		first_seen, modified_at, run_id)
	SELECT $1, s.key, s.type, s.classes, s.display_name, s.properties, s.raw_data, s.doc_hash, $3, $3, $2
	FROM src s
	ON CONFLICT (instance_id, key) DO UPDATE SET
		type = excluded.type,
		classes = excluded.classes,
		display_name = excluded.display_name,
		-- keep the stored value (and its TOAST) when equal
		properties = CASE WHEN e.properties = excluded.properties THEN e.properties ELSE excluded.properties END,
		raw_data = CASE WHEN e.raw_data IS NOT DISTINCT FROM excluded.raw_data THEN e.raw_data ELSE excluded.raw_data END,
		doc_hash = excluded.doc_hash,
		missing_since = NULL,
		modified_at = CASE WHEN (e.type, e.classes, e.display_name, e.properties)
				IS DISTINCT FROM (excluded.type, excluded.classes, excluded.display_name, excluded.properties)
			THEN excluded.modified_at ELSE e.modified_at END,
		run_id = CASE WHEN (e.type, e.classes, e.display_name, e.properties)
				IS DISTINCT FROM (excluded.type, excluded.classes, excluded.display_name, excluded.properties)
			THEN excluded.run_id ELSE e.run_id END
	RETURNING 1)
SELECT (SELECT count(*) FROM up),
	count(*) FILTER (WHERE change = 'added'),
	count(*) FILTER (WHERE change = 'changed')
FROM logged`, s.instanceID, s.runID, collected, keepAbsent, baseline).Scan(&written, inserted, addTo(&res.Changed))
	if err == nil && baseline {
		*inserted = written // nothing was stored before: every row is new
	}
	return err
}

func upsertRelationships(ctx context.Context, tx pgx.Tx, s *session, collected time.Time, baseline bool, res *PushResult) error {
	var written int64
	err := tx.QueryRow(ctx, `
WITH prev AS (
	SELECT r.key, r.type, r.class, r.display_name, r.from_key, r.to_key, r.mapping, r.properties, r.run_id
	FROM relationship r JOIN stage_rel s ON s.key = r.key
	WHERE r.instance_id = $1 AND r.rule IS NULL),
stated AS (
	INSERT INTO change_log_entry (run_id, instance_id, at, kind, change, key, type)
	SELECT p.run_id, $1, b.loaded_at, 'relationship', 'added', p.key, p.type
	FROM stage_rel s JOIN prev p ON p.key = s.key JOIN sync_run b ON b.id = p.run_id AND b.baseline
	WHERE (p.type, p.class, p.display_name, p.properties, p.mapping,
	       CASE WHEN p.mapping IS NULL THEN p.from_key END, CASE WHEN p.mapping IS NULL THEN p.to_key END)
	      IS DISTINCT FROM (s.type, s.class, s.display_name, s.properties, s.mapping,
	       CASE WHEN s.mapping IS NULL THEN s.from_key END, CASE WHEN s.mapping IS NULL THEN s.to_key END)),
logged AS (
	INSERT INTO change_log_entry (run_id, instance_id, kind, change, key, type, before, after)
	SELECT $2, $1, 'relationship', CASE WHEN p.key IS NULL THEN 'added' ELSE 'changed' END, s.key, s.type,
		CASE WHEN p.key IS NOT NULL THEN relationship_doc(p.class, p.display_name, p.from_key, p.to_key, p.mapping, p.properties) END,
		CASE WHEN p.key IS NOT NULL THEN relationship_doc(s.class, s.display_name, s.from_key, s.to_key, s.mapping, s.properties) END
	FROM stage_rel s LEFT JOIN prev p ON p.key = s.key
	WHERE (p.key IS NULL AND NOT $4)
	   OR (p.key IS NOT NULL AND (p.type, p.class, p.display_name, p.properties, p.mapping,
	       CASE WHEN p.mapping IS NULL THEN p.from_key END, CASE WHEN p.mapping IS NULL THEN p.to_key END)
	      IS DISTINCT FROM (s.type, s.class, s.display_name, s.properties, s.mapping,
	       CASE WHEN s.mapping IS NULL THEN s.from_key END, CASE WHEN s.mapping IS NULL THEN s.to_key END))
	RETURNING change),
up AS (
	INSERT INTO relationship AS r (instance_id, key, type, class, display_name, from_key, to_key, from_id, to_id,
		properties, mapping, reverse, mapping_status, doc_hash, first_seen, modified_at, run_id)
	SELECT $1, s.key, s.type, s.class, s.display_name, s.from_key, s.to_key, fe.id, te.id,
		s.properties, s.mapping, s.reverse, CASE WHEN s.mapping IS NOT NULL THEN 'pending' END,
		s.doc_hash, $3, $3, $2
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
		doc_hash = excluded.doc_hash,
		missing_since = NULL,
		modified_at = CASE WHEN (r.type, r.class, r.display_name, r.properties, r.mapping,
				CASE WHEN r.mapping IS NULL THEN r.from_key END, CASE WHEN r.mapping IS NULL THEN r.to_key END)
				IS DISTINCT FROM (excluded.type, excluded.class, excluded.display_name, excluded.properties, excluded.mapping,
				CASE WHEN excluded.mapping IS NULL THEN excluded.from_key END, CASE WHEN excluded.mapping IS NULL THEN excluded.to_key END)
			THEN excluded.modified_at ELSE r.modified_at END,
		run_id = CASE WHEN (r.type, r.class, r.display_name, r.properties, r.mapping,
				CASE WHEN r.mapping IS NULL THEN r.from_key END, CASE WHEN r.mapping IS NULL THEN r.to_key END)
				IS DISTINCT FROM (excluded.type, excluded.class, excluded.display_name, excluded.properties, excluded.mapping,
				CASE WHEN excluded.mapping IS NULL THEN excluded.from_key END, CASE WHEN excluded.mapping IS NULL THEN excluded.to_key END)
			THEN excluded.run_id ELSE r.run_id END
	WHERE r.rule IS NULL
	RETURNING 1)
SELECT (SELECT count(*) FROM up),
	count(*) FILTER (WHERE change = 'added'),
	count(*) FILTER (WHERE change = 'changed')
FROM logged`, s.instanceID, s.runID, collected, baseline).Scan(&written, addTo(&res.Added), addTo(&res.Changed))
	if err == nil && baseline {
		res.Added += written // nothing was stored before: every row is new
	}
	return err
}

// relink points the instance's direct relationships that lack an end at
// the entity of that key, when one appeared in this run.
func relink(ctx context.Context, tx pgx.Tx, s *session) error {
	_, err := tx.Exec(ctx, `
UPDATE relationship r SET
	from_id = coalesce(r.from_id, f.id),
	to_id = coalesce(r.to_id, t.id)
FROM relationship x
LEFT JOIN entity f ON x.from_id IS NULL AND f.instance_id = $1 AND f.key = x.from_key
LEFT JOIN entity t ON x.to_id IS NULL AND t.instance_id = $1 AND t.key = x.to_key
WHERE x.instance_id = $1 AND x.mapping IS NULL AND x.rule IS NULL AND (x.from_id IS NULL OR x.to_id IS NULL)
  AND r.id = x.id AND (f.id IS NOT NULL OR t.id IS NOT NULL)`, s.instanceID)
	return err
}

// cleanup deals with the stored objects the collection did not have:
// deleted (and logged as removed) for complete types, marked missing for
// every other type. Relationships go first; an entity's removal clears the
// from_id / to_id of the instance's relationships that still point to it
// (other instances' mapped relationships that pointed to it become pending
// at their own next sync). Stored objects seen again lose their missing
// mark.
func cleanup(ctx context.Context, tx pgx.Tx, s *session, collected time.Time, stored []*known, stats []*scanStats,
	complete map[string]bool, res *PushResult) (entitiesRemoved int64, err error) {
	var gone, missing [2][]int64
	for i, kn := range stored {
		for j := range kn.rows {
			row := &kn.rows[j]
			if row.shared || kn.wasSeen(int32(j)) {
				continue
			}
			if complete[row.typ] {
				gone[i] = append(gone[i], row.id)
			} else if !row.missing {
				missing[i] = append(missing[i], row.id)
			}
		}
	}
	var rels, ents int64
	if len(gone[1]) > 0 {
		if err := tx.QueryRow(ctx, `
WITH gone AS (
	DELETE FROM relationship r
	WHERE r.instance_id = $1 AND r.id = ANY($3)
	RETURNING r.key, r.type, r.class, r.display_name, r.from_key, r.to_key, r.mapping, r.properties, r.run_id),
stated AS (
	INSERT INTO change_log_entry (run_id, instance_id, at, kind, change, key, type)
	SELECT g.run_id, $1, b.loaded_at, 'relationship', 'added', g.key, g.type
	FROM gone g JOIN sync_run b ON b.id = g.run_id AND b.baseline),
logged AS (
	INSERT INTO change_log_entry (run_id, instance_id, kind, change, key, type, before)
	SELECT $2, $1, 'relationship', 'removed', key, type,
		relationship_doc(class, display_name, from_key, to_key, mapping, properties)
	FROM gone
	RETURNING 1)
SELECT count(*) FROM logged`, s.instanceID, s.runID, gone[1]).Scan(&rels); err != nil {
			return 0, err
		}
	}
	if len(gone[0]) > 0 {
		if err := tx.QueryRow(ctx, `
WITH gone AS (
	DELETE FROM entity e
	WHERE e.instance_id = $1 AND e.id = ANY($3)
	RETURNING e.id, e.key, e.type, e.classes, e.display_name, e.properties, e.run_id),
stated AS (
	INSERT INTO change_log_entry (run_id, instance_id, at, kind, change, key, type)
	SELECT g.run_id, $1, b.loaded_at, 'entity', 'added', g.key, g.type
	FROM gone g JOIN sync_run b ON b.id = g.run_id AND b.baseline),
logged AS (
	INSERT INTO change_log_entry (run_id, instance_id, kind, change, key, type, before)
	SELECT $2, $1, 'entity', 'removed', key, type, entity_doc(classes, display_name, properties)
	FROM gone
	RETURNING 1)
SELECT count(*) FROM logged`, s.instanceID, s.runID, gone[0]).Scan(&ents); err != nil {
			return 0, err
		}
		if _, err := tx.Exec(ctx, `
UPDATE relationship r SET
	from_id = CASE WHEN r.from_id = ANY($2) THEN NULL ELSE r.from_id END,
	to_id = CASE WHEN r.to_id = ANY($2) THEN NULL ELSE r.to_id END
WHERE r.instance_id = $1 AND (r.from_id = ANY($2) OR r.to_id = ANY($2))`, s.instanceID, gone[0]); err != nil {
			return 0, err
		}
	}
	for i, table := range []string{"entity", "relationship"} {
		if len(missing[i]) > 0 {
			if _, err := tx.Exec(ctx, `UPDATE `+table+` SET missing_since = $3
				WHERE instance_id = $1 AND id = ANY($2) AND missing_since IS NULL`, s.instanceID, missing[i], collected); err != nil {
				return 0, err
			}
		}
		if len(stats[i].unmiss) > 0 {
			if _, err := tx.Exec(ctx, `UPDATE `+table+` SET missing_since = NULL
				WHERE instance_id = $1 AND id = ANY($2)`, s.instanceID, stats[i].unmiss); err != nil {
				return 0, err
			}
		}
	}
	res.Removed += rels + ents
	return ents, nil
}

func insertSteps(ctx context.Context, tx pgx.Tx, runID int64, sum *runSummary) error {
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

func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
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

package service

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// InstanceStatus is an instance with its operational state, for
// `instances list` and monitoring.
type InstanceStatus struct {
	*Instance
	// LastRun is the latest attempt that got to run (nil: never ran).
	LastRun *RunRecord
	// LastSuccess is when the last successful (or partial) run ended.
	LastSuccess *time.Time
	// Failures counts failed attempts since the last successful run.
	Failures int
	// NextRun is when the waiting collection is due (nil: none queued);
	// Running says one is running now.
	NextRun *time.Time
	Running bool
	// ExpiryWarning is set when the last success (or, without one, the
	// instance's creation) is older than the token expiry guard.
	ExpiryWarning bool
}

// RunRecord is one collection attempt (a service_run row).
type RunRecord struct {
	ID, JobID, SyncRunID    int64
	Attempt                 int
	Worker, Status, Error   string
	StartedAt               time.Time
	EndedAt                 *time.Time
	Entities, Relationships int64
	Added, Changed, Removed int64
}

// Statuses lists every instance with its operational state, in one
// query however many instances there are. expiry is the token expiry
// guard (0: DefaultExpiryWarning).
func (s *Service) Statuses(ctx context.Context, expiry time.Duration) ([]*InstanceStatus, error) {
	if expiry <= 0 {
		expiry = DefaultExpiryWarning
	}
	insts, err := s.Instances(ctx)
	if err != nil {
		return nil, err
	}
	byID := make(map[int64]*InstanceStatus, len(insts))
	out := make([]*InstanceStatus, 0, len(insts))
	for _, inst := range insts {
		st := &InstanceStatus{Instance: inst}
		byID[inst.ID] = st
		out = append(out, st)
	}
	rows, err := s.pool.Query(ctx, `
		WITH live AS (
		    SELECT args->>'instance' AS name,
		           min(scheduled_at) FILTER (WHERE state <> 'running') AS next,
		           bool_or(state = 'running') AS running
		    FROM river_job
		    WHERE kind = $1 AND state IN ('available', 'pending', 'running', 'retryable', 'scheduled')
		    GROUP BY 1
		), last AS (
		    SELECT DISTINCT ON (instance_id) instance_id, id, job_id, coalesce(sync_run_id, 0) AS sync_run_id, attempt, worker, status,
		           coalesce(error, '') AS error, started_at, ended_at, entities, relationships, added, changed, removed
		    FROM service_run WHERE status <> 'busy'
		    ORDER BY instance_id, id DESC
		), ok AS (
		    SELECT instance_id, max(ended_at) AS last_ok, max(id) AS last_ok_id
		    FROM service_run WHERE status IN ('success', 'partial') GROUP BY 1
		), fails AS (
		    SELECT r.instance_id, count(*) AS n
		    FROM service_run r LEFT JOIN ok ON ok.instance_id = r.instance_id
		    WHERE r.status = 'failed' AND r.id > coalesce(ok.last_ok_id, 0) GROUP BY 1
		)
		SELECT i.id, last.id, last.job_id, last.sync_run_id, last.attempt, last.worker, last.status, last.error, last.started_at, last.ended_at,
		       last.entities, last.relationships, last.added, last.changed, last.removed,
		       ok.last_ok, coalesce(fails.n, 0), live.next, coalesce(live.running, false)
		FROM service_instance i
		LEFT JOIN last ON last.instance_id = i.id
		LEFT JOIN ok ON ok.instance_id = i.id
		LEFT JOIN fails ON fails.instance_id = i.id
		LEFT JOIN live ON live.name = i.name`, kindCollect)
	if err != nil {
		return nil, fmt.Errorf("instance statuses: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var runID, jobID, syncRun, ents, rels, add, chg, rem *int64
		var attempt *int
		var worker, status, errMsg *string
		var started, ended, lastOK, next *time.Time
		var failures int
		var running bool
		if err := rows.Scan(&id, &runID, &jobID, &syncRun, &attempt, &worker, &status, &errMsg, &started, &ended,
			&ents, &rels, &add, &chg, &rem, &lastOK, &failures, &next, &running); err != nil {
			return nil, fmt.Errorf("instance statuses: %w", err)
		}
		st := byID[id]
		if st == nil {
			continue // added since Instances ran
		}
		if runID != nil {
			st.LastRun = &RunRecord{ID: *runID, JobID: *jobID, SyncRunID: *syncRun, Attempt: *attempt, Worker: *worker, Status: *status,
				Error: *errMsg, StartedAt: *started, EndedAt: ended, Entities: *ents, Relationships: *rels, Added: *add, Changed: *chg, Removed: *rem}
		}
		st.LastSuccess, st.Failures, st.NextRun, st.Running = lastOK, failures, next, running
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("instance statuses: %w", err)
	}
	for _, st := range out {
		since := st.CreatedAt
		if st.LastSuccess != nil {
			since = *st.LastSuccess
		}
		st.ExpiryWarning = time.Since(since) > expiry
	}
	return out, nil
}

// QueueCount is the number of jobs of one kind in one state.
type QueueCount struct {
	Kind, State string
	Count       int64
}

// QueueCounts counts River's jobs by kind and state.
func (s *Service) QueueCounts(ctx context.Context) ([]QueueCount, error) {
	rows, err := s.pool.Query(ctx, `SELECT kind, state::text, count(*) FROM river_job GROUP BY 1, 2 ORDER BY 1, 2`)
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (QueueCount, error) {
		var q QueueCount
		err := r.Scan(&q.Kind, &q.State, &q.Count)
		return q, err
	})
}

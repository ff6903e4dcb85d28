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

// Statuses lists every instance with its operational state. expiry is
// the token expiry guard (0: DefaultExpiryWarning).
func (s *Service) Statuses(ctx context.Context, expiry time.Duration) ([]*InstanceStatus, error) {
	if expiry <= 0 {
		expiry = DefaultExpiryWarning
	}
	insts, err := s.Instances(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*InstanceStatus, 0, len(insts))
	for _, inst := range insts {
		st := &InstanceStatus{Instance: inst}
		var r RunRecord
		var syncRun *int64
		var errMsg *string
		err := s.pool.QueryRow(ctx, `SELECT id, job_id, coalesce(sync_run_id, 0), attempt, worker, status, error, started_at, ended_at,
			entities, relationships, added, changed, removed FROM service_run WHERE instance_id = $1 AND status <> 'busy' ORDER BY id DESC LIMIT 1`, inst.ID).
			Scan(&r.ID, &r.JobID, &syncRun, &r.Attempt, &r.Worker, &r.Status, &errMsg, &r.StartedAt, &r.EndedAt,
				&r.Entities, &r.Relationships, &r.Added, &r.Changed, &r.Removed)
		switch {
		case err == nil:
			if syncRun != nil {
				r.SyncRunID = *syncRun
			}
			if errMsg != nil {
				r.Error = *errMsg
			}
			st.LastRun = &r
		case err != pgx.ErrNoRows:
			return nil, fmt.Errorf("instance %s: last run: %w", inst.Name, err)
		}
		if err := s.pool.QueryRow(ctx, `SELECT max(ended_at) FROM service_run WHERE instance_id = $1 AND status IN ('success', 'partial')`, inst.ID).Scan(&st.LastSuccess); err != nil {
			return nil, err
		}
		if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM service_run WHERE instance_id = $1 AND status = 'failed'
			AND id > coalesce((SELECT max(id) FROM service_run WHERE instance_id = $1 AND status IN ('success', 'partial')), 0)`, inst.ID).Scan(&st.Failures); err != nil {
			return nil, err
		}
		var next *time.Time
		var running bool
		if err := s.pool.QueryRow(ctx, `SELECT min(scheduled_at) FILTER (WHERE state <> 'running'), coalesce(bool_or(state = 'running'), false)
			FROM river_job WHERE kind = $1 AND args->>'instance' = $2 AND state IN ('available', 'pending', 'running', 'retryable', 'scheduled')`,
			kindCollect, inst.Name).Scan(&next, &running); err != nil {
			return nil, err
		}
		st.NextRun, st.Running = next, running
		since := inst.CreatedAt
		if st.LastSuccess != nil {
			since = *st.LastSuccess
		}
		st.ExpiryWarning = time.Since(since) > expiry
		out = append(out, st)
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

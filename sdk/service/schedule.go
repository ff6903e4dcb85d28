package service

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
)

// scheduleWorker is the scheduling pass: every enabled instance without a
// waiting or running collection gets one, at its last start plus its
// interval (±10% jitter, so instances added together spread out), or now
// when that is past. Unique jobs make concurrent passes harmless.
type scheduleWorker struct {
	river.WorkerDefaults[ScheduleArgs]
	w *Worker
}

// Work implements river.Worker.
func (sw *scheduleWorker) Work(ctx context.Context, job *river.Job[ScheduleArgs]) error {
	n, err := sw.w.s.schedule(ctx, time.Now())
	if err != nil {
		return err
	}
	if n > 0 {
		sw.w.log.Debug("collections scheduled", "count", n)
	}
	return sw.w.s.expiryGuard(ctx, sw.w.opts.ExpiryWarning, sw.w.log.Warn)
}

// schedule queues the next collection of every enabled instance that has
// none; it returns how many it queued.
func (s *Service) schedule(ctx context.Context, now time.Time) (int, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT i.name, i.integration, i.interval_seconds,
		       (SELECT max(r.started_at) FROM service_run r WHERE r.instance_id = i.id AND r.status <> 'busy')
		FROM service_instance i
		WHERE i.interval_seconds IS NOT NULL
		  AND NOT EXISTS (
		      SELECT 1 FROM river_job j
		      WHERE j.kind = $1 AND j.args->>'instance' = i.name
		        AND j.state IN ('available', 'pending', 'running', 'retryable', 'scheduled'))`, kindCollect)
	if err != nil {
		return 0, fmt.Errorf("schedule: %w", err)
	}
	var params []river.InsertManyParams
	for rows.Next() {
		var inst Instance
		var secs int64
		var last *time.Time
		if err := rows.Scan(&inst.Name, &inst.Integration, &secs, &last); err != nil {
			rows.Close()
			return 0, err
		}
		at := now
		if last != nil {
			if next := last.Add(jitter(time.Duration(secs) * time.Second)); next.After(now) {
				at = next
			}
		}
		params = append(params, river.InsertManyParams{Args: CollectArgs{Instance: inst.Name}, InsertOpts: collectOpts(&inst, at)})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if len(params) == 0 {
		return 0, nil
	}
	res, err := s.queue.InsertMany(ctx, params)
	if err != nil {
		return 0, fmt.Errorf("schedule: %w", err)
	}
	n := 0
	for _, r := range res {
		if !r.UniqueSkippedAsDuplicate {
			n++
		}
	}
	return n, nil
}

// expiryGuard warns (at most once a day per instance) about instances
// whose last successful collection is older than after, or that never
// succeeded and were added longer ago: an Okta API token unused for 30
// days is revoked. Unless the token-expiry rule is disabled, it also fires
// that rule once per instance and stale period (the key carries the time
// of the last success), delivered like any alert.
func (s *Service) expiryGuard(ctx context.Context, after time.Duration, warn func(msg string, args ...any)) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			UPDATE service_instance i SET expiry_warned_at = now()
			FROM (SELECT i2.id, (SELECT max(r.ended_at) FROM service_run r WHERE r.instance_id = i2.id AND r.status IN ('success', 'partial')) AS last_ok
			      FROM service_instance i2) x
			WHERE x.id = i.id
			  AND coalesce(x.last_ok, i.created_at) < now() - make_interval(secs => $1)
			  AND (i.expiry_warned_at IS NULL OR i.expiry_warned_at < now() - interval '1 day')
			RETURNING i.id, i.name, i.interval_seconds IS NULL, x.last_ok, coalesce(x.last_ok, i.created_at)`, after.Seconds())
		if err != nil {
			return fmt.Errorf("expiry guard: %w", err)
		}
		type stale struct {
			id       int64
			name     string
			disabled bool
			last     *time.Time
			since    time.Time
		}
		var found []stale
		for rows.Next() {
			var x stale
			if err := rows.Scan(&x.id, &x.name, &x.disabled, &x.last, &x.since); err != nil {
				rows.Close()
				return err
			}
			found = append(found, x)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		var jobs []river.InsertManyParams
		for _, x := range found {
			warn("token expiry: no successful collection for too long; an Okta API token unused for 30 days is revoked",
				"instance", x.name, "lastSuccess", fmtTime(x.last), "pollingDisabled", x.disabled, "threshold", after)
			var id int64
			err := tx.QueryRow(ctx, `INSERT INTO alert_event (rule, instance_id, object_key, object_type, summary, destination)
				SELECT name, $1, 'token-expiry/' || $2::text, 'service_instance', $3, destination FROM alert_rule WHERE name = $4 AND enabled
				ON CONFLICT (rule, instance_id, object_key) DO NOTHING RETURNING id`,
				x.id, x.since.UTC().Format(time.RFC3339), fmt.Sprintf("instance %s has no successful collection since %s: its API token may expire", x.name, fmtTime(x.last)),
				ruleTokenExpiry).Scan(&id)
			if errors.Is(err, pgx.ErrNoRows) {
				continue // rule disabled, or fired for this stale period
			}
			if err != nil {
				return err
			}
			jobs = append(jobs, river.InsertManyParams{Args: AlertArgs{Event: id}, InsertOpts: &river.InsertOpts{
				Queue: queueControl, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: activeStates}}})
		}
		if len(jobs) > 0 {
			if _, err := s.queue.InsertManyTx(ctx, tx, jobs); err != nil {
				return err
			}
		}
		return nil
	})
}

// ruleTokenExpiry is the built-in rule the expiry guard fires.
const ruleTokenExpiry = "token-expiry"

func fmtTime(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}

package service

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"text/tabwriter"
	"time"
)

// MetricsHandler serves a worker's counters and the queue's state in the
// Prometheus text format (version 0.0.4).
func MetricsHandler(s *Service, w *Worker) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "text/plain; version=0.0.4")
		st := w.Stats()
		fmt.Fprintf(rw, "# HELP stepgraph_collections_total Collections run by this worker, by outcome.\n# TYPE stepgraph_collections_total counter\n")
		for _, c := range []struct {
			name string
			v    int64
		}{{"success", st.Success.Load()}, {"partial", st.Partial.Load()}, {"failed", st.Failed.Load()}, {"busy", st.Busy.Load()}, {"interrupted", st.Interrupted.Load()}} {
			fmt.Fprintf(rw, "stepgraph_collections_total{outcome=%q} %d\n", c.name, c.v)
		}
		fmt.Fprintf(rw, "# HELP stepgraph_objects_loaded_total Entities and relationships loaded by this worker.\n# TYPE stepgraph_objects_loaded_total counter\nstepgraph_objects_loaded_total %d\n", st.Objects.Load())
		fmt.Fprintf(rw, "# HELP stepgraph_alerts_total Alert events fired, delivered and failed deliveries by this worker.\n# TYPE stepgraph_alerts_total counter\n")
		fmt.Fprintf(rw, "stepgraph_alerts_total{event=\"fired\"} %d\nstepgraph_alerts_total{event=\"delivered\"} %d\nstepgraph_alerts_total{event=\"delivery_failed\"} %d\n",
			st.AlertsFired.Load(), st.AlertsDelivered.Load(), st.AlertFailures.Load())
		qs, err := s.QueueCounts(r.Context())
		if err != nil {
			return
		}
		fmt.Fprintf(rw, "# HELP stepgraph_jobs Jobs in the queue, by kind and state (all workers).\n# TYPE stepgraph_jobs gauge\n")
		for _, q := range qs {
			fmt.Fprintf(rw, "stepgraph_jobs{kind=%q,state=%q} %d\n", q.Kind, q.State, q.Count)
		}
		sts, err := s.Statuses(r.Context(), w.opts.ExpiryWarning)
		if err != nil {
			return
		}
		var failing, expiring int
		for _, x := range sts {
			if x.Failures > 0 {
				failing++
			}
			if x.ExpiryWarning {
				expiring++
			}
		}
		fmt.Fprintf(rw, "# HELP stepgraph_instances Instances: all, failing (failed since their last success), token expiry warning.\n# TYPE stepgraph_instances gauge\n")
		fmt.Fprintf(rw, "stepgraph_instances{state=\"all\"} %d\nstepgraph_instances{state=\"failing\"} %d\nstepgraph_instances{state=\"expiry_warning\"} %d\n", len(sts), failing, expiring)
	})
}

// WriteStatus prints the queue by kind and state, the instances that are
// failing or near token expiry, and the undelivered alerts.
func WriteStatus(ctx context.Context, s *Service, out io.Writer) error {
	qs, err := s.QueueCounts(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "JOB KIND\tSTATE\tCOUNT")
	for _, q := range qs {
		fmt.Fprintf(tw, "%s\t%s\t%d\n", q.Kind, q.State, q.Count)
	}
	_ = tw.Flush()
	sts, err := s.Statuses(ctx, 0)
	if err != nil {
		return err
	}
	var running, failing, expiring int
	for _, x := range sts {
		if x.Running {
			running++
		}
		if x.Failures > 0 {
			failing++
			msg := ""
			if x.LastRun != nil {
				msg = x.LastRun.Error
			}
			fmt.Fprintf(out, "failing: %s (%d failed attempts since the last success): %s\n", x.Name, x.Failures, msg)
		}
		if x.ExpiryWarning {
			expiring++
			fmt.Fprintf(out, "token expiry warning: %s has no successful run since %s\n", x.Name, fmtTime(x.LastSuccess))
		}
	}
	rows, err := s.pool.Query(ctx, `SELECT worker, count(*), count(*) FILTER (WHERE status = 'failed'), max(started_at)
		FROM service_run WHERE started_at > now() - interval '1 hour' GROUP BY worker ORDER BY worker`)
	if err != nil {
		return err
	}
	tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "WORKER (last hour)\tRUNS\tFAILED\tLAST STARTED")
	for rows.Next() {
		var worker string
		var runs, failed int64
		var last time.Time
		if err := rows.Scan(&worker, &runs, &failed, &last); err != nil {
			rows.Close()
			return err
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\n", worker, runs, failed, last.UTC().Format(time.RFC3339))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	_ = tw.Flush()
	var pending int64
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM alert_event WHERE delivered_at IS NULL`).Scan(&pending); err != nil {
		return err
	}
	fmt.Fprintf(out, "instances: %d (%d running now, %d failing, %d near token expiry); undelivered alerts: %d\n", len(sts), running, failing, expiring, pending)
	return nil
}

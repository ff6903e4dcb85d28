package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stepgraph/stepgraph/integrations/okta"
	"github.com/stepgraph/stepgraph/integrations/okta/oktafake"
	"github.com/stepgraph/stepgraph/sdk/service"
)

// BenchmarkServiceInstances collects many small fake orgs (default 200,
// $STEPGRAPH_BENCH_INSTANCES) through worker processes (default 4,
// $STEPGRAPH_BENCH_WORKERS, 2 collections each) and reports instances per
// minute and the database's load: transactions, rows written, blocks read
// and the mean and peak number of active backends, from pg_stat_database
// and pg_stat_activity. Run it alone: go test ./integrations/okta/cmd/okta
// -run '^$' -bench ServiceInstances -benchtime 1x.
func BenchmarkServiceInstances(b *testing.B) {
	n := envInt("STEPGRAPH_BENCH_INSTANCES", 200)
	workers := envInt("STEPGRAPH_BENCH_WORKERS", 4)
	for range b.N {
		benchServiceOnce(b, n, workers)
	}
}

func envInt(k string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(k)); err == nil && v > 0 {
		return v
	}
	return def
}

type dbStats struct {
	xacts, inserted, updated, deleted, blksRead, blksHit int64
}

func (e *svcEnv) dbStats() dbStats {
	var s dbStats
	if err := e.pool.QueryRow(context.Background(), `SELECT xact_commit + xact_rollback, tup_inserted, tup_updated, tup_deleted, blks_read, blks_hit
		FROM pg_stat_database WHERE datname = current_database()`).Scan(&s.xacts, &s.inserted, &s.updated, &s.deleted, &s.blksRead, &s.blksHit); err != nil {
		e.t.Fatal(err)
	}
	return s
}

func benchServiceOnce(b *testing.B, n, workers int) {
	b.StopTimer()
	e := newSvcEnv(b)
	ctx := context.Background()
	s, err := service.Open(ctx, e.url, serviceRegistry(okta.NewCollector(okta.Options{}), nil), service.Options{Schema: e.schema})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for i := range n {
		name := fmt.Sprintf("bench%03d", i)
		host := name + ".okta.com"
		org := oktafake.NewOrg(oktafake.OrgSpec{Users: 10, Seed: int64(i + 1), Name: name})
		srv, err := oktafake.Start(org, oktafake.ServerOptions{Window: time.Second, DisableRateLimits: true, ObjectBaseURL: "https://" + host})
		if err != nil {
			b.Fatal(err)
		}
		defer srv.Close()
		e.routes = append(e.routes, host+"="+srv.URL)
		if err := s.AddInstance(ctx, service.Instance{Name: name, Integration: "okta", Config: map[string]string{"orgUrl": "https://" + host},
			Secrets: map[string]service.SecretRef{"apiKey": "env:OKTA_BENCH_TOKEN"}, TagAccountName: true}); err != nil {
			b.Fatal(err)
		}
	}
	e.env = append(e.env, "OKTA_BENCH_TOKEN="+oktafake.DefaultToken)
	for range workers {
		e.startWorker("--job-timeout", "10m", "--rescue-after", "11m", "--log-level", "warn")
	}
	defer e.stopAll()
	before := e.dbStats()
	var samples, activeSum, peak int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				var active int64
				if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid()`).Scan(&active); err == nil {
					samples++
					activeSum += active
					peak = max(peak, active)
				}
			}
		}
	}()
	start := time.Now()
	b.StartTimer()
	for i := range n {
		if _, err := s.RunNow(ctx, fmt.Sprintf("bench%03d", i)); err != nil {
			b.Fatal(err)
		}
	}
	deadline := time.Now().Add(30 * time.Minute)
	for {
		done := e.queryInt(`SELECT count(DISTINCT instance_id) FROM service_run WHERE status IN ('success', 'partial')`)
		if done == n {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("only %d of %d instances collected in 30 minutes", done, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	close(stop)
	wg.Wait()
	after := e.dbStats()
	failed := e.queryInt(`SELECT count(*) FROM service_run WHERE status NOT IN ('success', 'partial')`)
	objects := e.queryInt(`SELECT coalesce(sum(entities + relationships), 0)::int FROM service_run WHERE status IN ('success', 'partial')`)
	perMin := float64(n) / elapsed.Minutes()
	b.ReportMetric(perMin, "instances/min")
	b.ReportMetric(float64(after.xacts-before.xacts)/elapsed.Seconds(), "db-xact/s")
	b.ReportMetric(float64(after.inserted+after.updated+after.deleted-before.inserted-before.updated-before.deleted)/float64(n), "db-rows-written/instance")
	if samples > 0 {
		b.ReportMetric(float64(activeSum)/float64(samples), "db-active-backends-mean")
		b.ReportMetric(float64(peak), "db-active-backends-peak")
	}
	fmt.Fprintf(os.Stderr, "service bench: %d instances (%d objects loaded, %d non-success attempts) through %d workers x 2 collections in %s: %.0f instances/min; database: %d transactions (%.0f/s), %d rows inserted, %d updated, %d deleted, %d blocks read, %d hit\n",
		n, objects, failed, workers, elapsed.Round(time.Millisecond), perMin, after.xacts-before.xacts, float64(after.xacts-before.xacts)/elapsed.Seconds(),
		after.inserted-before.inserted, after.updated-before.updated, after.deleted-before.deleted, after.blksRead-before.blksRead, after.blksHit-before.blksHit)
}

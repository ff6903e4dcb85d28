package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"testing"
	"time"
)

// BenchmarkPush loads a synthetic Okta-like collection of 50k users, 500
// groups and 100k relationships (plus, per user, a 300-byte raw document):
// the first load inserts everything, the second is identical (no change),
// the third changes 10% of the users and drops 10%.
//
//	source .ci/postgres.sh
//	go test ./sdk/store/postgres -run '^$' -bench Push -benchtime 1x
func BenchmarkPush(b *testing.B) {
	const n = 50000
	var log *slog.Logger
	if os.Getenv("STEPGRAPH_BENCH_DEBUG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	db := testDB(b, Options{Logger: log})
	ents, rels := synthOrg(users(n), 500)
	raw := []byte(`{"id":"x","status":"ACTIVE","created":"2020-01-01T00:00:00.000Z","profile":{"firstName":"A","lastName":"B","login":"a@example.com","email":"a@example.com","title":"Engineer","department":"R&D"},"credentials":{"provider":{"type":"OKTA","name":"OKTA"}},"_links":{"self":{"href":"https://acme.okta.com/api/v1/users/x"}}}`)
	for _, e := range ents {
		if e.Type == "okta_user" {
			e.RawData = append(e.RawData, rawDefault(raw))
		}
	}
	t0 := time.Now().Add(-time.Hour)
	d1 := (&collection{integration: "okta", steps: fullSteps(), entities: ents, rels: rels, started: t0}).write(b, b.TempDir())
	us := users(n)
	for i := range us {
		if i%10 == 1 {
			us[i].email = fmt.Sprintf("changed%d@example.com", i)
		}
	}
	ents3, rels3 := synthOrg(us[:n*9/10], 500)
	d3 := (&collection{integration: "okta", steps: fullSteps(), entities: ents3, rels: rels3, started: t0.Add(2 * time.Minute)}).write(b, b.TempDir())
	objects := len(ents) + len(rels)
	inst := Instance{Integration: "okta", Name: "bench"}
	b.ResetTimer()
	for range b.N {
		// Start empty.
		if _, err := db.pool.Exec(context.Background(), `DELETE FROM `+db.SearchPath()+`.instance WHERE id <> 0`); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		r1, err := Push(context.Background(), db, d1, inst)
		if err != nil {
			b.Fatal(err)
		}
		first := time.Since(start)
		start = time.Now()
		r2, err := Push(context.Background(), db, d1, inst)
		if err != nil {
			b.Fatal(err)
		}
		second := time.Since(start)
		start = time.Now()
		r3, err := Push(context.Background(), db, d3, inst)
		if err != nil {
			b.Fatal(err)
		}
		third := time.Since(start)
		b.ReportMetric(float64(objects)/first.Seconds(), "obj/s-first")
		b.ReportMetric(float64(objects)/second.Seconds(), "obj/s-same")
		b.ReportMetric(float64(len(ents3)+len(rels3))/third.Seconds(), "obj/s-changed")
		b.Logf("%d objects: first load %v (%s)\n identical %v (%s)\n changed %v (%s)", objects,
			first.Round(time.Millisecond), r1, second.Round(time.Millisecond), r2, third.Round(time.Millisecond), r3)
	}
}

package postgres

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stepgraph/stepgraph/sdk/store"
)

// BenchmarkPush measures, in one run against the same server, three loads
// of one collection and prints their objects/s:
//
//   - raw COPY: every object's JSON, as read from the collection, copied
//     into a one-column jsonb table (no keys, no indexes): the floor a
//     loader is compared with;
//   - first load: Push into an empty instance (everything added, change
//     log written, user -> person rule applied);
//   - re-push: the same collection again (nothing changes, nothing is
//     rewritten).
//
// With each it prints the CPU time used by this process and, when the
// server runs on this machine, by its backends: on a shared machine the
// ratio of CPU times is steadier than the ratio of wall times.
//
// The collection is $STEPGRAPH_BENCH_COLLECTION (a .j1-integration folder,
// e.g. one kept by `okta bench --users 100000 --no-rate-limits --keep DIR`)
// or, without it, a synthetic Okta-like one of 50k users:
//
//	source .ci/postgres.sh
//	STEPGRAPH_BENCH_COLLECTION=/tmp/big/100000/.j1-integration \
//	  go test ./sdk/store/postgres -run '^$' -bench Push -benchtime 1x
func BenchmarkPush(b *testing.B) {
	db := testDB(b, Options{})
	if os.Getenv("STEPGRAPH_BENCH_DEBUG") != "" {
		// wall time, server and client CPU of each load phase
		db.hook = (&phaseMeter{w: os.Stderr}).hook
	}
	ctx := context.Background()
	var d *store.Dir
	if root := os.Getenv("STEPGRAPH_BENCH_COLLECTION"); root != "" {
		var err error
		if d, err = store.OpenDir(root); err != nil {
			b.Fatal(err)
		}
	} else {
		d = synthCollection(b, 50000)
	}
	sum, err := readSummary(d)
	if err != nil || sum == nil {
		b.Fatalf("summary: %v", err)
	}
	inst := Instance{Integration: sum.Integration, Name: "bench"}
	b.ResetTimer()
	for range b.N {
		if _, err := db.ForgetInstance(ctx, inst); err != nil {
			b.Fatal(err)
		}
		c0 := takeCPU(ctx, db)
		rawN, rawTook := rawCopy(b, db, d)
		c1 := takeCPU(ctx, db)
		start := time.Now()
		r1, err := Push(ctx, db, d, inst)
		if err != nil {
			b.Fatal(err)
		}
		first := time.Since(start)
		c2 := takeCPU(ctx, db)
		start = time.Now()
		r2, err := Push(ctx, db, d, inst)
		if err != nil {
			b.Fatal(err)
		}
		second := time.Since(start)
		c3 := takeCPU(ctx, db)
		rawCPU, firstCPU, secondCPU := cpuSince(c0, c1), cpuSince(c1, c2), cpuSince(c2, c3)
		objects := float64(r1.Entities + r1.Relationships)
		rawRate := float64(rawN) / rawTook.Seconds()
		firstRate := objects / first.Seconds()
		b.ReportMetric(rawRate, "obj/s-rawcopy")
		b.ReportMetric(firstRate, "obj/s-first")
		b.ReportMetric(objects/second.Seconds(), "obj/s-repush")
		b.ReportMetric(firstRate/rawRate, "first/rawcopy")
		cpuRatio := ""
		if rawCPU.serverKnown && firstCPU.serverKnown {
			r := rawCPU.total().Seconds() / firstCPU.total().Seconds()
			b.ReportMetric(r, "first/rawcopy-cpu")
			cpuRatio = fmt.Sprintf("first load / raw COPY by CPU time (server + client): %.2f\n", r)
		}
		fmt.Fprintf(os.Stderr, "%d objects (%d entities, %d relationships) from %s\n"+
			"raw jsonb COPY: %v (%.0f objects/s); %v\n"+
			"first load:     %v (%.0f objects/s, %.2f of raw COPY); %v\n  %s\n  after sync: %+v\n"+
			"re-push:        %v (%.0f objects/s); %v\n  %s\n%s",
			r1.Entities+r1.Relationships, r1.Entities, r1.Relationships, d.Root(),
			rawTook.Round(time.Millisecond), rawRate, rawCPU,
			first.Round(time.Millisecond), firstRate, firstRate/rawRate, firstCPU, r1, r1.AfterSync,
			second.Round(time.Millisecond), objects/second.Seconds(), secondCPU, r2, cpuRatio)
	}
}

// rawCopy copies every object of d, as its JSON bytes, into a fresh
// one-column jsonb table with COPY, reading the files the way the loader
// does (several readers, one COPY stream).
func rawCopy(b *testing.B, db *DB, d *store.Dir) (int64, time.Duration) {
	ctx := context.Background()
	var n int64
	start := time.Now()
	err := db.inTx(ctx, nil, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DROP TABLE IF EXISTS raw_copy; CREATE TABLE raw_copy (ord bigint, doc jsonb)`); err != nil {
			return err
		}
		for _, k := range []kind{entityKind, relationshipKind} {
			files := graphFiles(d, k)
			err := copyRows(ctx, tx, "raw_copy", []string{"ord", "doc"}, true, len(files), func(ctx context.Context, part int, emit func([]any) error) error {
				raw, err := os.ReadFile(filepath.Join(d.Root(), filepath.FromSlash(files[part])))
				if err != nil {
					return err
				}
				return eachObject(raw, k.list, func(obj []byte) error {
					return emit([]any{nil, obj})
				})
			})
			if err != nil {
				return err
			}
		}
		return tx.QueryRow(ctx, `SELECT count(*) FROM raw_copy`).Scan(&n)
	})
	took := time.Since(start)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := db.pool.Exec(ctx, `DROP TABLE `+db.SearchPath()+`.raw_copy`); err != nil {
		b.Fatal(err)
	}
	return n, took
}

// synthCollection writes a synthetic Okta-like collection of n users, 500
// groups, 2n relationships and a raw document per user.
func synthCollection(b *testing.B, n int) *store.Dir {
	ents, rels := synthOrg(users(n), 500)
	raw := []byte(`{"id":"x","status":"ACTIVE","created":"2020-01-01T00:00:00.000Z","profile":{"firstName":"A","lastName":"B","login":"a@example.com","email":"a@example.com","title":"Engineer","department":"R&D"},"credentials":{"provider":{"type":"OKTA","name":"OKTA"}},"_links":{"self":{"href":"https://acme.okta.com/api/v1/users/x"}}}`)
	for _, e := range ents {
		if e.Type == "okta_user" {
			e.RawData = append(e.RawData, rawDefault(raw))
		}
	}
	return (&collection{integration: "okta", steps: fullSteps(), entities: ents, rels: rels, started: time.Now().Add(-time.Hour)}).write(b, b.TempDir())
}

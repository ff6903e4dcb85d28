package service_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stepgraph/stepgraph/sdk/graph"
	"github.com/stepgraph/stepgraph/sdk/integration"
	"github.com/stepgraph/stepgraph/sdk/service"
)

// thingSource is what the changing demo integration collects.
type thingSource struct {
	mu      sync.Mutex
	items   []string
	partial bool
}

func (src *thingSource) set(partial bool, items ...string) {
	src.mu.Lock()
	defer src.mu.Unlock()
	src.items, src.partial = items, partial
}

func thingRegistry(src *thingSource) *service.Registry {
	reg := service.NewRegistry()
	service.Register(reg, service.Definition[demoConfig]{Integration: &integration.Integration[demoConfig]{
		Name: "demo",
		Steps: []integration.Step[demoConfig]{{
			ID: "fetch-things", Name: "Fetch things",
			Entities: []integration.EntityType{{Resource: "Thing", Type: "demo_thing", Class: []string{"Configuration"}}},
			Run: func(ctx context.Context, sc *integration.StepContext[demoConfig]) error {
				src.mu.Lock()
				items, partial := slices.Clone(src.items), src.partial
				src.mu.Unlock()
				if partial {
					sc.MarkPartial("some things could not be read", "demo_thing")
				}
				for _, it := range items {
					if err := sc.AddEntities(ctx, &graph.Entity{Key: "demo-thing-" + it, Type: "demo_thing", Class: []string{"Configuration"}, DisplayName: it, Properties: map[string]any{"name": it}}); err != nil {
						return err
					}
				}
				return nil
			},
		}},
	}})
	return reg
}

const newThingRule = `-- A thing appeared.
SELECT c.key, c.type, 'new thing ' || c.key AS summary, c.run_id
FROM change_log c
WHERE c.instance_id = @instance_id AND c.run_id > @after_run AND c.run_id <= @run
  AND c.change = 'added' AND c.type = 'demo_thing'`

// Matches of a type a run collected partially never fire; each object
// fires once per rule; tag.AccountName is set.
func TestAlertsSkipPartialTypesAndFireOnce(t *testing.T) {
	ctx := context.Background()
	schema := uniqueSchema(t)
	src := &thingSource{}
	s := openService(t, thingRegistry(src), schema)
	if err := s.AddInstance(ctx, service.Instance{Name: "things", Integration: "demo", Config: map[string]string{"host": "h"},
		Secrets: map[string]service.SecretRef{"token": "env:DEMO_TOKEN"}, TagAccountName: true}); err != nil {
		t.Fatal(err)
	}
	q := newThingRule
	if err := s.SetRule(ctx, "new-thing", &q, "log", nil); err != nil {
		t.Fatal(err)
	}
	bad := "SELECT 1 AS nope"
	if err := s.SetRule(ctx, "broken", &bad, "log", nil); err == nil {
		t.Error("a rule without the required columns was accepted")
	}
	w := startWorker(ctx, t, s)

	runAndWait := func(n int) {
		t.Helper()
		// The previous job is marked completed shortly after it ends.
		for deadline := time.Now().Add(time.Minute); ; {
			var active int
			if err := s.Pool().QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'stepgraph_collect' AND state NOT IN ('completed', 'cancelled', 'discarded')`).Scan(&active); err != nil {
				t.Fatal(err)
			}
			if active == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the previous collection job did not complete")
			}
			time.Sleep(50 * time.Millisecond)
		}
		if _, err := s.RunNow(ctx, "things"); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(time.Minute)
		for {
			var evaluated bool
			err := s.Pool().QueryRow(ctx, `SELECT count(*) = $1 AND max(i.alerts_run_id) = max(r.id)
				FROM sync_run r JOIN instance si ON si.id = r.instance_id AND si.name = 'things'
				CROSS JOIN service_instance i WHERE r.status IN ('success', 'partial')`, n).Scan(&evaluated)
			if err != nil && err != pgx.ErrNoRows {
				t.Fatal(err)
			}
			if evaluated {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("run %d not loaded and evaluated within a minute", n)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	fired := func() []string {
		rows, err := s.Pool().Query(ctx, `SELECT object_key FROM alert_event WHERE rule = 'new-thing' ORDER BY object_key`)
		if err != nil {
			t.Fatal(err)
		}
		ks, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return ks
	}

	src.set(false, "a", "b")
	runAndWait(1)
	if got := fired(); fmt.Sprint(got) != "[demo-thing-a demo-thing-b]" {
		t.Errorf("run 1 fired %v", got)
	}
	src.set(true, "a", "b", "c") // c appears in a partial run
	runAndWait(2)
	if got := fired(); fmt.Sprint(got) != "[demo-thing-a demo-thing-b]" {
		t.Errorf("run 2 (partial) fired %v", got)
	}
	ms, err := s.TestRule(ctx, "new-thing", "things")
	if err != nil || len(ms) != 1 || !ms[0].PartialSuppressed || ms[0].Key != "demo-thing-c" {
		t.Errorf("alerts test after the partial run: %+v %v", ms, err)
	}
	src.set(false, "a", "b", "c", "d")
	runAndWait(3)
	if got := fired(); fmt.Sprint(got) != "[demo-thing-a demo-thing-b demo-thing-d]" {
		t.Errorf("run 3 fired %v", got)
	}
	rec := httptest.NewRecorder()
	service.MetricsHandler(s, w).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, want := range []string{`stepgraph_collections_total{outcome="success"} 3`, `stepgraph_collections_total{outcome="failed"} 0`,
		`stepgraph_alerts_total{event="fired"} 3`, `stepgraph_instances{state="all"} 1`, `stepgraph_jobs{kind="stepgraph_collect",state="completed"}`} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("metrics lack %s:\n%s", want, rec.Body.String())
		}
	}
	var untagged int
	if err := s.Pool().QueryRow(ctx, `SELECT count(*) FROM entity WHERE type = 'demo_thing' AND properties->>'tag.AccountName' IS DISTINCT FROM 'things'`).Scan(&untagged); err != nil || untagged != 0 {
		t.Errorf("%d entities without tag.AccountName (%v)", untagged, err)
	}
}

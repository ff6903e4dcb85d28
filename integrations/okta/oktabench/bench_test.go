package oktabench_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stepgraph/stepgraph/integrations/okta/oktabench"
)

// TestSmallRunReachesFloor runs a small org against binding limits with
// short windows and checks the run is complete, within the minimal plan and
// free of 429s.
func TestSmallRunReachesFloor(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a rate-limited collection for several seconds")
	}
	r, err := oktabench.Run(context.Background(), oktabench.Options{Users: 300, Window: 500 * time.Millisecond, TargetWindows: 6})
	if err != nil {
		t.Fatal(err)
	}
	oktabench.WriteTable(os.Stderr, []*oktabench.Result{r})
	if len(r.Lost) > 0 || len(r.StepFailures) > 0 {
		t.Errorf("lost %v, step failures %v", r.Lost, r.StepFailures)
	}
	if len(r.OverPlan) > 0 {
		t.Errorf("requests over the minimal plan: %v", r.OverPlan)
	}
	if r.RateLimited429 > 0 {
		t.Errorf("%d rate-limit 429s", r.RateLimited429)
	}
	if r.MaxInFlight > int64(r.ConcurrencyLimit) {
		t.Errorf("max in flight %d above the concurrency limit %d", r.MaxInFlight, r.ConcurrencyLimit)
	}
	// Speed is the benchmark's to print (docs/performance.md), not a unit
	// test's to assert on a shared machine.
	t.Logf("efficiency %.2f (wall %.1f s, floor %.1f s)", r.Efficiency, r.WallSeconds, r.FloorSeconds)
	if r.RequestsTotal != r.PlanTotal {
		t.Errorf("requests %d, minimal plan %d", r.RequestsTotal, r.PlanTotal)
	}
}

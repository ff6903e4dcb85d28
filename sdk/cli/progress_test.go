package cli

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stepgraph/stepgraph/sdk/runtime"
)

func TestProgressDisplay(t *testing.T) {
	stats := func() []FamilyStats {
		return []FamilyStats{{Family: "users", Requests: 42, Retries: 1, RateLimited: 2, Waits: 3, Waited: 1500 * time.Millisecond, Remaining: 10, Limit: 600}}
	}
	tests := []struct {
		mode string
		want []string
	}{
		{"live", []string{"collecting: 1 running, 1/3 steps done", "fetch-users", "150 objects", "test_user 100/400 25% eta", "http users", "42 requests", "2 x429", "3 waits (2s)", "budget 10/600"}},
		{"log", []string{"msg=progress step=fetch-users objects=150", `progress="test_user 100/400 25% eta`, "eta=", "msg=http family=users requests=42"}},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			var buf bytes.Buffer
			p := newProgressDisplay(&buf, tt.mode, time.Hour, stats, func() int { return 200 })
			p.begin(3, slog.New(slog.NewTextHandler(&buf, nil)))
			p.event(runtime.Event{Kind: runtime.EventStepStart, StepID: "fetch-account"})
			p.event(runtime.Event{Kind: runtime.EventStepEnd, StepID: "fetch-account", Status: "success"})
			p.event(runtime.Event{Kind: runtime.EventStepStart, StepID: "fetch-users"})
			p.mu.Lock()
			p.steps["fetch-users"].started = time.Now().Add(-10 * time.Second)
			p.mu.Unlock()
			p.event(runtime.Event{Kind: runtime.EventProgress, StepID: "fetch-users", Name: TotalPrefix + "test_user", Delta: 400})
			p.event(runtime.Event{Kind: runtime.EventObjectsAdded, StepID: "fetch-users", Name: "test_user", Delta: 100})
			p.event(runtime.Event{Kind: runtime.EventObjectsAdded, StepID: "fetch-users", Name: "test_account_has_user", Delta: 50})
			p.tick()
			if tt.mode == "live" {
				// A log line written while live goes above the block.
				_, _ = p.logWriter().Write([]byte("a log line\n"))
			}
			p.stop()
			got := buf.String()
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("output lacks %q:\n%s", w, got)
				}
			}
			if tt.mode == "live" {
				if !strings.Contains(got, "\x1b[") || !strings.Contains(got, "a log line") {
					t.Errorf("live output:\n%q", got)
				}
				// ETA: 100 of 400 in 10s -> 30s left.
				if !strings.Contains(got, "eta 30s") {
					t.Errorf("eta not 30s:\n%s", got)
				}
			}
		})
	}
}

func TestProgressCounterBeatsObjectCount(t *testing.T) {
	s := &stepProgress{started: time.Now().Add(-time.Minute), objects: map[string]int64{"pages": 99}, counters: map[string]int64{"pages": 1}, totals: map[string]int64{"pages": 4}}
	parts, eta := s.eta(time.Now())
	if len(parts) != 1 || !strings.HasPrefix(parts[0], "pages 1/4 25%") || eta < 2*time.Minute {
		t.Fatalf("%v %s", parts, eta)
	}
}

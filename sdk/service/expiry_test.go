package service_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stepgraph/stepgraph/sdk/service"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// An instance without a successful run for longer than the guard (25
// days: Okta revokes a token unused for 30) is flagged by Statuses
// (instances list) and warned about, once a day, by the scheduling pass;
// polling DISABLED or not.
func TestTokenExpiryGuard(t *testing.T) {
	ctx := context.Background()
	schema := uniqueSchema(t)
	s := openService(t, demoRegistry(), schema)
	for _, name := range []string{"stale", "fresh"} {
		if err := s.AddInstance(ctx, service.Instance{Name: name, Integration: "demo", Config: map[string]string{"host": name}}); err != nil {
			t.Fatal(err)
		}
	}
	// stale: added 26 days ago, never collected (polling DISABLED).
	if _, err := s.Pool().Exec(ctx, `UPDATE service_instance SET created_at = now() - interval '26 days' WHERE name = 'stale'`); err != nil {
		t.Fatal(err)
	}
	sts, err := s.Statuses(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range sts {
		if st.ExpiryWarning != (st.Name == "stale") {
			t.Errorf("%s: expiry warning %v", st.Name, st.ExpiryWarning)
		}
	}
	var logs syncBuffer
	w, err := s.NewWorker(service.WorkerOptions{ScheduleEvery: 200 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(wctx) }()
	deadline := time.Now().Add(time.Minute)
	for {
		var warned int
		if err := s.Pool().QueryRow(ctx, `SELECT count(*) FROM service_instance WHERE expiry_warned_at IS NOT NULL`).Scan(&warned); err != nil {
			t.Fatal(err)
		}
		// Several passes ran after the first warning: still one warning.
		if warned > 0 {
			var passes int
			if err := s.Pool().QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'stepgraph_schedule' AND state = 'completed'`).Scan(&passes); err != nil {
				t.Fatal(err)
			}
			if passes >= 3 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no expiry warning within a minute:\n%s", logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// The token-expiry rule fired once for the stale instance, to the log.
	var fired, delivered int
	if err := s.Pool().QueryRow(ctx, `SELECT count(*), count(delivered_at) FROM alert_event e JOIN service_instance i ON i.id = e.instance_id
		WHERE e.rule = 'token-expiry' AND i.name = 'stale'`).Scan(&fired, &delivered); err != nil || fired != 1 {
		t.Errorf("token-expiry alerts: %d (%v)", fired, err)
	}
	var others int
	if err := s.Pool().QueryRow(ctx, `SELECT count(*) FROM alert_event e JOIN service_instance i ON i.id = e.instance_id WHERE i.name <> 'stale'`).Scan(&others); err != nil || others != 0 {
		t.Errorf("alerts for fresh instances: %d (%v)", others, err)
	}
	out := logs.String()
	if n := strings.Count(out, "token expiry:"); n != 1 || !strings.Contains(out, "instance=stale") || strings.Contains(out, "instance=fresh lastSuccess") {
		t.Errorf("%d expiry warnings:\n%s", n, out)
	}
}

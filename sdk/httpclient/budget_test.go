package httpclient

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// rlHeader returns Okta-style rate-limit headers with a Date.
func rlHeader(limit, remaining int, reset, date time.Time) http.Header {
	h := http.Header{}
	h.Set(HeaderRateLimitLimit, fmt.Sprint(limit))
	h.Set(HeaderRateLimitRemaining, fmt.Sprint(remaining))
	h.Set(HeaderRateLimitReset, fmt.Sprint((reset.UnixMilli()+999)/1000))
	h.Set("Date", date.UTC().Format(http.TimeFormat))
	return h
}

// testPacer returns a pacer whose clock is *now.
func testPacer(now *time.Time) *pacer {
	p := newPacer(DefaultMaxWait, 1000, 0)
	p.now = func() time.Time { return *now }
	return p
}

// TestBurstWithinShare: within a window the pacer releases requests at once
// until the share is used, then waits for the reset — it does not spread
// the budget over the window. Injected clock: nothing sleeps.
func TestBurstWithinShare(t *testing.T) {
	for _, share := range []float64{1, 0.5} {
		t.Run(fmt.Sprint("share ", share), func(t *testing.T) {
			now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
			p := testPacer(&now)
			f := p.family("users")
			// The probe, answered: 100 per minute, 99 left, reset in 60 s.
			tk, _, _, why := p.try(f, now, share)
			if tk == nil {
				t.Fatalf("probe not released: %v", why)
			}
			reset := now.Add(time.Minute)
			p.observe(f, 200, rlHeader(100, 99, reset, now), now, now)
			p.release(tk, false, true, 0)

			// Without the clock moving, the share of what is left goes
			// out at once: 99 − (1−share)·100 requests.
			want := int(99 - (1-share)*100)
			var tickets []*ticket
			for {
				tk, wakeAt, _, why := p.try(f, now, share)
				if tk == nil {
					if why != waitBudget {
						t.Fatalf("held after %d releases for %v, want the budget to be used first", len(tickets), why)
					}
					if wakeAt.Before(reset) || wakeAt.After(reset.Add(2*time.Second)) {
						t.Errorf("waits until %v, want the reset %v", wakeAt, reset)
					}
					break
				}
				tickets = append(tickets, tk)
				if len(tickets) > 200 {
					t.Fatal("released past the budget")
				}
			}
			if len(tickets) != want {
				t.Errorf("released %d requests at once, want %d (the share of the budget)", len(tickets), want)
			}
			// Their responses come back; still no budget until the reset.
			for i, tk := range tickets {
				p.observe(f, 200, rlHeader(100, 98-i, reset, now), now, now)
				p.release(tk, false, true, 0)
			}
			now = now.Add(30 * time.Second)
			if tk, _, _, why := p.try(f, now, share); tk != nil || why != waitBudget {
				t.Errorf("mid-window: released=%v why=%v, want a wait for the reset", tk != nil, why)
			}
			// After the reset the next window's share is available again.
			now = reset.Add(2 * time.Second)
			if tk, _, _, _ := p.try(f, now, share); tk == nil {
				t.Error("not released after the reset")
			}
		})
	}
}

// TestStaleHeadersBoundedWaits replays what a caching proxy (or a wrong clock,
// or a replayed recording) sends: Date and X-Rate-Limit-Reset years in the
// past, different on every response, Remaining 0. v1 stalled forever. Every
// wait must be bounded by a window, and the family paced locally.
func TestStaleHeadersBoundedWaits(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	p := testPacer(&now)
	f := p.family("users")
	contradictions := 0
	for i := range 200 {
		tk, wakeAt, _, why := p.try(f, now, 1)
		if tk == nil {
			if wakeAt.IsZero() {
				t.Fatalf("request %d: waits for a signal (%v) with nothing in flight: a stall", i, why)
			}
			if d := wakeAt.Sub(now); d > time.Minute+2*time.Second {
				t.Fatalf("request %d: waits %v (%v), more than a window", i, d, why)
			}
			now = wakeAt
			continue
		}
		// Years in the past, jumping around from response to response.
		date := time.Date(2019+i%4, time.Month(1+i%12), 1+i%27, i%24, 0, 0, 0, time.UTC)
		reset := date.Add(time.Duration(i%90-30) * time.Second)
		if ob := p.observe(f, 200, rlHeader(600, i%3, reset, date), now, now); ob.contradiction != "" {
			contradictions++
		}
		p.release(tk, false, true, 0)
		now = now.Add(5 * time.Millisecond)
	}
	if !f.local {
		t.Error("family not switched to local pacing")
	}
	if contradictions != 1 {
		t.Errorf("%d contradictions reported, want exactly one (one warning)", contradictions)
	}
}

// TestResetReadRelativeToDate: a consistent server clock a year behind ours.
// The reset is 20 s after the response's Date, so the wait is 20 s, not a
// year or nothing.
func TestResetReadRelativeToDate(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	p := testPacer(&now)
	f := p.family("users")
	server := now.AddDate(-1, 0, 0)
	tk, _, _, _ := p.try(f, now, 1)
	p.observe(f, 200, rlHeader(10, 0, server.Add(20*time.Second), server), now, now)
	p.release(tk, false, true, 0)
	_, wakeAt, _, why := p.try(f, now, 1)
	if why != waitBudget {
		t.Fatalf("why = %v, want a budget wait", why)
	}
	if d := wakeAt.Sub(now); d < 20*time.Second || d > 22*time.Second {
		t.Errorf("waits %v, want the reset 20 s after Date", d)
	}
	if f.local {
		t.Error("a consistent skewed clock is not a contradiction")
	}
}

// TestConcurrency429OktaForm: Okta documents that a request over the
// org's concurrent limit gets a 429 whose X-Rate-Limit-Limit/-Remaining/
// -Reset carry the concurrent values (Limit = the concurrent limit,
// Remaining 0, Reset an estimate). The client must recognise it (not wait
// for the per-minute window), lower its in-flight cap, and not lose
// requests to running out of attempts while the run progresses.
func TestConcurrency429OktaForm(t *testing.T) {
	const serverMax = 4
	var cur, total atomic.Int32
	rejected := make(chan struct{})
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := cur.Add(1)
		defer cur.Add(-1)
		now := time.Now()
		if total.Add(1) > 1 {
			if n > serverMax {
				once.Do(func() { close(rejected) })
				h := rlHeader(serverMax, 0, now.Add(time.Second), now)
				for k, v := range h {
					w.Header()[k] = v
				}
				writeOktaError(w, http.StatusTooManyRequests, "E0000047", "API call exceeded rate limit due to too many requests.")
				return
			}
			// Hold the first requests until the limit was hit once, so
			// the 429 happens whatever the scheduling.
			<-rejected
		}
		for k, v := range rlHeader(6000, 5000, now.Truncate(time.Minute).Add(time.Minute), now) {
			w.Header()[k] = v
		}
		w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	var lowered atomic.Int32
	c := newTestClient(t, srv.URL, func(cfg *Config) {
		cfg.MaxInFlight = 16
		cfg.MaxAttempts = 2 // v1 ran out of attempts on 429s
		cfg.OnEvent = func(e Event) {
			if e.Kind == EventConcurrencyLimit {
				lowered.Add(1)
			}
		}
	})
	runWorkers(t, c, 16, 64, "/api/v1/users")
	st := c.Stats()
	if st.Total.ConcurrencyLimited == 0 || st.Total.RateLimited != 0 {
		t.Errorf("429s classified as concurrency %d, rate limit %d; want all concurrency", st.Total.ConcurrencyLimited, st.Total.RateLimited)
	}
	if lowered.Load() == 0 {
		t.Error("in-flight cap never lowered")
	}
	if got := st.Total.Requests - st.Total.Retries; got != 64 {
		t.Errorf("%d requests completed, want 64", got)
	}
	// The 429s reported the concurrent limit: the cap does not grow past
	// it again.
	if st.InFlightCap > serverMax {
		t.Errorf("in-flight cap %d after the run, want at most the reported limit %d", st.InFlightCap, serverMax)
	}
}

// TestUnexplained429 checks the three ways a 429 shows it is not about the
// per-minute window, on the pacer with an injected clock.
func TestUnexplained429(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 30, 0, time.UTC)
	reset := time.Date(2026, 1, 1, 12, 1, 0, 0, time.UTC)
	setup := func() (*pacer, *family) {
		p := testPacer(&now)
		f := p.family("users")
		tk, _, _, _ := p.try(f, now, 1)
		p.observe(f, 200, rlHeader(600, 500, reset, now), now, now)
		p.release(tk, false, true, 0)
		return p, f
	}
	for _, tt := range []struct {
		name string
		h    http.Header
		conc bool
	}{
		{"limit 0", rlHeader(0, 0, reset, now), true},
		{"concurrent values (limit 75)", rlHeader(75, 0, now.Add(time.Second), now), true},
		{"budget left in the window", rlHeader(600, 0, reset, now), true},
		{"a newer reset while the window length is unknown", rlHeader(600, 0, reset.Add(17*time.Second), now), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, f := setup()
			tk, _, _, _ := p.try(f, now, 1)
			ob := p.observe(f, 429, tt.h, now, now)
			p.release(tk, ob.conc, false, ob.concLimit)
			if ob.conc != tt.conc {
				t.Errorf("concurrency = %v, want %v", ob.conc, tt.conc)
			}
		})
	}
	// The window's own 429 (its budget gone, same limit and reset) is a
	// rate-limit 429: wait for the reset.
	p, f := setup()
	for range 500 {
		tk, _, _, _ := p.try(f, now, 1)
		p.release(tk, false, true, 0)
	}
	f.remaining = 0
	tk := &ticket{f: f}
	p.inflight++
	f.inflight++
	if ob := p.observe(f, 429, rlHeader(600, 0, reset, now), now, now); ob.conc {
		t.Error("the window's own 429 taken for a concurrency limit")
	}
	p.release(tk, false, false, 0)
	if _, _, _, why := p.try(f, now, 1); why != waitBudget {
		t.Errorf("after a rate-limit 429: %v, want a wait for the reset", why)
	}
}

// TestContradictionWarnsOnce runs a client against a server whose headers
// lie years in the past: one warning, every request served.
func TestContradictionWarnsOnce(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1))
		date := time.Date(2019+i%3, 3, 1+i%20, 0, 0, 0, 0, time.UTC)
		for k, v := range rlHeader(600000, 0, date.Add(-time.Duration(i)*time.Second), date) {
			w.Header()[k] = v
		}
		w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	var buf bytes.Buffer
	var mu sync.Mutex
	c := newTestClient(t, srv.URL, func(cfg *Config) {
		cfg.Logger = slog.New(slog.NewTextHandler(&lockedWriter{w: &buf, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	})
	runWorkers(t, c, 4, 40, "/api/v1/users")
	mu.Lock()
	defer mu.Unlock()
	if got := strings.Count(buf.String(), "level=WARN"); got != 1 {
		t.Errorf("%d warnings, want 1:\n%s", got, buf.String())
	}
	if !strings.Contains(buf.String(), "family=") {
		t.Errorf("warning does not name the family: %s", buf.String())
	}
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestLongWaitsAreLogged: a wait longer than 2 s is logged at Info with its
// family and reason; shorter ones only at Debug.
func TestLongWaitsAreLogged(t *testing.T) {
	var buf bytes.Buffer
	var mu sync.Mutex
	c := newTestClient(t, "https://example.okta.com", func(cfg *Config) {
		cfg.Logger = slog.New(slog.NewTextHandler(&lockedWriter{w: &buf, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	})
	st := &reqState{family: c.pacer.family("users")}
	st.req.Method, st.req.Endpoint = "GET", "/api/v1/users"
	c.logWait(st, waitBudget.String(), 1500*time.Millisecond)
	c.logWait(st, waitBudget.String(), 3*time.Second)
	mu.Lock()
	defer mu.Unlock()
	out := buf.String()
	if n := strings.Count(out, "level=INFO"); n != 1 {
		t.Fatalf("%d Info lines, want 1 (only the 3 s wait):\n%s", n, out)
	}
	for _, want := range []string{"family=users", "reason=\"rate-limit budget used up, waiting for the window reset\"", "wait=3s"} {
		if !strings.Contains(out, want) {
			t.Errorf("log line lacks %s:\n%s", want, out)
		}
	}
}

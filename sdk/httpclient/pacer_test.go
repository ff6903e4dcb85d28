package httpclient

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// bucketServer simulates fixed-window rate-limit buckets: limit requests per
// window, the first window of a bucket starting at its first request. It
// sends Okta's X-Rate-Limit-* headers (with -Reset-Ms) and 429s requests over
// the budget.
type bucketServer struct {
	limit  int
	window time.Duration
	bucket func(path string) string
	delay  time.Duration // response latency after the request is counted
	clock  time.Duration // server clock minus real time, in Date and resets

	mu      sync.Mutex
	buckets map[string]*bucketState
}

type bucketState struct {
	start    time.Time
	accepted map[int]int
	rejected map[int]int
}

func (s *bucketServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key := ""
	if s.bucket != nil {
		key = s.bucket(r.URL.Path)
	}
	s.mu.Lock()
	now := time.Now()
	b := s.buckets[key]
	if b == nil {
		b = &bucketState{start: now, accepted: map[int]int{}, rejected: map[int]int{}}
		s.buckets[key] = b
	}
	idx := int(now.Sub(b.start) / s.window)
	reset := b.start.Add(time.Duration(idx+1) * s.window)
	used := b.accepted[idx]
	ok := used < s.limit
	remaining := 0
	if ok {
		b.accepted[idx]++
		remaining = s.limit - used - 1
	} else {
		b.rejected[idx]++
	}
	s.mu.Unlock()
	reset = reset.Add(s.clock)
	resetMs := (reset.UnixNano() + int64(time.Millisecond) - 1) / int64(time.Millisecond)
	w.Header().Set(HeaderRateLimitLimit, fmt.Sprint(s.limit))
	w.Header().Set(HeaderRateLimitRemaining, fmt.Sprint(remaining))
	w.Header().Set(HeaderRateLimitReset, fmt.Sprint((resetMs+999)/1000))
	w.Header().Set(HeaderRateLimitResetMs, fmt.Sprint(resetMs))
	time.Sleep(s.delay)
	if s.clock != 0 {
		w.Header().Set("Date", time.Now().Add(s.clock).UTC().Format(http.TimeFormat))
	}
	if !ok {
		writeOktaError(w, http.StatusTooManyRequests, "E0000047", "API call exceeded rate limit due to too many requests.")
		return
	}
	w.Write([]byte(`{"id":"x"}`))
}

// report returns per-window accepted counts and the total of 429s of a bucket.
func (s *bucketServer) report(key string) (start time.Time, accepted []int, rejected int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.buckets[key]
	if b == nil {
		return time.Time{}, nil, 0
	}
	last := 0
	for i := range b.accepted {
		last = max(last, i)
	}
	for i := range b.rejected {
		last = max(last, i)
	}
	accepted = make([]int, last+1)
	for i, n := range b.accepted {
		accepted[i] = n
	}
	for _, n := range b.rejected {
		rejected += n
	}
	return b.start, accepted, rejected
}

// efficiency is the share of the budget consumed over all windows but the
// last (the last one holds the tail of the work).
func efficiency(accepted []int, limit int) float64 {
	if len(accepted) < 2 {
		return 0
	}
	full := accepted[:len(accepted)-1]
	sum := 0
	for _, n := range full {
		sum += n
	}
	return float64(sum) / float64(limit*len(full))
}

// runWorkers makes total GETs to path from goroutines workers.
func runWorkers(t testing.TB, c *Client, workers, total int, path string) {
	t.Helper()
	var next atomic.Int32
	var wg sync.WaitGroup
	for g := 0; g < workers; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for int(next.Add(1)) <= total {
				if _, err := c.Do(context.Background(), "GET", path, nil); err != nil {
					t.Errorf("Do %s: %v", path, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestPacingUsesBudgetWithout429(t *testing.T) {
	testPacing(t, 0, 0)
}

// The server's clock (Date and resets) differs from ours: resets are read
// relative to Date. Until Date samples straddle a second boundary the skew
// is known only to within a second and the pacer errs towards a later reset,
// so with half-second windows a window may be skipped at first; there must
// be no 429 at all.
func TestPacingWithClockSkew(t *testing.T) {
	t.Run("server ahead", func(t *testing.T) { testPacing(t, 0, 3*time.Second+300*time.Millisecond) })
	t.Run("server behind", func(t *testing.T) { testPacing(t, 0, -(2*time.Second + 700*time.Millisecond)) })
}

// With a response latency, responses of several requests are outstanding at
// once and late responses of a window arrive after its reset.
func TestPacingWithLatency(t *testing.T) {
	testPacing(t, 60*time.Millisecond, 0)
}

// testPacing runs a paced burst against a bucket server and checks what does
// not depend on scheduling: every request is served, none is refused with a
// 429. It returns the budget used over the full windows.
func testPacing(t testing.TB, delay, clock time.Duration) float64 {
	const limit, window = 20, 500 * time.Millisecond
	bs := &bucketServer{limit: limit, window: window, delay: delay, clock: clock, buckets: map[string]*bucketState{}}
	srv := httptest.NewServer(bs)
	defer srv.Close()
	c := newTestClient(t, srv.URL, nil)
	start := time.Now()
	runWorkers(t, c, 8, 3*limit+5, "/api/v1/users")
	elapsed := time.Since(start)
	_, accepted, rejected := bs.report("")
	eff := efficiency(accepted, limit)
	st := c.Stats()
	t.Logf("pacing (latency %v, server clock %+v): limit %d per %v, 8 goroutines, %d requests in %v; per-window counts %v; 429s %d; budget used over full windows %.1f%%; pacing wait %v",
		delay, clock, limit, window, 3*limit+5, elapsed.Round(time.Millisecond), accepted, rejected, 100*eff, st.Total.PacingWait.Round(time.Millisecond))
	if rejected != 0 || st.Total.RateLimited != 0 {
		t.Errorf("server returned %d 429s (client saw %d), want 0", rejected, st.Total.RateLimited)
	}
	if got := sum(accepted); got != 3*limit+5 {
		t.Errorf("server accepted %d requests, want %d", got, 3*limit+5)
	}
	// How much of each window's budget was used depends on how promptly
	// this machine schedules the goroutines: it is a measurement, reported
	// by BenchmarkPacing, not asserted here (TestBurstWithinShare checks
	// the pacer's decisions on an injected clock).
	return eff
}

func sum(ns []int) int {
	total := 0
	for _, n := range ns {
		total += n
	}
	return total
}

// BenchmarkPacing reports the share of each full window's budget a paced
// burst used against a real server (limit 20 per 500 ms, 8 goroutines,
// 65 requests): efficiency 1 means no budget left unused before the tail.
//
//	go test ./sdk/httpclient -run '^$' -bench Pacing -benchtime 1x
func BenchmarkPacing(b *testing.B) {
	for _, bc := range []struct {
		name         string
		delay, clock time.Duration
	}{
		{"plain", 0, 0},
		{"latency60ms", 60 * time.Millisecond, 0},
		{"serverAhead", 0, 3*time.Second + 300*time.Millisecond},
		{"serverBehind", 0, -(2*time.Second + 700*time.Millisecond)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var eff float64
			for range b.N {
				eff += testPacing(b, bc.delay, bc.clock)
			}
			b.ReportMetric(eff/float64(b.N), "efficiency")
		})
	}
}

func TestPacingWithShare(t *testing.T) {
	const limit, window = 20, 400 * time.Millisecond
	bs := &bucketServer{limit: limit, window: window, buckets: map[string]*bucketState{}}
	srv := httptest.NewServer(bs)
	defer srv.Close()
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Share = 0.5 })
	runWorkers(t, c, 4, 25, "/api/v1/groups")
	_, accepted, rejected := bs.report("")
	t.Logf("share 0.5: per-window counts %v, 429s %d", accepted, rejected)
	if rejected != 0 {
		t.Errorf("%d 429s", rejected)
	}
	for i, n := range accepted {
		if n > limit/2 {
			t.Errorf("window %d used %d > half of %d", i, n, limit)
		}
	}
}

func TestFamiliesPacedIndependently(t *testing.T) {
	const limit, window = 10, 500 * time.Millisecond
	family := func(path string) string {
		if strings.HasPrefix(path, "/api/v1/apps") {
			return "apps"
		}
		return "users"
	}
	bs := &bucketServer{limit: limit, window: window, bucket: family, buckets: map[string]*bucketState{}}
	srv := httptest.NewServer(bs)
	defer srv.Close()
	c := newTestClient(t, srv.URL, func(cfg *Config) {
		cfg.Family = func(_, path string) string { return family(path) }
	})
	var wg sync.WaitGroup
	for _, p := range []string{"/api/v1/apps", "/api/v1/users"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runWorkers(t, c, 4, 2*limit+3, p)
		}()
	}
	wg.Wait()
	appsStart, apps, appsRej := bs.report("apps")
	usersStart, users, usersRej := bs.report("users")
	st := c.Stats()
	t.Logf("families: apps per-window %v (429s %d), users per-window %v (429s %d), starts %v apart; stats %+v",
		apps, appsRej, users, usersRej, appsStart.Sub(usersStart).Abs(), st.Families)
	if appsRej+usersRej != 0 {
		t.Errorf("429s: apps %d users %d", appsRej, usersRej)
	}
	// Each family has its own bucket: neither may exceed its own limit in
	// any window (how evenly they overlap in time is scheduling, logged above).
	for name, acc := range map[string][]int{"apps": apps, "users": users} {
		for i, n := range acc {
			if n > limit {
				t.Errorf("%s window %d accepted %d > limit %d", name, i, n, limit)
			}
		}
	}
	if st.Families["apps"].Requests != 2*limit+3 || st.Families["users"].Requests != 2*limit+3 {
		t.Errorf("per-family stats = %+v", st.Families)
	}
}

func TestProbeBeforeBurst(t *testing.T) {
	var cur, peak atomic.Int32
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := cur.Add(1)
		defer cur.Add(-1)
		if n.Add(1) == 1 {
			peak.Store(c)
			time.Sleep(30 * time.Millisecond)
		}
		w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, nil)
	runWorkers(t, c, 8, 16, "/x")
	if peak.Load() != 1 {
		t.Errorf("first request had %d in flight, want a lone probe", peak.Load())
	}
}

func TestSkewEstimator(t *testing.T) {
	var s skewEstimator
	local := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	if s.skew() != 0 {
		t.Fatal("non-zero skew before observations")
	}
	// Synchronised clocks: every sample is within the Date resolution.
	for i := 0; i < 50; i++ {
		recv := local.Add(time.Duration(i) * 37 * time.Millisecond)
		s.observe(recv.Add(-2*time.Millisecond), recv, recv.Add(-time.Millisecond).Truncate(time.Second))
	}
	if got := s.skew(); got != 0 {
		t.Errorf("synchronised clocks: skew %v, want 0", got)
	}
	// Server clock one hour and 250ms ahead of ours.
	var a skewEstimator
	ahead := time.Hour + 250*time.Millisecond
	for i := 0; i < 50; i++ {
		recv := local.Add(time.Duration(i) * 37 * time.Millisecond)
		a.observe(recv.Add(-2*time.Millisecond), recv, recv.Add(-time.Millisecond).Add(ahead).Truncate(time.Second))
	}
	got := a.skew()
	if got < -ahead || got > -ahead+40*time.Millisecond {
		t.Errorf("server ahead %v: skew %v", ahead, got)
	}
	// A reset 2s from now on the server's clock is ~2s from now locally.
	now := local.Add(49 * 37 * time.Millisecond)
	resetMs := now.Add(ahead).Add(2 * time.Second).UnixMilli()
	if d := a.localTime(resetMs, now).Sub(now); d < 2*time.Second || d > 2*time.Second+40*time.Millisecond {
		t.Errorf("reset in %v, want ~2s", d)
	}
}

func TestParseRetryAfterAndRateLimit(t *testing.T) {
	now := time.Now()
	h := http.Header{}
	h.Set("Retry-After", "7")
	if d, ok := parseRetryAfter(h, now); !ok || d != 7*time.Second {
		t.Errorf("seconds: %v %v", d, ok)
	}
	date := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	h.Set("Date", date.Format(http.TimeFormat))
	h.Set("Retry-After", date.Add(3*time.Second).Format(http.TimeFormat))
	if d, ok := parseRetryAfter(h, now); !ok || d != 3*time.Second {
		t.Errorf("HTTP date relative to Date: %v %v", d, ok)
	}
	h = http.Header{}
	h.Set(HeaderRateLimitLimit, "600")
	h.Set(HeaderRateLimitRemaining, "599")
	h.Set(HeaderRateLimitReset, "1700000060")
	if rl, ok := parseRateLimit(h); !ok || rl.resetMs != 1700000060000 || rl.limit != 600 || rl.remaining != 599 {
		t.Errorf("seconds reset: %+v %v", rl, ok)
	}
	h.Set(HeaderRateLimitResetMs, "1700000059500")
	if rl, ok := parseRateLimit(h); !ok || rl.resetMs != 1700000059500 {
		t.Errorf("ms reset preferred: %+v %v", rl, ok)
	}
}

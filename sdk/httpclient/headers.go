package httpclient

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Rate-limit response headers (Okta's names).
const (
	HeaderRateLimitLimit     = "X-Rate-Limit-Limit"
	HeaderRateLimitRemaining = "X-Rate-Limit-Remaining"
	HeaderRateLimitReset     = "X-Rate-Limit-Reset"
	HeaderRateLimitResetMs   = "X-Rate-Limit-Reset-Ms"
)

// rateLimit is what one response says about its bucket.
type rateLimit struct {
	limit     int
	remaining int
	resetMs   int64 // server clock, Unix milliseconds
}

// parseRateLimit reads the X-Rate-Limit-* headers. ok is false unless limit,
// remaining and a reset are all present and well formed.
func parseRateLimit(h http.Header) (rl rateLimit, ok bool) {
	limit, err1 := strconv.Atoi(strings.TrimSpace(h.Get(HeaderRateLimitLimit)))
	remaining, err2 := strconv.Atoi(strings.TrimSpace(h.Get(HeaderRateLimitRemaining)))
	if err1 != nil || err2 != nil || limit < 0 {
		return rl, false
	}
	if remaining < 0 {
		remaining = 0
	}
	rl.limit, rl.remaining = limit, remaining
	if v := strings.TrimSpace(h.Get(HeaderRateLimitResetMs)); v != "" {
		if ms, err := strconv.ParseInt(v, 10, 64); err == nil && ms > 0 {
			rl.resetMs = ms
			return rl, true
		}
	}
	if v := strings.TrimSpace(h.Get(HeaderRateLimitReset)); v != "" {
		if s, err := strconv.ParseInt(v, 10, 64); err == nil && s > 0 {
			rl.resetMs = s * 1000
			return rl, true
		}
	}
	return rl, false
}

// isConcurrencyLimit reports whether a 429 is a concurrency-limit rejection
// (X-Rate-Limit-Limit: 0) rather than budget exhaustion.
func isConcurrencyLimit(status int, h http.Header) bool {
	if status != http.StatusTooManyRequests {
		return false
	}
	v := strings.TrimSpace(h.Get(HeaderRateLimitLimit))
	return v != "" && v == "0"
}

// parseDate returns the response's Date header.
func parseDate(h http.Header) (time.Time, bool) {
	v := h.Get("Date")
	if v == "" {
		return time.Time{}, false
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}

// parseRetryAfter returns the wait a Retry-After header asks for: delay
// seconds, or an HTTP date read relative to the response's Date header (to
// cancel clock skew) or, without one, to now.
func parseRetryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s < 0 {
			return 0, false
		}
		if s > int64(24*time.Hour/time.Second) {
			s = int64(24 * time.Hour / time.Second)
		}
		return time.Duration(s) * time.Second, true
	}
	at, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	ref := now
	if d, ok := parseDate(h); ok {
		ref = d
	}
	d := at.Sub(ref)
	if d < 0 {
		d = 0
	}
	return d, true
}

// dateResolution is the resolution of the HTTP Date header.
const dateResolution = time.Second

// skewEpoch is how long a skew observation is remembered.
const skewEpoch = time.Minute

// skewEstimator estimates skew = local clock − server clock from Date
// headers. Each observation d = localReceive − Date satisfies
// skew <= d < skew + 1s + latency, so skew lies in [max(d)−1s, min(d)]
// (latency only pushes both bounds up, i.e. towards a later reset, the safe
// side). Observations are kept for one to two minutes (two rotating buckets)
// so a stepped clock is forgotten.
type skewEstimator struct {
	mu         sync.Mutex
	cur, prev  skewBucket
	curStarted time.Time
}

type skewBucket struct {
	n        int
	min, max time.Duration
}

func (b *skewBucket) add(d time.Duration) {
	if b.n == 0 || d < b.min {
		b.min = d
	}
	if b.n == 0 || d > b.max {
		b.max = d
	}
	b.n++
}

// observe records a response received at local time recv carrying date.
func (s *skewEstimator) observe(recv, date time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.curStarted.IsZero() {
		s.curStarted = recv
	} else if recv.Sub(s.curStarted) > skewEpoch {
		s.prev, s.cur, s.curStarted = s.cur, skewBucket{}, recv
	}
	s.cur.add(recv.Round(0).Sub(date))
}

// skew returns the current estimate (0 before any observation).
func (s *skewEstimator) skew() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b skewBucket
	for _, x := range []skewBucket{s.prev, s.cur} {
		if x.n == 0 {
			continue
		}
		if b.n == 0 {
			b = x
			continue
		}
		b.n += x.n
		b.min = min(b.min, x.min)
		b.max = max(b.max, x.max)
	}
	if b.n == 0 {
		return 0
	}
	upper := b.min
	lower := b.max - dateResolution
	if lower > upper {
		lower = upper
	}
	switch {
	case lower > 0:
		return lower
	case upper < 0:
		return upper
	default:
		return 0
	}
}

// localTime converts a server-clock Unix-millisecond instant to a local
// time.Time carrying a monotonic reading (relative to now).
func (s *skewEstimator) localTime(serverMs int64, now time.Time) time.Time {
	wall := time.UnixMilli(serverMs).Add(s.skew())
	return now.Add(wall.Sub(now.Round(0)))
}

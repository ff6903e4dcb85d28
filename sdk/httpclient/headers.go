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
	precise   bool  // resetMs came from X-Rate-Limit-Reset-Ms
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
			rl.resetMs, rl.precise = ms, true
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
// headers. Date has one-second resolution and was written between our send
// and receive times, so sent − Date − 1s < skew <= recv − Date; using the
// send time for the lower bound and the receive time for the upper one keeps
// both valid whatever the delays.
// Window crossings (observeCrossing) tighten the upper bound and requests
// counted in a window that had ended by our estimate (observeSent) the lower
// one; both are immune to delays in receiving responses.
// Observations are kept for one to two minutes (two rotating buckets) so a
// stepped clock is forgotten.
type skewEstimator struct {
	mu         sync.Mutex
	cur, prev  skewBucket
	curStarted time.Time
}

type skewBucket struct {
	n     int
	min   time.Duration // min(recv − Date): skew <= min
	max   time.Duration // max(sent − Date): skew > max − 1s
	ub    time.Duration // tightest upper bound from window crossings
	hasUB bool
	lb    time.Duration // tightest lower bound from send times
	hasLB bool
}

// add records one Date observation: sd = sent − Date, rd = recv − Date.
func (b *skewBucket) add(sd, rd time.Duration) {
	if b.n == 0 || rd < b.min {
		b.min = rd
	}
	if b.n == 0 || sd > b.max {
		b.max = sd
	}
	b.n++
}

func (s *skewEstimator) rotate(now time.Time) {
	if s.curStarted.IsZero() {
		s.curStarted = now
	} else if now.Sub(s.curStarted) > skewEpoch {
		s.prev, s.cur, s.curStarted = s.cur, skewBucket{}, now
	}
}

// observe records a response carrying date to a request sent at local time
// sent and received at recv. The server wrote Date after receiving the
// request and before we received the response, so
// sent − Date − 1s < skew <= recv − Date.
func (s *skewEstimator) observe(sent, recv, date time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rotate(recv)
	s.cur.add(sent.Round(0).Sub(date), recv.Round(0).Sub(date))
}

// observeCrossing records a response received at local time recv that the
// server counted in a window starting at or after serverMs (the reset of an
// earlier window): the server received it after serverMs, so
// skew <= recv − serverMs. Unlike the Date bounds this one is not loosened
// by delays in receiving responses, which keeps sub-second windows precise.
func (s *skewEstimator) observeCrossing(recv time.Time, serverMs int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rotate(recv)
	ub := recv.Round(0).Sub(time.UnixMilli(serverMs))
	if !s.cur.hasUB || ub < s.cur.ub {
		s.cur.ub, s.cur.hasUB = ub, true
	}
}

// observeSent records a request sent at local time sent that the server
// counted in the window ending at serverMs: it arrived before serverMs, so
// skew > sent − serverMs.
func (s *skewEstimator) observeSent(sent time.Time, serverMs int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rotate(sent)
	lb := sent.Round(0).Sub(time.UnixMilli(serverMs))
	if !s.cur.hasLB || lb > s.cur.lb {
		s.cur.lb, s.cur.hasLB = lb, true
	}
}

// skew returns the current estimate (0 before any observation): 0 while the
// observations allow synchronised clocks, otherwise the largest plausible
// skew (the latest plausible reset, the safe side).
func (s *skewEstimator) skew() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b skewBucket
	for _, x := range []skewBucket{s.prev, s.cur} {
		if x.hasUB && (!b.hasUB || x.ub < b.ub) {
			b.ub, b.hasUB = x.ub, true
		}
		if x.hasLB && (!b.hasLB || x.lb > b.lb) {
			b.lb, b.hasLB = x.lb, true
		}
		if x.n == 0 {
			continue
		}
		if b.n == 0 {
			b.n, b.min, b.max = x.n, x.min, x.max
			continue
		}
		b.n += x.n
		b.min = min(b.min, x.min)
		b.max = max(b.max, x.max)
	}
	if b.n == 0 && !b.hasUB && !b.hasLB {
		return 0
	}
	// upper: skew <= min(recv − Date) and the crossing bounds.
	// lower: skew > max(sent − Date) − 1s and the send-time bounds.
	var upper, lower time.Duration
	hasUpper, hasLower := false, false
	if b.n > 0 {
		upper, hasUpper = b.min, true
		lower, hasLower = b.max-dateResolution, true
	}
	if b.hasUB && (!hasUpper || b.ub < upper) {
		upper, hasUpper = b.ub, true
	}
	if b.hasLB && (!hasLower || b.lb > lower) {
		lower, hasLower = b.lb, true
	}
	if (!hasLower || lower <= 0) && (!hasUpper || upper >= 0) {
		return 0 // consistent with synchronised clocks
	}
	est := upper
	if !hasUpper || (b.hasLB && b.lb > est) {
		est = max(b.lb, lower)
	}
	return est
}

// consistent reports whether the Date observations of the last one to two
// minutes agree with each other and the local clock: some skew satisfies
// every sent − Date − 1s < skew <= recv − Date (within a second more). Dates
// jumping around (a caching proxy, replayed responses, a stepped clock)
// make them disagree.
func (s *skewEstimator) consistent() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	var lo, hi time.Duration
	for _, b := range []skewBucket{s.prev, s.cur} {
		if b.n == 0 {
			continue
		}
		if n == 0 || b.max > lo {
			lo = b.max
		}
		if n == 0 || b.min < hi {
			hi = b.min
		}
		n += b.n
	}
	return n == 0 || lo-dateResolution <= hi+dateResolution
}

// localTime converts a server-clock Unix-millisecond instant to a local
// time.Time carrying a monotonic reading (relative to now).
func (s *skewEstimator) localTime(serverMs int64, now time.Time) time.Time {
	wall := time.UnixMilli(serverMs).Add(s.skew())
	return now.Add(wall.Sub(now.Round(0)))
}

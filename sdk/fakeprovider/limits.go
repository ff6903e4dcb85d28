package fakeprovider

import (
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Limiter counts requests per bucket in fixed windows aligned to multiples
// of its window since the Unix epoch. Server uses one; a fake can use
// another for an endpoint it serves outside the Server (an OAuth token
// endpoint with a bucket of its own). It is safe for concurrent use.
type Limiter struct {
	window time.Duration
	mu     sync.Mutex
	counts map[string]*windowCount
}

type windowCount struct {
	win   int64
	count int
}

// NewLimiter returns a limiter with the given window (default one minute).
func NewLimiter(window time.Duration) *Limiter {
	if window <= 0 {
		window = time.Minute
	}
	return &Limiter{window: window, counts: map[string]*windowCount{}}
}

// Quota is a bucket's state after a request: what the X-Rate-Limit-*
// headers say.
type Quota struct {
	// Limit is the bucket's limit per window, Remaining what is left of it
	// in the current window, Reset the window's end.
	Limit, Remaining int
	Reset            time.Time
	// OK is false when the request was over the limit.
	OK bool
}

// window returns the window number of now and its end.
func (l *Limiter) windowOf(now time.Time) (int64, time.Time) {
	w := int64(l.window)
	ns := now.UnixNano()
	win := ns / w
	if ns < 0 && ns%w != 0 {
		win--
	}
	return win, time.Unix(0, (win+1)*w)
}

// Take counts one request against bucket, whose limit is limit, at now.
func (l *Limiter) Take(bucket string, limit int, now time.Time) Quota {
	win, end := l.windowOf(now)
	l.mu.Lock()
	b := l.counts[bucket]
	if b == nil {
		b = &windowCount{win: win}
		l.counts[bucket] = b
	}
	if b.win != win {
		b.win, b.count = win, 0
	}
	b.count++
	count := b.count
	l.mu.Unlock()
	return Quota{Limit: limit, Remaining: max(0, limit-count), Reset: end, OK: count <= limit}
}

// Peek returns the bucket's quota at now without counting a request.
func (l *Limiter) Peek(bucket string, limit int, now time.Time) Quota {
	win, end := l.windowOf(now)
	l.mu.Lock()
	count := 0
	if b := l.counts[bucket]; b != nil && b.win == win {
		count = b.count
	}
	l.mu.Unlock()
	return Quota{Limit: limit, Remaining: max(0, limit-count), Reset: end, OK: count < limit}
}

// Reset empties every bucket, as if a new window started.
func (l *Limiter) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	clear(l.counts)
}

// SetHeaders writes X-Rate-Limit-Limit, X-Rate-Limit-Remaining,
// X-Rate-Limit-Reset (the reset in UTC epoch seconds, rounded up) and
// X-Rate-Limit-Reset-Ms (the same instant in epoch milliseconds, rounded
// up; not a standard header, for pacing with sub-second windows).
func (q Quota) SetHeaders(h http.Header) {
	ns := q.Reset.UnixNano()
	h.Set("X-Rate-Limit-Limit", strconv.Itoa(q.Limit))
	h.Set("X-Rate-Limit-Remaining", strconv.Itoa(q.Remaining))
	h.Set("X-Rate-Limit-Reset", strconv.FormatInt((ns+int64(time.Second)-1)/int64(time.Second), 10))
	h.Set("X-Rate-Limit-Reset-Ms", strconv.FormatInt((ns+int64(time.Millisecond)-1)/int64(time.Millisecond), 10))
}

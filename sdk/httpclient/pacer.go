package httpclient

import (
	"context"
	"math"
	"net/http"
	"sync"
	"time"
)

// boundaryMargin is added to a window's reset before the pacer considers the
// new window open, to absorb timer and clock-estimate jitter at the boundary.
// Resets known only to the second (no X-Rate-Limit-Reset-Ms) get
// secondsMargin(windowLen) instead, covering their rounding.
const boundaryMargin = 10 * time.Millisecond

// secondsMargin is the boundary margin for second-resolution resets: 2% of
// the window, between boundaryMargin and one second (one second while the
// window length is unknown).
func secondsMargin(windowLen time.Duration) time.Duration {
	if windowLen <= 0 {
		return time.Second
	}
	return min(max(windowLen/50, boundaryMargin), time.Second)
}

func (f *family) margin() time.Duration {
	if f.precise {
		return boundaryMargin
	}
	return secondsMargin(f.windowLen)
}

// slack is the part of a window before its reset that the pacer keeps free
// when spreading the budget: 5% of the window, at most 3 s (0 while the
// window length is unknown).
func (f *family) slack() time.Duration {
	if f.windowLen <= 0 {
		return 0
	}
	return min(f.windowLen/20, 3*time.Second)
}

// waitReason says why the pacer holds a request.
type waitReason int

const (
	waitNone     waitReason = iota
	waitGlobal              // global in-flight cap reached
	waitFamilyIn            // per-family in-flight cap reached
	waitProbe               // budget unknown: one probe in flight
	waitPace                // spreading the budget over the window
	waitBudget              // window exhausted: waiting for its reset
)

// pacer holds the rate-limit state of every family and the global in-flight
// cap. All fields are guarded by mu.
type pacer struct {
	mu        sync.Mutex
	share     float64
	maxCap    float64
	capF      float64 // effective global cap (AIMD on concurrency 429s)
	perFamily int
	inflight  int
	globalCh  chan struct{} // closed (and replaced) when a global slot frees
	families  map[string]*family
	skew      skewEstimator
}

// family is the pacing state of one endpoint family.
type family struct {
	name     string
	counters familyCounters

	inflight int
	ch       chan struct{} // closed (and replaced) when the family's state changes

	seen      bool // a response was observed
	metered   bool // rate-limit headers were observed
	limit     int
	remaining int
	confirmed int64         // newest reset (server ms) reported by a header
	window    int64         // reset (server ms) of the window described (may be assumed)
	resetAt   time.Time     // local time of window's reset
	windowLen time.Duration // learnt from consecutive resets; 0 = unknown
	precise   bool          // resets come with millisecond precision

	lastRelease time.Time
}

// ticket is one released attempt.
type ticket struct {
	f            *family
	capAtRelease float64
	released     time.Time
}

func newPacer(share float64, maxInFlight, perFamily int) *pacer {
	return &pacer{
		share:     share,
		maxCap:    float64(maxInFlight),
		capF:      float64(maxInFlight),
		perFamily: perFamily,
		globalCh:  make(chan struct{}),
		families:  make(map[string]*family),
	}
}

// family returns (creating) the state of the named family.
func (p *pacer) family(name string) *family {
	p.mu.Lock()
	defer p.mu.Unlock()
	f := p.families[name]
	if f == nil {
		f = &family{name: name, ch: make(chan struct{})}
		p.families[name] = f
	}
	return f
}

func (p *pacer) capacity() int {
	return max(1, int(math.Floor(p.capF+1e-9)))
}

func (f *family) broadcast() {
	close(f.ch)
	f.ch = make(chan struct{})
}

func (p *pacer) broadcastGlobal() {
	close(p.globalCh)
	p.globalCh = make(chan struct{})
}

// decide reports whether a request of f may be released now; otherwise when
// to look again (zero: on the next signal of ch) and why. p.mu is held.
func (p *pacer) decide(f *family, now time.Time) (wakeAt time.Time, ch chan struct{}, why waitReason) {
	if p.inflight >= p.capacity() {
		return time.Time{}, p.globalCh, waitGlobal
	}
	if p.perFamily > 0 && f.inflight >= p.perFamily {
		return time.Time{}, f.ch, waitFamilyIn
	}
	if !f.seen {
		if f.inflight > 0 {
			return time.Time{}, f.ch, waitProbe
		}
		return time.Time{}, nil, waitNone
	}
	if !f.metered {
		return time.Time{}, nil, waitNone
	}
	if !now.Before(f.resetAt.Add(f.margin())) {
		if f.windowLen <= 0 {
			// Window length unknown: probe the new window.
			if f.inflight > 0 {
				return time.Time{}, f.ch, waitProbe
			}
			return time.Time{}, nil, waitNone
		}
		// Assume a fresh window until headers say otherwise.
		k := int64(now.Sub(f.resetAt)/f.windowLen) + 1
		f.window += k * f.windowLen.Milliseconds()
		f.resetAt = f.resetAt.Add(time.Duration(k) * f.windowLen)
		f.remaining = f.limit
	}
	usable := math.Floor(float64(f.remaining) - (1-p.share)*float64(f.limit) - float64(f.inflight) + 1e-9)
	if usable < 1 {
		return f.resetAt.Add(f.margin()), f.ch, waitBudget
	}
	if !f.lastRelease.IsZero() {
		// Spread the budget so it is spent slightly before the reset: a
		// stall (a slow response, a GC pause, every worker busy) then
		// delays requests into the slack instead of leaving budget unused
		// when the window closes.
		gap := f.resetAt.Add(-f.slack()).Sub(f.lastRelease)
		if gap > 0 {
			next := f.lastRelease.Add(time.Duration(float64(gap) / (usable + 1)))
			if now.Before(next) {
				return next, f.ch, waitPace
			}
		}
	}
	return time.Time{}, nil, waitNone
}

// acquire blocks until a request of f may be sent or ctx is done. onWait is
// called (without the lock) once per distinct wait reason, with the planned
// wait (0 when waiting for a signal).
func (p *pacer) acquire(ctx context.Context, f *family, onWait func(waitReason, time.Duration)) (*ticket, error) {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	last := waitNone
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		p.mu.Lock()
		now := time.Now()
		wakeAt, ch, why := p.decide(f, now)
		if why == waitNone {
			p.inflight++
			f.inflight++
			f.lastRelease = now
			t := &ticket{f: f, capAtRelease: p.capF, released: now}
			p.mu.Unlock()
			return t, nil
		}
		p.mu.Unlock()
		var d time.Duration
		if !wakeAt.IsZero() {
			d = max(wakeAt.Sub(now), 0)
		}
		if why != last && onWait != nil {
			onWait(why, d)
		}
		last = why
		var timerC <-chan time.Time
		if !wakeAt.IsZero() {
			if timer == nil {
				timer = time.NewTimer(d)
			} else {
				timer.Reset(d)
			}
			timerC = timer.C
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-ch:
		case <-timerC:
		}
		if timer != nil {
			timer.Stop()
		}
	}
}

// observe feeds a response of f received at local time recv to the pacer.
// sent is the local time the attempt was released.
func (p *pacer) observe(f *family, status int, h http.Header, sent, recv time.Time) {
	if date, ok := parseDate(h); ok {
		p.skew.observe(sent, recv, date)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	defer f.broadcast()
	rl, ok := parseRateLimit(h)
	if isConcurrencyLimit(status, h) {
		return // says nothing about the family's bucket
	}
	if !f.seen {
		f.seen = true
	}
	if !ok || rl.limit <= 0 {
		return
	}
	f.metered = true
	f.precise = rl.precise
	p.skew.observeSent(sent, rl.resetMs)
	switch {
	case rl.resetMs < f.confirmed:
		return // an older window
	case rl.resetMs == f.confirmed:
		if f.window != rl.resetMs {
			return // we already moved past this window
		}
		f.remaining = min(f.remaining, rl.remaining)
	default: // a newer window than any reported before
		if f.confirmed > 0 {
			if l := time.Duration(rl.resetMs-f.confirmed) * time.Millisecond; f.windowLen == 0 || l < f.windowLen {
				f.windowLen = l
			}
			if wl := f.windowLen.Milliseconds(); wl > 0 && (rl.resetMs-f.confirmed)%wl == 0 {
				// Fixed windows: the server counted this request after the
				// previous reset.
				p.skew.observeCrossing(recv, f.confirmed)
			}
		}
		f.confirmed = rl.resetMs
		if f.window == rl.resetMs {
			f.remaining = min(f.remaining, rl.remaining)
		} else {
			f.window = rl.resetMs
			f.remaining = rl.remaining
		}
	}
	if status == http.StatusTooManyRequests {
		f.remaining = 0
	}
	f.limit = rl.limit
	f.resetAt = p.skew.localTime(f.window, time.Now())
}

// release returns t's slot. conc reports a concurrency-limit 429; ok a
// response that was not a 429 or a 5xx. It returns the new global cap when
// it was lowered (0 otherwise).
func (p *pacer) release(t *ticket, conc, ok bool) (lowered int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.inflight--
	t.f.inflight--
	switch {
	case conc:
		if t.capAtRelease >= p.capF-1e-9 {
			p.capF = max(1, math.Min(p.capF, float64(p.inflight+1))/2)
			lowered = p.capacity()
		}
	case ok && p.capF < p.maxCap:
		p.capF = math.Min(p.maxCap, p.capF+1/p.capF)
	}
	p.broadcastGlobal()
	t.f.broadcast()
	return lowered
}

// resetWait returns how long until the reset named by h (plus the boundary
// margin), on the local clock.
func (p *pacer) resetWait(h http.Header, now time.Time) (time.Duration, bool) {
	rl, ok := parseRateLimit(h)
	if !ok {
		return 0, false
	}
	at := p.skew.localTime(rl.resetMs, now)
	margin := boundaryMargin
	if !rl.precise {
		margin = secondsMargin(0)
	}
	return max(at.Sub(now)+margin, 0), true
}

// effectiveCap returns the current global in-flight cap.
func (p *pacer) effectiveCap() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.capacity()
}

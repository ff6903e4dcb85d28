package httpclient

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strings"
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

// maxTrustedWindow is the longest rate-limit window the pacer believes: a
// reset further than this from the response's Date, or a learnt window
// longer than this, contradicts the clock.
const maxTrustedWindow = time.Hour

// localWindow is the window assumed by conservative local pacing when the
// headers' window length is unknown (Okta's windows are a minute).
const localWindow = time.Minute

// resetTolerance absorbs the one-second resolution of Date and
// X-Rate-Limit-Reset when checking headers against each other.
const resetTolerance = 2 * time.Second

// waitReason says why the pacer holds a request.
type waitReason int

const (
	waitNone     waitReason = iota
	waitGlobal              // global in-flight cap reached
	waitFamilyIn            // per-family in-flight cap reached
	waitProbe               // budget unknown: one probe in flight
	waitBudget              // window exhausted: waiting for its reset
	waitLocal               // headers not trusted: conservative local pacing
)

// String names the reason in log lines.
func (w waitReason) String() string {
	switch w {
	case waitGlobal:
		return "in-flight cap"
	case waitFamilyIn:
		return "family in-flight cap"
	case waitProbe:
		return "probing the budget"
	case waitBudget:
		return "rate-limit budget used up, waiting for the window reset"
	case waitLocal:
		return "conservative local pacing (rate-limit headers contradict the clock)"
	}
	return "none"
}

// pacer holds the rate-limit state of every family and the global in-flight
// cap. All fields are guarded by mu.
type pacer struct {
	mu     sync.Mutex
	maxCap float64
	capF   float64 // effective global cap (AIMD on concurrency 429s)
	// concCeil, when > 0, is the concurrent limit a 429 reported (times
	// the share): the cap never grows past it again.
	concCeil  float64
	perFamily int
	inflight  int
	globalCh  chan struct{} // closed (and replaced) when a global slot frees
	families  map[string]*family
	skew      skewEstimator
	// now is the clock (time.Now; tests inject one).
	now func() time.Time
	// maxWait bounds a wait for a reset while the window length is unknown.
	maxWait time.Duration
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
	confirmed int64 // newest reset (server ms) reported by a header
	// confirmed429 is set when confirmed came from a 429.
	confirmed429 bool
	window       int64         // reset (server ms) of the window described (may be assumed)
	resetAt      time.Time     // local time of window's reset
	windowLen    time.Duration // learnt from consecutive resets; 0 = unknown
	precise      bool          // resets come with millisecond precision
	// local is set once the family's headers contradicted each other or
	// the clock: from then on it is paced locally and conservatively
	// (limit·share per window, evenly spread), ignoring resets.
	local bool

	lastRelease time.Time
}

// ticket is one released attempt.
type ticket struct {
	f            *family
	capAtRelease float64
	released     time.Time
	share        float64
}

func newPacer(maxWait time.Duration, maxInFlight, perFamily int) *pacer {
	return &pacer{
		maxWait:   maxWait,
		maxCap:    float64(maxInFlight),
		capF:      float64(maxInFlight),
		perFamily: perFamily,
		globalCh:  make(chan struct{}),
		families:  make(map[string]*family),
		now:       time.Now,
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

// decide reports whether a request of f may be released now with the given
// share; otherwise when to look again (zero: on the next signal of ch) and
// why. p.mu is held. Every timed wait ends at most one window length (or
// maxTrustedWindow) after now: resets are clamped when they are learnt.
func (p *pacer) decide(f *family, now time.Time, share float64) (wakeAt time.Time, ch chan struct{}, why waitReason) {
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
	if f.local {
		// Conservative: limit·share per window, one request every
		// window/budget, whatever the headers say.
		budget := max(1, math.Floor(float64(f.limit)*share+1e-9))
		win := f.windowLen
		if win <= 0 || win > maxTrustedWindow {
			win = localWindow
		}
		if !f.lastRelease.IsZero() {
			if next := f.lastRelease.Add(time.Duration(float64(win) / budget)); now.Before(next) {
				return next, f.ch, waitLocal
			}
		}
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
	// Burst: release while the share of the window's budget lasts, then
	// wait for the reset.
	usable := math.Floor(float64(f.remaining) - (1-share)*float64(f.limit) - float64(f.inflight) + 1e-9)
	if usable < 1 {
		return f.resetAt.Add(f.margin()), f.ch, waitBudget
	}
	return time.Time{}, nil, waitNone
}

// try releases a request of f at now if the pacer allows it; otherwise it
// returns when to look again (zero: on the next signal of ch) and why.
func (p *pacer) try(f *family, now time.Time, share float64) (t *ticket, wakeAt time.Time, ch chan struct{}, why waitReason) {
	p.mu.Lock()
	defer p.mu.Unlock()
	wakeAt, ch, why = p.decide(f, now, share)
	if why != waitNone {
		return nil, wakeAt, ch, why
	}
	p.inflight++
	f.inflight++
	f.lastRelease = now
	return &ticket{f: f, capAtRelease: p.capF, released: now, share: share}, time.Time{}, nil, waitNone
}

// acquire blocks until a request of f may be sent or ctx is done. onWait is
// called (without the lock) once per distinct wait reason, with the planned
// wait (0 when waiting for a signal).
func (p *pacer) acquire(ctx context.Context, f *family, share float64, onWait func(waitReason, time.Duration)) (*ticket, error) {
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
		now := p.now()
		t, wakeAt, ch, why := p.try(f, now, share)
		if t != nil {
			return t, nil
		}
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

// observation is what observe concluded from one response.
type observation struct {
	// conc: a 429 the family's window cannot explain (a concurrency
	// limit).
	conc bool
	// concLimit is the concurrent limit a concurrency 429 reported in
	// X-Rate-Limit-Limit (Okta's documented form), 0 when unknown.
	concLimit int
	// contradiction, when not empty, says why the family's headers are no
	// longer trusted (set once, when the family switches to local pacing).
	contradiction string
}

// observe feeds a response of f received at local time recv to the pacer.
// sent is the local time the attempt was released.
func (p *pacer) observe(f *family, status int, h http.Header, sent, recv time.Time) (ob observation) {
	date, hasDate := parseDate(h)
	if hasDate {
		p.skew.observe(sent, recv, date)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	defer f.broadcast()
	rl, ok := parseRateLimit(h)
	f.seen = true
	if status == http.StatusTooManyRequests && p.unexplained429(f, rl, ok, h) {
		ob.conc = true
		if ok && rl.limit > 0 && f.metered && rl.limit != f.limit {
			ob.concLimit = rl.limit
		}
		return ob // says nothing about the family's bucket
	}
	if !ok || rl.limit <= 0 {
		return ob
	}
	f.metered = true
	f.limit = rl.limit
	if f.local {
		return ob
	}
	if why := p.contradicts(f, rl, date, hasDate, recv); why != "" {
		f.local = true
		ob.contradiction = why
		return ob
	}
	f.precise = rl.precise
	p.skew.observeSent(sent, rl.resetMs)
	switch {
	case rl.resetMs < f.confirmed:
		return ob // an older window
	case rl.resetMs == f.confirmed:
		if f.window != rl.resetMs {
			return ob // we already moved past this window
		}
		f.remaining = min(f.remaining, rl.remaining)
	default: // a newer window than any reported before
		// A 429's reset may be an estimate: no window length is learnt
		// from it (nor across it).
		if f.confirmed > 0 && status != http.StatusTooManyRequests && !f.confirmed429 {
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
		f.confirmed429 = status == http.StatusTooManyRequests
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
	at := p.resetTime(rl, recv)
	// Bound every wait: the reset is at most one window after the
	// response (or MaxWait while the window is unknown).
	bound := p.maxWait
	if f.windowLen > 0 {
		bound = f.windowLen
	}
	if lim := recv.Add(bound); at.After(lim) {
		at = lim
	}
	f.resetAt = at
	return ob
}

// resetTime converts a reset to the local clock, relative to the Date
// headers: with the skew estimate (local − server clock) those headers
// give, the latest plausible one (see skewEstimator), which is 0 while they
// agree with the local clock. With a single response that is
// recv + (reset − Date).
func (p *pacer) resetTime(rl rateLimit, recv time.Time) time.Time {
	return p.skew.localTime(rl.resetMs, recv)
}

// unexplained429 reports whether a 429 is a concurrency-limit rejection
// rather than the family's window running out. Okta documents two forms:
// X-Rate-Limit-Limit 0, or the concurrent values in the same headers (Limit
// is the concurrent limit, Remaining 0, Reset an estimate). So a 429 is
// unexplained by the window when its limit is 0 or differs from the
// family's, when its reset is not one of the family's window boundaries, or
// when the family's window still had budget beyond the requests in flight.
// In the last case the window is also marked used up, to stay on the safe
// side when other clients spent the budget. p.mu is held.
func (p *pacer) unexplained429(f *family, rl rateLimit, ok bool, h http.Header) bool {
	if strings.TrimSpace(h.Get(HeaderRateLimitLimit)) == "0" {
		return true
	}
	if !ok || !f.metered || f.local {
		return false
	}
	if rl.limit != f.limit {
		return true
	}
	if rl.resetMs != f.confirmed {
		if rl.resetMs < f.confirmed {
			return true // a reset before the window's: an estimate
		}
		wl := f.windowLen.Milliseconds()
		if wl <= 0 {
			return false // a newer window; its length is not known yet
		}
		off := (rl.resetMs - f.confirmed) % wl
		tol := int64(1)
		if !rl.precise {
			tol = 1000 // whole seconds
		}
		return min(off, wl-off) > tol // not a window boundary
	}
	if f.window == rl.resetMs && f.remaining-(f.inflight-1) >= 1 {
		f.remaining = 0
		return true
	}
	return false
}

// contradicts returns why a response's rate-limit headers cannot describe
// the present ("" when they can): a reset before the response's Date or
// further after it than a window, Date headers that disagree with each
// other and the local clock, or (without Date) a reset far from the local
// clock. p.mu is held.
func (p *pacer) contradicts(f *family, rl rateLimit, date time.Time, hasDate bool, recv time.Time) string {
	maxAhead := maxTrustedWindow
	if f.windowLen > 0 {
		maxAhead = f.windowLen
	}
	maxAhead += resetTolerance
	ref, what := recv, "the local clock"
	if hasDate {
		ref, what = date, "the response's Date"
		if !p.skew.consistent() {
			return "Date headers contradict each other and the local clock"
		}
	}
	ahead := time.UnixMilli(rl.resetMs).Sub(ref)
	switch {
	case ahead < -resetTolerance:
		return fmt.Sprintf("X-Rate-Limit-Reset lies %v before %s", (-ahead).Round(time.Second), what)
	case ahead > maxAhead:
		return fmt.Sprintf("X-Rate-Limit-Reset lies %v after %s, more than a window", ahead.Round(time.Second), what)
	}
	if f.confirmed > 0 && rl.resetMs > f.confirmed && time.Duration(rl.resetMs-f.confirmed)*time.Millisecond > maxTrustedWindow {
		return "consecutive resets are more than an hour apart"
	}
	return ""
}

// release returns t's slot. conc reports a concurrency-limit 429 (with the
// concurrent limit it reported, 0 when unknown); ok a response that was not
// a 429 or a 5xx. It returns the new global cap when it was lowered (0
// otherwise). The cap is halved on a concurrency 429 (at most once per
// round of requests), never grows past the reported concurrent limit times
// the share, and otherwise grows back by 1/cap per success.
func (p *pacer) release(t *ticket, conc, ok bool, concLimit int) (lowered int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.inflight--
	t.f.inflight--
	ceiling := p.maxCap
	switch {
	case conc:
		if concLimit > 0 {
			c := max(1, math.Floor(float64(concLimit)*t.share+1e-9))
			if p.concCeil == 0 || c < p.concCeil {
				p.concCeil = c
			}
		}
		if t.capAtRelease >= p.capF-1e-9 {
			p.capF = max(1, math.Min(p.capF, float64(p.inflight+1))/2)
			lowered = p.capacity()
		}
		if p.concCeil > 0 && p.capF > p.concCeil {
			p.capF = p.concCeil
			lowered = p.capacity()
		}
	case ok:
		if p.concCeil > 0 {
			ceiling = min(ceiling, p.concCeil)
		}
		if p.capF < ceiling {
			p.capF = math.Min(ceiling, p.capF+1/p.capF)
		}
	}
	p.broadcastGlobal()
	t.f.broadcast()
	return lowered
}

// effectiveCap returns the current global in-flight cap.
func (p *pacer) effectiveCap() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.capacity()
}

package httpclient

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/stepgraph/stepgraph/sdk/integration"
)

// transport is the http.RoundTripper under retryablehttp: one call is one
// attempt, paced, authenticated, bounded by AttemptTimeout, body fully read.
type transport struct{ c *Client }

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	c := t.c
	st, _ := req.Context().Value(stateKey{}).(*reqState)
	if st == nil { // not sent through Do (e.g. a redirect built elsewhere)
		st = &reqState{req: integration.Request{Method: req.Method, Endpoint: c.endpoint(req.URL)}}
		st.family = c.pacer.family(c.familyOf(req.Method, req.URL.Path))
	}
	f := st.family
	start := time.Now()
	if !st.lastEnd.IsZero() {
		f.counters.backoffWait.Add(int64(start.Sub(st.lastEnd)))
		st.lastEnd = time.Time{}
	}

	tk, err := c.pacer.acquire(req.Context(), f, c.shareOf(req.Context()), func(why waitReason, d time.Duration) {
		f.counters.waits.Add(1)
		c.logWait(st, why.String(), d)
		if why == waitBudget {
			c.emit(Event{Kind: EventRateLimitWait, Family: f.name, Method: st.req.Method, Endpoint: st.req.Endpoint, Wait: d})
		}
	})
	f.counters.pacingWait.Add(int64(time.Since(start)))
	if err != nil {
		return nil, err
	}
	st.attempts++
	f.counters.requests.Add(1)
	if st.attempts > 1 {
		f.counters.retries.Add(1)
	}

	resp, body, recv, err := t.attempt(req, st)
	if err != nil && resp == nil {
		c.pacer.release(tk, false, false, 0)
		f.counters.transportErrors.Add(1)
		st.lastStatus = 0
		st.lastEnd = time.Now()
		return nil, err
	}
	ob := c.pacer.observe(f, resp.StatusCode, resp.Header, tk.released, recv)
	conc := ob.conc
	st.lastConc = conc
	if ob.contradiction != "" {
		c.contradiction(f.name, ob.contradiction)
	}
	if err == nil && resp.StatusCode < 300 {
		c.lastProgress.Store(recv.UnixNano())
	}
	switch {
	case conc:
		f.counters.concLimited.Add(1)
	case resp.StatusCode == http.StatusTooManyRequests:
		f.counters.rateLimited.Add(1)
	case resp.StatusCode >= 500:
		f.counters.serverErrors.Add(1)
	}
	ok := err == nil && resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode < 500
	if lowered := c.pacer.release(tk, conc, ok, ob.concLimit); lowered > 0 {
		c.log.Debug("httpclient: concurrency limit reached, lowering in-flight cap",
			"method", st.req.Method, "endpoint", st.req.Endpoint, "family", f.name, "status", resp.StatusCode, "cap", lowered)
		c.emit(Event{Kind: EventConcurrencyLimit, Family: f.name, Method: st.req.Method, Endpoint: st.req.Endpoint,
			Status: resp.StatusCode, InFlightCap: lowered})
	}
	st.lastStatus = resp.StatusCode
	st.lastEnd = time.Now()
	if err != nil { // body read failed: retryable as a transport error
		f.counters.transportErrors.Add(1)
		return nil, err
	}
	// The body is handed to Do's caller without another copy; the
	// previous attempt's (a retried response, already drained) goes back
	// to the pool.
	c.bodies.put(st.bodyBuf)
	st.body, st.bodyBuf = *body, body
	resp.Body = io.NopCloser(bytes.NewReader(*body))
	resp.ContentLength = int64(len(*body))
	resp.Request = req // never expose the authenticated clone
	return resp, nil
}

// logWait logs a pacer or backoff wait: at Info when it is longer than
// 2 s (so a long pause is never silent), else at Debug.
func (c *Client) logWait(st *reqState, reason string, d time.Duration) {
	lvl := slog.LevelDebug
	if d > longWait {
		lvl = slog.LevelInfo
	}
	c.log.Log(context.Background(), lvl, "httpclient: waiting",
		"family", st.family.name, "reason", reason, "wait", d.Round(time.Millisecond),
		"method", st.req.Method, "endpoint", st.req.Endpoint)
}

// longWait is the wait above which a log line is written at Info level.
const longWait = 2 * time.Second

// contradiction reports, once per client at Warn level (then at Debug),
// that a family's rate-limit headers are not trusted any more.
func (c *Client) contradiction(family, why string) {
	lvl := slog.LevelDebug
	if c.warnedHeaders.CompareAndSwap(false, true) {
		lvl = slog.LevelWarn
	}
	c.log.Log(context.Background(), lvl,
		"httpclient: rate-limit headers do not describe the present; pacing conservatively on the local clock",
		"family", family, "reason", why)
}

// attempt sends one authenticated request and reads the whole body under
// AttemptTimeout into a buffer from the client's pool. A non-nil resp with
// a non-nil err means the headers arrived but the body could not be read.
func (t *transport) attempt(req *http.Request, st *reqState) (*http.Response, *[]byte, time.Time, error) {
	c := t.c
	ctx, cancel := context.WithTimeout(req.Context(), c.cfg.AttemptTimeout)
	defer cancel()
	out := req.Clone(ctx)
	resp, err := c.send(out) // credentials only for BaseURL's host (auth.go)
	recv := time.Now()
	if err != nil {
		return nil, nil, recv, err
	}
	defer resp.Body.Close()
	tooLarge := &permanentError{err: &BodyTooLargeError{Limit: c.cfg.MaxBodyBytes}}
	if resp.ContentLength > c.cfg.MaxBodyBytes {
		return resp, nil, recv, tooLarge // don't read what we will refuse
	}
	hint := 0
	if n := resp.ContentLength; n >= 0 {
		hint = int(n) + 1 // room to see EOF without growing
	}
	body, err := c.bodies.readBody(io.LimitReader(resp.Body, c.cfg.MaxBodyBytes+1), hint)
	if err != nil {
		c.bodies.put(body)
		return resp, nil, recv, fmt.Errorf("reading response body: %w", err)
	}
	if int64(len(*body)) > c.cfg.MaxBodyBytes {
		c.bodies.put(body)
		return resp, nil, recv, tooLarge
	}
	return resp, body, recv, nil
}

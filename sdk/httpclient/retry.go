package httpclient

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"
)

// retryableStatus reports whether a status is worth another attempt.
func retryableStatus(status int) bool {
	return status == http.StatusTooManyRequests ||
		(status >= 500 && status != http.StatusNotImplemented && status != http.StatusHTTPVersionNotSupported)
}

// retryableError reports whether a failed attempt (no usable response) is
// worth another attempt: connection resets, unexpected EOF, refused
// connections and timeouts are; certificate problems, refused redirects and
// malformed requests are not.
func retryableError(err error) bool {
	var perm *permanentError
	var fh *ForeignHostError
	var cve *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	switch {
	case errors.Is(err, context.Canceled),
		errors.As(err, &perm), errors.As(err, &fh),
		errors.As(err, &cve), errors.As(err, &ua), errors.As(err, &he), errors.As(err, &ci):
		return false
	}
	msg := err.Error()
	for _, s := range []string{"unsupported protocol scheme", "invalid header", "server gave HTTP response to HTTPS client"} {
		if strings.Contains(msg, s) {
			return false
		}
	}
	return true
}

// checkRetry is the retryablehttp.CheckRetry of one request. Failures
// (5xx, connection errors, timeouts) count against Config.MaxAttempts. 429s
// do not: a rate-limited or concurrency-limited request is retried as long
// as the client is making progress, that is while some request of the
// client succeeded within the last Config.RateLimitPatience (or the request
// itself started less than that ago).
func (c *Client) checkRetry(ctx context.Context, st *reqState, resp *http.Response, err error) (bool, error) {
	if cerr := ctx.Err(); cerr != nil {
		st.lastRetryable = false
		return false, cerr
	}
	if err != nil {
		st.lastErr = err
		st.lastRetryable = retryableError(err)
	} else {
		st.lastErr = nil
		st.lastRetryable = retryableStatus(resp.StatusCode)
	}
	if !st.lastRetryable {
		return false, nil
	}
	if err == nil && resp.StatusCode == http.StatusTooManyRequests {
		progress := st.started
		if lp := time.Unix(0, c.lastProgress.Load()); lp.After(progress) {
			progress = lp
		}
		return time.Since(progress) < c.cfg.RateLimitPatience, nil
	}
	st.failures++
	return st.failures < c.cfg.MaxAttempts, nil
}

// backoff is the retryablehttp.Backoff of one request: jittered exponential
// backoff over the failures so far, at least the server's Retry-After (at
// most Config.MaxWait). After a rate-limit 429 the wait is short: the pacer
// then holds the request until the window resets (a bounded, logged wait).
// After a concurrency-limit 429 it grows with the 429s of the request, up to
// 2 s, while the lowered in-flight cap does the rest.
func (c *Client) backoff(st *reqState, minWait, maxWait time.Duration, attemptNum int, resp *http.Response) time.Duration {
	now := time.Now()
	jitter := func(d time.Duration) time.Duration {
		if d <= 0 || d > maxWait {
			d = maxWait
		}
		// "Equal jitter": half fixed, half random.
		return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
	}
	wait := jitter(minWait << min(max(st.failures-1, 0), 30))
	status := 0
	if resp != nil {
		status = resp.StatusCode
		if status == http.StatusTooManyRequests {
			if st.lastConc {
				st.conc429++
				wait = jitter(min(minWait<<min(st.conc429-1, 30), 2*time.Second))
			} else {
				wait = time.Duration(rand.Int64N(int64(boundaryMargin)) + 1)
			}
		}
		if ra, ok := parseRetryAfter(resp.Header, now); ok && ra > 0 {
			wait = max(wait, min(ra, c.cfg.MaxWait))
		}
	}
	lvl := slog.LevelDebug
	if wait > longWait {
		lvl = slog.LevelInfo
	}
	c.log.Log(context.Background(), lvl, "httpclient: retrying request",
		"method", st.req.Method, "endpoint", st.req.Endpoint, "family", st.family.name,
		"status", status, "attempt", st.attempts, "wait", wait, "error", c.errString(st.lastErr))
	c.emit(Event{Kind: EventRetry, Family: st.family.name, Method: st.req.Method, Endpoint: st.req.Endpoint,
		Status: status, Attempt: st.attempts, Wait: wait})
	return wait
}

func (c *Client) errString(err error) string {
	if err == nil {
		return ""
	}
	return c.scrub.wrap(err).Error()
}

func (c *Client) emit(e Event) {
	if c.cfg.OnEvent != nil {
		c.cfg.OnEvent(e)
	}
}

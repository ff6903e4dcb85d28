package httpclient

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
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

// checkRetry is the retryablehttp.CheckRetry of one request.
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
	return st.lastRetryable, nil
}

// backoff is the retryablehttp.Backoff of one request: jittered exponential
// backoff, at least the server's Retry-After, and for a rate-limit 429 the
// time until the window resets.
func (c *Client) backoff(st *reqState, minWait, maxWait time.Duration, attemptNum int, resp *http.Response) time.Duration {
	now := time.Now()
	d := minWait << min(attemptNum, 30)
	if d <= 0 || d > maxWait {
		d = maxWait
	}
	// "Equal jitter": half fixed, half random.
	wait := d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
	status := 0
	if resp != nil {
		status = resp.StatusCode
		var server time.Duration
		if ra, ok := parseRetryAfter(resp.Header, now); ok {
			server = ra
		}
		if status == http.StatusTooManyRequests && !isConcurrencyLimit(status, resp.Header) {
			if rw, ok := c.pacer.resetWait(resp.Header, now); ok {
				server = max(server, rw+time.Duration(rand.Int64N(int64(boundaryMargin))))
			}
		}
		if server > 0 {
			wait = max(wait, min(server, c.cfg.MaxWait))
			if status == http.StatusTooManyRequests {
				// The server said when; exponential growth is not needed.
				wait = min(server, c.cfg.MaxWait)
			}
		}
	}
	c.log.Debug("httpclient: retrying request",
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

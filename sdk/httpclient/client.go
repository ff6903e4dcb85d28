package httpclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	json "github.com/segmentio/encoding/json"

	"github.com/stepgraph/stepgraph/sdk/integration"
)

// Client is a retrying, rate-limit-pacing, paginating HTTP client for one
// provider API. It is safe for concurrent use; all goroutines share its
// pacer.
type Client struct {
	cfg    Config
	base   *url.URL
	origin string
	hc     *http.Client
	inner  http.RoundTripper
	pacer  *pacer
	bodies bodyPool // response body buffers (Response.Release)
	scrub  *scrubber
	log    *slog.Logger

	// lastProgress is the local time (Unix ns) of the last 2xx response:
	// 429s are retried while the client makes progress.
	lastProgress atomic.Int64
	// warnedHeaders is set once contradicting rate-limit headers were
	// reported at Warn level.
	warnedHeaders atomic.Bool
}

// Response is a fully read HTTP response.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
	// URL is the URL of the request that produced the response (after
	// same-host redirects).
	URL *url.URL
	// Attempts is the number of attempts the request took.
	Attempts int

	buf  *[]byte // Body's buffer, from pool
	pool *bodyPool
}

// Release hands the response's body buffer back to the client, which reuses
// it for a later response. Body (and every slice of it, such as strings
// converted without copying or json.RawMessage values that alias it) must
// not be used after Release; values decoded from it with encoding/json
// (which copies) stay valid. Calling Release is optional — a body never
// released is garbage collected — and calling it again does nothing.
// Callers that read many responses (list pages, per-object reads) release
// each one once it is decoded, which keeps the allocation rate, and with it
// the garbage collector's work and the peak memory, low.
func (r *Response) Release() {
	if r == nil || r.buf == nil {
		return
	}
	r.pool.put(r.buf)
	r.buf, r.Body = nil, nil
}

// New validates cfg and returns a Client.
func New(cfg Config) (*Client, error) {
	base, err := cfg.normalize()
	if err != nil {
		return nil, err
	}
	secrets := append([]string(nil), cfg.Secrets...)
	if cfg.AuthValue != "" {
		secrets = append(secrets, cfg.AuthValue)
	}
	c := &Client{
		cfg:    cfg,
		base:   base,
		origin: origin(base),
		pacer:  newPacer(cfg.MaxWait, cfg.MaxInFlight, cfg.MaxInFlightPerFamily),
		scrub:  newScrubber(secrets...),
		log:    cfg.Logger,
	}
	c.inner = cfg.Transport
	if c.inner == nil {
		c.inner = &http.Transport{
			Proxy: http.ProxyFromEnvironment,
			DialContext: (&net.Dialer{
				Timeout:   cfg.DialTimeout,
				KeepAlive: 30 * time.Second,
			}).DialContext,
			TLSHandshakeTimeout:   cfg.TLSHandshakeTimeout,
			ResponseHeaderTimeout: cfg.ResponseHeaderTimeout,
			ExpectContinueTimeout: time.Second,
			IdleConnTimeout:       90 * time.Second,
			MaxIdleConns:          max(100, cfg.MaxInFlight),
			MaxIdleConnsPerHost:   cfg.MaxInFlight,
			ForceAttemptHTTP2:     true,
		}
	}
	c.hc = &http.Client{
		Transport: &transport{c: c},
		// No overall http.Client timeout: it would also run while the
		// request waits for the pacer. AttemptTimeout bounds each attempt
		// from its release until its body is read.
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if origin(req.URL) != c.origin {
				return &permanentError{err: c.foreign(req.URL)}
			}
			if len(via) >= 10 {
				return &permanentError{err: errors.New("stopped after 10 redirects")}
			}
			return nil
		},
	}
	if a, ok := cfg.Authenticator.(Attacher); ok {
		a.Attach(c)
	}
	return c, nil
}

type shareKey struct{}

// WithRateLimitShare returns a context whose requests may use share
// (0 < share <= 1) of each rate-limit bucket, overriding Config.Share. The
// command line's --rate-limit-share reaches every integration's client this
// way. Other values are ignored.
func WithRateLimitShare(ctx context.Context, share float64) context.Context {
	if !(share > 0 && share <= 1) {
		return ctx
	}
	return context.WithValue(ctx, shareKey{}, share)
}

// RateLimitShareFrom returns the share set by WithRateLimitShare.
func RateLimitShareFrom(ctx context.Context) (float64, bool) {
	v, ok := ctx.Value(shareKey{}).(float64)
	return v, ok
}

func (c *Client) shareOf(ctx context.Context) float64 {
	if v, ok := RateLimitShareFrom(ctx); ok {
		return v
	}
	return c.cfg.Share
}

// CloseIdleConnections closes idle connections of the underlying transport.
func (c *Client) CloseIdleConnections() { c.hc.CloseIdleConnections() }

// origin returns "scheme://host[:port]" with default ports removed and lower
// case, for same-host comparisons.
func origin(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	return scheme + "://" + host
}

func (c *Client) foreign(u *url.URL) *ForeignHostError {
	return &ForeignHostError{Host: c.scrub.scrub(origin(u)), Allowed: c.origin}
}

// resolve resolves pathOrURL against BaseURL and refuses foreign hosts.
func (c *Client) resolve(pathOrURL string) (*url.URL, error) {
	ref, err := url.Parse(pathOrURL)
	if err != nil {
		return nil, &RequestError{
			Request: integration.Request{Endpoint: c.scrub.scrub(pathOrURL)},
			Err:     errors.New("invalid URL"),
		}
	}
	u := c.base.ResolveReference(ref)
	u.Fragment, u.RawFragment = "", ""
	if origin(u) != c.origin {
		return nil, c.foreign(u)
	}
	u.User = nil
	return u, nil
}

// endpoint returns the scrubbed path and query of u for errors and logs.
func (c *Client) endpoint(u *url.URL) string {
	return c.scrub.scrub(u.RequestURI())
}

func (c *Client) familyOf(method, path string) string {
	if c.cfg.Family == nil {
		return ""
	}
	return c.cfg.Family(method, path)
}

// reqState follows one Do call through its attempts. It is only touched by
// the goroutine running the call (retryablehttp runs attempts sequentially
// and the transport is called synchronously).
type reqState struct {
	req      integration.Request
	family   *family
	attempts int

	lastStatus    int
	lastErr       error
	lastRetryable bool
	lastConc      bool      // the last attempt got a concurrency-limit 429
	body          []byte    // body of the last attempt that returned a response
	bodyBuf       *[]byte   // body's pooled buffer
	lastEnd       time.Time // end of the previous attempt (start of a backoff)

	started  time.Time // when Do was called
	failures int       // failed attempts that count against MaxAttempts (not 429s)
	conc429  int       // concurrency-limit 429s so far
}

type stateKey struct{}

// Do sends a request to pathOrURL (a path relative to BaseURL, or an
// absolute URL on BaseURL's scheme and host) with retries and pacing, and
// returns the fully read response. body may be nil; it is buffered so it can
// be resent.
//
// Errors: ctx.Err() when ctx ends; *ForeignHostError for another host
// (nothing sent); *integration.RetriesExhaustedError when retryable failures
// outlast Config.MaxAttempts; *integration.AuthenticationError (401),
// *integration.AuthorizationError (403) or *integration.APIError for other
// non-2xx statuses, returned together with the Response; *RequestError for
// other failures.
func (c *Client) Do(ctx context.Context, method, pathOrURL string, body io.Reader) (*Response, error) {
	u, err := c.resolve(pathOrURL)
	if err != nil {
		return nil, err
	}
	return c.do(ctx, method, u, body)
}

func (c *Client) do(ctx context.Context, method string, u *url.URL, body io.Reader) (*Response, error) {
	if method == "" {
		method = http.MethodGet
	}
	st := &reqState{req: integration.Request{Method: method, Endpoint: c.endpoint(u)}, started: time.Now()}
	st.family = c.pacer.family(c.familyOf(method, u.Path))
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var raw any
	if body != nil {
		b, err := io.ReadAll(body)
		if err != nil {
			return nil, &RequestError{Request: st.req, Err: c.scrub.wrap(fmt.Errorf("reading request body: %w", err))}
		}
		raw = b
	}
	rctx := context.WithValue(ctx, stateKey{}, st)
	rreq, err := retryablehttp.NewRequestWithContext(rctx, method, u.String(), raw)
	if err != nil {
		return nil, &RequestError{Request: st.req, Err: c.scrub.wrap(err)}
	}
	rreq.Header.Set("Accept", "application/json")
	rreq.Header.Set("User-Agent", c.cfg.UserAgent)
	if body != nil {
		rreq.Header.Set("Content-Type", "application/json")
	}
	rc := &retryablehttp.Client{
		HTTPClient:   c.hc,
		Logger:       nil, // its log lines carry URLs; we log ourselves
		RetryWaitMin: c.cfg.BackoffMin,
		RetryWaitMax: c.cfg.BackoffMax,
		RetryMax:     math.MaxInt32, // checkRetry decides
		CheckRetry: func(ctx context.Context, resp *http.Response, err error) (bool, error) {
			return c.checkRetry(ctx, st, resp, err)
		},
		Backoff: func(minWait, maxWait time.Duration, attemptNum int, resp *http.Response) time.Duration {
			return c.backoff(st, minWait, maxWait, attemptNum, resp)
		},
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
	}
	resp, err := rc.Do(rreq)
	if cerr := ctx.Err(); cerr != nil {
		if resp != nil {
			resp.Body.Close()
		}
		if !st.lastEnd.IsZero() && st.lastRetryable {
			st.family.counters.backoffWait.Add(int64(time.Since(st.lastEnd)))
		}
		return nil, cerr
	}
	if err != nil {
		if resp != nil {
			resp.Body.Close()
		}
		if st.lastRetryable {
			return nil, &integration.RetriesExhaustedError{
				Request: st.req, Attempts: st.attempts, LastStatus: st.lastStatus, Err: c.scrub.wrap(st.lastErr),
			}
		}
		var fh *ForeignHostError
		if errors.As(err, &fh) {
			return nil, fh
		}
		return nil, &RequestError{Request: st.req, Err: c.scrub.wrap(err)}
	}
	resp.Body.Close()
	b := st.body // the last attempt's body, read by the transport
	out := &Response{Status: resp.StatusCode, Header: resp.Header, Body: b, URL: u, Attempts: st.attempts,
		buf: st.bodyBuf, pool: &c.bodies}
	if resp.Request != nil && resp.Request.URL != nil {
		out.URL = resp.Request.URL
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return out, nil
	}
	apiErr := c.apiError(st.req, resp.StatusCode, b)
	if st.lastRetryable {
		return out, &integration.RetriesExhaustedError{
			Request: st.req, Attempts: st.attempts, LastStatus: resp.StatusCode, Err: apiErr,
		}
	}
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		return out, &integration.AuthenticationError{APIError: *apiErr}
	case http.StatusForbidden:
		return out, &integration.AuthorizationError{APIError: *apiErr}
	}
	return out, apiErr
}

func (c *Client) apiError(req integration.Request, status int, body []byte) *integration.APIError {
	code, summary := providerError(body)
	return &integration.APIError{
		Request:      req,
		Status:       status,
		ProviderCode: c.scrub.scrub(code),
		Summary:      c.scrub.scrub(summary),
	}
}

// GetJSON sends a GET to pathOrURL and decodes the JSON body into v. Errors
// are those of Do, or a decoding error naming the endpoint. When v is not
// nil the returned Response's Body has been released (Response.Release):
// everything decoded into v is a copy, and Header, Status and URL remain.
func (c *Client) GetJSON(ctx context.Context, pathOrURL string, v any) (*Response, error) {
	resp, err := c.Do(ctx, http.MethodGet, pathOrURL, nil)
	if err != nil {
		return resp, err
	}
	if v == nil {
		return resp, nil
	}
	err = json.Unmarshal(resp.Body, v)
	resp.Release() // v holds copies (RawMessage values included)
	if err != nil {
		return resp, &RequestError{
			Request: integration.Request{Method: http.MethodGet, Endpoint: c.endpoint(resp.URL)},
			Err:     c.scrub.wrap(fmt.Errorf("decoding JSON response: %w", err)),
		}
	}
	return resp, nil
}

package fakeprovider

import (
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Unknown is the endpoint name Stats reports for paths no endpoint serves.
const Unknown = "(unknown)"

// Options configure a Server. The zero value serves registered endpoints
// with no credential check, no rate limits and no faults.
type Options struct {
	// Auth checks each request's credentials (nil: none). See TokenAuth.
	Auth Authenticator
	// WriteError renders error answers, the server's own (429, 401, ...)
	// and those endpoints send with Call.Error (default: DefaultWriteError).
	WriteError func(c *Call, e *Error)

	// BaseURL, if set (e.g. "https://acme.example.com"), is the scheme and
	// host of paging links instead of the request's own.
	BaseURL string
	// SelfLinks adds a `Link: <request URL>; rel="self"` header to every
	// page, as a line of its own before the rel="next" one.
	SelfLinks bool
	// LimitParam and CursorParam name the page size and cursor query
	// parameters (default "limit" and "after").
	LimitParam, CursorParam string

	// Buckets are the rate-limit buckets. Without buckets nothing is rate
	// limited and no X-Rate-Limit-* headers are sent.
	Buckets []Bucket
	// Window is the rate-limit window (default one minute).
	Window time.Duration
	// LimitScale multiplies every bucket's limit (0 means 1); a scaled
	// limit is at least 1.
	LimitScale float64
	// DisableRateLimits never answers 429 for a bucket; headers are still
	// sent and requests still counted.
	DisableRateLimits bool
	// ConcurrencyLimit is the number of requests in flight (over every
	// bucket) above which a request gets a 429; 0 means no limit.
	ConcurrencyLimit int
	// ConcurrencyLimitZero makes concurrency 429s report
	// X-Rate-Limit-Limit 0 with the bucket's window instead of the
	// concurrent values.
	ConcurrencyLimitZero bool

	// Latency delays every admitted, authenticated request (a cancelled
	// request ends the wait and is counted as Canceled).
	Latency time.Duration
	// Faults injects errors and dropped connections.
	Faults Faults

	// Clock replaces time.Now for windows and the Date header.
	Clock func() time.Time
	// DateOffset is added to the Date header only (not to windows or reset
	// headers): negative for a stale Date (a cache or slow proxy),
	// positive for a Date ahead of the resets.
	DateOffset time.Duration
}

// Bucket is one rate-limit bucket.
type Bucket struct {
	// Name identifies the bucket (Stats.Buckets, Faults.Forbidden).
	Name string
	// Limit is the number of requests per window (before LimitScale).
	Limit int
	// Paths are the path prefixes the bucket counts, matched at segment
	// boundaries ("/api/v1/users" counts /api/v1/users and
	// /api/v1/users/x/roles but not /api/v1/usersx). The bucket without
	// Paths counts every request no other bucket claims.
	Paths []string
}

// Endpoint is one route of the fake API.
type Endpoint struct {
	// Method is the HTTP method (default GET; GET also answers HEAD).
	Method string
	// Pattern is the path, with {name} for a segment the endpoint reads
	// with Call.Param, e.g. "/api/v1/teams/{id}/members". It is also the
	// endpoint's name in Stats and Faults.
	Pattern string
	// Paging, if set, is the page size Call.Limit applies.
	Paging *Paging
	// Scope is the credential scope the endpoint needs, for an
	// Authenticator that knows scopes.
	Scope string
	// Serve answers the request.
	Serve func(c *Call)
}

// Paging is an endpoint's page size rule.
type Paging struct {
	// Default is the page size without a limit (or with limit 0 unless
	// Strict) and Max the largest allowed.
	Default, Max int
	// Strict answers a limit outside 1..Max with 400; otherwise a larger
	// limit is clamped to Max, as many providers do.
	Strict bool
}

// Server is an http.Handler serving registered endpoints behind the
// mechanics of Options. It is safe for concurrent use once its endpoints
// are registered.
type Server struct {
	opts    Options
	clock   func() time.Time
	window  time.Duration
	routes  []route
	methods map[string]bool
	limits  map[string]int
	buckets []bucketPath // longest prefix first
	anyBkt  string       // the bucket without paths
	limiter *Limiter
	faults  *faulter

	inflight atomic.Int64
	mu       sync.Mutex
	st       statsState
}

type route struct {
	ep   *Endpoint
	segs []string
}

type bucketPath struct {
	prefix, name string
}

// New returns a server with no endpoints.
func New(opts Options) *Server {
	s := &Server{opts: opts, clock: opts.Clock, window: opts.Window, methods: map[string]bool{}, limits: map[string]int{}}
	if s.clock == nil {
		s.clock = time.Now
	}
	if s.window <= 0 {
		s.window = time.Minute
	}
	if s.opts.WriteError == nil {
		s.opts.WriteError = DefaultWriteError
	}
	if s.opts.LimitParam == "" {
		s.opts.LimitParam = "limit"
	}
	if s.opts.CursorParam == "" {
		s.opts.CursorParam = "after"
	}
	s.opts.BaseURL = strings.TrimRight(opts.BaseURL, "/")
	scale := opts.LimitScale
	if scale <= 0 {
		scale = 1
	}
	for _, b := range opts.Buckets {
		s.limits[b.Name] = max(1, int(math.Round(float64(b.Limit)*scale)))
		if len(b.Paths) == 0 {
			s.anyBkt = b.Name
		}
		for _, p := range b.Paths {
			s.buckets = append(s.buckets, bucketPath{strings.TrimRight(p, "/"), b.Name})
		}
	}
	slices.SortStableFunc(s.buckets, func(a, b bucketPath) int { return len(b.prefix) - len(a.prefix) })
	s.limiter = NewLimiter(s.window)
	s.faults = newFaulter(opts.Faults)
	s.st.reset(s.limits)
	return s
}

// Handle registers an endpoint. Register every endpoint before serving.
func (s *Server) Handle(ep Endpoint) {
	if ep.Method == "" {
		ep.Method = http.MethodGet
	}
	s.methods[ep.Method] = true
	if ep.Method == http.MethodGet {
		s.methods[http.MethodHead] = true
	}
	s.routes = append(s.routes, route{ep: &ep, segs: splitPath(ep.Pattern)})
}

// Limit returns a bucket's effective per-window limit (0 for an unknown
// bucket).
func (s *Server) Limit(bucket string) int { return s.limits[bucket] }

// Window returns the rate-limit window.
func (s *Server) Window() time.Duration { return s.window }

// Now returns the server's clock.
func (s *Server) Now() time.Time { return s.clock() }

// InFlight returns the number of requests being served.
func (s *Server) InFlight() int64 { return s.inflight.Load() }

// ResetLimits empties every bucket, as if a new window started.
func (s *Server) ResetLimits() { s.limiter.Reset() }

// BucketOf returns the bucket counting requests to path ("" for none).
func (s *Server) BucketOf(path string) string {
	p := strings.TrimRight(path, "/")
	for _, b := range s.buckets {
		if p == b.prefix || strings.HasPrefix(p, b.prefix+"/") {
			return b.name
		}
	}
	return s.anyBkt
}

// Route returns the endpoint (its Pattern, or Unknown) and the bucket
// that a request with method and path is served and counted by.
func (s *Server) Route(method, path string) (endpoint, bucket string) {
	endpoint = Unknown
	if ep, _, _ := s.match(method, path); ep != nil {
		endpoint = ep.Pattern
	}
	return endpoint, s.BucketOf(path)
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// match returns the endpoint serving method and path and its parameters
// (name, value pairs), or nil and whether another method serves the path.
func (s *Server) match(method, path string) (ep *Endpoint, params []string, otherMethod bool) {
	segs := splitPath(path)
	var best *route
	var bestScore uint64
	for i := range s.routes {
		rt := &s.routes[i]
		score, ok := matchSegs(rt.segs, segs)
		if !ok {
			continue
		}
		if rt.ep.Method != method && !(method == http.MethodHead && rt.ep.Method == http.MethodGet) {
			otherMethod = true
			continue
		}
		if best == nil || score > bestScore {
			best, bestScore = rt, score
		}
	}
	if best == nil {
		return nil, nil, otherMethod
	}
	for i, p := range best.segs {
		if strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}") {
			params = append(params, p[1:len(p)-1], segs[i])
		}
	}
	return best.ep, params, false
}

// matchSegs reports whether a pattern matches path segments; the score
// ranks literal segments, leftmost first, above {name} segments.
func matchSegs(pat, segs []string) (uint64, bool) {
	if len(pat) != len(segs) {
		return 0, false
	}
	var score uint64
	for i, p := range pat {
		wild := strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}")
		if !wild && p != segs[i] || segs[i] == "" {
			return 0, false
		}
		if !wild && i < 64 {
			score |= 1 << (63 - i)
		}
	}
	return score, true
}

// ServeHTTP implements http.Handler (see the package doc for the order of
// the checks).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := s.clock()
	h := w.Header()
	h.Set("Date", now.Add(s.opts.DateOffset).UTC().Format(http.TimeFormat))
	ep, params, otherMethod := s.match(r.Method, r.URL.Path)
	name := Unknown
	if ep != nil {
		name = ep.Pattern
	}
	bucket := s.BucketOf(r.URL.Path)
	c := &Call{srv: s, w: w, r: r, ep: ep, params: params}

	n := s.inflight.Add(1)
	defer s.inflight.Add(-1)
	if lim := s.opts.ConcurrencyLimit; lim > 0 && n > int64(lim) {
		if s.opts.ConcurrencyLimitZero {
			q := s.limiter.Peek(bucket, 0, now)
			q.Limit, q.Remaining = 0, 0
			q.SetHeaders(h)
		} else {
			h.Set("X-Rate-Limit-Limit", strconv.Itoa(lim))
			h.Set("X-Rate-Limit-Remaining", "0")
			h.Set("X-Rate-Limit-Reset", strconv.FormatInt(now.Add(time.Second).Unix(), 10))
		}
		s.record(name, bucket, outcomeConcurrency, 0)
		c.Error(&Error{Status: http.StatusTooManyRequests, Reason: ReasonConcurrencyLimited})
		return
	}
	if bucket != "" {
		q := s.limiter.Take(bucket, s.limits[bucket], now)
		q.SetHeaders(h)
		if !q.OK && !s.opts.DisableRateLimits {
			s.record(name, bucket, outcomeRateLimited, n)
			c.Error(&Error{Status: http.StatusTooManyRequests, Reason: ReasonRateLimited})
			return
		}
	}
	recorded := false
	c.onDrop = func() {
		if !recorded {
			recorded = true
			s.record(name, bucket, outcomeDropped, n)
		}
	}
	oc := outcomeNone
	defer func() {
		if !recorded {
			recorded = true
			if oc == outcomeNone {
				oc = outcomeOf(c.status)
			}
			s.record(name, bucket, oc, n)
		}
	}()
	if !s.methods[r.Method] {
		c.Error(&Error{Status: http.StatusMethodNotAllowed, Reason: ReasonMethodNotAllowed})
		return
	}
	if s.opts.Auth != nil {
		if e := s.opts.Auth.Authenticate(c); e != nil {
			c.Error(e)
			return
		}
	}
	if d := s.opts.Latency; d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			oc = outcomeCanceled
			return
		}
	}
	if ep != nil && s.faults.forbidden(name, bucket) {
		c.Error(&Error{Status: http.StatusForbidden, Reason: ReasonForbidden})
		return
	}
	if ep != nil && s.faults.applies(name) {
		switch s.faults.decide(r.Method, r.URL.RequestURI()) {
		case faultError:
			c.Error(&Error{Status: http.StatusInternalServerError, Reason: ReasonServerError})
			return
		case faultDrop:
			c.drop = true
		case faultRateLimit:
			q := s.limiter.Peek(bucket, s.limits[bucket], now)
			q.Remaining = 0
			if bucket != "" {
				q.SetHeaders(h)
			}
			oc = outcomeRateLimited
			c.Error(&Error{Status: http.StatusTooManyRequests, Reason: ReasonRateLimited})
			return
		}
	}
	if ep == nil {
		if otherMethod {
			c.Error(&Error{Status: http.StatusMethodNotAllowed, Reason: ReasonMethodNotAllowed})
		} else {
			c.Error(&Error{Status: http.StatusNotFound, Reason: ReasonNotFound})
		}
		return
	}
	ep.Serve(c)
}

var _ http.Handler = (*Server)(nil)

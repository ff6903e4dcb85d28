package oktafake

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Server is an http.Handler faking the Okta management API over an Org. It
// is safe for concurrent use.
type Server struct {
	org    *Org
	opts   ServerOptions
	token  string
	window time.Duration
	limits map[string]int
	clock  func() time.Time

	deleted   map[string]bool
	forbidden map[string]bool
	faultEPs  map[string]bool
	faultSeed uint64

	inflight atomic.Int64
	oauth    *authServer // the org authorization server (oauth.go)

	mu       sync.Mutex
	buckets  map[string]*bucketState
	attempts map[uint64]uint32
	st       statsState
}

type bucketState struct {
	win   int64 // window number
	count int
}

// NewServer returns a server for org.
func NewServer(org *Org, opts ServerOptions) *Server {
	s := &Server{org: org, opts: opts, token: opts.Token, window: opts.Window, clock: opts.Clock}
	if s.token == "" {
		s.token = DefaultToken
	}
	if s.window <= 0 {
		s.window = time.Minute
	}
	if s.clock == nil {
		s.clock = time.Now
	}
	s.opts.BaseURL = strings.TrimRight(opts.BaseURL, "/")
	s.opts.ObjectBaseURL = strings.TrimRight(opts.ObjectBaseURL, "/")
	scale := opts.LimitScale
	if scale <= 0 {
		scale = 1
	}
	s.limits = map[string]int{}
	for _, b := range Buckets {
		l := DefaultLimits[b]
		if v, ok := opts.Limits[b]; ok && v > 0 {
			l = v
		}
		s.limits[b] = max(1, int(math.Round(float64(l)*scale)))
	}
	s.faultSeed = uint64(opts.Faults.Seed)
	s.deleted = map[string]bool{}
	for _, id := range opts.Faults.DeletedIDs {
		s.deleted[id] = true
	}
	if f := opts.Faults.DeletedFraction; f > 0 {
		mark := func(id string) {
			if unit(hashString(s.faultSeed^0xde1e7e, id)) < f {
				s.deleted[id] = true
			}
		}
		for i := range org.users {
			mark(org.users[i].id)
		}
		for i := range org.groups {
			mark(org.groups[i].id)
		}
		for i := range org.apps {
			mark(org.apps[i].id)
		}
	}
	s.forbidden = map[string]bool{}
	for _, e := range opts.Faults.Forbidden {
		s.forbidden[e] = true
	}
	s.faultEPs = map[string]bool{}
	for _, e := range opts.Faults.Endpoints {
		s.faultEPs[e] = true
	}
	s.buckets = map[string]*bucketState{}
	s.attempts = map[uint64]uint32{}
	s.st.reset()
	s.oauth = newAuthServer(s, opts.OAuth)
	return s
}

// Org returns the server's org.
func (s *Server) Org() *Org { return s.org }

// Token returns the accepted API token.
func (s *Server) Token() string { return s.token }

// Limit returns the effective per-window limit of a bucket.
func (s *Server) Limit(bucket string) int { return s.limits[bucket] }

// Window returns the rate-limit window.
func (s *Server) Window() time.Duration { return s.window }

// DeletedIDs returns, sorted, the ids of users, groups and apps that the
// faults treat as deleted between list and detail calls.
func (s *Server) DeletedIDs() []string {
	out := make([]string, 0, len(s.deleted))
	for id := range s.deleted {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

func (s *Server) isDeleted(id string) bool { return len(s.deleted) > 0 && s.deleted[id] }

// route maps a path to its template, bucket and id parameter.
func route(path string) (tpl, bucket, id string) {
	p := strings.TrimSuffix(path, "/")
	seg := strings.Split(strings.TrimPrefix(p, "/"), "/")
	if len(seg) < 3 || seg[0] != "api" || seg[1] != "v1" {
		return EndpointUnknown, BucketOther, ""
	}
	rest := seg[2:]
	switch rest[0] {
	case "users":
		switch {
		case len(rest) == 1:
			return EndpointUsers, BucketUsers, ""
		case len(rest) == 2:
			return EndpointUser, BucketUsers, rest[1]
		case len(rest) == 3 && rest[2] == "factors":
			return EndpointUserFactors, BucketUsers, rest[1]
		case len(rest) == 3 && rest[2] == "roles":
			return EndpointUserRoles, BucketUsers, rest[1]
		}
		return EndpointUnknown, BucketUsers, ""
	case "groups":
		switch {
		case len(rest) == 1:
			return EndpointGroups, BucketGroups, ""
		case len(rest) == 2 && rest[1] == "rules":
			return EndpointGroupRules, BucketGroups, ""
		case len(rest) == 2:
			return EndpointGroup, BucketGroups, rest[1]
		case len(rest) == 3 && rest[2] == "users":
			return EndpointGroupUsers, BucketGroups, rest[1]
		case len(rest) == 3 && rest[2] == "roles":
			return EndpointGroupRoles, BucketGroups, rest[1]
		}
		return EndpointUnknown, BucketGroups, ""
	case "apps":
		switch {
		case len(rest) == 1:
			return EndpointApps, BucketApps, ""
		case len(rest) == 2:
			return EndpointApp, BucketApps, rest[1]
		case len(rest) == 3 && rest[2] == "users":
			return EndpointAppUsers, BucketApps, rest[1]
		case len(rest) == 3 && rest[2] == "groups":
			return EndpointAppGroups, BucketApps, rest[1]
		}
		return EndpointUnknown, BucketApps, ""
	case "devices":
		if len(rest) == 1 {
			return EndpointDevices, BucketDevices, ""
		}
		return EndpointUnknown, BucketDevices, ""
	case "logs":
		if len(rest) == 1 {
			return EndpointLogs, BucketLogs, ""
		}
		return EndpointUnknown, BucketLogs, ""
	case "iam":
		if len(rest) == 3 && rest[1] == "assignees" && rest[2] == "users" {
			return EndpointIAMAssignees, BucketOther, ""
		}
	case "org":
		if len(rest) == 3 && rest[1] == "privacy" && rest[2] == "oktaSupport" {
			return EndpointOktaSupport, BucketOther, ""
		}
	}
	return EndpointUnknown, BucketOther, ""
}

// call is one request being served.
type call struct {
	s    *Server
	w    http.ResponseWriter
	r    *http.Request
	q    url.Values
	base string // scheme and host of paging links
	// objBase is the scheme and host of links inside objects (_links,
	// app login URLs): ServerOptions.ObjectBaseURL, else base.
	objBase string
	tpl     string
	id      string
	status  int
	// onDrop records the request's stats before a hijacked connection is
	// closed, so a client never sees the close before the count.
	onDrop func()
	drop   bool
	buf    *bytes.Buffer
	bw     *bufio.Writer
	out    io.Writer
}

// ServeHTTP implements http.Handler. Order of checks: concurrency limit,
// rate limit, method, authentication, latency, injected faults, endpoint.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == TokenPath {
		s.serveToken(w, r) // its own bucket (oauth.go)
		return
	}
	tpl, bucket, id := route(r.URL.Path)
	now := s.clock()
	h := w.Header()
	h.Set("Date", now.UTC().Format(http.TimeFormat))
	c := &call{s: s, w: w, r: r, tpl: tpl, id: id}

	n := s.inflight.Add(1)
	defer s.inflight.Add(-1)
	if lim := s.opts.ConcurrencyLimit; lim > 0 && n > int64(lim) {
		if s.opts.ConcurrencyLimitZero {
			_, _, end := s.windowOf(now)
			s.setRateHeaders(h, 0, 0, end)
		} else {
			h.Set("X-Rate-Limit-Limit", strconv.Itoa(lim))
			h.Set("X-Rate-Limit-Remaining", "0")
			h.Set("X-Rate-Limit-Reset", strconv.FormatInt(now.Add(time.Second).Unix(), 10))
		}
		s.record(tpl, bucket, outcomeConcurrency, 0)
		c.error(http.StatusTooManyRequests, "E0000047", "API call exceeded rate limit due to too many requests.")
		return
	}
	limit, remaining, end, ok := s.take(bucket, now)
	s.setRateHeaders(h, limit, remaining, end)
	if !ok {
		s.record(tpl, bucket, outcomeRateLimited, n)
		c.error(http.StatusTooManyRequests, "E0000047", "API call exceeded rate limit due to too many requests.")
		return
	}
	oc := outcomeServed
	recorded := false
	c.onDrop = func() {
		if !recorded {
			recorded = true
			s.record(tpl, bucket, outcomeDropped, n)
		}
	}
	defer func() {
		if !recorded {
			recorded = true
			s.record(tpl, bucket, oc, n)
		}
	}()
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		c.error(http.StatusMethodNotAllowed, "E0000022", "The endpoint does not support the provided HTTP method")
		oc = outcomeOther
		return
	}
	if res, ok := s.authorize(c, tpl); !ok { // API token or access token with its scope (oauth.go)
		oc = res
		return
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
	c.q = r.URL.Query()
	c.base = s.opts.BaseURL
	if c.base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		c.base = scheme + "://" + r.Host
	}
	c.objBase = c.base
	if s.opts.ObjectBaseURL != "" {
		c.objBase = s.opts.ObjectBaseURL
	}
	if tpl != EndpointUnknown && (s.forbidden[tpl] || s.forbidden[bucket]) {
		c.error(http.StatusForbidden, "E0000006", "You do not have permission to perform the requested action")
		oc = outcomeForbidden
		return
	}
	f := &s.opts.Faults
	if (f.ErrorRate > 0 || f.DropRate > 0) && tpl != EndpointUnknown && (len(s.faultEPs) == 0 || s.faultEPs[tpl]) {
		attempt := s.attempt(r.Method + " " + r.URL.RequestURI())
		key := r.Method + " " + r.URL.RequestURI() + "#" + strconv.Itoa(int(attempt))
		if f.ErrorRate > 0 && unit(hashString(s.faultSeed^0xe770, key)) < f.ErrorRate {
			c.error(http.StatusInternalServerError, "E0000009", "Internal Server Error")
			oc = outcomeInjected5xx
			return
		}
		if f.DropRate > 0 && unit(hashString(s.faultSeed^0xd209, key)) < f.DropRate {
			c.drop = true
			oc = outcomeDropped
		}
	}
	res := s.dispatch(c)
	if oc == outcomeServed {
		oc = res
	}
}

func (s *Server) attempt(key string) uint32 {
	h := hashString(0, key)
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.attempts[h]
	s.attempts[h] = a + 1
	return a
}

// windowOf returns the window number, its start and its end.
func (s *Server) windowOf(now time.Time) (win int64, start, end time.Time) {
	w := int64(s.window)
	ns := now.UnixNano()
	win = ns / w
	if ns < 0 && ns%w != 0 {
		win--
	}
	return win, time.Unix(0, win*w), time.Unix(0, (win+1)*w)
}

// take counts a request against a bucket.
func (s *Server) take(bucket string, now time.Time) (limit, remaining int, end time.Time, ok bool) {
	win, _, end := s.windowOf(now)
	limit = s.limits[bucket]
	s.mu.Lock()
	b := s.buckets[bucket]
	if b == nil {
		b = &bucketState{win: win}
		s.buckets[bucket] = b
	}
	if b.win != win {
		b.win, b.count = win, 0
	}
	b.count++
	count := b.count
	s.mu.Unlock()
	remaining = max(0, limit-count)
	ok = count <= limit || s.opts.DisableRateLimits
	return limit, remaining, end, ok
}

// setRateHeaders writes Okta's rate-limit headers. X-Rate-Limit-Reset is the
// window end in UTC epoch seconds, rounded up for sub-second windows;
// X-Rate-Limit-Reset-Ms (not sent by Okta) is the same instant in epoch
// milliseconds.
func (s *Server) setRateHeaders(h http.Header, limit, remaining int, end time.Time) {
	ns := end.UnixNano()
	h.Set("X-Rate-Limit-Limit", strconv.Itoa(limit))
	h.Set("X-Rate-Limit-Remaining", strconv.Itoa(remaining))
	h.Set("X-Rate-Limit-Reset", strconv.FormatInt((ns+int64(time.Second)-1)/int64(time.Second), 10))
	h.Set("X-Rate-Limit-Reset-Ms", strconv.FormatInt((ns+int64(time.Millisecond)-1)/int64(time.Millisecond), 10))
}

// ---- response writing ----

func (c *call) begin(status int) io.Writer {
	c.status = status
	h := c.w.Header()
	h.Set("Content-Type", "application/json")
	if c.drop {
		c.buf = &bytes.Buffer{}
		c.out = c.buf
		return c.out
	}
	c.w.WriteHeader(status)
	if c.r.Method == http.MethodHead {
		c.out = io.Discard
		return c.out
	}
	c.bw = bufio.NewWriterSize(c.w, 32<<10)
	c.out = c.bw
	return c.out
}

func (c *call) end() {
	if c.bw != nil {
		c.bw.Flush()
		return
	}
	if !c.drop || c.buf == nil {
		return
	}
	body := c.buf.Bytes()
	cut := max(1, len(body)/2)
	if cut >= len(body) {
		cut = len(body) - 1
	}
	h := c.w.Header()
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if hj, ok := c.w.(http.Hijacker); ok {
		conn, rw, err := hj.Hijack()
		if err == nil {
			c.onDrop()
			fmt.Fprintf(rw, "HTTP/1.1 %d %s\r\n", c.status, http.StatusText(c.status))
			h.Write(rw)
			rw.WriteString("\r\n")
			rw.Write(body[:cut])
			rw.Flush()
			conn.Close()
			return
		}
	}
	// HTTP/2 or a wrapped writer: abort the stream mid-body.
	c.w.WriteHeader(c.status)
	c.w.Write(body[:cut])
	if fl, ok := c.w.(http.Flusher); ok {
		fl.Flush()
	}
	panic(http.ErrAbortHandler)
}

func marshal(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

func (c *call) writeJSON(status int, v any) {
	w := c.begin(status)
	w.Write(marshal(v))
	c.end()
}

// writeList writes a JSON array of n items.
func (c *call) writeList(status int, n int, item func(k int) any) {
	w := c.begin(status)
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	io.WriteString(w, "[")
	for k := 0; k < n; k++ {
		b.Reset()
		if err := enc.Encode(item(k)); err != nil {
			panic(err)
		}
		if k > 0 {
			io.WriteString(w, ",")
		}
		w.Write(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
	}
	io.WriteString(w, "]")
	c.end()
}

type jError struct {
	ErrorCode    string              `json:"errorCode"`
	ErrorSummary string              `json:"errorSummary"`
	ErrorLink    string              `json:"errorLink"`
	ErrorID      string              `json:"errorId"`
	ErrorCauses  []map[string]string `json:"errorCauses"`
}

func (c *call) error(status int, code, summary string, causes ...string) {
	h := hashString(uint64(status), code+" "+c.r.URL.RequestURI())
	var id [19]byte
	for i := range id {
		id[i] = base62[h%62]
		h = mix64(h)
	}
	e := jError{ErrorCode: code, ErrorSummary: summary, ErrorLink: code, ErrorID: "oae" + string(id[:]), ErrorCauses: []map[string]string{}}
	for _, cs := range causes {
		e.ErrorCauses = append(e.ErrorCauses, map[string]string{"errorSummary": cs})
	}
	c.drop = false
	c.writeJSON(status, e)
}

func (c *call) notFound(kind string) outcome {
	c.error(http.StatusNotFound, "E0000007", "Not found: Resource not found: "+c.id+" ("+kind+")")
	return outcomeNotFound
}

func (c *call) badRequest(param string) outcome {
	c.error(http.StatusBadRequest, "E0000001", "Api validation failed: "+param, param+": invalid value")
	return outcomeOther
}

// ---- paging ----

// pageLimit returns the effective limit (clamped to the endpoint maximum).
func (c *call) pageLimit() (int, bool) {
	l := pageLimits[c.tpl]
	v := c.q.Get("limit")
	if v == "" {
		return l[0], true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, false
	}
	if n == 0 {
		return l[0], true
	}
	return min(n, l[1]), true
}

func (c *call) selfURL() string {
	u := c.base + c.r.URL.Path
	if c.r.URL.RawQuery != "" {
		u += "?" + c.r.URL.RawQuery
	}
	return u
}

func (c *call) nextURL(after string, limit int) string {
	q := url.Values{}
	for k, v := range c.q {
		q[k] = v
	}
	q.Set("after", after)
	q.Set("limit", strconv.Itoa(limit))
	return c.base + c.r.URL.Path + "?" + q.Encode()
}

// setLinks writes the Link headers: rel="self" always, rel="next" when
// next is not empty, as separate header lines.
func (c *call) setLinks(next string) {
	h := c.w.Header()
	h.Add("Link", "<"+c.selfURL()+`>; rel="self"`)
	if next != "" {
		h.Add("Link", "<"+next+`>; rel="next"`)
	}
}

// pageOf returns up to limit indices i in [start, n) with match(i), and
// whether another match follows.
func pageOf(start, n, limit int, match func(i int) bool) (idx []int, more bool) {
	for i := start; i < n; i++ {
		if match != nil && !match(i) {
			continue
		}
		if len(idx) == limit {
			return idx, true
		}
		idx = append(idx, i)
	}
	return idx, false
}

// afterIndex decodes an id cursor into the position to start from.
func (c *call) afterIndex(parse func(string) int) (int, bool) {
	a := c.q.Get("after")
	if a == "" {
		return 0, true
	}
	i := parse(a)
	if i < 0 {
		return 0, false
	}
	return i + 1, true
}

func (c *call) parseFilterParam(name string, known func(string) bool) (filterExpr, bool) {
	v := c.q.Get(name)
	if v == "" {
		return nil, true
	}
	e, err := parseFilter(v)
	if err != nil || !checkFields(e, known) {
		return nil, false
	}
	return e, true
}

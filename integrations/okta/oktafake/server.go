package oktafake

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/stepgraph/stepgraph/sdk/fakeprovider"
)

// Server is an http.Handler faking the Okta management API over an Org. The
// mechanics (paging links, rate limits, concurrency limit, latency, faults,
// counters) are sdk/fakeprovider's; Server adds Okta's endpoints, data,
// error bodies, credentials and authorization server. It is safe for
// concurrent use.
type Server struct {
	org   *Org
	opts  ServerOptions
	token string
	clock func() time.Time
	api   *fakeprovider.Server

	deleted map[string]bool
	oauth   *authServer // the org authorization server (oauth.go)

	renders sync.Map // object base URL -> *rendered (rendered.go)
}

// NewServer returns a server for org.
func NewServer(org *Org, opts ServerOptions) *Server {
	s := &Server{org: org, opts: opts, token: opts.Token, clock: opts.Clock}
	if s.token == "" {
		s.token = DefaultToken
	}
	if s.clock == nil {
		s.clock = time.Now
	}
	s.opts.BaseURL = strings.TrimRight(opts.BaseURL, "/")
	s.opts.ObjectBaseURL = strings.TrimRight(opts.ObjectBaseURL, "/")
	var buckets []fakeprovider.Bucket
	for _, b := range Buckets {
		l := DefaultLimits[b]
		if v, ok := opts.Limits[b]; ok && v > 0 {
			l = v
		}
		var paths []string
		if b != BucketOther {
			paths = []string{"/api/v1/" + b}
		}
		buckets = append(buckets, fakeprovider.Bucket{Name: b, Limit: l, Paths: paths})
	}
	f := opts.Faults
	s.api = fakeprovider.New(fakeprovider.Options{
		Auth:                 fakeprovider.AuthFunc(s.authorize),
		WriteError:           s.writeError,
		BaseURL:              s.opts.BaseURL,
		SelfLinks:            true,
		Buckets:              buckets,
		Window:               opts.Window,
		LimitScale:           opts.LimitScale,
		DisableRateLimits:    opts.DisableRateLimits,
		ConcurrencyLimit:     opts.ConcurrencyLimit,
		ConcurrencyLimitZero: opts.ConcurrencyLimitZero,
		Latency:              opts.Latency,
		Faults: fakeprovider.Faults{Seed: f.Seed, ErrorRate: f.ErrorRate, DropRate: f.DropRate,
			Endpoints: f.Endpoints, Forbidden: f.Forbidden},
		Clock:      s.clock,
		DateOffset: opts.DateOffset,
	})
	s.handle(EndpointOktaSupport, s.oktaSupport)
	s.handle(EndpointUsers, s.listUsers)
	s.handle(EndpointUser, s.getUser)
	s.handle(EndpointUserFactors, s.userFactors)
	s.handle(EndpointUserRoles, s.userRoles)
	s.handle(EndpointIAMAssignees, s.iamAssignees)
	s.handle(EndpointGroups, s.listGroups)
	s.handle(EndpointGroup, s.getGroup)
	s.handle(EndpointGroupUsers, s.groupUsers)
	s.handle(EndpointGroupRoles, s.groupRoles)
	s.handle(EndpointGroupRules, s.groupRules)
	s.handle(EndpointApps, s.listApps)
	s.handle(EndpointApp, s.getApp)
	s.handle(EndpointAppUsers, s.appUsers)
	s.handle(EndpointAppGroups, s.appGroups)
	s.handle(EndpointDevices, s.listDevices)
	s.handle(EndpointLogs, s.listLogs)

	seed := uint64(f.Seed)
	s.deleted = map[string]bool{}
	for _, id := range f.DeletedIDs {
		s.deleted[id] = true
	}
	if f.DeletedFraction > 0 {
		mark := func(id string) {
			if fakeprovider.Unit(fakeprovider.Hash(seed^0xde1e7e, id)) < f.DeletedFraction {
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
	s.oauth = newAuthServer(s, opts.OAuth)
	return s
}

// handle registers an endpoint template with its paging and scope.
func (s *Server) handle(tpl string, serve func(*call)) {
	ep := fakeprovider.Endpoint{Pattern: tpl, Scope: EndpointScopes[tpl]}
	if l, ok := pageLimits[tpl]; ok {
		ep.Paging = &fakeprovider.Paging{Default: l[0], Max: l[1]}
	}
	ep.Serve = func(fc *fakeprovider.Call) {
		c := &call{Call: fc, s: s, q: fc.Query(), id: fc.Param("id"), objBase: fc.BaseURL()}
		if s.opts.ObjectBaseURL != "" {
			c.objBase = s.opts.ObjectBaseURL
		}
		serve(c)
	}
	s.api.Handle(ep)
}

// ServeHTTP implements http.Handler: the authorization server's token
// endpoint, and the management API behind fakeprovider's checks
// (concurrency limit, rate limit, method, authentication, latency,
// forbidden endpoints, injected faults, endpoint).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == TokenPath {
		s.serveToken(w, r) // its own bucket (oauth.go)
		return
	}
	s.api.ServeHTTP(w, r)
}

// Org returns the server's org.
func (s *Server) Org() *Org { return s.org }

// Token returns the accepted API token.
func (s *Server) Token() string { return s.token }

// Limit returns the effective per-window limit of a bucket.
func (s *Server) Limit(bucket string) int { return s.api.Limit(bucket) }

// Window returns the rate-limit window.
func (s *Server) Window() time.Duration { return s.api.Window() }

// Stats returns a snapshot of the management API's counters (token
// requests are in TokenStats).
func (s *Server) Stats() Stats { return s.api.Stats() }

// ResetStats zeroes the counters (not the rate-limit windows nor the fault
// attempt counts).
func (s *Server) ResetStats() { s.api.ResetStats() }

// ResetLimits empties every rate-limit bucket of the management API, as if
// a new window started.
func (s *Server) ResetLimits() { s.api.ResetLimits() }

// Stats is a snapshot of what a Server has seen; Endpoints are keyed by
// the Endpoint* templates and Buckets by the Bucket* names.
type Stats = fakeprovider.Stats

// BucketStats are the counters of one rate-limit bucket.
type BucketStats = fakeprovider.BucketStats

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

// call is one management API request being served.
type call struct {
	*fakeprovider.Call
	s  *Server
	q  url.Values
	id string // the {id} path segment
	// objBase is the scheme and host of links inside objects (_links,
	// app login URLs): ServerOptions.ObjectBaseURL, else the paging base.
	objBase string
}

// jError is Okta's error body.
type jError struct {
	ErrorCode    string              `json:"errorCode"`
	ErrorSummary string              `json:"errorSummary"`
	ErrorLink    string              `json:"errorLink"`
	ErrorID      string              `json:"errorId"`
	ErrorCauses  []map[string]string `json:"errorCauses"`
}

// Okta's error codes and summaries for fakeprovider's reasons.
var reasonErrors = map[fakeprovider.Reason][2]string{
	fakeprovider.ReasonBadRequest:         {"E0000001", "Api validation failed"},
	fakeprovider.ReasonUnauthorized:       {"E0000011", "Invalid token provided"},
	fakeprovider.ReasonForbidden:          {"E0000006", "You do not have permission to perform the requested action"},
	fakeprovider.ReasonNotFound:           {"E0000007", ""},
	fakeprovider.ReasonMethodNotAllowed:   {"E0000022", "The endpoint does not support the provided HTTP method"},
	fakeprovider.ReasonRateLimited:        {"E0000047", "API call exceeded rate limit due to too many requests."},
	fakeprovider.ReasonConcurrencyLimited: {"E0000047", "API call exceeded rate limit due to too many requests."},
	fakeprovider.ReasonServerError:        {"E0000009", "Internal Server Error"},
}

// writeError renders an error the Okta way, with a deterministic errorId.
func (s *Server) writeError(c *fakeprovider.Call, e *fakeprovider.Error) {
	r := c.Request()
	code, summary := e.Code, e.Message
	if def, ok := reasonErrors[e.Reason]; ok {
		if code == "" {
			code = def[0]
		}
		if summary == "" {
			summary = def[1]
		}
	}
	if summary == "" {
		summary = "Not found: Resource not found: " + r.URL.Path + " (" + r.Method + ")"
	}
	h := fakeprovider.Hash(uint64(e.Status), code+" "+r.URL.RequestURI())
	var id [19]byte
	for i := range id {
		id[i] = base62[h%62]
		h = mix64(h)
	}
	body := jError{ErrorCode: code, ErrorSummary: summary, ErrorLink: code, ErrorID: "oae" + string(id[:]), ErrorCauses: []map[string]string{}}
	for _, cs := range e.Causes {
		body.ErrorCauses = append(body.ErrorCauses, map[string]string{"errorSummary": cs})
	}
	c.JSON(e.Status, body)
}

func (c *call) error(status int, code, summary string, causes ...string) {
	c.Error(&fakeprovider.Error{Status: status, Code: code, Message: summary, Causes: causes})
}

func (c *call) notFound(kind string) {
	c.error(http.StatusNotFound, "E0000007", "Not found: Resource not found: "+c.id+" ("+kind+")")
}

func (c *call) badRequest(param string) {
	c.error(http.StatusBadRequest, "E0000001", "Api validation failed: "+param, param+": invalid value")
}

// ---- paging ----

// pageLimit returns the effective limit (clamped to the endpoint maximum).
func (c *call) pageLimit() (int, bool) {
	n, e := c.Limit()
	return n, e == nil
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

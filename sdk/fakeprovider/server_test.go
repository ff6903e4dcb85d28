package fakeprovider_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stepgraph/stepgraph/sdk/fakeprovider"
)

type item struct {
	ID string `json:"id"`
}

var items = func() []item {
	var out []item
	for i := range 7 {
		out = append(out, item{ID: fmt.Sprintf("i-%d", i)})
	}
	return out
}()

// newServer serves /items (paged 3/5), /items/{id} and /things/{id}/parts
// behind "Bearer tok".
func newServer(opts fakeprovider.Options) *fakeprovider.Server {
	if opts.Auth == nil {
		opts.Auth = fakeprovider.TokenAuth{Scheme: "Bearer", Token: "tok"}
	}
	s := fakeprovider.New(opts)
	s.Handle(fakeprovider.Endpoint{Pattern: "/items", Paging: &fakeprovider.Paging{Default: 3, Max: 5},
		Serve: func(c *fakeprovider.Call) { fakeprovider.Page(c, items, func(it item) string { return it.ID }) }})
	s.Handle(fakeprovider.Endpoint{Pattern: "/items/{id}", Serve: func(c *fakeprovider.Call) {
		for _, it := range items {
			if it.ID == c.Param("id") {
				c.JSON(http.StatusOK, it)
				return
			}
		}
		c.Error(&fakeprovider.Error{Status: http.StatusNotFound, Reason: fakeprovider.ReasonNotFound, Code: "no_item"})
	}})
	s.Handle(fakeprovider.Endpoint{Pattern: "/items/special", Serve: func(c *fakeprovider.Call) {
		c.JSON(http.StatusOK, item{ID: "special"})
	}})
	s.Handle(fakeprovider.Endpoint{Method: http.MethodPost, Pattern: "/things/{id}/parts", Serve: func(c *fakeprovider.Call) {
		c.JSON(http.StatusCreated, map[string]string{"thing": c.Param("id")})
	}})
	return s
}

func serve(h http.Handler, method, target, auth string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func get(h http.Handler, target string) *httptest.ResponseRecorder {
	return serve(h, http.MethodGet, target, "Bearer tok")
}

func errorOf(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	var e struct{ Error, Message string }
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error == "" {
		t.Fatalf("error body %q: %v", rec.Body.String(), err)
	}
	return e.Error
}

func TestPaging(t *testing.T) {
	s := newServer(fakeprovider.Options{SelfLinks: true, BaseURL: "https://api.example.test/"})
	var got []string
	pages := 0
	for next := "/items?limit=3&x=y"; next != ""; pages++ {
		rec := get(s, next)
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s: %d %s", next, rec.Code, rec.Body)
		}
		var page []item
		if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil {
			t.Fatal(err)
		}
		for _, it := range page {
			got = append(got, it.ID)
		}
		links := rec.Header().Values("Link")
		if len(links) == 0 || links[0] != "<https://api.example.test"+next+`>; rel="self"` {
			t.Fatalf("self link %q", links)
		}
		next = ""
		if len(links) == 2 {
			u := strings.TrimSuffix(strings.TrimPrefix(links[1], "<"), `>; rel="next"`)
			if !strings.Contains(u, "x=y") || !strings.HasPrefix(u, "https://api.example.test/items?") {
				t.Fatalf("next link %q keeps neither the base URL nor the query", u)
			}
			next = strings.TrimPrefix(u, "https://api.example.test")
		}
	}
	if strings.Join(got, ",") != "i-0,i-1,i-2,i-3,i-4,i-5,i-6" || pages != 3 {
		t.Fatalf("%d pages: %v", pages, got)
	}
	for target, want := range map[string]int{
		"/items":              3, // default
		"/items?limit=0":      3,
		"/items?limit=50":     5, // clamped
		"/items?after=i-5":    1,
		"/items?after=nope":   -400,
		"/items?limit=-1":     -400,
		"/items?limit=x":      -400,
		"/items/i-4":          -200,
		"/items/i-4/":         -200, // trailing slash
		"/items/special":      -200, // a literal segment wins over {id}
		"/items/none":         -404,
		"/nothing/here":       -404,
		"/items?after=i-6&x=": 0,
	} {
		rec := get(s, target)
		if want < 0 {
			if rec.Code != -want {
				t.Errorf("GET %s: %d, want %d", target, rec.Code, -want)
			}
			continue
		}
		var page []item
		if err := json.Unmarshal(rec.Body.Bytes(), &page); rec.Code != 200 || err != nil || len(page) != want {
			t.Errorf("GET %s: %d, %d items, want %d", target, rec.Code, len(page), want)
		}
	}
	if rec := get(s, "/items/special"); !strings.Contains(rec.Body.String(), `"special"`) {
		t.Errorf("literal route: %s", rec.Body)
	}
	if e := errorOf(t, get(s, "/items/none")); e != "no_item" {
		t.Errorf("endpoint's own error code: %q", e)
	}
	// Strict paging refuses what it would otherwise clamp.
	strict := fakeprovider.New(fakeprovider.Options{})
	strict.Handle(fakeprovider.Endpoint{Pattern: "/items", Paging: &fakeprovider.Paging{Default: 3, Max: 5, Strict: true},
		Serve: func(c *fakeprovider.Call) { fakeprovider.Page(c, items, func(it item) string { return it.ID }) }})
	for target, want := range map[string]int{"/items?limit=5": 200, "/items?limit=6": 400, "/items?limit=0": 400} {
		if rec := get(strict, target); rec.Code != want {
			t.Errorf("strict GET %s: %d, want %d", target, rec.Code, want)
		}
	}
}

func TestAuthAndMethods(t *testing.T) {
	s := newServer(fakeprovider.Options{})
	for _, auth := range []string{"", "Bearer wrong", "Basic tok", "Bearer tok2"} {
		rec := serve(s, http.MethodGet, "/items", auth)
		if rec.Code != http.StatusUnauthorized || errorOf(t, rec) != "unauthorized" {
			t.Errorf("auth %q: %d %s", auth, rec.Code, rec.Body)
		}
		if rec.Header().Get("WWW-Authenticate") != `Bearer realm="fake"` {
			t.Errorf("challenge %q", rec.Header().Get("WWW-Authenticate"))
		}
		if strings.Contains(rec.Body.String(), "tok") {
			t.Errorf("the error body shows the credentials: %s", rec.Body)
		}
	}
	for _, tc := range []struct {
		method, target string
		want           int
	}{
		{http.MethodGet, "/items", 200},
		{http.MethodHead, "/items", 200},
		{http.MethodPost, "/things/t1/parts", 201},
		{http.MethodGet, "/things/t1/parts", 405}, // the path exists for POST only
		{http.MethodDelete, "/items", 405},        // no endpoint deletes
		{http.MethodPut, "/nothing", 405},
	} {
		rec := serve(s, tc.method, tc.target, "Bearer tok")
		if rec.Code != tc.want {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.target, rec.Code, tc.want)
		}
		if tc.method == http.MethodHead && rec.Body.Len() != 0 {
			t.Errorf("HEAD answered a body")
		}
	}
	// A scope-aware authenticator sees the endpoint.
	scoped := fakeprovider.New(fakeprovider.Options{Auth: fakeprovider.AuthFunc(func(c *fakeprovider.Call) *fakeprovider.Error {
		if ep := c.Endpoint(); ep != nil && ep.Scope != "" && c.Request().Header.Get("X-Scope") != ep.Scope {
			return &fakeprovider.Error{Status: http.StatusForbidden, Reason: fakeprovider.ReasonForbidden}
		}
		return nil
	})})
	scoped.Handle(fakeprovider.Endpoint{Pattern: "/admin", Scope: "admin.read", Serve: func(c *fakeprovider.Call) { c.JSON(200, "ok") }})
	if rec := get(scoped, "/admin"); rec.Code != http.StatusForbidden {
		t.Errorf("missing scope: %d", rec.Code)
	}
	st := s.Stats()
	if st.Unauthorized != 4 || st.OtherErrors != 3 || st.OK != 3 {
		t.Errorf("stats %+v", st)
	}
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

func TestRateLimitHeadersAnd429(t *testing.T) {
	start := time.Date(2026, 11, 28, 12, 0, 10, 0, time.UTC)
	clk := &clock{t: start}
	s := newServer(fakeprovider.Options{
		Clock: clk.Now, Window: 300 * time.Millisecond, LimitScale: 0.5, DateOffset: -30 * time.Second,
		Buckets: []fakeprovider.Bucket{{Name: "items", Limit: 6, Paths: []string{"/items"}}, {Name: "rest", Limit: 100}},
	})
	if s.Limit("items") != 3 || s.BucketOf("/items/x") != "items" || s.BucketOf("/itemsx") != "rest" || s.BucketOf("/") != "rest" {
		t.Fatalf("limit %d, buckets %q %q", s.Limit("items"), s.BucketOf("/items/x"), s.BucketOf("/itemsx"))
	}
	for _, tc := range [][4]string{
		{http.MethodGet, "/items/i-1", "/items/{id}", "items"},
		{http.MethodGet, "/items/special/", "/items/special", "items"},
		{http.MethodPost, "/things/t/parts", "/things/{id}/parts", "rest"},
		{http.MethodGet, "/things/t/parts", fakeprovider.Unknown, "rest"},
		{http.MethodGet, "/items/a/b", fakeprovider.Unknown, "items"},
	} {
		if ep, b := s.Route(tc[0], tc[1]); ep != tc[2] || b != tc[3] {
			t.Errorf("Route(%s %s) = %s, %s; want %s, %s", tc[0], tc[1], ep, b, tc[2], tc[3])
		}
	}
	// Windows are aligned to multiples of 300 ms since the epoch: this one
	// ends 200 ms from now, in the next second.
	end := start.Add(200 * time.Millisecond)
	for i := 1; i <= 4; i++ {
		rec := get(s, "/items/i-1")
		h := rec.Header()
		if h.Get("X-Rate-Limit-Limit") != "3" || h.Get("X-Rate-Limit-Reset") != strconv.FormatInt(start.Unix()+1, 10) ||
			h.Get("X-Rate-Limit-Reset-Ms") != strconv.FormatInt(end.UnixMilli(), 10) {
			t.Fatalf("request %d: headers %v", i, h)
		}
		if h.Get("Date") != start.Add(-30*time.Second).Format(http.TimeFormat) {
			t.Fatalf("Date %q, want the clock 30 s stale", h.Get("Date"))
		}
		wantRemaining := strconv.Itoa(max(0, 3-i))
		if h.Get("X-Rate-Limit-Remaining") != wantRemaining {
			t.Fatalf("request %d: remaining %s, want %s", i, h.Get("X-Rate-Limit-Remaining"), wantRemaining)
		}
		if want := map[bool]int{true: 200, false: 429}[i <= 3]; rec.Code != want {
			t.Fatalf("request %d: %d, want %d", i, rec.Code, want)
		}
		if i == 4 && errorOf(t, rec) != "rate_limited" {
			t.Fatal("429 body")
		}
	}
	// Another bucket is unaffected; the next window starts over.
	if rec := get(s, "/nothing"); rec.Code != 404 || rec.Header().Get("X-Rate-Limit-Limit") != "50" {
		t.Fatalf("other bucket: %d %v", rec.Code, rec.Header())
	}
	clk.Set(end)
	if rec := get(s, "/items"); rec.Code != 200 || rec.Header().Get("X-Rate-Limit-Remaining") != "2" {
		t.Fatalf("next window: %d %v", rec.Code, rec.Header())
	}
	st := s.Stats()
	b := st.Buckets["items"]
	if b.Requests != 5 || b.Admitted != 4 || b.RateLimited != 1 || b.MinWindows != 2 || st.RateLimited != 1 ||
		st.RateLimitFloor() != 300*time.Millisecond || st.Endpoints["/items/{id}"] != 4 || st.Endpoints[fakeprovider.Unknown] != 1 {
		t.Fatalf("stats %+v", st)
	}
	// A bucket reset admits again; DisableRateLimits never answers 429.
	s.ResetLimits()
	if rec := get(s, "/items"); rec.Code != 200 {
		t.Fatalf("after ResetLimits: %d", rec.Code)
	}
	off := newServer(fakeprovider.Options{DisableRateLimits: true, Buckets: []fakeprovider.Bucket{{Name: "all", Limit: 1}}})
	for range 3 {
		if rec := get(off, "/items"); rec.Code != 200 {
			t.Fatalf("rate limits disabled: %d", rec.Code)
		}
	}
	if rec := get(off, "/items"); rec.Header().Get("X-Rate-Limit-Remaining") != "0" {
		t.Fatal("headers not sent with rate limits disabled")
	}
}

func TestConcurrencyLimit(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	for _, zero := range []bool{false, true} {
		s := fakeprovider.New(fakeprovider.Options{ConcurrencyLimit: 2, ConcurrencyLimitZero: zero,
			Buckets: []fakeprovider.Bucket{{Name: "all", Limit: 100}}})
		s.Handle(fakeprovider.Endpoint{Pattern: "/slow", Serve: func(c *fakeprovider.Call) {
			entered <- struct{}{}
			<-release
			c.JSON(200, "done")
		}})
		s.Handle(fakeprovider.Endpoint{Pattern: "/fast", Serve: func(c *fakeprovider.Call) { c.JSON(200, "ok") }})
		var wg sync.WaitGroup
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if rec := get(s, "/slow"); rec.Code != 200 {
					t.Errorf("slow: %d", rec.Code)
				}
			}()
			<-entered
		}
		if s.InFlight() != 2 {
			t.Fatalf("in flight %d", s.InFlight())
		}
		rec := get(s, "/fast")
		h := rec.Header()
		wantLimit := map[bool]string{false: "2", true: "0"}[zero]
		if rec.Code != 429 || errorOf(t, rec) != "concurrency_limited" || h.Get("X-Rate-Limit-Limit") != wantLimit || h.Get("X-Rate-Limit-Remaining") != "0" || h.Get("X-Rate-Limit-Reset") == "" {
			t.Fatalf("zero=%v: %d %v", zero, rec.Code, h)
		}
		close(release)
		wg.Wait()
		release = make(chan struct{})
		if rec := get(s, "/fast"); rec.Code != 200 {
			t.Fatalf("after the slow requests: %d", rec.Code)
		}
		st := s.Stats()
		if st.ConcurrencyLimited != 1 || st.MaxInFlight != 2 || st.Buckets["all"].Admitted != 3 || st.Buckets["all"].ConcurrencyLimited != 1 || st.OK != 3 {
			t.Fatalf("stats %+v", st)
		}
	}
}

func TestLatencyEndsWithTheRequest(t *testing.T) {
	s := newServer(fakeprovider.Options{Latency: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequest(http.MethodGet, "/items", nil).WithContext(ctx)
	req.Header.Set("Authorization", "Bearer tok")
	s.ServeHTTP(httptest.NewRecorder(), req) // returns at once: the request is gone
	if st := s.Stats(); st.Canceled != 1 || st.OK != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func pattern(s http.Handler, targets []string) string {
	var b strings.Builder
	for _, p := range targets {
		switch get(s, p).Code {
		case 200:
			b.WriteByte('.')
		case 500:
			b.WriteByte('E')
		default:
			b.WriteByte('?')
		}
	}
	return b.String()
}

func TestFaultsBySeed(t *testing.T) {
	var targets []string
	for i := range 200 {
		targets = append(targets, "/items?after=i-"+strconv.Itoa(i%6))
	}
	mk := func(seed int64) *fakeprovider.Server {
		return newServer(fakeprovider.Options{Faults: fakeprovider.Faults{Seed: seed, ErrorRate: 0.3}})
	}
	a, b, c := pattern(mk(1), targets), pattern(mk(1), targets), pattern(mk(2), targets)
	if a != b || a == c || strings.Contains(a, "?") {
		t.Fatalf("seed 1 twice: %s / %s; seed 2: %s", a, b, c)
	}
	if n := strings.Count(a, "E"); n < 30 || n > 90 {
		t.Fatalf("%d/200 failures at rate 0.3", n)
	}
	// Whether the n-th request for a URI fails does not depend on the
	// order of other URIs' requests.
	rev := make([]string, len(targets))
	for i, p := range targets {
		rev[len(targets)-1-i] = p
	}
	r := []byte(pattern(mk(1), rev))
	byURI := func(ts []string, pat string) map[string]string {
		m := map[string]string{}
		for i, p := range ts {
			m[p] += pat[i : i+1]
		}
		return m
	}
	fw, bw := byURI(targets, a), byURI(rev, string(r))
	for p := range fw {
		if fw[p] != bw[p] {
			t.Fatalf("%s: %s forwards, %s backwards", p, fw[p], bw[p])
		}
	}
	// Endpoints restricts; unknown paths and Forbidden.
	only := newServer(fakeprovider.Options{
		Buckets: []fakeprovider.Bucket{{Name: "items", Limit: 100, Paths: []string{"/items"}}, {Name: "rest", Limit: 100}},
		Faults:  fakeprovider.Faults{ErrorRate: 1, Endpoints: []string{"/items/{id}"}, Forbidden: []string{"rest"}}})
	if get(only, "/items").Code != 200 || get(only, "/items/i-1").Code != 500 || get(only, "/nope").Code != 404 {
		t.Fatal("Faults.Endpoints")
	}
	if rec := serve(only, http.MethodPost, "/things/x/parts", "Bearer tok"); rec.Code != 403 || errorOf(t, rec) != "forbidden" {
		t.Fatalf("forbidden bucket: %d", rec.Code)
	}
	if st := only.Stats(); st.Injected5xx != 1 || st.Forbidden != 1 || st.NotFound != 1 {
		t.Fatalf("stats %+v", st)
	}
	// Injected 429s: the bucket reads as spent until the window's end.
	spent := newServer(fakeprovider.Options{Buckets: []fakeprovider.Bucket{{Name: "all", Limit: 100}},
		Faults: fakeprovider.Faults{Seed: 5, RateLimitRate: 1}})
	rec := get(spent, "/items")
	if rec.Code != 429 || errorOf(t, rec) != "rate_limited" || rec.Header().Get("X-Rate-Limit-Remaining") != "0" || rec.Header().Get("X-Rate-Limit-Limit") != "100" {
		t.Fatalf("injected 429: %d %v", rec.Code, rec.Header())
	}
	if st := spent.Stats(); st.RateLimited != 1 || st.Buckets["all"].Admitted != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestDroppedConnections(t *testing.T) {
	for _, tls := range []bool{false, true} {
		s := newServer(fakeprovider.Options{Faults: fakeprovider.Faults{DropRate: 1, Endpoints: []string{"/items"}}})
		start := fakeprovider.Start
		if tls {
			start = fakeprovider.StartTLS
		}
		r, err := start(s)
		if err != nil {
			t.Fatal(err)
		}
		do := func(target string) (int, []byte, error) {
			req, _ := http.NewRequest(http.MethodGet, r.URL+target, nil)
			req.Header.Set("Authorization", "Bearer tok")
			resp, err := r.Client().Do(req)
			if err != nil {
				return 0, nil, err
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			return resp.StatusCode, b, err
		}
		for range 3 {
			if _, b, err := do("/items"); err == nil {
				t.Fatalf("tls=%v: a dropped answer was read in full: %s", tls, b)
			}
		}
		// Errors are never cut off, nor other endpoints.
		if code, _, err := do("/items?limit=x"); err != nil || code != 400 {
			t.Fatalf("tls=%v: error answer %d %v", tls, code, err)
		}
		if code, _, err := do("/items/i-1"); err != nil || code != 200 {
			t.Fatalf("tls=%v: %d %v", tls, code, err)
		}
		if st := s.Stats(); st.Dropped != 3 || st.OK != 1 || st.OtherErrors != 1 {
			t.Fatalf("tls=%v: stats %+v", tls, st)
		}
		r.Close()
	}
}

func TestTransportAndServe(t *testing.T) {
	r, err := fakeprovider.Start(newServer(fakeprovider.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	req, _ := http.NewRequest(http.MethodGet, "http://api.example.test/items?limit=2", nil)
	req.Header.Set("Authorization", "Bearer tok")
	resp, err := (&http.Client{Transport: r.Transport()}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Link"), "<http://api.example.test/items?") {
		t.Fatalf("%d, links on the request's host: %q", resp.StatusCode, resp.Header.Get("Link"))
	}

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- fakeprovider.ListenAndServe(ctx, "127.0.0.1:0", http.NotFoundHandler()) }()
	cancel()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if err := fakeprovider.ListenAndServe(context.Background(), "not-an-address", http.NotFoundHandler()); err == nil {
		t.Fatal("bad address accepted")
	}
}

// TestHashIsStable pins Hash: fakes pick their seeded faults and objects
// with it (oktafake's deleted objects, every fault pattern), so a change
// would silently change every fake's test data.
func TestHashIsStable(t *testing.T) {
	if got := fakeprovider.Hash(0, "GET /items"); got != 8394072961848433590 {
		t.Errorf("Hash(0, GET /items) = %d", got)
	}
	if got := fakeprovider.Hash(0xe770, "GET /items#1"); got != 2339664692498433513 {
		t.Errorf("Hash(0xe770, GET /items#1) = %d", got)
	}
	if got := fakeprovider.Unit(fakeprovider.Hash(7, "00u1")); got != 0.003532640391094577 {
		t.Errorf("Unit = %v", got)
	}
}

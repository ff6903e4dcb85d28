package httpclient

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stepgraph/stepgraph/sdk/integration"
)

const testToken = "tok-SECRET-00c0ffee11"

// newTestClient returns a client for srvURL with fast backoff and the test
// token; mod adjusts the config.
func newTestClient(t testing.TB, srvURL string, mod func(*Config)) *Client {
	t.Helper()
	cfg := Config{
		BaseURL:     srvURL,
		AuthValue:   "SSWS " + testToken,
		BackoffMin:  5 * time.Millisecond,
		BackoffMax:  40 * time.Millisecond,
		MaxAttempts: 4,
		Share:       1,
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// assertNoSecret fails when err's message contains the token.
func assertNoSecret(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if strings.Contains(err.Error(), testToken) {
		t.Errorf("error string leaks the token: %q", err.Error())
	}
}

func writeOktaError(w http.ResponseWriter, status int, code, summary string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"errorCode":%q,"errorSummary":%q,"errorLink":%q,"errorId":"oae1","errorCauses":[]}`, code, summary, code)
}

func TestNewValidation(t *testing.T) {
	for _, cfg := range []Config{
		{},
		{BaseURL: "example.okta.com"},
		{BaseURL: "ftp://example.okta.com"},
		{BaseURL: "/relative"},
		{BaseURL: "https://user:pw@example.okta.com"},
		{BaseURL: "https://example.okta.com", Share: 1.5},
		{BaseURL: "https://example.okta.com", Share: -0.1},
		{BaseURL: "https://example.okta.com", MaxInFlight: -1},
		{BaseURL: "https://example.okta.com", BackoffMin: time.Second, BackoffMax: time.Millisecond},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) = nil error, want one", cfg)
		} else {
			var ce *integration.ConfigError
			if !errors.As(err, &ce) {
				t.Errorf("New(%+v) error %T, want *integration.ConfigError", cfg, err)
			}
			if strings.Contains(err.Error(), "pw@") {
				t.Errorf("error leaks credentials: %v", err)
			}
		}
	}
	t.Setenv(ShareEnv, "")
	c, err := New(Config{BaseURL: "https://example.okta.com"})
	if err != nil {
		t.Fatal(err)
	}
	if c.cfg.Share != DefaultShare || c.cfg.MaxInFlight != DefaultMaxInFlight {
		t.Errorf("defaults not applied: %+v", c.cfg)
	}
}

func TestShareFromEnvironmentAndContext(t *testing.T) {
	t.Setenv(ShareEnv, "0.3")
	c, err := New(Config{BaseURL: "https://example.okta.com"})
	if err != nil {
		t.Fatal(err)
	}
	if c.cfg.Share != 0.3 {
		t.Errorf("share from %s = %v, want 0.3", ShareEnv, c.cfg.Share)
	}
	if c2, _ := New(Config{BaseURL: "https://example.okta.com", Share: 0.8}); c2.cfg.Share != 0.8 {
		t.Errorf("explicit Config.Share not kept: %v", c2.cfg.Share)
	}
	ctx := WithRateLimitShare(context.Background(), 0.7)
	if got := c.shareOf(ctx); got != 0.7 {
		t.Errorf("context share = %v, want 0.7", got)
	}
	if got := c.shareOf(WithRateLimitShare(context.Background(), 1.5)); got != 0.3 {
		t.Errorf("invalid context share used: %v", got)
	}
	t.Setenv(ShareEnv, "2")
	_, err = New(Config{BaseURL: "https://example.okta.com"})
	var ce *integration.ConfigError
	if !errors.As(err, &ce) || ce.Field != ShareEnv {
		t.Errorf("bad %s: err = %v, want a ConfigError naming it", ShareEnv, err)
	}
}

func TestRetryThenSuccess(t *testing.T) {
	var n atomic.Int32
	var sawAuth atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sawAuth.Store(r.Header.Get("Authorization"))
		if n.Add(1) <= 2 {
			writeOktaError(w, http.StatusServiceUnavailable, "E0000009", "busy")
			return
		}
		w.Write([]byte(`{"ok":true}`))
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, nil)
	var v struct{ OK bool }
	resp, err := c.GetJSON(context.Background(), "/api/v1/users?limit=2", &v)
	if err != nil {
		t.Fatalf("GetJSON: %v", err)
	}
	if !v.OK || resp.Status != 200 || resp.Attempts != 3 || n.Load() != 3 {
		t.Fatalf("got ok=%v status=%d attempts=%d server=%d", v.OK, resp.Status, resp.Attempts, n.Load())
	}
	if got := sawAuth.Load(); got != "SSWS "+testToken {
		t.Errorf("Authorization = %q", got)
	}
	st := c.Stats()
	if st.Total.Requests != 3 || st.Total.Retries != 2 || st.Total.ServerErrors != 2 {
		t.Errorf("stats = %+v", st.Total)
	}
}

func TestServerErrorStormExhaustsRetries(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		writeOktaError(w, http.StatusInternalServerError, "E0000009", "Internal Server Error "+r.Header.Get("Authorization"))
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, nil)
	_, err := c.Do(context.Background(), "GET", "/api/v1/groups?expand=stats&limit=2", nil)
	assertNoSecret(t, err)
	var re *integration.RetriesExhaustedError
	if !errors.As(err, &re) {
		t.Fatalf("err = %T %v, want RetriesExhaustedError", err, err)
	}
	if re.Endpoint != "/api/v1/groups?expand=stats&limit=2" || re.Method != "GET" || re.Attempts != 4 || re.LastStatus != 500 {
		t.Errorf("got %+v", re)
	}
	if n.Load() != 4 {
		t.Errorf("server saw %d requests, want 4", n.Load())
	}
	var api *integration.APIError
	if !errors.As(err, &api) || api.ProviderCode != "E0000009" {
		t.Errorf("provider code not kept: %v", err)
	}
	if !strings.Contains(err.Error(), "[REDACTED]") {
		t.Errorf("echoed credential not redacted: %v", err)
	}
	if integration.ErrorCode(err) != integration.CodeRetriesExhausted {
		t.Errorf("code = %s", integration.ErrorCode(err))
	}
	t.Logf("error: %v", err)
}

func TestClientErrorsNotRetried(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		switch r.URL.Path {
		case "/400":
			writeOktaError(w, 400, "E0000001", "Api validation failed: rules")
		case "/404":
			writeOktaError(w, 404, "E0000007", "Not found: Resource not found: 00u1 (User)")
		case "/401":
			writeOktaError(w, 401, "E0000011", "Invalid token provided")
		case "/403":
			writeOktaError(w, 403, "E0000006", "You do not have permission to perform the requested action")
		case "/oauth":
			w.WriteHeader(400)
			w.Write([]byte(`{"error":"invalid_client","error_description":"bad client"}`))
		case "/message":
			w.WriteHeader(409)
			w.Write([]byte(`{"message":"conflict"}`))
		case "/html":
			w.WriteHeader(404)
			w.Write([]byte(`<html>not found</html>`))
		}
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, nil)
	tests := []struct {
		path, code, summary string
		status              int
		check               func(error) bool
	}{
		{"/400", "E0000001", "Api validation failed: rules", 400, func(err error) bool {
			var e *integration.APIError
			return errors.As(err, &e) && integration.ErrorCode(err) == integration.CodeProviderAPI
		}},
		{"/404", "E0000007", "Not found: Resource not found: 00u1 (User)", 404, func(err error) bool {
			var e *integration.APIError
			return errors.As(err, &e)
		}},
		{"/401", "E0000011", "Invalid token provided", 401, func(err error) bool {
			var e *integration.AuthenticationError
			return errors.As(err, &e) && integration.IsFatal(err)
		}},
		{"/403", "E0000006", "You do not have permission to perform the requested action", 403, func(err error) bool {
			var e *integration.AuthorizationError
			return errors.As(err, &e) && !integration.IsFatal(err)
		}},
		{"/oauth", "invalid_client", "bad client", 400, func(err error) bool { return true }},
		{"/message", "", "conflict", 409, func(err error) bool { return true }},
		{"/html", "", "", 404, func(err error) bool { return true }},
	}
	for _, tt := range tests {
		before := n.Load()
		resp, err := c.Do(context.Background(), "GET", tt.path+"?q=1", nil)
		assertNoSecret(t, err)
		if got := n.Load() - before; got != 1 {
			t.Errorf("%s: server saw %d requests, want exactly 1", tt.path, got)
		}
		var api *integration.APIError
		if !errors.As(err, &api) {
			t.Errorf("%s: err = %T %v, want APIError", tt.path, err, err)
			continue
		}
		if api.Status != tt.status || api.ProviderCode != tt.code || api.Summary != tt.summary || api.Endpoint != tt.path+"?q=1" {
			t.Errorf("%s: got %+v", tt.path, api)
		}
		if !tt.check(err) {
			t.Errorf("%s: wrong error type %T", tt.path, err)
		}
		if resp == nil || resp.Status != tt.status {
			t.Errorf("%s: response not returned with the API error", tt.path)
		}
	}
}

func TestRateLimit429WaitsForReset(t *testing.T) {
	var mu sync.Mutex
	var reset time.Time
	var times []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		now := time.Now()
		times = append(times, now)
		if len(times) == 1 {
			reset = now.Add(300 * time.Millisecond)
			w.Header().Set(HeaderRateLimitLimit, "10")
			w.Header().Set(HeaderRateLimitRemaining, "0")
			w.Header().Set(HeaderRateLimitReset, fmt.Sprint((reset.UnixMilli()+999)/1000))
			w.Header().Set(HeaderRateLimitResetMs, fmt.Sprint(reset.UnixMilli()))
			writeOktaError(w, http.StatusTooManyRequests, "E0000047", "API call exceeded rate limit due to too many requests.")
			return
		}
		w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	var events []Event
	var evMu sync.Mutex
	c := newTestClient(t, srv.URL, func(cfg *Config) {
		cfg.OnEvent = func(e Event) { evMu.Lock(); events = append(events, e); evMu.Unlock() }
	})
	if _, err := c.Do(context.Background(), "GET", "/api/v1/users", nil); err != nil {
		t.Fatalf("Do: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(times) != 2 {
		t.Fatalf("server saw %d requests, want 2", len(times))
	}
	if times[1].Before(reset) {
		t.Errorf("retried %v before the reset", reset.Sub(times[1]))
	}
	if d := times[1].Sub(reset); d > 200*time.Millisecond {
		t.Errorf("retried %v after the reset, too late", d)
	}
	st := c.Stats()
	if st.Total.RateLimited != 1 || st.Total.ConcurrencyLimited != 0 || st.Total.BackoffWait+st.Total.PacingWait < 250*time.Millisecond {
		t.Errorf("stats = %+v", st.Total)
	}
	evMu.Lock()
	defer evMu.Unlock()
	if len(events) == 0 || events[0].Kind != EventRetry || events[0].Status != 429 {
		t.Errorf("events = %+v", events)
	}
}

func TestConcurrencyLimit429LowersInFlight(t *testing.T) {
	const serverMax = 3
	var cur, peakOK, total, rejected atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		total.Add(1)
		n := cur.Add(1)
		defer cur.Add(-1)
		if n > serverMax {
			rejected.Add(1)
			// Okta: the concurrency limit's 429 reports limit 0 and a reset
			// far away that must not be waited for.
			w.Header().Set(HeaderRateLimitLimit, "0")
			w.Header().Set(HeaderRateLimitRemaining, "0")
			w.Header().Set(HeaderRateLimitReset, fmt.Sprint(time.Now().Add(time.Minute).Unix()))
			writeOktaError(w, http.StatusTooManyRequests, "E0000047", "API call exceeded rate limit due to too many requests.")
			return
		}
		for {
			p := peakOK.Load()
			if n <= p || peakOK.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(15 * time.Millisecond)
		w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	var minCap atomic.Int32
	minCap.Store(1 << 20)
	c := newTestClient(t, srv.URL, func(cfg *Config) {
		cfg.MaxInFlight = 16
		cfg.MaxAttempts = 20
		cfg.OnEvent = func(e Event) {
			if e.Kind == EventConcurrencyLimit && int32(e.InFlightCap) < minCap.Load() {
				minCap.Store(int32(e.InFlightCap))
			}
		}
	})
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for g := 0; g < 12; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 5; i++ {
				if _, err := c.Do(context.Background(), "GET", "/api/v1/users", nil); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Do: %v", err)
	}
	st := c.Stats()
	t.Logf("requests=%d concurrency429=%d minCap=%d finalCap=%d elapsed=%v", total.Load(), st.Total.ConcurrencyLimited, minCap.Load(), st.InFlightCap, time.Since(start))
	if st.Total.ConcurrencyLimited == 0 || st.Total.RateLimited != 0 {
		t.Errorf("stats = %+v", st.Total)
	}
	if minCap.Load() >= 16 {
		t.Errorf("in-flight cap never lowered")
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("took %v: concurrency 429 treated as budget exhaustion?", time.Since(start))
	}
}

func TestConnectionResetMidBodyRetried(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			hj, ok := w.(http.Hijacker)
			if !ok {
				t.Error("no hijacker")
				return
			}
			conn, buf, err := hj.Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n[{\"id\":\"00u1\"},")
			buf.Flush()
			conn.Close()
			return
		}
		w.Write([]byte(`[{"id":"00u1"},{"id":"00u2"}]`))
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, nil)
	var v []struct{ ID string }
	if _, err := c.GetJSON(context.Background(), "/api/v1/users", &v); err != nil {
		t.Fatalf("GetJSON: %v", err)
	}
	if len(v) != 2 || n.Load() != 2 {
		t.Fatalf("got %d users after %d requests", len(v), n.Load())
	}
	if st := c.Stats(); st.Total.TransportErrors != 1 || st.Total.Retries != 1 {
		t.Errorf("stats = %+v", st.Total)
	}
}

func TestConnectionDropsExhaustRetries(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, nil)
	_, err := c.Do(context.Background(), "GET", "/api/v1/apps?limit=200", nil)
	assertNoSecret(t, err)
	var re *integration.RetriesExhaustedError
	if !errors.As(err, &re) || re.LastStatus != 0 || re.Attempts != 4 || re.Endpoint != "/api/v1/apps?limit=200" {
		t.Fatalf("err = %T %v", err, err)
	}
	if strings.Contains(err.Error(), srv.URL) {
		t.Errorf("error repeats the full URL: %v", err)
	}
}

func TestContextCancelDuringBackoff(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "30")
		writeOktaError(w, http.StatusServiceUnavailable, "E0000009", "down")
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Do(ctx, "GET", "/api/v1/users", nil)
	elapsed := time.Since(start)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
	if elapsed > time.Second {
		t.Errorf("returned after %v, not promptly", elapsed)
	}
}

func TestContextCancelDuringPacingWait(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(HeaderRateLimitLimit, "5")
		w.Header().Set(HeaderRateLimitRemaining, "0")
		w.Header().Set(HeaderRateLimitResetMs, fmt.Sprint(time.Now().Add(time.Minute).UnixMilli()))
		w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, nil)
	if _, err := c.Do(context.Background(), "GET", "/a", nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err := c.Do(ctx, "GET", "/a", nil)
	if !errors.Is(err, context.Canceled) || time.Since(start) > time.Second {
		t.Fatalf("err = %v after %v", err, time.Since(start))
	}
}

func TestAbsoluteForeignURLRefused(t *testing.T) {
	var foreignHits atomic.Int32
	foreign := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { foreignHits.Add(1) }))
	defer foreign.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, foreign.URL+"/steal", http.StatusFound)
			return
		}
		w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, nil)
	_, err := c.Do(context.Background(), "GET", foreign.URL+"/api/v1/users", nil)
	var fh *ForeignHostError
	if !errors.As(err, &fh) || !strings.Contains(fh.Host, strings.TrimPrefix(foreign.URL, "http://")) {
		t.Fatalf("err = %T %v", err, err)
	}
	assertNoSecret(t, err)
	_, err = c.Do(context.Background(), "GET", "/redirect", nil)
	if !errors.As(err, &fh) {
		t.Fatalf("redirect: err = %T %v", err, err)
	}
	if foreignHits.Load() != 0 {
		t.Errorf("foreign host received %d requests", foreignHits.Load())
	}
	// Same host, absolute URL: allowed.
	if _, err := c.Do(context.Background(), "GET", srv.URL+"/ok", nil); err != nil {
		t.Errorf("same-host absolute URL: %v", err)
	}
}

func TestAuthOnlyForBaseHostWithCustomTransport(t *testing.T) {
	// A custom transport (as a go-vcr recorder would be) still gets auth from
	// our layer, and Auth-func values are scrubbed.
	var got atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.Header.Get("X-Api-Key"))
		w.WriteHeader(500)
		fmt.Fprintf(w, `{"message":"bad key %s"}`, r.Header.Get("X-Api-Key"))
	}))
	defer srv.Close()
	var rt atomic.Int32
	c := newTestClient(t, srv.URL, func(cfg *Config) {
		cfg.AuthValue = ""
		cfg.Auth = func(r *http.Request) { r.Header.Set("X-Api-Key", "dyn-"+testToken) }
		cfg.Transport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
			rt.Add(1)
			return http.DefaultTransport.RoundTrip(r)
		})
		cfg.MaxAttempts = 1
	})
	_, err := c.Do(context.Background(), "GET", "/x", nil)
	if got.Load() != "dyn-"+testToken || rt.Load() != 1 {
		t.Fatalf("auth = %v, transport calls = %d", got.Load(), rt.Load())
	}
	assertNoSecret(t, err)
	if err == nil || !strings.Contains(err.Error(), "bad key [REDACTED]") {
		t.Errorf("err = %v", err)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestAttemptTimeoutRetried(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			select {
			case <-r.Context().Done():
			case <-time.After(2 * time.Second):
			}
			return
		}
		w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.AttemptTimeout = 100 * time.Millisecond })
	if _, err := c.Do(context.Background(), "GET", "/slow", nil); err != nil {
		t.Fatalf("Do: %v", err)
	}
	if n.Load() != 2 {
		t.Errorf("server saw %d requests", n.Load())
	}
}

func TestPostBodyResentOnRetry(t *testing.T) {
	var bodies []string
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(bufio.NewReader(r.Body))
		mu.Lock()
		bodies = append(bodies, string(b))
		first := len(bodies) == 1
		mu.Unlock()
		if first {
			w.WriteHeader(502)
			return
		}
		w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, nil)
	if _, err := c.Do(context.Background(), "POST", "/p", strings.NewReader(`{"a":1}`)); err != nil {
		t.Fatal(err)
	}
	if len(bodies) != 2 || bodies[0] != `{"a":1}` || bodies[1] != `{"a":1}` {
		t.Errorf("bodies = %q", bodies)
	}
}

// zeroReader yields n zero bytes without holding them.
type zeroReader struct{ n int64 }

func (z *zeroReader) Read(p []byte) (int, error) {
	if z.n <= 0 {
		return 0, io.EOF
	}
	k := min(int64(len(p)), z.n)
	clear(p[:k])
	z.n -= k
	return int(k), nil
}

func TestHostileBodySizeFailsTheRequest(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		size := int64(100 << 20)
		if r.URL.Query().Get("declared") == "1" {
			w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
		}
		w.Header().Set("Content-Type", "application/json")
		io.Copy(w, &zeroReader{n: size})
	}))
	defer srv.Close()
	for _, declared := range []string{"0", "1"} {
		n.Store(0)
		c := newTestClient(t, srv.URL, nil) // default cap
		_, err := c.Do(context.Background(), http.MethodGet, "/api/v1/users?declared="+declared, nil)
		var big *BodyTooLargeError
		if !errors.As(err, &big) || big.Limit != DefaultMaxBodyBytes {
			t.Fatalf("declared=%s: err = %v, want a *BodyTooLargeError at the default cap", declared, err)
		}
		if !strings.Contains(err.Error(), "/api/v1/users?declared="+declared) {
			t.Errorf("error does not name the endpoint: %v", err)
		}
		if n.Load() != 1 {
			t.Errorf("declared=%s: %d requests, want 1 (not retried)", declared, n.Load())
		}
	}
	if DefaultMaxBodyBytes >= 100<<20/4 {
		t.Errorf("DefaultMaxBodyBytes = %d, want well under 100 MB", DefaultMaxBodyBytes)
	}
	c := newTestClient(t, srv.URL, func(c *Config) { c.MaxBodyBytes = 1 << 10 })
	if _, err := c.Do(context.Background(), http.MethodGet, "/small", nil); !strings.Contains(err.Error(), "1024-byte cap") {
		t.Errorf("configured cap: err = %v", err)
	}
}

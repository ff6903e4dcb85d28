package httpclient

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stepgraph/stepgraph/sdk/integration"
)

// rotatingAuth hands out "tok-<n>" and moves to n+1 when told the current
// one was rejected.
type rotatingAuth struct {
	mu       sync.Mutex
	n        int
	rejected int
	fail     error
	resend   bool
}

func (a *rotatingAuth) Authenticate(req *http.Request) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.fail != nil {
		return a.fail
	}
	req.Header.Set("Authorization", "Bearer tok-secret-value-"+string(rune('0'+a.n)))
	return nil
}

func (a *rotatingAuth) Rejected(req *http.Request) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.rejected++
	if req.Header.Get("Authorization") == "Bearer tok-secret-value-"+string(rune('0'+a.n)) {
		a.n++
	}
	return a.resend
}

func TestAuthenticatorResendsOnceAfter401(t *testing.T) {
	var calls atomic.Int32
	valid := "Bearer tok-secret-value-1"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.Header.Get("Authorization") != valid {
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"errorCode":"E0000011","errorSummary":"Invalid token provided"}`))
			return
		}
		w.Write([]byte(`[]`))
	}))
	defer srv.Close()

	a := &rotatingAuth{resend: true}
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.AuthValue, cfg.Authenticator = "", a })
	if _, err := c.Do(t.Context(), http.MethodGet, "/x", nil); err != nil {
		t.Fatalf("want success after one refresh, got %v", err)
	}
	if calls.Load() != 2 || a.rejected != 1 {
		t.Errorf("%d calls, %d rejections; want 2 and 1", calls.Load(), a.rejected)
	}

	// A fresh credential rejected again: no second resend, a typed 401.
	valid = "never"
	calls.Store(0)
	_, err := c.Do(t.Context(), http.MethodGet, "/x", nil)
	var auth *integration.AuthenticationError
	if !errors.As(err, &auth) || calls.Load() != 2 {
		t.Errorf("want AuthenticationError after exactly one resend (%d calls), got %v", calls.Load(), err)
	}
	if strings.Contains(err.Error(), "tok-secret-value") {
		t.Error("credential in error")
	}

	// An authenticator that does not ask for a resend: one call.
	a.resend = false
	calls.Store(0)
	if _, err := c.Do(t.Context(), http.MethodGet, "/x", nil); err == nil || calls.Load() != 1 {
		t.Errorf("want one call and an error, got %d calls, %v", calls.Load(), err)
	}
}

func TestAuthenticatorErrorIsFinalWhenAuthentication(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls.Add(1) }))
	defer srv.Close()
	a := &rotatingAuth{fail: &integration.AuthenticationError{APIError: integration.APIError{Status: 401, Summary: "bad client"}}}
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.AuthValue, cfg.Authenticator = "", a })
	_, err := c.Do(t.Context(), http.MethodGet, "/x", nil)
	if !integration.IsFatal(err) {
		t.Fatalf("want a fatal authentication error, got %v", err)
	}
	if calls.Load() != 0 {
		t.Errorf("%d requests sent without credentials", calls.Load())
	}
	// Any other error is retried like a transport error.
	a.fail = errors.New("token endpoint unreachable")
	_, err = c.Do(t.Context(), http.MethodGet, "/x", nil)
	var re *integration.RetriesExhaustedError
	if !errors.As(err, &re) || re.Attempts != 4 {
		t.Errorf("want retries exhausted after 4 attempts, got %v", err)
	}
}

func TestCredentialClientStaysOnBaseHost(t *testing.T) {
	var foreign atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { foreign.Add(1) }))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, other.URL+"/token", http.StatusFound)
			return
		}
		if r.Header.Get("Authorization") != "" {
			t.Error("credential client sent an Authorization header")
		}
		w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, nil)
	hc := c.CredentialClient()
	if resp, err := hc.Post(srv.URL+"/token", "application/x-www-form-urlencoded", strings.NewReader("a=b")); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}
	var fh *ForeignHostError
	if _, err := hc.Get(other.URL + "/token"); !errors.As(err, &fh) {
		t.Errorf("foreign host: want ForeignHostError, got %v", err)
	}
	if _, err := hc.Get(srv.URL + "/redirect"); !errors.As(err, &fh) {
		t.Errorf("redirect to a foreign host: want ForeignHostError, got %v", err)
	}
	if foreign.Load() != 0 {
		t.Errorf("%d requests reached the foreign host", foreign.Load())
	}
}

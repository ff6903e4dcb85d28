package sdktest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"gopkg.in/dnaeon/go-vcr.v4/pkg/cassette"
	"gopkg.in/dnaeon/go-vcr.v4/pkg/recorder"
)

// RecordEnv is the environment variable that switches recorders from replay
// to record mode. Its value is "1", "true" or "all" to record every
// integration, or a comma-separated list of integration names, e.g.
// STEPGRAPH_RECORD=teamdir.
const RecordEnv = "STEPGRAPH_RECORD"

// RecorderOptions configure NewRecorder.
type RecorderOptions struct {
	// Integration names the recordings folder (recordings/<Integration>/)
	// and is matched against RecordEnv. Required.
	Integration string
	// Cassette is the cassette name without the .yaml extension. Empty
	// means a name derived from t.Name() ("TestUsers/page_2" becomes
	// "TestUsers_page_2").
	Cassette string
	// Dir overrides the folder holding the cassette (default
	// <module root>/recordings/<Integration>).
	Dir string
	// Secrets are values that must never reach a cassette: the provider
	// token, passwords, ... They are replaced by "REDACTED" when saving
	// and a cassette containing one fails the test. Values shorter than
	// 4 characters are ignored (too common to scrub safely).
	Secrets []string
	// RedactHeaders names extra headers to drop from recorded requests
	// and responses, on top of Authorization, Proxy-Authorization,
	// Cookie, Set-Cookie and headers whose name looks like a credential
	// (containing auth, token, secret, password, session, api-key, ...).
	RedactHeaders []string
	// RealTransport performs real requests in record mode (default
	// http.DefaultTransport). It is never used in replay mode.
	RealTransport http.RoundTripper
	// RequireEnv lists environment variables (credentials) that must be
	// set to record; recording without them fails the test.
	RequireEnv []string
	// ReplayRateLimits keeps the recorded rate-limit headers
	// (X-Rate-Limit-*, Retry-After) in replayed responses. By default they
	// are removed: they describe the recording's clock and budget, not the
	// replay's, and a client pacing on them would sleep for nothing. A test
	// of rate-limit handling opts in.
	ReplayRateLimits bool
}

// Recorder is an http.RoundTripper that replays (or, when asked, records)
// the HTTP interactions of one test. Create it with NewRecorder and hand it
// to the integration's HTTP client, e.g. httpclient.Config.Transport.
// Requests match recorded interactions on method and URL; each recorded
// interaction is replayed once, in recording order, so a recorded retry
// sequence (429, then 200) replays faithfully.
type Recorder struct {
	t           testing.TB
	vcr         *recorder.Recorder
	file        string
	integration string
	recording   bool
	keepLimits  bool
	red         *redactor
	mu          sync.Mutex
	missed      map[string]bool
}

var _ http.RoundTripper = (*Recorder)(nil)

// Recording reports whether RecordEnv asks to record cassettes of the named
// integration.
func Recording(integration string) bool {
	v := strings.TrimSpace(os.Getenv(RecordEnv))
	switch strings.ToLower(v) {
	case "", "0", "false", "no":
		return false
	case "1", "true", "yes", "all", "*":
		return true
	}
	for _, name := range strings.Split(v, ",") {
		if strings.TrimSpace(name) == integration {
			return true
		}
	}
	return false
}

// NewRecorder returns a Recorder for the calling test. In replay mode (the
// default) the cassette must exist and is checked for secrets before use;
// no request ever reaches the network, and a request missing from the
// cassette fails the test. In record mode (see RecordEnv) every request goes
// through opts.RealTransport and the cassette is rewritten, redacted and
// checked when the test ends.
func NewRecorder(t testing.TB, opts RecorderOptions) *Recorder {
	t.Helper()
	if opts.Integration == "" {
		t.Fatalf("sdktest: RecorderOptions.Integration is required")
	}
	dir := opts.Dir
	if dir == "" {
		root, err := ModuleRoot()
		if err != nil {
			t.Fatalf("sdktest: %v", err)
		}
		dir = filepath.Join(root, "recordings", opts.Integration)
	}
	name := opts.Cassette
	if name == "" {
		name = CassetteName(t)
	}
	base := filepath.Join(dir, name)
	r := &Recorder{
		t:           t,
		file:        base + ".yaml",
		integration: opts.Integration,
		recording:   Recording(opts.Integration),
		keepLimits:  opts.ReplayRateLimits,
		red:         newRedactor(opts.Secrets, opts.RedactHeaders),
		missed:      map[string]bool{},
	}
	mode := recorder.ModeReplayOnly
	var real http.RoundTripper = noNetwork{r}
	if r.recording {
		for _, env := range opts.RequireEnv {
			if os.Getenv(env) == "" {
				t.Fatalf("sdktest: %s asks to record %s, but %s is not set", RecordEnv, r.file, env)
			}
		}
		mode = recorder.ModeRecordOnly
		real = opts.RealTransport
		if real == nil {
			real = http.DefaultTransport
		}
	} else {
		if _, err := os.Stat(r.file); err != nil {
			t.Fatalf("sdktest: cassette %s is missing (%v); record it with %s", r.file, errors.Unwrap(err), r.howToRecord())
		}
		CheckCassette(t, r.file, opts.Secrets...)
	}
	vcr, err := recorder.New(base,
		recorder.WithMode(mode),
		recorder.WithRealTransport(real),
		recorder.WithMatcher(r.match),
		recorder.WithSkipRequestLatency(true),
		recorder.WithHook(func(i *cassette.Interaction) error {
			r.red.interaction(i)
			return nil
		}, recorder.BeforeSaveHook),
	)
	if err != nil {
		t.Fatalf("sdktest: open cassette %s: %v", r.file, err)
	}
	r.vcr = vcr
	t.Cleanup(func() {
		if err := vcr.Stop(); err != nil {
			t.Errorf("sdktest: save cassette %s: %v", r.file, err)
			return
		}
		if r.recording {
			CheckCassette(t, r.file, opts.Secrets...)
			t.Logf("sdktest: recorded %s", r.file)
		}
	})
	return r
}

// IsRecording reports whether the recorder records (true) or replays.
func (r *Recorder) IsRecording() bool { return r.recording }

// File returns the cassette's path.
func (r *Recorder) File() string { return r.file }

// Client returns an *http.Client whose transport is the recorder.
func (r *Recorder) Client() *http.Client { return &http.Client{Transport: r} }

// RoundTrip implements http.RoundTripper: it replays the recorded response
// for req or, in record mode, performs and records the request. A request
// missing from the cassette fails the test (reported once per method and
// URL) and gets a 501 response whose body says so.
func (r *Recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.vcr.RoundTrip(req)
	if err != nil && errors.Is(err, cassette.ErrInteractionNotFound) {
		u := r.red.url(req.URL.String())
		key := req.Method + " " + u
		r.mu.Lock()
		first := !r.missed[key]
		r.missed[key] = true
		r.mu.Unlock()
		if first {
			r.t.Errorf("sdktest: %s is not in cassette %s (or its recordings were all replayed already); re-record with %s",
				key, r.file, r.howToRecord())
		}
		return notRecorded(req, key), nil
	}
	if err == nil && resp != nil && !r.recording && !r.keepLimits {
		stripRateLimitHeaders(resp.Header)
	}
	return resp, err
}

// stripRateLimitHeaders removes the headers a client paces on from a
// replayed response.
func stripRateLimitHeaders(h http.Header) {
	for k := range h {
		if strings.HasPrefix(strings.ToLower(k), "x-rate-limit-") || strings.EqualFold(k, "Retry-After") {
			delete(h, k)
		}
	}
}

// notRecorded is the response to a request missing from the cassette: a 501
// Not Implemented, which retrying clients (go-retryablehttp's default policy
// and package httpclient) do not retry, so the step fails at once with a
// clear message instead of backing off.
func notRecorded(req *http.Request, what string) *http.Response {
	msg, _ := json.Marshal("sdktest: not in cassette: " + what)
	body := `{"error":{"code":"SDKTEST_NOT_RECORDED","message":` + string(msg) + `}}`
	return &http.Response{
		Status:        "501 Not Implemented",
		StatusCode:    http.StatusNotImplemented,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": {"application/json"}, "X-Sdktest": {"not-recorded"}},
		Body:          io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}
}

// match is the go-vcr matcher: method and URL, the live URL redacted the
// same way the recorded one was.
func (r *Recorder) match(req *http.Request, rec cassette.Request) bool {
	return req.Method == rec.Method && r.red.url(req.URL.String()) == rec.URL
}

func (r *Recorder) howToRecord() string {
	return fmt.Sprintf("%s=%s go test -run '^%s$' (in the test's package)", RecordEnv, r.integration, topTestName(r.t.Name()))
}

// noNetwork is the real transport of a replaying recorder: it fails the test
// if it is ever called.
type noNetwork struct{ r *Recorder }

// RoundTrip fails the test: replay mode must not reach the network.
func (n noNetwork) RoundTrip(req *http.Request) (*http.Response, error) {
	n.r.t.Errorf("sdktest: replay mode attempted a real request: %s %s", req.Method, n.r.red.url(req.URL.String()))
	return nil, fmt.Errorf("sdktest: network disabled in replay mode (%s %s)", req.Method, req.URL.Host)
}

// ModuleRoot returns the directory holding go.mod, walking up from the
// working directory (a test's working directory is its package folder).
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod found above the working directory")
		}
		dir = parent
	}
}

// CassetteName turns t.Name() into a file name: characters other than
// letters, digits, '-', '_' and '.' become '_'.
func CassetteName(t testing.TB) string {
	b := []byte(t.Name())
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			b[i] = '_'
		}
	}
	return string(b)
}

func topTestName(name string) string {
	top, _, _ := strings.Cut(name, "/")
	return top
}

// CheckCassette fails the test when the cassette file at path contains one
// of the secrets (in raw, URL-escaped or JSON-escaped form), a credential
// header (Authorization, Cookie, Set-Cookie, ...), a credential-looking
// query parameter with a value, or an Authorization-style token
// ("Bearer ...", "SSWS ...", "Basic ..."). Secret values are never printed.
// NewRecorder calls it on load and after save.
func CheckCassette(t testing.TB, path string, secrets ...string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("sdktest: read cassette: %v", err)
	}
	c, err := cassette.Load(strings.TrimSuffix(path, ".yaml"))
	if err != nil {
		t.Fatalf("sdktest: parse cassette %s: %v", path, err)
	}
	for _, p := range cassetteProblems(raw, c, secrets) {
		t.Errorf("sdktest: cassette %s %s", path, p)
	}
}

// cassetteProblems lists what makes a cassette unsafe to commit.
func cassetteProblems(raw []byte, c *cassette.Cassette, secrets []string) []string {
	var probs []string
	text := string(raw)
	for i, s := range usableSecrets(secrets) {
		for _, form := range secretForms(s) {
			if strings.Contains(text, form) {
				probs = append(probs, fmt.Sprintf("contains configured secret #%d", i+1))
				break
			}
		}
	}
	if jwtLike.MatchString(text) {
		probs = append(probs, "contains a JWT-looking value (access token, client assertion or DPoP proof)")
	}
	red := newRedactor(nil, nil)
	for _, in := range c.Interactions {
		where := fmt.Sprintf("interaction %d (%s %s)", in.ID, in.Request.Method, red.url(in.Request.URL))
		for _, h := range []struct {
			side string
			h    http.Header
		}{{"request", in.Request.Headers}, {"response", in.Response.Headers}, {"request trailer", in.Request.Trailer}, {"response trailer", in.Response.Trailer}} {
			names := make([]string, 0, len(h.h))
			for name := range h.h {
				names = append(names, name)
			}
			slices.Sort(names)
			for _, name := range names {
				if red.sensitiveHeader(name) {
					probs = append(probs, fmt.Sprintf("%s has %s header %q", where, h.side, name))
					continue
				}
				for _, v := range h.h[name] {
					if tokenLike.MatchString(v) {
						probs = append(probs, fmt.Sprintf("%s has a token-looking value in %s header %q", where, h.side, name))
					}
				}
			}
		}
		if red.url(in.Request.URL) != in.Request.URL {
			probs = append(probs, fmt.Sprintf("%s has a credential-looking query parameter", where))
		}
		for _, b := range []struct{ side, body string }{{"request", in.Request.Body}, {"response", in.Response.Body}} {
			for _, p := range credentialBodyProblems(b.body) {
				probs = append(probs, fmt.Sprintf("%s has %s in its %s body", where, p, b.side))
			}
		}
	}
	return probs
}

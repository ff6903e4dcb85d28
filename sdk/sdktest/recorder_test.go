package sdktest

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"go.yaml.in/yaml/v4"
	"gopkg.in/dnaeon/go-vcr.v4/pkg/cassette"
)

const testSecret = "s3cr3t-token-value/with+chars"

// countingTransport counts the requests it is asked to perform.
type countingTransport struct {
	n    atomic.Int64
	next http.RoundTripper
}

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	c.n.Add(1)
	if c.next == nil {
		return nil, fmt.Errorf("countingTransport: no network")
	}
	return c.next.RoundTrip(req)
}

// newAPI starts a server that demands the secret, sets a cookie and echoes
// the secret in its body; conns counts accepted connections.
func newAPI(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+testSecret {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Set-Cookie", "session=abcdef123456; HttpOnly")
		w.Header().Set("X-Api-Key", testSecret)
		w.Header().Set("Link", `<`+"http://"+r.Host+`/users?page=2>; rel="next"`)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"path":%q,"echo":%q}`, r.URL.Path, testSecret)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &conns
}

func get(t testing.TB, c *http.Client, url string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+testSecret)
	req.Header.Set("Cookie", "session=abcdef123456")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return resp, string(body)
}

func TestRecordThenReplay(t *testing.T) {
	srv, conns := newAPI(t)
	dir := t.TempDir()
	opts := RecorderOptions{Integration: "kit", Dir: dir, Cassette: "roundtrip", Secrets: []string{testSecret}}
	target := srv.URL + "/users?page=1&token=" + testSecret

	t.Run("record", func(t *testing.T) {
		t.Setenv(RecordEnv, "other, kit")
		rec := NewRecorder(t, opts)
		if !rec.IsRecording() {
			t.Fatal("recorder should record")
		}
		resp, body := get(t, rec.Client(), target)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, testSecret) {
			t.Fatalf("live response while recording: %d %s", resp.StatusCode, body)
		}
	})
	raw, err := os.ReadFile(filepath.Join(dir, "roundtrip.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, leak := range []string{testSecret, "abcdef123456", "Authorization", "Set-Cookie", "X-Api-Key"} {
		if strings.Contains(string(raw), leak) {
			t.Errorf("saved cassette contains %q:\n%s", leak, raw)
		}
	}
	if !strings.Contains(string(raw), "token="+Redacted) || !strings.Contains(string(raw), `"echo":"`+Redacted) {
		t.Errorf("saved cassette lacks the redaction markers:\n%s", raw)
	}
	recorded := conns.Load()
	srv.Close() // replay must not need the server

	t.Run("replay", func(t *testing.T) {
		t.Setenv(RecordEnv, "")
		real := &countingTransport{next: http.DefaultTransport}
		o := opts
		o.RealTransport = real
		rec := NewRecorder(t, o)
		if rec.IsRecording() {
			t.Fatal("recorder should replay")
		}
		resp, body := get(t, rec.Client(), target)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
		if want := `{"path":"/users","echo":"` + Redacted + `"}`; body != want {
			t.Errorf("body = %s, want %s", body, want)
		}
		if !strings.Contains(resp.Header.Get("Link"), `rel="next"`) {
			t.Errorf("Link header lost: %v", resp.Header)
		}
		if n := real.n.Load(); n != 0 {
			t.Errorf("replay used the real transport %d times", n)
		}
	})
	if got := conns.Load(); got != recorded {
		t.Errorf("replay opened %d connections", got-recorded)
	}
}

// writeCassette saves a cassette with the given interactions.
func writeCassette(t *testing.T, path string, ins ...*cassette.Interaction) {
	t.Helper()
	c := cassette.New(strings.TrimSuffix(path, ".yaml"))
	c.MarshalFunc = marshalYAML
	for _, in := range ins {
		c.AddInteraction(in)
	}
	if err := c.Save(); err != nil {
		t.Fatal(err)
	}
}

func okInteraction(method, url, body string) *cassette.Interaction {
	return &cassette.Interaction{
		Request:  cassette.Request{Method: method, URL: url},
		Response: cassette.Response{Code: 200, Status: "200 OK", Body: body, Headers: http.Header{"Content-Type": {"application/json"}}},
	}
}

func TestReplayMissingRequestFailsWithoutNetwork(t *testing.T) {
	srv, conns := newAPI(t)
	dir := t.TempDir()
	writeCassette(t, filepath.Join(dir, "missing.yaml"), okInteraction("GET", srv.URL+"/known", `{}`))
	t.Setenv(RecordEnv, "")
	real := &countingTransport{next: http.DefaultTransport}
	var status int
	var body string
	spy := capture(t, func(tb testing.TB) {
		rec := NewRecorder(tb, RecorderOptions{Integration: "kit", Dir: dir, Cassette: "missing", RealTransport: real})
		resp, b := get(tb, rec.Client(), srv.URL+"/unknown?page=2")
		status, body = resp.StatusCode, b
		get(tb, rec.Client(), srv.URL+"/unknown?page=2") // reported once
		if resp, _ := get(tb, rec.Client(), srv.URL+"/known"); resp.StatusCode != 200 {
			tb.Errorf("known request: %d", resp.StatusCode)
		}
	})
	wantFailure(t, spy, "GET "+srv.URL+"/unknown?page=2", "is not in cassette", RecordEnv+"=kit")
	if n := strings.Count(spy.messages(), "is not in cassette"); n != 1 {
		t.Errorf("missing request reported %d times, want 1:\n%s", n, spy.messages())
	}
	if status != http.StatusNotImplemented || !strings.Contains(body, "not in cassette") {
		t.Errorf("missing request got %d %q, want 501", status, body)
	}
	if n := conns.Load(); n != 0 {
		t.Errorf("replay opened %d connections to the server", n)
	}
	if n := real.n.Load(); n != 0 {
		t.Errorf("replay used the real transport %d times", n)
	}
}

func TestReplayMissingCassette(t *testing.T) {
	t.Setenv(RecordEnv, "")
	spy := capture(t, func(tb testing.TB) {
		NewRecorder(tb, RecorderOptions{Integration: "kit", Dir: t.TempDir(), Cassette: "nope"})
		tb.Errorf("unreachable")
	})
	wantFailure(t, spy, "nope.yaml is missing", RecordEnv+"=kit go test -run '^TestReplayMissingCassette$'")
	if !spy.fatal || strings.Contains(spy.messages(), "unreachable") {
		t.Errorf("a missing cassette must stop the test: %s", spy.messages())
	}
}

func TestRecordRequiresCredentials(t *testing.T) {
	t.Setenv(RecordEnv, "all")
	t.Setenv("SDKTEST_NO_SUCH_CREDENTIAL", "")
	spy := capture(t, func(tb testing.TB) {
		NewRecorder(tb, RecorderOptions{Integration: "kit", Dir: t.TempDir(), RequireEnv: []string{"SDKTEST_NO_SUCH_CREDENTIAL"}})
	})
	wantFailure(t, spy, "SDKTEST_NO_SUCH_CREDENTIAL is not set")
}

func TestCheckCassetteFindsLeaks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "leaky.yaml")
	in := okInteraction("GET", "https://api.example.test/users?access_token=abc123456789", `{"token":"`+testSecret+`"}`)
	in.Request.Headers = http.Header{"Authorization": {"Bearer abcdefghijkl"}, "X-Trace": {"Bearer abcdefghijklmnop"}}
	in.Response.Headers["Set-Cookie"] = []string{"sid=1"}
	writeCassette(t, path, in)
	spy := capture(t, func(tb testing.TB) { CheckCassette(tb, path, testSecret) })
	wantFailure(t, spy,
		"contains configured secret #1",
		`request header "Authorization"`,
		`response header "Set-Cookie"`,
		`token-looking value in request header "X-Trace"`,
		"credential-looking query parameter")
	if strings.Contains(spy.messages(), testSecret) || strings.Contains(spy.messages(), "abc123456789") {
		t.Errorf("failure messages print a secret:\n%s", spy.messages())
	}

	clean := filepath.Join(t.TempDir(), "clean.yaml")
	writeCassette(t, clean, okInteraction("GET", "https://api.example.test/users?token="+Redacted, `{}`))
	if spy := capture(t, func(tb testing.TB) { CheckCassette(tb, clean, testSecret) }); spy.Failed() {
		t.Errorf("clean cassette rejected: %s", spy.messages())
	}
}

func TestCheckCassetteOnLoad(t *testing.T) {
	dir := t.TempDir()
	writeCassette(t, filepath.Join(dir, "leak.yaml"), okInteraction("GET", "https://api.example.test/x", testSecret))
	t.Setenv(RecordEnv, "")
	spy := capture(t, func(tb testing.TB) {
		NewRecorder(tb, RecorderOptions{Integration: "kit", Dir: dir, Cassette: "leak", Secrets: []string{testSecret}})
	})
	wantFailure(t, spy, "leak.yaml contains configured secret #1")
}

func TestRecording(t *testing.T) {
	for _, tc := range []struct {
		env  string
		want bool
	}{
		{"", false}, {"0", false}, {"false", false}, {"1", true}, {"all", true}, {"true", true},
		{"kit", true}, {"okta, kit", true}, {"okta", false}, {"kitten", false},
	} {
		t.Setenv(RecordEnv, tc.env)
		if got := Recording("kit"); got != tc.want {
			t.Errorf("%s=%q: Recording(kit) = %v, want %v", RecordEnv, tc.env, got, tc.want)
		}
	}
}

func TestRedactor(t *testing.T) {
	r := newRedactor([]string{testSecret, "abc"}, []string{"x-custom"})
	for in, want := range map[string]string{
		"https://h/p?b=2&a=1":                             "https://h/p?b=2&a=1",
		"https://h/p?z=1&api_key=k1&Token=t&x=":           "https://h/p?z=1&api_key=REDACTED&Token=REDACTED&x=",
		"https://h/" + testSecret + "?q=" + testSecret:    "https://h/REDACTED?q=REDACTED",
		"https://h/p?q=" + urlQueryEscape(testSecret):     "https://h/p?q=REDACTED",
		"https://h/p?token=REDACTED#frag":                 "https://h/p?token=REDACTED#frag",
		"https://h/p?abc=1":                               "https://h/p?abc=1", // short secrets are ignored
		"https://h/p?Sig=" + strings.Repeat("x", 5) + "#": "https://h/p?Sig=REDACTED#",
	} {
		got := r.url(in)
		if got != want {
			t.Errorf("url(%q) = %q, want %q", in, got, want)
		}
		if again := r.url(got); again != got {
			t.Errorf("url is not idempotent: %q -> %q", got, again)
		}
	}
	h := r.header(http.Header{
		"Authorization": {"x"}, "Proxy-Authorization": {"x"}, "Cookie": {"x"}, "Set-Cookie": {"x"},
		"X-Auth-Token": {"x"}, "X-Custom": {"x"}, "Accept": {"application/json"}, "X-Echo": {"v=" + testSecret},
	})
	if len(h) != 2 || h.Get("Accept") != "application/json" || h.Get("X-Echo") != "v="+Redacted {
		t.Errorf("header redaction: %v", h)
	}

	in := okInteraction("POST", "https://h/login?password=pw123456", `{"secret":"`+testSecret+`"}`)
	in.Request.Body = "user=a&password=" + urlQueryEscape(testSecret)
	in.Request.Form = map[string][]string{"password": {"pw123456"}}
	in.Response.ContentLength = int64(len(in.Response.Body))
	in.Response.Headers.Set("Content-Length", fmt.Sprint(len(in.Response.Body)))
	in.Response.Duration = 5
	r.interaction(in)
	if in.Request.URL != "https://h/login?password=REDACTED" || in.Request.Body != "user=a&password=REDACTED" ||
		in.Request.Form.Get("password") != Redacted {
		t.Errorf("request not redacted: %+v", in.Request)
	}
	if in.Response.Body != `{"secret":"REDACTED"}` || in.Response.ContentLength != int64(len(in.Response.Body)) ||
		in.Response.Headers.Get("Content-Length") != fmt.Sprint(len(in.Response.Body)) || in.Response.Duration != 0 {
		t.Errorf("response not redacted consistently: %+v", in.Response)
	}
}

func TestCassetteName(t *testing.T) {
	t.Run("page 2/of:3", func(t *testing.T) {
		if got, want := CassetteName(t), "TestCassetteName_page_2_of_3"; got != want {
			t.Errorf("CassetteName = %q, want %q", got, want)
		}
	})
}

func TestModuleRoot(t *testing.T) {
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "sdk", "sdktest")); err != nil {
		t.Errorf("ModuleRoot() = %s, which does not hold sdk/sdktest", root)
	}
}

func marshalYAML(v any) ([]byte, error) { return yaml.Marshal(v) }

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

package oktafake

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// do serves one GET in-process and returns the recorder.
func do(t testing.TB, h http.Handler, target string) *httptest.ResponseRecorder {
	t.Helper()
	return doToken(t, h, target, DefaultToken)
}

func doToken(t testing.TB, h http.Handler, target, token string) *httptest.ResponseRecorder {
	t.Helper()
	if strings.HasPrefix(target, "http") {
		u, err := url.Parse(target)
		if err != nil {
			t.Fatal(err)
		}
		target = u.RequestURI()
	}
	req := httptest.NewRequest(http.MethodGet, target, nil)
	if token != "" {
		req.Header.Set("Authorization", "SSWS "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

var linkRe = regexp.MustCompile(`^<([^>]*)>; rel="([a-z]+)"$`)

// links parses the Link header lines into rel -> url, failing on duplicates
// and on combined (comma-separated) values.
func links(t testing.TB, h http.Header) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, v := range h.Values("Link") {
		m := linkRe.FindStringSubmatch(v)
		if m == nil {
			t.Fatalf("bad Link header %q", v)
		}
		if _, dup := out[m[2]]; dup {
			t.Fatalf("duplicate rel %q", m[2])
		}
		out[m[2]] = m[1]
	}
	return out
}

// collect follows rel="next" from path and returns all items, decoded into T.
func collect[T any](t testing.TB, h http.Handler, path string) (items []T, pages int) {
	t.Helper()
	next := path
	for next != "" {
		pages++
		if pages > 10000 {
			t.Fatal("too many pages")
		}
		rec := do(t, h, next)
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s: %d %s", next, rec.Code, rec.Body.String())
		}
		var page []T
		if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil {
			t.Fatalf("GET %s: %v", next, err)
		}
		items = append(items, page...)
		l := links(t, rec.Header())
		if l["self"] == "" {
			t.Fatalf("GET %s: no self link", next)
		}
		next = l["next"]
	}
	return items, pages
}

type idOnly struct {
	ID string `json:"id"`
}

func ids(xs []idOnly) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = x.ID
	}
	return out
}

type apiError struct {
	ErrorCode    string           `json:"errorCode"`
	ErrorSummary string           `json:"errorSummary"`
	ErrorLink    string           `json:"errorLink"`
	ErrorID      string           `json:"errorId"`
	ErrorCauses  []map[string]any `json:"errorCauses"`
}

func decodeError(t testing.TB, body []byte) apiError {
	t.Helper()
	var e apiError
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body %q: %v", body, err)
	}
	if e.ErrorCode == "" || e.ErrorSummary == "" || e.ErrorLink == "" || e.ErrorID == "" || e.ErrorCauses == nil {
		t.Fatalf("incomplete error body %s", body)
	}
	return e
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

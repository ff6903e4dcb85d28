package httpclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

func TestParseLinkHeader(t *testing.T) {
	tests := []struct {
		name   string
		values []string
		want   []Link
	}{
		{
			name:   "okta two header lines",
			values: []string{`<https://x.okta.com/api/v1/users?limit=200>; rel="self"`, `<https://x.okta.com/api/v1/users?after=00u2&limit=200>; rel="next"`},
			want: []Link{
				{URL: "https://x.okta.com/api/v1/users?limit=200", Rel: []string{"self"}, Params: map[string]string{"rel": "self"}},
				{URL: "https://x.okta.com/api/v1/users?after=00u2&limit=200", Rel: []string{"next"}, Params: map[string]string{"rel": "next"}},
			},
		},
		{
			name:   "several links in one header, unquoted rel, params in any order",
			values: []string{`</p?page=2>; title="a, b; c"; rel=next, </p?page=9> ;rel="last" ; type="application/json"`},
			want: []Link{
				{URL: "/p?page=2", Rel: []string{"next"}, Params: map[string]string{"title": "a, b; c", "rel": "next"}},
				{URL: "/p?page=9", Rel: []string{"last"}, Params: map[string]string{"rel": "last", "type": "application/json"}},
			},
		},
		{
			name:   "quoted rel with several values, upper case, escaped quote",
			values: []string{`<https://h/next>; REL="Prefetch NEXT"; title="say \"hi\""`},
			want: []Link{
				{URL: "https://h/next", Rel: []string{"prefetch", "next"}, Params: map[string]string{"rel": "Prefetch NEXT", "title": `say "hi"`}},
			},
		},
		{
			name:   "first rel wins, valueless param, malformed entry skipped",
			values: []string{`garbage; rel=next, <a>; rel=prev; rel=next; crossorigin`, ``, `<b>`},
			want: []Link{
				{URL: "a", Rel: []string{"prev"}, Params: map[string]string{"rel": "prev", "crossorigin": ""}},
				{URL: "b", Rel: nil, Params: map[string]string{}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ParseLinkHeader(tt.values)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %#v\nwant %#v", got, tt.want)
			}
		})
	}
	next := ParseLinkHeader([]string{`<a>; rel="self", <b>; rel="prefetch next"`})
	if len(next) != 2 || next[0].HasRel("next") || !next[1].HasRel("NEXT") {
		t.Errorf("HasRel: %+v", next)
	}
}

// pagedServer serves /api/v1/users in pages of one user via Link headers.
func TestPagesFollowsLinkHeaders(t *testing.T) {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		after := r.URL.Query().Get("after")
		page := 0
		fmt.Sscan(after, &page)
		w.Header().Add("Link", fmt.Sprintf(`<%s%s>; rel="self"`, srv.URL, r.URL.RequestURI()))
		if page < 3 {
			// Alternate absolute and relative next links.
			if page%2 == 0 {
				w.Header().Add("Link", fmt.Sprintf(`<%s/api/v1/users?after=%d&limit=1>; rel="next"`, srv.URL, page+1))
			} else {
				w.Header().Add("Link", fmt.Sprintf(`</api/v1/users?after=%d&limit=1>; rel="next"`, page+1))
			}
		}
		fmt.Fprintf(w, `[{"id":"u%d"}]`, page)
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, nil)
	var ids []string
	for resp, err := range c.Pages(context.Background(), "/api/v1/users?limit=1") {
		if err != nil {
			t.Fatalf("page error: %v", err)
		}
		var v []struct{ ID string }
		if err := json.Unmarshal(resp.Body, &v); err != nil {
			t.Fatal(err)
		}
		for _, u := range v {
			ids = append(ids, u.ID)
		}
	}
	if strings.Join(ids, ",") != "u0,u1,u2,u3" {
		t.Errorf("ids = %v", ids)
	}
}

func TestPagesRefusesForeignNextLink(t *testing.T) {
	var foreignAuth []string
	var mu sync.Mutex
	foreign := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		foreignAuth = append(foreignAuth, r.Header.Get("Authorization"))
		mu.Unlock()
		w.Write([]byte(`[]`))
	}))
	defer foreign.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", fmt.Sprintf(`<%s/api/v1/users?after=x&token=abc>; rel="next"`, foreign.URL))
		w.Write([]byte(`[{"id":"u1"}]`))
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, nil)
	var pages int
	var gotErr error
	for resp, err := range c.Pages(context.Background(), "/api/v1/users") {
		if err != nil {
			gotErr = err
			break
		}
		if resp.Status == 200 {
			pages++
		}
	}
	var fh *ForeignHostError
	if pages != 1 || !errors.As(gotErr, &fh) {
		t.Fatalf("pages = %d, err = %T %v", pages, gotErr, gotErr)
	}
	foreignHost := strings.TrimPrefix(foreign.URL, "http://")
	if !strings.Contains(fh.Host, foreignHost) || strings.Contains(gotErr.Error(), "token=abc") {
		t.Errorf("error %q should name host %s and nothing else of the URL", gotErr, foreignHost)
	}
	assertNoSecret(t, gotErr)
	mu.Lock()
	defer mu.Unlock()
	if len(foreignAuth) != 0 {
		t.Errorf("foreign host received %d requests (Authorization %q)", len(foreignAuth), foreignAuth)
	}
}

func TestPagesBodyNextLinks(t *testing.T) {
	var srv *httptest.Server
	var n atomic.Int32
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		after := r.URL.Query().Get("after")
		next := map[string]string{"": "a1", "a1": "a2"}[after]
		body := map[string]any{"value": []map[string]any{{"id": "00u" + after, "orn": "orn:okta:" + after}}}
		if next != "" {
			body["_links"] = map[string]any{"next": map[string]string{"href": srv.URL + "/api/v1/iam/assignees/users?limit=1&after=" + next}}
		}
		json.NewEncoder(w).Encode(body)
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, nil)
	var ids []string
	for resp, err := range c.Pages(context.Background(), "/api/v1/iam/assignees/users?limit=1", WithNextFunc(NextFromBodyLinks)) {
		if err != nil {
			t.Fatal(err)
		}
		var v struct{ Value []struct{ ID string } }
		if err := json.Unmarshal(resp.Body, &v); err != nil {
			t.Fatal(err)
		}
		for _, u := range v.Value {
			ids = append(ids, u.ID)
		}
	}
	if strings.Join(ids, ",") != "00u,00ua1,00ua2" || n.Load() != 3 {
		t.Errorf("ids = %v after %d requests", ids, n.Load())
	}
}

func TestPagesSelfLoopIsAnError(t *testing.T) {
	var n atomic.Int32
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		// The next link points to the page itself, forever.
		w.Header().Set("Link", fmt.Sprintf(`<%s%s>; rel="next"`, srv.URL, r.URL.RequestURI()))
		w.Write([]byte(`[{"id":"a"}]`))
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, nil)
	pages := 0
	var gotErr error
	for _, err := range c.Pages(context.Background(), "/api/v1/users?limit=1") {
		if err != nil {
			gotErr = err
			break
		}
		pages++
		if pages > 5 {
			t.Fatal("looping on a self-referencing next link")
		}
	}
	var pe *PagingError
	if !errors.As(gotErr, &pe) || !pe.Loop || pe.Pages != 1 {
		t.Fatalf("err = %v, want a *PagingError for a loop after 1 page", gotErr)
	}
	if pages != 1 || n.Load() != 1 {
		t.Errorf("pages = %d, requests = %d", pages, n.Load())
	}
	if !strings.Contains(gotErr.Error(), "/api/v1/users?limit=1") || !strings.Contains(gotErr.Error(), "incomplete") {
		t.Errorf("error does not name the listing or say it is incomplete: %v", gotErr)
	}
}

func TestPagesLongerLoopIsAnError(t *testing.T) {
	// page 1 -> 2 -> 3 -> 1
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := 0
		fmt.Sscan(r.URL.Query().Get("page"), &p)
		w.Header().Set("Link", fmt.Sprintf(`</p?page=%d>; rel="next"`, p%3+1))
		w.Write([]byte(`[1]`))
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, nil)
	pages := 0
	var gotErr error
	for _, err := range c.Pages(context.Background(), "/p?page=1") {
		if err != nil {
			gotErr = err
			break
		}
		pages++
	}
	var pe *PagingError
	if !errors.As(gotErr, &pe) || !pe.Loop || pages != 3 {
		t.Fatalf("pages = %d, err = %v; want 3 pages then a loop error", pages, gotErr)
	}
}

func TestPagesEndlessNewLinksHitTheBound(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k := n.Add(1)
		// Always a new next link: the listing never ends.
		w.Header().Set("Link", fmt.Sprintf(`</p?cursor=%d>; rel="next"`, k))
		w.Write([]byte(`[1]`))
	}))
	defer srv.Close()
	for _, tt := range []struct {
		name string
		cfg  int
		opts []PageOption
		want int
	}{
		{"config bound", 7, nil, 7},
		{"per-listing bound", 50, []PageOption{WithMaxPages(4)}, 4},
		{"bound from the expected count", 50, []PageOption{WithExpectedItems(1000, 200)}, 5 + 3},
		{"expected count never raises the config bound", 6, []PageOption{WithExpectedItems(100000, 200)}, 6},
	} {
		t.Run(tt.name, func(t *testing.T) {
			n.Store(0)
			c := newTestClient(t, srv.URL, func(c *Config) { c.MaxPages = tt.cfg })
			pages := 0
			var gotErr error
			for _, err := range c.Pages(context.Background(), "/p", tt.opts...) {
				if err != nil {
					gotErr = err
					break
				}
				pages++
			}
			var pe *PagingError
			if !errors.As(gotErr, &pe) || pe.Loop || pe.MaxPages != tt.want {
				t.Fatalf("err = %v, want a *PagingError for the bound %d", gotErr, tt.want)
			}
			if pages != tt.want || int(n.Load()) != tt.want {
				t.Errorf("pages = %d, requests = %d, want %d", pages, n.Load(), tt.want)
			}
		})
	}
	if DefaultMaxPages <= 0 || DefaultMaxPages > 100000 {
		t.Errorf("DefaultMaxPages = %d", DefaultMaxPages)
	}
}

func TestPagesChecksContext(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k := n.Add(1)
		w.Header().Set("Link", fmt.Sprintf(`</p?page=%d>; rel="next"`, k+1))
		w.Write([]byte(`[]`))
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var gotErr error
	pages := 0
	for _, err := range c.Pages(ctx, "/p?page=1") {
		if err != nil {
			gotErr = err
			break
		}
		pages++
		if pages == 2 {
			cancel()
		}
	}
	if !errors.Is(gotErr, context.Canceled) || n.Load() != 2 {
		t.Errorf("err = %v after %d requests", gotErr, n.Load())
	}
}

func TestPagesPropagatesAPIError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeOktaError(w, 403, "E0000006", "You do not have permission")
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, nil)
	for _, err := range c.Pages(context.Background(), "/api/v1/logs") {
		assertNoSecret(t, err)
		if err == nil || !strings.Contains(err.Error(), "E0000006") {
			t.Errorf("err = %v", err)
		}
	}
}

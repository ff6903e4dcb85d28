package httpclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// listServer serves /items?page=N: pages 0..last-1 hold two items each and
// link to the next, page last is empty; /bad serves a body that is not a
// list.
func listServer(t *testing.T, last int, requests *atomic.Int32) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if r.URL.Path == "/bad" {
			fmt.Fprint(w, `{"not":"a list"}`)
			return
		}
		page := 0
		fmt.Sscan(r.URL.Query().Get("page"), &page)
		if page >= last {
			fmt.Fprint(w, `[]`)
			return
		}
		w.Header().Add("Link", fmt.Sprintf(`</items?page=%d>; rel="next"`, page+1))
		fmt.Fprintf(w, `[{"id":"p%da","skip":{"x":[1,2]}},{"id":"p%db"}]`, page, page)
	}))
	t.Cleanup(srv.Close)
	return srv
}

type idItem struct {
	ID string `json:"id"`
}

func TestEachPageDecodesItemsAndStopsAtAnEmptyPage(t *testing.T) {
	var n atomic.Int32
	srv := listServer(t, 2, &n)
	c := newTestClient(t, srv.URL, nil)
	var ids []string
	err := EachPage(context.Background(), c, "/items?page=0", func(items []idItem) error {
		for _, it := range items {
			ids = append(ids, it.ID)
		}
		return nil
	})
	if err != nil || strings.Join(ids, ",") != "p0a,p0b,p1a,p1b" {
		t.Fatalf("ids = %v, err = %v", ids, err)
	}
	if n.Load() != 3 {
		t.Errorf("requests = %d, want 3 (two pages and the empty one)", n.Load())
	}
	// Raw items are kept as sent.
	var raws []json.RawMessage
	if err := EachPage(context.Background(), c, "/items?page=1", func(items []json.RawMessage) error {
		raws = append(raws, items...)
		return nil
	}); err != nil || len(raws) != 2 || string(raws[0]) != `{"id":"p1a","skip":{"x":[1,2]}}` {
		t.Fatalf("raw items = %s, err = %v", raws, err)
	}
}

func TestEachPageErrors(t *testing.T) {
	var n atomic.Int32
	srv := listServer(t, 5, &n)
	c := newTestClient(t, srv.URL, nil)
	err := EachPage(context.Background(), c, "/bad", func([]idItem) error { return nil })
	var re *RequestError
	if !errors.As(err, &re) || re.Endpoint != "/bad" || !strings.Contains(err.Error(), "decoding JSON response") {
		t.Errorf("undecodable body: %v, want a *RequestError naming /bad", err)
	}
	stop := errors.New("enough")
	n.Store(0)
	err = EachPage(context.Background(), c, "/items?page=0", func([]idItem) error { return stop })
	if err != stop || n.Load() != 1 {
		t.Errorf("fn's error: %v after %d requests, want it as is after 1", err, n.Load())
	}
}

func TestPageItemsAndConcatPages(t *testing.T) {
	var n atomic.Int32
	srv := listServer(t, 2, &n)
	c := newTestClient(t, srv.URL, nil)
	ctx := context.Background()
	var ids []string
	for items, err := range ConcatPages(PageItems[idItem](ctx, c, "/items?page=1"), PageItems[idItem](ctx, c, "/items?page=0")) {
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			ids = append(ids, it.ID)
		}
	}
	if got := strings.Join(ids, ","); got != "p1a,p1b,p0a,p0b,p1a,p1b" {
		t.Errorf("ids = %s", got)
	}
	// A consumer that stops stops the paging.
	n.Store(0)
	for range PageItems[idItem](ctx, c, "/items?page=0") {
		break
	}
	if n.Load() != 1 {
		t.Errorf("requests after stopping at the first page = %d, want 1", n.Load())
	}
	// An error ends the sequence: the listing after it is not started.
	n.Store(0)
	var errs int
	for _, err := range ConcatPages(PageItems[idItem](ctx, c, "/bad"), PageItems[idItem](ctx, c, "/items?page=0")) {
		if err != nil {
			errs++
		}
	}
	if errs != 1 || n.Load() != 1 {
		t.Errorf("errors = %d, requests = %d; want 1 and 1", errs, n.Load())
	}
}

// TestRawKeepsTheItemAsSent: EachPage[Raw[T]] gives each item decoded and
// as sent, still intact after the page's body was released and reused.
func TestRawKeepsTheItemAsSent(t *testing.T) {
	var n atomic.Int32
	srv := listServer(t, 2, &n)
	c := newTestClient(t, srv.URL, nil)
	var got []Raw[idItem]
	err := EachPage(context.Background(), c, "/items?page=0", func(items []Raw[idItem]) error {
		got = append(got, items...)
		return nil
	})
	if err != nil || len(got) != 4 {
		t.Fatalf("%d items, err %v", len(got), err)
	}
	if got[0].Value.ID != "p0a" || string(got[0].JSON) != `{"id":"p0a","skip":{"x":[1,2]}}` || got[3].Value.ID != "p1b" || string(got[3].JSON) != `{"id":"p1b"}` {
		t.Errorf("items = %+v / %s / %s", got, got[0].JSON, got[3].JSON)
	}
	var bad Raw[idItem]
	if err := json.Unmarshal([]byte(`{"id":7}`), &bad); err == nil {
		t.Error("an id of the wrong type: no error")
	}
}

// TestEachPageItemsInAnEnvelope: with WithItemsIn, a page's items are the
// array under a field of the body (paged through the body's links here),
// and a page without the field ends the listing (#12: Okta's role
// assignees).
func TestEachPageItemsInAnEnvelope(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("page") {
		case "":
			fmt.Fprint(w, `{"value":[{"id":"a"},{"id":"b"}],"_links":{"next":{"href":"/items?page=2"}}}`)
		case "2":
			fmt.Fprint(w, `{"value":[{"id":"c"}],"_links":{"next":{"href":"/items?page=3"}}}`)
		default:
			fmt.Fprint(w, `{"_links":{"next":{"href":"/items?page=4"}}}`)
		}
	}))
	defer srv.Close()
	c, err := New(Config{BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	err = EachPage(context.Background(), c, "/items", func(items []idItem) error {
		for _, it := range items {
			got = append(got, it.ID)
		}
		return nil
	}, WithNextFunc(NextFromBodyLinks), WithItemsIn("value"))
	if err != nil || strings.Join(got, ",") != "a,b,c" {
		t.Errorf("got %v, %v; want a,b,c", got, err)
	}
}

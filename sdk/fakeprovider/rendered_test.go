package fakeprovider_test

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stepgraph/stepgraph/sdk/fakeprovider"
)

type obj struct {
	ID   string            `json:"id"`
	Href string            `json:"href"`
	Tags map[string]string `json:"tags,omitempty"`
}

var objs = []obj{
	{ID: "a", Href: "https://x.example/a?b=1&c=<2>"},
	{ID: "b", Tags: map[string]string{"z": "1", "a": "2"}},
	{ID: "c"},
}

// TestListJSONWritesWhatListWrites checks that a list answered from
// Rendered's bytes (ListJSON) and an object answered with RawJSON are byte
// for byte what List and JSON write for the same objects (no HTML escaping,
// no trailing newline), including the empty list, and that Rendered
// renders each object once however many answers use it.
func TestListJSONWritesWhatListWrites(t *testing.T) {
	var renders atomic.Int64
	r := fakeprovider.NewRendered(len(objs), func(i int) any { renders.Add(1); return objs[i] })
	s := fakeprovider.New(fakeprovider.Options{})
	s.Handle(fakeprovider.Endpoint{Pattern: "/list", Serve: func(c *fakeprovider.Call) {
		c.List(http.StatusOK, len(objs), func(k int) any { return objs[k] })
	}})
	s.Handle(fakeprovider.Endpoint{Pattern: "/rendered", Serve: func(c *fakeprovider.Call) {
		c.ListJSON(http.StatusOK, r.Len(), r.Bytes)
	}})
	s.Handle(fakeprovider.Endpoint{Pattern: "/empty", Serve: func(c *fakeprovider.Call) {
		c.List(http.StatusOK, 0, func(int) any { return nil })
	}})
	s.Handle(fakeprovider.Endpoint{Pattern: "/empty-rendered", Serve: func(c *fakeprovider.Call) {
		c.ListJSON(http.StatusOK, 0, r.Bytes)
	}})
	s.Handle(fakeprovider.Endpoint{Pattern: "/one", Serve: func(c *fakeprovider.Call) { c.JSON(http.StatusOK, objs[0]) }})
	s.Handle(fakeprovider.Endpoint{Pattern: "/one-rendered", Serve: func(c *fakeprovider.Call) {
		c.RawJSON(http.StatusOK, r.Bytes(0))
	}})
	get := func(path string) string {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json" {
			t.Fatalf("%s: %d %q", path, rec.Code, rec.Header().Get("Content-Type"))
		}
		return rec.Body.String()
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() { defer wg.Done(); r.RenderAll() }()
	}
	wg.Wait()
	for _, p := range [][2]string{{"/list", "/rendered"}, {"/empty", "/empty-rendered"}, {"/one", "/one-rendered"}} {
		want, got := get(p[0]), get(p[1])
		if got != want {
			t.Errorf("%s = %s, %s = %s", p[1], got, p[0], want)
		}
	}
	if got := get("/rendered"); got != `[{"id":"a","href":"https://x.example/a?b=1&c=<2>"},{"id":"b","href":"","tags":{"a":"2","z":"1"}},{"id":"c","href":""}]` {
		t.Errorf("rendered list = %s", got)
	}
	if n := renders.Load(); n != int64(len(objs)) {
		t.Errorf("%d renders of %d objects after RenderAll from 4 goroutines and 3 answers", n, len(objs))
	}
}

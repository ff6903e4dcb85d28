package httpclient

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestTrackerSumsLiveAndEndedClients: Families counts the requests of a
// client while it is tracked and keeps them once its run ended, summed
// with the other clients'; done is idempotent.
func TestTrackerSumsLiveAndEndedClients(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `[]`) }))
	defer srv.Close()
	family := func(c *Config) { c.Family = func(_, path string) string { return path[1:] } }
	a, b := newTestClient(t, srv.URL, family), newTestClient(t, srv.URL, family)
	var tr Tracker
	if n := len(tr.Families()); n != 0 {
		t.Fatalf("zero Tracker: %d families", n)
	}
	doneA, doneB := tr.Track(a), tr.Track(b)
	get := func(c *Client, path string) {
		t.Helper()
		if _, err := c.Do(context.Background(), http.MethodGet, path, nil); err != nil {
			t.Fatal(err)
		}
	}
	get(a, "/users")
	get(b, "/users")
	get(b, "/groups")
	if f := tr.Families(); f["users"].Requests != 2 || f["groups"].Requests != 1 {
		t.Fatalf("live: %+v", f)
	}
	doneA()
	doneA()
	get(a, "/users") // after its run ended: not counted
	get(b, "/users")
	doneB()
	if f := tr.Families(); f["users"].Requests != 3 || f["groups"].Requests != 1 {
		t.Errorf("ended: users %d groups %d, want 3 and 1", f["users"].Requests, f["groups"].Requests)
	}
}

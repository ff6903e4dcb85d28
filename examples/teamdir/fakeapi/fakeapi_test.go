package fakeapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestPagingAndErrors(t *testing.T) {
	h := Handler(Sample(), "tok")
	get := func(path, token string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, "http://api.teamdir.test"+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w
	}
	var ids []string
	for path := "/api/v1/users?limit=3"; path != ""; {
		w := get(path, "tok")
		if w.Code != http.StatusOK {
			t.Fatalf("GET %s: %d", path, w.Code)
		}
		var users []User
		if err := json.Unmarshal(w.Body.Bytes(), &users); err != nil {
			t.Fatal(err)
		}
		for _, u := range users {
			ids = append(ids, u.ID)
		}
		path = ""
		if link := w.Header().Get("Link"); link != "" {
			next := strings.TrimPrefix(strings.SplitN(link, ">", 2)[0], "<")
			path = strings.TrimPrefix(next, "http://api.teamdir.test")
		}
	}
	if len(ids) != 7 || ids[0] != "u-1001" || ids[6] != "u-1007" {
		t.Errorf("paged users = %v", ids)
	}
	for path, want := range map[string]int{
		"/api/v1/account":                        http.StatusOK,
		"/api/v1/users?limit=0":                  http.StatusBadRequest,
		"/api/v1/teams/t-nope/members":           http.StatusNotFound,
		"/api/v1/teams/t-web/members":            http.StatusOK,
		"/api/v1/teams?limit=2&after=x":          http.StatusBadRequest, // unknown cursor
		"/api/v1/teams?limit=2&after=t-platform": http.StatusOK,
	} {
		if got := get(path, "tok").Code; got != want {
			t.Errorf("GET %s = %d, want %d", path, got, want)
		}
	}
	if got := get("/api/v1/account", "bad").Code; got != http.StatusUnauthorized {
		t.Errorf("bad token: %d", got)
	}
}

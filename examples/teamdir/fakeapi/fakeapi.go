// Package fakeapi serves a small, deterministic team directory API for the
// teamdir example integration: an account, users, teams and team members.
//
// Every request needs "Authorization: Bearer <token>". Listings take a
// "limit" (1-100, default 20) and an "after" cursor and link to the next
// page with an RFC 8288 Link header (rel="next") built from the request's
// Host, so a recording made through a stable host name replays anywhere.
//
//	GET /api/v1/account
//	GET /api/v1/users
//	GET /api/v1/teams
//	GET /api/v1/teams/{id}/members
package fakeapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
)

// Account is the directory's owner.
type Account struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Domain    string `json:"domain"`
	Plan      string `json:"plan"`
	CreatedAt string `json:"createdAt"`
}

// User is a person in the directory.
type User struct {
	ID        string `json:"id"`
	Username  string `json:"username"`
	Email     string `json:"email"`
	Name      string `json:"name"`
	Active    bool   `json:"active"`
	Admin     bool   `json:"admin"`
	CreatedAt string `json:"createdAt"`
}

// Team is a group of users.
type Team struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// Member is a user's membership in a team.
type Member struct {
	UserID string `json:"userId"`
	Role   string `json:"role"`
}

// Directory is the data the fake serves.
type Directory struct {
	Account Account
	Users   []User
	Teams   []Team
	// Members maps a team ID to its members.
	Members map[string][]Member
}

// Sample returns the fixed directory the example's recordings were made
// from: 7 users (one inactive), 3 teams, and one membership of a user that
// no longer exists.
func Sample() *Directory {
	d := &Directory{
		Account: Account{ID: "acme", Name: "Acme Corp", Domain: "acme.test", Plan: "business", CreatedAt: "2021-03-04T05:06:07Z"},
		Teams: []Team{
			{ID: "t-platform", Name: "Platform", Description: "Runs the platform"},
			{ID: "t-security", Name: "Security"},
			{ID: "t-web", Name: "Web", Description: "Web front end"},
		},
		Members: map[string][]Member{
			"t-platform": {{"u-1001", "lead"}, {"u-1002", "member"}, {"u-1003", "member"}},
			"t-security": {{"u-1004", "lead"}, {"u-1001", "member"}, {"u-9999", "member"}},
			"t-web":      {{"u-1005", "lead"}, {"u-1006", "member"}, {"u-1007", "member"}, {"u-1002", "member"}},
		},
	}
	names := []string{"Ada Lovelace", "Grace Hopper", "Alan Turing", "Katherine Johnson", "Edsger Dijkstra", "Barbara Liskov", "Ken Thompson"}
	for i, n := range names {
		id := fmt.Sprintf("u-%d", 1001+i)
		login := fmt.Sprintf("user%d", 1001+i)
		d.Users = append(d.Users, User{
			ID: id, Username: login, Email: login + "@acme.test", Name: n,
			Active: i != 6, Admin: i == 0, CreatedAt: fmt.Sprintf("2022-01-%02dT09:00:00Z", i+1),
		})
	}
	return d
}

// Handler returns the API over dir, accepting only token.
func Handler(dir *Directory, token string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/account", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, dir.Account)
	})
	mux.HandleFunc("GET /api/v1/users", func(w http.ResponseWriter, r *http.Request) {
		page(w, r, dir.Users, func(u User) string { return u.ID })
	})
	mux.HandleFunc("GET /api/v1/teams", func(w http.ResponseWriter, r *http.Request) {
		page(w, r, dir.Teams, func(t Team) string { return t.ID })
	})
	mux.HandleFunc("GET /api/v1/teams/{id}/members", func(w http.ResponseWriter, r *http.Request) {
		members, ok := dir.Members[r.PathValue("id")]
		if !ok {
			writeJSON(w, http.StatusNotFound, apiError{"E404", "team not found"})
			return
		}
		page(w, r, members, func(m Member) string { return m.UserID })
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			writeJSON(w, http.StatusUnauthorized, apiError{"E401", "invalid or missing API token"})
			return
		}
		mux.ServeHTTP(w, r)
	})
}

type apiError struct {
	Code    string `json:"errorCode"`
	Summary string `json:"errorSummary"`
}

// page writes one page of items after the "after" cursor (an item id).
func page[T any](w http.ResponseWriter, r *http.Request, items []T, id func(T) string) {
	limit := 20
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100 {
			writeJSON(w, http.StatusBadRequest, apiError{"E400", "limit must be 1-100"})
			return
		}
		limit = n
	}
	start := 0
	if after := r.URL.Query().Get("after"); after != "" {
		for i, it := range items {
			if id(it) == after {
				start = i + 1
			}
		}
	}
	end := min(start+limit, len(items))
	if end < len(items) {
		next := url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path,
			RawQuery: url.Values{"limit": {strconv.Itoa(limit)}, "after": {id(items[end-1])}}.Encode()}
		w.Header().Set("Link", fmt.Sprintf("<%s>; rel=\"next\"", next.String()))
	}
	writeJSON(w, http.StatusOK, items[start:end])
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Server is a running fake on a loopback port.
type Server struct {
	// URL is the server's base URL, e.g. http://127.0.0.1:40000.
	URL string
	srv *httptest.Server
}

// Start serves dir on a loopback port until Close.
func Start(dir *Directory, token string) *Server {
	srv := httptest.NewServer(Handler(dir, token))
	return &Server{URL: srv.URL, srv: srv}
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// Transport returns a transport that connects to this server whatever the
// request's host, so clients can use a stable base URL (for example
// http://api.teamdir.test) that ends up in recordings.
func (s *Server) Transport() http.RoundTripper {
	addr := s.srv.Listener.Addr().String()
	return &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
	}
}

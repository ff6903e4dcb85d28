// Package fakeapi serves a small, deterministic team directory API for the
// teamdir example integration: an account, users, teams and team members.
//
// It is built on sdk/fakeprovider, which supplies the mechanics: every
// request needs "Authorization: Bearer <token>"; listings take a "limit"
// (1-100, default 20) and an "after" cursor (the last item's id) and link
// to the next page with an RFC 8288 Link header (rel="next") built from the
// request's Host, so a recording made through a stable host name replays
// anywhere; StartWith adds rate limits, a concurrency limit, latency and
// seeded faults. This package only holds the directory's data, its
// endpoints and its error body.
//
//	GET /api/v1/account
//	GET /api/v1/users
//	GET /api/v1/teams
//	GET /api/v1/teams/{id}/members
package fakeapi

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/stepgraph/stepgraph/sdk/fakeprovider"
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

// New returns the API over dir, accepting only "Bearer <token>", with the
// rate limits, faults and latency of opts (Auth and WriteError are the
// fake's own).
func New(dir *Directory, token string, opts fakeprovider.Options) *fakeprovider.Server {
	opts.Auth = fakeprovider.TokenAuth{Scheme: "Bearer", Token: token, Realm: "teamdir"}
	opts.WriteError = writeError
	s := fakeprovider.New(opts)
	paging := &fakeprovider.Paging{Default: 20, Max: 100, Strict: true}
	s.Handle(fakeprovider.Endpoint{Pattern: "/api/v1/account", Serve: func(c *fakeprovider.Call) {
		c.JSON(http.StatusOK, dir.Account)
	}})
	s.Handle(fakeprovider.Endpoint{Pattern: "/api/v1/users", Paging: paging, Serve: func(c *fakeprovider.Call) {
		fakeprovider.Page(c, dir.Users, func(u User) string { return u.ID })
	}})
	s.Handle(fakeprovider.Endpoint{Pattern: "/api/v1/teams", Paging: paging, Serve: func(c *fakeprovider.Call) {
		fakeprovider.Page(c, dir.Teams, func(t Team) string { return t.ID })
	}})
	s.Handle(fakeprovider.Endpoint{Pattern: "/api/v1/teams/{id}/members", Paging: paging, Serve: func(c *fakeprovider.Call) {
		members, ok := dir.Members[c.Param("id")]
		if !ok {
			c.Error(&fakeprovider.Error{Status: http.StatusNotFound, Reason: fakeprovider.ReasonNotFound, Message: "team not found"})
			return
		}
		fakeprovider.Page(c, members, func(m Member) string { return m.UserID })
	}})
	return s
}

// Handler returns the API over dir, accepting only token, with no rate
// limits and no faults.
func Handler(dir *Directory, token string) http.Handler {
	return New(dir, token, fakeprovider.Options{})
}

// writeError renders the directory's error body: {"errorCode": "E<status>",
// "errorSummary": ...}.
func writeError(c *fakeprovider.Call, e *fakeprovider.Error) {
	msg := e.Message
	switch {
	case msg != "":
	case e.Reason == fakeprovider.ReasonUnauthorized:
		msg = "invalid or missing API token"
	default:
		msg = strings.ToLower(http.StatusText(e.Status))
	}
	c.JSON(e.Status, apiError{"E" + strconv.Itoa(e.Status), msg})
}

type apiError struct {
	Code    string `json:"errorCode"`
	Summary string `json:"errorSummary"`
}

// Server is a running fake on a loopback port.
type Server struct {
	// URL is the server's base URL, e.g. http://127.0.0.1:40000.
	URL string
	// API is the fake, for its counters (API.Stats()).
	API *fakeprovider.Server
	run *fakeprovider.Running
}

// Start serves dir on a loopback port until Close.
func Start(dir *Directory, token string) *Server {
	return StartWith(dir, token, fakeprovider.Options{})
}

// StartWith serves dir with the rate limits, faults and latency of opts on
// a loopback port until Close. It panics if it cannot listen.
func StartWith(dir *Directory, token string, opts fakeprovider.Options) *Server {
	api := New(dir, token, opts)
	run, err := fakeprovider.Start(api)
	if err != nil {
		panic(err)
	}
	return &Server{URL: run.URL, API: api, run: run}
}

// Close stops the server.
func (s *Server) Close() { s.run.Close() }

// Transport returns a transport that connects to this server whatever the
// request's host, so clients can use a stable base URL (for example
// http://api.teamdir.test) that ends up in recordings.
func (s *Server) Transport() http.RoundTripper { return s.run.Transport() }

package oktafake

import (
	"encoding/base64"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

type jSupport struct {
	Support    string         `json:"support"`
	Expiration *string        `json:"expiration"`
	Links      map[string]any `json:"_links"`
}

func (s *Server) oktaSupport(c *call) {
	o := s.org
	self := c.objBase + EndpointOktaSupport
	body := jSupport{Support: "DISABLED", Links: map[string]any{"grant": jHrefM{Href: self + "/grant", Method: "POST"}}}
	if o.spec.SupportEnabled {
		body.Support = "ENABLED"
		body.Expiration = optSec(o.now + 8*3600)
		body.Links = map[string]any{
			"extend": jHrefM{Href: self + "/extend", Method: "POST"},
			"revoke": jHrefM{Href: self + "/revoke", Method: "POST"},
		}
	}
	c.JSON(http.StatusOK, body)
	return
}

func (o *Org) userField(i int) func(string) (string, bool) {
	return func(f string) (string, bool) {
		u := &o.users[i]
		switch f {
		case "status":
			return UserStatuses[u.status], true
		case "id":
			return u.id, true
		case "created":
			return fmtSec(u.created), true
		case "lastUpdated":
			return fmtSec(u.lastUpdated), true
		case "activated":
			return fmtSec(u.activated), u.activated != 0
		case "statusChanged":
			return fmtSec(u.statusChanged), u.statusChanged != 0
		case "lastLogin":
			return fmtSec(u.lastLogin), u.lastLogin != 0
		case "type.id":
			return o.userType, true
		case "profile.login", "profile.email":
			return o.userLogin(i), true
		case "profile.firstName":
			return firstNames[u.first], true
		case "profile.lastName":
			return lastNames[u.last], true
		case "profile.department":
			return departments[u.dept], true
		case "profile.title":
			return titles[u.title], true
		case "profile.countryCode":
			return countries[u.country], true
		}
		return "", false
	}
}

var userFields = map[string]bool{
	"status": true, "id": true, "created": true, "lastUpdated": true, "activated": true,
	"statusChanged": true, "lastLogin": true, "type.id": true, "profile.login": true,
	"profile.email": true, "profile.firstName": true, "profile.lastName": true,
	"profile.department": true, "profile.title": true, "profile.countryCode": true,
}

func known(set map[string]bool) func(string) bool { return func(f string) bool { return set[f] } }

// GET /api/v1/users: DEPROVISIONED users are omitted unless a search or
// filter expression is given, in which case it selects among all users.
func (s *Server) listUsers(c *call) {
	o := s.org
	limit, ok := c.pageLimit()
	if !ok {
		c.badRequest("limit")
		return
	}
	var exprs []filterExpr
	for _, p := range []string{"search", "filter"} {
		e, ok := c.parseFilterParam(p, known(userFields))
		if !ok {
			c.error(http.StatusBadRequest, "E0000031", "Invalid search criteria.", p+": invalid expression")
			return
		}
		if e != nil {
			exprs = append(exprs, e)
		}
	}
	start, ok := c.afterIndex(o.userIndex)
	if !ok {
		c.badRequest("after")
		return
	}
	match := func(i int) bool { return o.users[i].status != stDeprovisioned }
	if len(exprs) > 0 {
		match = func(i int) bool {
			get := o.userField(i)
			for _, e := range exprs {
				if !e.eval(get) {
					return false
				}
			}
			return true
		}
	}
	idx, more := pageOf(start, len(o.users), limit, match)
	next := ""
	if more {
		next = c.NextURL(o.users[idx[len(idx)-1]].id, limit)
	}
	c.SetLinks(next)
	users := s.rendered(c.objBase).users
	c.ListJSON(http.StatusOK, len(idx), func(k int) []byte { return users.Bytes(idx[k]) })
	return
}

func (s *Server) userOf(c *call) (int, bool) {
	i := s.org.userIndex(c.id)
	if i < 0 || s.isDeleted(c.id) {
		return -1, false
	}
	return i, true
}

func (s *Server) getUser(c *call) {
	i, ok := s.userOf(c)
	if !ok {
		// Okta also resolves logins; the fake only knows ids.
		c.notFound("User")
		return
	}
	c.RawJSON(http.StatusOK, s.rendered(c.objBase).users.Bytes(i))
	return
}

// GET /api/v1/users/{id}/factors: not paged.
func (s *Server) userFactors(c *call) {
	i, ok := s.userOf(c)
	if !ok {
		c.notFound("User")
		return
	}
	c.RawJSON(http.StatusOK, s.rendered(c.objBase).factors.Bytes(i))
	return
}

// GET /api/v1/users/{id}/roles: not paged; USER- and GROUP-assigned roles.
func (s *Server) userRoles(c *call) {
	o := s.org
	i, ok := s.userOf(c)
	if !ok {
		c.notFound("User")
		return
	}
	direct, via := o.rolesOfUser(int32(i))
	userHref := c.objBase + "/api/v1/users/" + o.users[i].id
	c.List(http.StatusOK, len(direct)+len(via), func(k int) any {
		if k < len(direct) {
			return renderRole(&direct[k], "USER", userHref)
		}
		gk := via[k-len(direct)]
		g := &o.groups[gk[0]]
		return renderRole(&g.roles[gk[1]], "GROUP", c.objBase+"/api/v1/groups/"+g.id)
	})
	return
}

type jAssignee struct {
	ID    string           `json:"id"`
	ORN   string           `json:"orn"`
	Links map[string]jHref `json:"_links"`
}

type jAssignees struct {
	Value []jAssignee      `json:"value"`
	Links map[string]jHref `json:"_links"`
}

// GET /api/v1/iam/assignees/users: one object, next link in the body.
func (s *Server) iamAssignees(c *call) {
	o := s.org
	limit, ok := c.pageLimit()
	if !ok {
		c.badRequest("limit")
		return
	}
	start := 0
	if a := c.q.Get("after"); a != "" {
		ui := o.userIndex(a)
		if ui < 0 {
			c.badRequest("after")
			return
		}
		start, _ = slices.BinarySearch(o.assignees, int32(ui)+1)
	}
	end := min(start+limit, len(o.assignees))
	body := jAssignees{Value: make([]jAssignee, 0, end-start), Links: map[string]jHref{}}
	for _, ui := range o.assignees[start:end] {
		id := o.users[ui].id
		body.Value = append(body.Value, jAssignee{
			ID:  id,
			ORN: "orn:okta:directory:" + o.orgID + ":users:" + id,
			Links: map[string]jHref{
				"self":  {c.objBase + "/api/v1/users/" + id},
				"roles": {c.objBase + "/api/v1/users/" + id + "/roles"},
			},
		})
	}
	if end < len(o.assignees) {
		body.Links["next"] = jHref{c.NextURL(o.users[o.assignees[end-1]].id, limit)}
	}
	c.JSON(http.StatusOK, body)
	return
}

var groupFields = map[string]bool{"type": true, "id": true, "profile.name": true, "lastUpdated": true, "lastMembershipUpdated": true, "created": true}

func (o *Org) groupField(i int) func(string) (string, bool) {
	return func(f string) (string, bool) {
		g := &o.groups[i]
		switch f {
		case "type":
			return groupTypeNames[g.typ], true
		case "id":
			return g.id, true
		case "profile.name":
			return g.name, true
		case "created":
			return fmtSec(g.created), true
		case "lastUpdated":
			return fmtSec(g.lastUpdated), true
		case "lastMembershipUpdated":
			return fmtSec(g.lastMembershp), true
		}
		return "", false
	}
}

func hasExpand(c *call, what string) bool {
	for _, v := range c.q["expand"] {
		for _, p := range strings.Split(v, ",") {
			if strings.TrimSpace(p) == what {
				return true
			}
		}
	}
	return false
}

// GET /api/v1/groups: filter on type etc., q (name prefix), expand=stats.
func (s *Server) listGroups(c *call) {
	o := s.org
	limit, ok := c.pageLimit()
	if !ok {
		c.badRequest("limit")
		return
	}
	stats := hasExpand(c, "stats")
	if t := s.opts.Faults.GroupStatsLimit; t > 0 && stats && limit > t {
		c.error(http.StatusInternalServerError, "E0000009", "Internal Server Error")
		return
	}
	var exprs []filterExpr
	for _, p := range []string{"filter", "search"} {
		e, ok := c.parseFilterParam(p, known(groupFields))
		if !ok {
			c.error(http.StatusBadRequest, "E0000031", "Invalid search criteria.", p+": invalid expression")
			return
		}
		if e != nil {
			exprs = append(exprs, e)
		}
	}
	prefix := strings.ToLower(c.q.Get("q"))
	start, ok := c.afterIndex(o.groupIndex)
	if !ok {
		c.badRequest("after")
		return
	}
	var match func(int) bool
	if len(exprs) > 0 || prefix != "" {
		match = func(i int) bool {
			if prefix != "" && !strings.HasPrefix(strings.ToLower(o.groups[i].name), prefix) {
				return false
			}
			for _, e := range exprs {
				if !e.eval(o.groupField(i)) {
					return false
				}
			}
			return true
		}
	}
	idx, more := pageOf(start, len(o.groups), limit, match)
	next := ""
	if more {
		next = c.NextURL(o.groups[idx[len(idx)-1]].id, limit)
	}
	c.SetLinks(next)
	c.List(http.StatusOK, len(idx), func(k int) any { return o.renderGroup(c.objBase, idx[k], stats) })
	return
}

func (s *Server) groupOf(c *call) (int, bool) {
	i := s.org.groupIndex(c.id)
	if i < 0 || s.isDeleted(c.id) {
		return -1, false
	}
	return i, true
}

func (s *Server) getGroup(c *call) {
	i, ok := s.groupOf(c)
	if !ok {
		c.notFound("UserGroup")
		return
	}
	c.JSON(http.StatusOK, s.org.renderGroup(c.objBase, i, hasExpand(c, "stats")))
	return
}

// userPage pages a sorted list of user indices with a user-id cursor.
func (c *call) userPage(users []int32, limit int) (page []int32, next string, ok bool) {
	o := c.s.org
	start := 0
	if a := c.q.Get("after"); a != "" {
		ui := o.userIndex(a)
		if ui < 0 {
			return nil, "", false
		}
		start, _ = slices.BinarySearch(users, int32(ui)+1)
	}
	end := min(start+limit, len(users))
	page = users[start:end]
	if end < len(users) {
		next = c.NextURL(o.users[users[end-1]].id, limit)
	}
	return page, next, true
}

// GET /api/v1/groups/{id}/users.
func (s *Server) groupUsers(c *call) {
	o := s.org
	gi, ok := s.groupOf(c)
	if !ok {
		c.notFound("UserGroup")
		return
	}
	limit, ok := c.pageLimit()
	if !ok {
		c.badRequest("limit")
		return
	}
	members := o.groups[gi].members
	if o.groups[gi].typ == gtBuiltIn {
		members = o.all
	}
	page, next, ok := c.userPage(members, limit)
	if !ok {
		c.badRequest("after")
		return
	}
	c.SetLinks(next)
	users := s.rendered(c.objBase).users
	c.ListJSON(http.StatusOK, len(page), func(k int) []byte { return users.Bytes(int(page[k])) })
	return
}

// GET /api/v1/groups/{id}/roles: not paged.
func (s *Server) groupRoles(c *call) {
	o := s.org
	gi, ok := s.groupOf(c)
	if !ok {
		c.notFound("UserGroup")
		return
	}
	g := &o.groups[gi]
	href := c.objBase + "/api/v1/groups/" + g.id
	c.List(http.StatusOK, len(g.roles), func(k int) any { return renderRole(&g.roles[k], "GROUP", href) })
	return
}

// GET /api/v1/groups/rules.
func (s *Server) groupRules(c *call) {
	o := s.org
	if s.opts.Faults.RulesNotEnabled {
		c.error(http.StatusBadRequest, "E0000038", "This operation is not allowed in the current authentication state.",
			"Feature not enabled: GROUP_RULES")
		return
	}
	limit, ok := c.pageLimit()
	if !ok {
		c.badRequest("limit")
		return
	}
	start, ok := c.afterIndex(o.ruleIndex)
	if !ok {
		c.badRequest("after")
		return
	}
	idx, more := pageOf(start, len(o.rules), limit, nil)
	next := ""
	if more {
		next = c.NextURL(o.rules[idx[len(idx)-1]].id, limit)
	}
	c.SetLinks(next)
	c.List(http.StatusOK, len(idx), func(k int) any { return o.renderRule(idx[k]) })
	return
}

var appFields = map[string]bool{"status": true, "name": true, "id": true, "signOnMode": true}

// GET /api/v1/apps.
func (s *Server) listApps(c *call) {
	o := s.org
	limit, ok := c.pageLimit()
	if !ok {
		c.badRequest("limit")
		return
	}
	e, ok := c.parseFilterParam("filter", known(appFields))
	if !ok {
		c.error(http.StatusBadRequest, "E0000031", "Invalid search criteria.", "filter: invalid expression")
		return
	}
	start, ok := c.afterIndex(o.appIndex)
	if !ok {
		c.badRequest("after")
		return
	}
	var match func(int) bool
	if e != nil {
		match = func(i int) bool {
			a := &o.apps[i]
			return e.eval(func(f string) (string, bool) {
				switch f {
				case "status":
					if a.active {
						return "ACTIVE", true
					}
					return "INACTIVE", true
				case "name":
					return a.name, true
				case "id":
					return a.id, true
				case "signOnMode":
					return a.tmpl.mode, true
				}
				return "", false
			})
		}
	}
	idx, more := pageOf(start, len(o.apps), limit, match)
	next := ""
	if more {
		next = c.NextURL(o.apps[idx[len(idx)-1]].id, limit)
	}
	c.SetLinks(next)
	c.List(http.StatusOK, len(idx), func(k int) any { return o.renderApp(c.objBase, idx[k]) })
	return
}

func (s *Server) appOf(c *call) (int, bool) {
	i := s.org.appIndex(c.id)
	if i < 0 || s.isDeleted(c.id) {
		return -1, false
	}
	return i, true
}

func (s *Server) getApp(c *call) {
	i, ok := s.appOf(c)
	if !ok {
		c.notFound("AppInstance")
		return
	}
	c.JSON(http.StatusOK, s.org.renderApp(c.objBase, i))
	return
}

// GET /api/v1/apps/{id}/users: direct and group-scoped assignments.
func (s *Server) appUsers(c *call) {
	o := s.org
	ai, ok := s.appOf(c)
	if !ok {
		c.notFound("AppInstance")
		return
	}
	limit, ok := c.pageLimit()
	if !ok {
		c.badRequest("limit")
		return
	}
	us := o.apps[ai].users
	start := 0
	if a := c.q.Get("after"); a != "" {
		ui := o.userIndex(a)
		if ui < 0 {
			c.badRequest("after")
			return
		}
		start, _ = slices.BinarySearchFunc(us, int32(ui)+1, func(x appUserRec, t int32) int { return int(x.user - t) })
	}
	end := min(start+limit, len(us))
	next := ""
	if end < len(us) {
		next = c.NextURL(o.users[us[end-1].user].id, limit)
	}
	c.SetLinks(next)
	rendered := s.rendered(c.objBase).appUsers[ai]
	c.ListJSON(http.StatusOK, end-start, func(k int) []byte { return rendered.Bytes(start + k) })
	return
}

// GET /api/v1/apps/{id}/groups.
func (s *Server) appGroups(c *call) {
	o := s.org
	ai, ok := s.appOf(c)
	if !ok {
		c.notFound("AppInstance")
		return
	}
	limit, ok := c.pageLimit()
	if !ok {
		c.badRequest("limit")
		return
	}
	gs := o.apps[ai].groups
	start := 0
	if a := c.q.Get("after"); a != "" {
		gi := o.groupIndex(a)
		if gi < 0 {
			c.badRequest("after")
			return
		}
		start, _ = slices.BinarySearchFunc(gs, int32(gi)+1, func(x appGroupRec, t int32) int { return int(x.group - t) })
	}
	end := min(start+limit, len(gs))
	next := ""
	if end < len(gs) {
		next = c.NextURL(o.groups[gs[end-1].group].id, limit)
	}
	c.SetLinks(next)
	c.List(http.StatusOK, end-start, func(k int) any { return o.renderAppGroup(c.objBase, ai, start+k) })
	return
}

// GET /api/v1/devices: expand=user embeds the device's users.
func (s *Server) listDevices(c *call) {
	o := s.org
	limit, ok := c.pageLimit()
	if !ok {
		c.badRequest("limit")
		return
	}
	start, ok := c.afterIndex(o.deviceIndex)
	if !ok {
		c.badRequest("after")
		return
	}
	expand := hasExpand(c, "user") || hasExpand(c, "users")
	idx, more := pageOf(start, len(o.devices), limit, nil)
	next := ""
	if more {
		next = c.NextURL(o.devices[idx[len(idx)-1]].id, limit)
	}
	c.SetLinks(next)
	c.List(http.StatusOK, len(idx), func(k int) any { return o.renderDevice(c.objBase, idx[k], expand) })
	return
}

var logFields = map[string]bool{
	"eventType": true, "debugContext.debugData.requestUri": true, "actor.id": true, "actor.type": true,
	"target.id": true, "target.type": true, "outcome.result": true, "severity": true,
	"legacyEventType": true, "uuid": true, "published": true,
}

const logCursorPrefix = "log1:"

func (o *Org) logCursor(pos int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(logCursorPrefix + strconv.Itoa(pos) + ":" + o.tag))
}

func (o *Org) parseLogCursor(s string) (int, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || !strings.HasPrefix(string(b), logCursorPrefix) {
		return 0, false
	}
	rest := strings.TrimPrefix(string(b), logCursorPrefix)
	p, tag, ok := strings.Cut(rest, ":")
	if !ok || tag != o.tag {
		return 0, false
	}
	pos, err := strconv.Atoi(p)
	if err != nil || pos < 0 || pos > len(o.events) {
		return 0, false
	}
	return pos, true
}

// GET /api/v1/logs: events in [since, until), oldest first. since defaults to
// 7 days before the org's Now. Without until the query is a polling query:
// every page carries a next link, and a page with no events links to
// itself. Events of the org's future never exist.
func (s *Server) listLogs(c *call) {
	o := s.org
	limit, ok := c.pageLimit()
	if !ok {
		c.badRequest("limit")
		return
	}
	nowMs := o.now * 1000
	sinceMs := nowMs - 7*day*1000
	if v := c.q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			c.badRequest("since")
			return
		}
		sinceMs = t.UnixMilli()
	}
	untilMs, polling := int64(0), true
	if v := c.q.Get("until"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			c.badRequest("until")
			return
		}
		untilMs, polling = t.UnixMilli(), false
	}
	e, ok := c.parseFilterParam("filter", known(logFields))
	if !ok {
		c.error(http.StatusBadRequest, "E0000031", "Invalid search criteria.", "filter: invalid expression")
		return
	}
	var start int
	if a := c.q.Get("after"); a != "" {
		start, ok = o.parseLogCursor(a)
		if !ok {
			c.badRequest("after")
			return
		}
	} else {
		start, _ = slices.BinarySearchFunc(o.events, sinceMs, func(x eventRec, t int64) int {
			switch {
			case x.ms < t:
				return -1
			case x.ms > t:
				return 1
			}
			return 0
		})
		for start > 0 && o.events[start-1].ms >= sinceMs {
			start--
		}
	}
	n := len(o.events)
	if !polling {
		n, _ = slices.BinarySearchFunc(o.events, untilMs, func(x eventRec, t int64) int {
			if x.ms < t {
				return -1
			}
			return 1
		})
	}
	var match func(int) bool
	if e != nil {
		match = func(pos int) bool { return e.eval(func(f string) (string, bool) { return o.eventField(pos, f) }) }
	}
	idx, more := pageOf(start, max(n, start), limit, match)
	next := ""
	switch {
	case polling && len(idx) == 0:
		next = c.SelfURL()
	case polling || more:
		next = c.NextURL(o.logCursor(idx[len(idx)-1]+1), limit)
	}
	c.SetLinks(next)
	c.List(http.StatusOK, len(idx), func(k int) any { return o.renderEvent(idx[k]) })
	return
}

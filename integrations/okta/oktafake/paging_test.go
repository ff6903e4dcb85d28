package oktafake

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestUsersPaging(t *testing.T) {
	o := NewOrg(OrgSpec{Users: 1234, Seed: 3})
	tr := o.Truth()
	s := NewServer(o, ServerOptions{DisableRateLimits: true})
	tests := []struct {
		name, path string
		want       []string
		minPages   int
	}{
		{"default limit", "/api/v1/users", tr.LiveUserIDs(), 6},
		{"small limit", "/api/v1/users?limit=37", tr.LiveUserIDs(), 30},
		{"search deprovisioned", "/api/v1/users?limit=7&search=" + url.QueryEscape(`status eq "DEPROVISIONED"`), tr.UsersByStatus[StatusDeprovisioned], 2},
		{"filter deprovisioned", "/api/v1/users?filter=" + url.QueryEscape(`status eq "DEPROVISIONED"`), tr.UsersByStatus[StatusDeprovisioned], 1},
		{"filter locked or suspended", "/api/v1/users?filter=" + url.QueryEscape(`status eq "LOCKED_OUT" or status eq "SUSPENDED"`),
			sortedUnion(tr.UsersByStatus[StatusLockedOut], tr.UsersByStatus[StatusSuspended]), 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			items, pages := collect[idOnly](t, s, tc.path)
			if got := ids(items); !equalStrings(got, tc.want) {
				t.Fatalf("got %d ids, want %d", len(got), len(tc.want))
			}
			if pages < tc.minPages {
				t.Fatalf("%d pages, want >= %d", pages, tc.minPages)
			}
		})
	}
	// Union of both lists is every user exactly once.
	all := append(slices.Clone(tr.LiveUserIDs()), tr.UsersByStatus[StatusDeprovisioned]...)
	slices.Sort(all)
	if len(slices.Compact(all)) != len(tr.Users) {
		t.Fatal("live + deprovisioned != all users")
	}
	// Bad search and bad cursor are 400s.
	if rec := do(t, s, "/api/v1/users?search="+url.QueryEscape(`status eq`)); rec.Code != 400 {
		t.Errorf("bad search: %d", rec.Code)
	}
	if rec := do(t, s, "/api/v1/users?after=nope"); rec.Code != 400 {
		t.Errorf("bad cursor: %d", rec.Code)
	} else {
		decodeError(t, rec.Body.Bytes())
	}
}

func sortedUnion(a, b []string) []string {
	out := append(slices.Clone(a), b...)
	slices.Sort(out)
	return out
}

func TestLimitsClamped(t *testing.T) {
	o := NewOrg(OrgSpec{Users: 1500, Seed: 5, Apps: 230, Devices: 230, Rules: 230, Admins: 150, NoiseEvents: 1200})
	s := NewServer(o, ServerOptions{DisableRateLimits: true})
	everyone := o.groups[0].id
	tests := []struct {
		path string
		max  int
	}{
		{"/api/v1/users", 200},
		{"/api/v1/apps", 200},
		{"/api/v1/devices", 200},
		{"/api/v1/groups/rules", 200},
		{"/api/v1/groups/" + everyone + "/users", 1000},
		{"/api/v1/logs?since=2020-01-01T00:00:00Z&until=2027-01-01T00:00:00Z", 1000},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			sep := "?"
			if strings.Contains(tc.path, "?") {
				sep = "&"
			}
			rec := do(t, s, tc.path+sep+"limit=100000")
			var items []json.RawMessage
			if err := json.Unmarshal(rec.Body.Bytes(), &items); err != nil || rec.Code != 200 {
				t.Fatalf("%d %v", rec.Code, err)
			}
			if len(items) != tc.max {
				t.Fatalf("%d items, want %d", len(items), tc.max)
			}
			next := links(t, rec.Header())["next"]
			u, err := url.Parse(next)
			if err != nil || u.Query().Get("limit") != strconv.Itoa(tc.max) || u.Query().Get("after") == "" {
				t.Fatalf("next link %q", next)
			}
		})
	}
	// iam assignees: max 100, next in the body.
	var body struct {
		Value []json.RawMessage
		Links struct{ Next struct{ Href string } } `json:"_links"`
	}
	rec := do(t, s, "/api/v1/iam/assignees/users?limit=5000")
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if len(body.Value) != 100 || !strings.Contains(body.Links.Next.Href, "limit=100") {
		t.Fatalf("iam: %d values, next %q", len(body.Value), body.Links.Next.Href)
	}
	if d, m, ok := PageLimits(EndpointAppUsers); !ok || d != 50 || m != 500 {
		t.Fatal("PageLimits")
	}
}

type groupJSON struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Profile  struct{ Name string }
	Embedded *struct {
		Stats struct {
			UsersCount int `json:"usersCount"`
			AppsCount  int `json:"appsCount"`
		} `json:"stats"`
	} `json:"_embedded"`
}

func TestGroupsStatsAndMembers(t *testing.T) {
	o := NewOrg(OrgSpec{Users: 3000, Seed: 11})
	tr := o.Truth()
	s := NewServer(o, ServerOptions{DisableRateLimits: true})
	groups, _ := collect[groupJSON](t, s, "/api/v1/groups?expand=stats&limit=13")
	if len(groups) != len(tr.Groups) {
		t.Fatalf("%d groups, want %d", len(groups), len(tr.Groups))
	}
	biggest := 0
	for i, g := range groups {
		want := tr.Groups[i]
		if g.ID != want.ID || g.Type != want.Type || g.Profile.Name != want.Name || g.Embedded == nil {
			t.Fatalf("group %d: %+v vs %+v", i, g, want.ID)
		}
		if g.Embedded.Stats.UsersCount != len(want.MemberIDs) || g.Embedded.Stats.AppsCount != len(want.AppIDs) {
			t.Errorf("group %s: usersCount %d want %d", g.ID, g.Embedded.Stats.UsersCount, len(want.MemberIDs))
		}
		if len(want.MemberIDs) > len(tr.Groups[biggest].MemberIDs) && want.Type != GroupTypeBuiltIn {
			biggest = i
		}
	}
	plain, _ := collect[groupJSON](t, s, "/api/v1/groups")
	if len(plain) != len(tr.Groups) || plain[0].Embedded != nil {
		t.Fatal("groups without expand")
	}
	filtered, _ := collect[groupJSON](t, s, "/api/v1/groups?filter="+url.QueryEscape(`type eq "APP_GROUP"`))
	for _, g := range filtered {
		if g.Type != GroupTypeApp {
			t.Fatal("filter type")
		}
	}
	for _, gi := range []int{0, 1, biggest, len(tr.Groups) - 1} {
		g := tr.Groups[gi]
		members, _ := collect[idOnly](t, s, "/api/v1/groups/"+g.ID+"/users?limit=97")
		if !equalStrings(ids(members), g.MemberIDs) {
			t.Errorf("group %s: %d members, want %d", g.Name, len(members), len(g.MemberIDs))
		}
	}
	if rec := do(t, s, "/api/v1/groups/00gNOPE/users"); rec.Code != 404 || decodeError(t, rec.Body.Bytes()).ErrorCode != "E0000007" {
		t.Errorf("unknown group: %d", rec.Code)
	}
}

type appUserJSON struct {
	ID          string `json:"id"`
	Scope       string `json:"scope"`
	Credentials struct {
		UserName string `json:"userName"`
	} `json:"credentials"`
	Profile struct {
		Role      *string  `json:"role"`
		SamlRoles []string `json:"samlRoles"`
	} `json:"profile"`
	Priority int `json:"priority"`
}

func TestAppsAndAssignments(t *testing.T) {
	o := NewOrg(OrgSpec{Users: 2000, Seed: 13, Apps: 30})
	tr := o.Truth()
	s := NewServer(o, ServerOptions{DisableRateLimits: true})
	type appJSON struct {
		ID, Name, Label, SignOnMode, Status string
		Settings                            struct {
			App map[string]any `json:"app"`
		} `json:"settings"`
		Links struct {
			Logo     []jLinkNamed `json:"logo"`
			AppLinks []jLinkNamed `json:"appLinks"`
		} `json:"_links"`
	}
	apps, _ := collect[appJSON](t, s, "/api/v1/apps?limit=7")
	if len(apps) != len(tr.Apps) {
		t.Fatalf("%d apps", len(apps))
	}
	for i, a := range apps {
		want := tr.Apps[i]
		if a.ID != want.ID || a.Name != want.Name || a.SignOnMode != want.SignOnMode || a.Status != want.Status {
			t.Fatalf("app %d: %+v vs %+v", i, a, want)
		}
		if len(a.Links.Logo) == 0 || len(a.Links.AppLinks) == 0 || a.Links.AppLinks[0].Name != "login" {
			t.Errorf("app %s links", a.ID)
		}
		if a.Name == "amazon_aws" {
			arn, _ := a.Settings.App["identityProviderArn"].(string)
			if a.Settings.App["awsEnvironmentType"] != "aws.amazon" || arn != "arn:aws:iam::"+want.AWSAccountID+":saml-provider/OKTA" {
				t.Errorf("aws settings %v", a.Settings.App)
			}
		}
		users, _ := collect[appUserJSON](t, s, "/api/v1/apps/"+a.ID+"/users?limit=11")
		if len(users) != len(want.Users) {
			t.Fatalf("app %s: %d users, want %d", a.ID, len(users), len(want.Users))
		}
		for k, u := range users {
			w := want.Users[k]
			role := ""
			if u.Profile.Role != nil {
				role = *u.Profile.Role
			}
			if u.ID != w.UserID || u.Scope != w.Scope || role != w.Role || !slices.Equal(u.Profile.SamlRoles, w.SamlRoles) || u.Credentials.UserName == "" {
				t.Fatalf("app %s user %d: %+v vs %+v", a.ID, k, u, w)
			}
		}
		groups, _ := collect[appUserJSON](t, s, "/api/v1/apps/"+a.ID+"/groups?limit=1")
		if len(groups) != len(want.Groups) {
			t.Fatalf("app %s: %d groups, want %d", a.ID, len(groups), len(want.Groups))
		}
		for k, g := range groups {
			w := want.Groups[k]
			if g.ID != w.GroupID || g.Priority != w.Priority || !slices.Equal(g.Profile.SamlRoles, w.SamlRoles) {
				t.Fatalf("app %s group %d: %+v vs %+v", a.ID, k, g, w)
			}
		}
	}
	// The first AWS app carries the documented samlRoles shape somewhere.
	found := false
	for _, a := range tr.Apps {
		for _, g := range a.Groups {
			if len(g.SamlRoles) > 0 {
				found = true
			}
		}
	}
	if !found {
		t.Error("no group assignment with samlRoles")
	}
	oidc := do(t, s, "/api/v1/apps/"+o.apps[4].id).Body.String()
	if !strings.Contains(oidc, `"client_secret"`) || !strings.Contains(oidc, `"signOnMode":"OPENID_CONNECT"`) {
		t.Error("OIDC app should expose credentials.oauthClient.client_secret (a client must not store it)")
	}
}

func TestFactorsAndRoles(t *testing.T) {
	o := NewOrg(OrgSpec{Users: 400, Seed: 17})
	tr := o.Truth()
	s := NewServer(o, ServerOptions{DisableRateLimits: true})
	type factorJSON struct{ ID, FactorType, Provider, VendorName, Status string }
	type roleJSON struct{ ID, Label, Type, Status, AssignmentType string }
	for _, u := range tr.Users {
		rec := do(t, s, "/api/v1/users/"+u.ID+"/factors")
		if rec.Code != 200 || len(rec.Header().Values("Link")) != 0 {
			t.Fatalf("factors %s: %d", u.ID, rec.Code)
		}
		var fs []factorJSON
		json.Unmarshal(rec.Body.Bytes(), &fs)
		var got, active []string
		for _, f := range fs {
			got = append(got, f.ID)
			if f.Status == "ACTIVE" {
				active = append(active, f.ID)
			} else if f.Status != "PENDING_ACTIVATION" {
				t.Fatalf("factor status %s", f.Status)
			}
		}
		if !equalStrings(got, u.FactorIDs) || !equalStrings(active, u.ActiveFactorIDs) {
			t.Fatalf("user %s factors %v want %v", u.ID, got, u.FactorIDs)
		}
		rec = do(t, s, "/api/v1/users/"+u.ID+"/roles")
		var rs []roleJSON
		json.Unmarshal(rec.Body.Bytes(), &rs)
		if len(rs) != len(u.Roles) {
			t.Fatalf("user %s: %d roles want %d", u.ID, len(rs), len(u.Roles))
		}
		for k, r := range rs {
			w := u.Roles[k]
			if r.ID != w.ID || r.Label != w.Label || r.Type != w.Type || r.AssignmentType != w.AssignmentType || r.Status != "ACTIVE" {
				t.Fatalf("role %+v vs %+v", r, w)
			}
		}
	}
	for _, g := range tr.Groups {
		var rs []roleJSON
		json.Unmarshal(do(t, s, "/api/v1/groups/"+g.ID+"/roles").Body.Bytes(), &rs)
		if len(rs) != len(g.Roles) {
			t.Fatalf("group %s roles", g.Name)
		}
		for k, r := range rs {
			if r.Type != g.Roles[k].Type || r.AssignmentType != "GROUP" {
				t.Fatalf("group role %+v", r)
			}
		}
	}
	rec := do(t, s, "/api/v1/users/00uNOSUCHUSER0000000/factors")
	if rec.Code != 404 || decodeError(t, rec.Body.Bytes()).ErrorCode != "E0000007" {
		t.Fatalf("unknown user: %d %s", rec.Code, rec.Body)
	}
}

func TestIAMAssignees(t *testing.T) {
	o := NewOrg(OrgSpec{Users: 3000, Seed: 19})
	tr := o.Truth()
	s := NewServer(o, ServerOptions{DisableRateLimits: true})
	var got []string
	next := "/api/v1/iam/assignees/users?limit=17"
	pages := 0
	for next != "" {
		pages++
		rec := do(t, s, next)
		if rec.Code != 200 || len(rec.Header().Values("Link")) != 0 {
			t.Fatalf("%d, Link %v", rec.Code, rec.Header().Values("Link"))
		}
		var body struct {
			Value []struct {
				ID    string           `json:"id"`
				ORN   string           `json:"orn"`
				Links map[string]jHref `json:"_links"`
			} `json:"value"`
			Links map[string]jHref `json:"_links"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatal(err)
		}
		for _, v := range body.Value {
			if !strings.HasPrefix(v.ORN, "orn:okta:directory:"+tr.OrgID+":users:"+v.ID) || v.Links["self"].Href == "" {
				t.Fatalf("assignee %+v", v)
			}
			got = append(got, v.ID)
		}
		next = body.Links["next"].Href
	}
	if !equalStrings(got, tr.RoleAssignees) || pages < 2 {
		t.Fatalf("%d assignees in %d pages, want %d", len(got), pages, len(tr.RoleAssignees))
	}
	// Every assignee has roles; every user with roles is an assignee.
	set := map[string]bool{}
	for _, id := range got {
		set[id] = true
	}
	for _, u := range tr.Users {
		if (len(u.Roles) > 0) != set[u.ID] {
			t.Fatalf("user %s: %d roles, assignee %v", u.ID, len(u.Roles), set[u.ID])
		}
	}
}

func TestRulesAndDevices(t *testing.T) {
	o := NewOrg(OrgSpec{Users: 500, Seed: 23, Rules: 9})
	tr := o.Truth()
	s := NewServer(o, ServerOptions{DisableRateLimits: true})
	type ruleJSON struct {
		ID, Type, Status, Name string
		Actions                struct {
			AssignUserToGroups struct {
				GroupIDs []string `json:"groupIds"`
			} `json:"assignUserToGroups"`
		} `json:"actions"`
	}
	rules, _ := collect[ruleJSON](t, s, "/api/v1/groups/rules?limit=4")
	if len(rules) != 9 {
		t.Fatalf("%d rules", len(rules))
	}
	for i, r := range rules {
		if r.ID != tr.Rules[i].ID || r.Type != "group_rule" || !equalStrings(r.Actions.AssignUserToGroups.GroupIDs, tr.Rules[i].GroupIDs) {
			t.Fatalf("rule %+v vs %+v", r, tr.Rules[i])
		}
	}
	type deviceJSON struct {
		ID                  string
		ResourceType        string
		ResourceDisplayName struct{ Value string }
		Embedded            *struct {
			Users []struct {
				ManagementStatus string
				User             idOnly
			}
		} `json:"_embedded"`
	}
	devs, _ := collect[deviceJSON](t, s, "/api/v1/devices?expand=user&limit=50")
	if len(devs) != len(tr.Devices) {
		t.Fatalf("%d devices", len(devs))
	}
	for i, d := range devs {
		w := tr.Devices[i]
		var us []string
		for _, u := range d.Embedded.Users {
			us = append(us, u.User.ID)
		}
		if d.ID != w.ID || d.ResourceType != "UDDevice" || d.ResourceDisplayName.Value != w.DisplayName || !equalStrings(us, w.UserIDs) {
			t.Fatalf("device %+v vs %+v", d, w)
		}
	}
	plain, _ := collect[deviceJSON](t, s, "/api/v1/devices")
	if plain[0].Embedded != nil {
		t.Fatal("_embedded without expand")
	}
}

type logJSON struct {
	UUID      string `json:"uuid"`
	Published string `json:"published"`
	EventType string `json:"eventType"`
	Actor     struct {
		ID, Type, AlternateID, DisplayName string
	} `json:"actor"`
	Target []struct {
		ID, Type, AlternateID, DisplayName string
	} `json:"target"`
	DebugContext struct {
		DebugData struct {
			RequestURI string `json:"requestUri"`
		} `json:"debugData"`
	} `json:"debugContext"`
	Outcome struct{ Result string } `json:"outcome"`
}

func TestLogs(t *testing.T) {
	o := NewOrg(OrgSpec{Users: 2000, Seed: 29, Apps: 60})
	tr := o.Truth()
	s := NewServer(o, ServerOptions{DisableRateLimits: true})
	now := o.Now()
	since, until := now.Add(-90*24*time.Hour), now
	filter := `eventType eq "application.lifecycle.update" and debugContext.debugData.requestUri ew "_new_"`
	q := url.Values{"filter": {filter}, "since": {since.Format(time.RFC3339Nano)}, "until": {until.Format(time.RFC3339Nano)}, "limit": {"3"}}
	evs, pages := collect[logJSON](t, s, "/api/v1/logs?"+q.Encode())
	if pages < 2 {
		t.Fatalf("%d pages", pages)
	}
	seen := map[[2]string]bool{}
	var pairs []AppCreation
	for _, e := range evs {
		if e.EventType != EventTypeAppUpdate || !strings.HasSuffix(e.DebugContext.DebugData.RequestURI, "_new_") || e.Outcome.Result != "SUCCESS" {
			t.Fatalf("unexpected event %+v", e)
		}
		// What a careful client does: skip unknown users and apps.
		if o.userIndex(e.Actor.ID) < 0 || o.appIndex(e.Target[0].ID) < 0 {
			continue
		}
		k := [2]string{e.Actor.ID, e.Target[0].ID}
		if !seen[k] {
			seen[k] = true
			p, _ := time.Parse(time.RFC3339Nano, e.Published)
			pairs = append(pairs, AppCreation{UserID: k[0], AppID: k[1], Published: p, Exists: true})
		}
	}
	want := tr.CreatedApps(since, until)
	if len(pairs) != len(want) || len(want) == 0 {
		t.Fatalf("%d pairs, want %d", len(pairs), len(want))
	}
	for i := range want {
		if pairs[i] != want[i] {
			t.Fatalf("pair %d: %+v vs %+v", i, pairs[i], want[i])
		}
	}
	if older := tr.CreatedApps(now.Add(-120*24*time.Hour), since); len(older) == 0 {
		t.Error("no app creation between 90 and 120 days ago")
	}

	// Whole log with since/until terminates and is ordered.
	all, _ := collect[logJSON](t, s, "/api/v1/logs?limit=1000&since=2000-01-01T00:00:00Z&until="+now.Format(time.RFC3339))
	if len(all) != len(o.events) {
		t.Fatalf("%d events, want %d", len(all), len(o.events))
	}
	if !slices.IsSortedFunc(all, func(a, b logJSON) int { return strings.Compare(a.Published, b.Published) }) {
		t.Fatal("events not in time order")
	}
	// Default since is 7 days.
	week, _ := collect[logJSON](t, s, "/api/v1/logs?until="+url.QueryEscape(now.Format(time.RFC3339)))
	for _, e := range week {
		p, _ := time.Parse(time.RFC3339Nano, e.Published)
		if p.Before(now.Add(-7 * 24 * time.Hour)) {
			t.Fatal("event older than the default since")
		}
	}
}

func TestLogsPolling(t *testing.T) {
	o := NewOrg(OrgSpec{Users: 300, Seed: 31})
	s := NewServer(o, ServerOptions{DisableRateLimits: true})
	next := "/api/v1/logs?limit=100&since=2020-01-01T00:00:00.000Z"
	total := 0
	for i := 0; ; i++ {
		if i > 1000 {
			t.Fatal("polling never reached a self-referencing page")
		}
		rec := do(t, s, next)
		var evs []logJSON
		if err := json.Unmarshal(rec.Body.Bytes(), &evs); err != nil || rec.Code != 200 {
			t.Fatal(rec.Code, err)
		}
		total += len(evs)
		l := links(t, rec.Header())
		if l["next"] == "" {
			t.Fatal("polling page without next link")
		}
		if l["next"] == l["self"] {
			if len(evs) != 0 {
				t.Fatal("self-referencing page with events")
			}
			// Following it again gives the same empty page and link.
			again := do(t, s, l["next"])
			if again.Body.String() != "[]" || links(t, again.Header())["next"] != l["next"] {
				t.Fatal("self link not stable")
			}
			break
		}
		next = l["next"]
	}
	if total != len(o.events) {
		t.Fatalf("polled %d events, want %d", total, len(o.events))
	}
	// A bounded query ends with no next link.
	rec := do(t, s, "/api/v1/logs?since=2026-10-31T00:00:00Z&until=2026-11-01T00:00:00Z")
	if links(t, rec.Header())["next"] != "" {
		t.Fatal("bounded query has next")
	}
	if rec := do(t, s, "/api/v1/logs?since=yesterday"); rec.Code != http.StatusBadRequest {
		t.Fatal("bad since accepted")
	}
	if rec := do(t, s, "/api/v1/logs?filter="+url.QueryEscape(`bogus.field eq "x"`)); rec.Code != http.StatusBadRequest {
		t.Fatal("bad filter accepted")
	}
}

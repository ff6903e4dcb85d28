package oktafake

import (
	"bytes"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestOrgDefaults(t *testing.T) {
	o := NewOrg(OrgSpec{Users: 1000, Seed: 7})
	sp := o.Spec()
	if sp.Groups != 50 || sp.Apps != 10 || sp.Devices != 250 || sp.Admins != 15 || !sp.Now.Equal(DefaultNow) {
		t.Fatalf("defaults: %+v", sp)
	}
	small := NewOrg(OrgSpec{Users: 10, Devices: -1}).Spec()
	if small.Groups != 5 || small.Apps != 8 || small.Devices != 0 || small.Rules != 2 {
		t.Fatalf("small defaults: %+v", small)
	}
	tr := o.Truth()
	for _, st := range UserStatuses {
		if len(tr.UsersByStatus[st]) == 0 {
			t.Errorf("no %s user", st)
		}
	}
	if a := len(tr.UsersByStatus[StatusActive]); a < 700 {
		t.Errorf("only %d ACTIVE users", a)
	}
	builtIn, empty := 0, 0
	types := map[string]int{}
	for _, g := range tr.Groups {
		types[g.Type]++
		if g.Type == GroupTypeBuiltIn {
			builtIn++
			var all []string
			for _, u := range tr.Users {
				all = append(all, u.ID)
			}
			// Every user, DEPROVISIONED ones included (okta-spec §4).
			if g.Name != "Everyone" || !equalStrings(g.MemberIDs, all) || len(all) == len(tr.LiveUserIDs()) {
				t.Errorf("Everyone group wrong: %s with %d members", g.Name, len(g.MemberIDs))
			}
		}
		if len(g.MemberIDs) == 0 {
			empty++
		}
	}
	if builtIn != 1 || types[GroupTypeOkta] == 0 || types[GroupTypeApp] == 0 || empty == 0 {
		t.Errorf("group types %v, empty %d", types, empty)
	}
	modes := map[string]bool{}
	names := map[string]bool{}
	awsRoles := false
	for _, a := range tr.Apps {
		modes[a.SignOnMode] = true
		names[a.Name] = true
		if a.Name == "amazon_aws" {
			if len(a.AWSAccountID) != 12 || len(a.Users) == 0 || len(a.Groups) == 0 {
				t.Errorf("aws app %s: account %q, %d users, %d groups", a.ID, a.AWSAccountID, len(a.Users), len(a.Groups))
			}
			for _, u := range a.Users {
				if slices.Contains(u.SamlRoles, "[Prod] -- Admin") {
					awsRoles = true
				}
			}
		}
		scopes := map[string]bool{}
		for _, u := range a.Users {
			scopes[u.Scope] = true
		}
		_ = scopes
	}
	for _, m := range []string{"SAML_2_0", "OPENID_CONNECT", "BOOKMARK", "AUTO_LOGIN", "BROWSER_PLUGIN"} {
		if !modes[m] {
			t.Errorf("no %s app", m)
		}
	}
	for _, n := range []string{"amazon_aws", "github", "office365", "acme_mydashboard_1"} {
		if !names[n] {
			t.Errorf("no app named %s", n)
		}
	}
	if !awsRoles {
		t.Error("no AWS assignment with samlRoles [Prod] -- Admin")
	}
	userRole, groupRole, withFactors, activeF := 0, 0, 0, 0
	for _, u := range tr.Users {
		if u.Status == StatusDeprovisioned && (len(u.FactorIDs) > 0 || len(u.Roles) > 0 || !slices.Equal(u.GroupIDs, []string{tr.Groups[0].ID})) {
			t.Errorf("deprovisioned user %s has factors/roles/groups besides Everyone: %v", u.ID, u.GroupIDs)
		}
		if len(u.FactorIDs) > 3 {
			t.Errorf("user %s has %d factors", u.ID, len(u.FactorIDs))
		}
		if len(u.FactorIDs) > 0 {
			withFactors++
		}
		activeF += len(u.ActiveFactorIDs)
		for _, r := range u.Roles {
			switch r.AssignmentType {
			case "USER":
				userRole++
			case "GROUP":
				groupRole++
				if r.GroupID == "" {
					t.Errorf("GROUP role without group")
				}
			}
		}
	}
	if withFactors == 0 || activeF == 0 || userRole < 15 || groupRole == 0 {
		t.Errorf("factors %d/%d, roles user %d group %d", withFactors, activeF, userRole, groupRole)
	}
	if len(tr.Rules) == 0 || len(tr.Rules[0].GroupIDs) == 0 {
		t.Errorf("rules: %+v", tr.Rules)
	}
	withUsers := 0
	for _, d := range tr.Devices {
		if len(d.UserIDs) > 0 {
			withUsers++
		}
	}
	if withUsers == 0 {
		t.Error("no device has users")
	}
	now := o.Now()
	in := tr.CreatedApps(now.Add(-90*24*time.Hour), now)
	all := tr.CreatedApps(now.Add(-200*24*time.Hour), now)
	if len(in) == 0 || len(all) <= len(in) {
		t.Errorf("app creations: %d in 90 days, %d in 200 days", len(in), len(all))
	}
	ghosts := 0
	for _, c := range tr.AppCreations {
		if !c.Exists {
			ghosts++
		}
	}
	if ghosts != 2 {
		t.Errorf("%d app creations by deleted users/apps, want 2", ghosts)
	}
}

func TestOrgDeterminism(t *testing.T) {
	spec := OrgSpec{Users: 500, Seed: 42}
	a, b := NewOrg(spec), NewOrg(spec)
	if !reflect.DeepEqual(a.Truth(), b.Truth()) {
		t.Fatal("same spec, different truth")
	}
	c := NewOrg(OrgSpec{Users: 500, Seed: 43})
	if reflect.DeepEqual(a.Truth().Users[0].ID, c.Truth().Users[0].ID) {
		t.Fatal("different seeds, same ids")
	}
	sa, sb := NewServer(a, ServerOptions{DisableRateLimits: true}), NewServer(b, ServerOptions{DisableRateLimits: true})
	paths := []string{
		"/api/v1/users?limit=50", "/api/v1/groups?expand=stats", "/api/v1/apps",
		"/api/v1/devices?expand=user", "/api/v1/groups/rules", "/api/v1/iam/assignees/users",
		"/api/v1/logs?since=2026-01-01T00:00:00.000Z&until=2026-11-01T00:00:00.000Z&limit=1000",
		"/api/v1/users/" + a.users[3].id + "/factors", "/api/v1/users/" + a.users[3].id + "/roles",
		"/api/v1/apps/" + a.apps[0].id + "/users", "/api/v1/apps/" + a.apps[0].id + "/groups",
		"/api/v1/groups/" + a.groups[1].id + "/users", "/api/v1/org/privacy/oktaSupport",
	}
	for _, p := range paths {
		ra, rb := do(t, sa, p), do(t, sb, p)
		if ra.Code != 200 || !bytes.Equal(ra.Body.Bytes(), rb.Body.Bytes()) || !equalStrings(ra.Header().Values("Link"), rb.Header().Values("Link")) {
			t.Errorf("%s: not byte-identical (status %d)", p, ra.Code)
		}
	}
	// Now moves every timestamp but nothing else.
	d := NewOrg(OrgSpec{Users: 500, Seed: 42, Now: DefaultNow.Add(24 * time.Hour)})
	if d.users[0].created-a.users[0].created != 86400 || d.users[0].id != a.users[0].id {
		t.Fatal("Now does not shift timestamps")
	}
}

func TestUserJSONShape(t *testing.T) {
	o := NewOrg(OrgSpec{Users: 100, Seed: 1})
	s := NewServer(o, ServerOptions{})
	rec := do(t, s, "/api/v1/users?limit=1")
	body := rec.Body.String()
	for _, k := range []string{`"id":"00u`, `"status":`, `"created":`, `"activated":`, `"statusChanged":`, `"lastLogin":`, `"lastUpdated":`, `"passwordChanged":`, `"type":{"id":"oty`, `"profile":{"firstName":`, `"login":`, `"email":`, `"credentials":{`, `"emails":[{"value":`, `"provider":{"type":`, `"_links":{"self":{"href":"http://example.com/api/v1/users/`} {
		if !strings.Contains(body, k) {
			t.Errorf("user JSON lacks %s: %s", k, body)
		}
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("content type %q", ct)
	}
}

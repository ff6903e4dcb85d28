package okta

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/stepgraph/stepgraph/integrations/okta/oktafake"
	"github.com/stepgraph/stepgraph/sdk/graph"
	"github.com/stepgraph/stepgraph/sdk/sdktest"
)

func keysOf[T any](xs []T, key func(T) string) []string {
	out := make([]string, 0, len(xs))
	for _, x := range xs {
		out = append(out, key(x))
	}
	sort.Strings(out)
	return out
}

func entityKeys(c *sdktest.Collection, typ string) []string {
	return keysOf(c.EntitiesOf(typ), func(e *graph.Entity) string { return e.Key })
}

func relKeys(c *sdktest.Collection, typ string) []string {
	return keysOf(c.RelationshipsOf(typ), func(r *graph.Relationship) string { return r.Key })
}

func sortedCopy(in []string) []string {
	out := append([]string{}, in...)
	sort.Strings(out)
	return out
}

func diffSets(t *testing.T, what string, want, got []string) {
	t.Helper()
	w, g := map[string]int{}, map[string]int{}
	for _, k := range want {
		w[k]++
	}
	for _, k := range got {
		g[k]++
	}
	var missing, extra, dup []string
	for k := range w {
		if g[k] == 0 {
			missing = append(missing, k)
		}
	}
	for k, n := range g {
		if w[k] == 0 {
			extra = append(extra, k)
		}
		if n > 1 {
			dup = append(dup, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing)+len(extra)+len(dup) > 0 {
		show := func(s []string) string {
			if len(s) > 5 {
				return fmt.Sprintf("%v ... (%d)", s[:5], len(s))
			}
			return fmt.Sprint(s)
		}
		t.Errorf("%s: want %d got %d; missing %s; extra %s; duplicated %s", what, len(want), len(got), show(missing), show(extra), show(dup))
	}
}

// expected computes the keys the collection must hold from the fake's truth.
type expected struct {
	users, groups, appGroups, apps, factors, rules, devices, roles []string
	groupHasUser, groupApp, userApp, userFactor, ruleGroup         []string
	userRole, groupRole, created, userDevice, userAWS, groupAWS    []string
}

func expect(t *testing.T, org *oktafake.Org, skipDeleted map[string]bool) expected {
	tr := org.Truth()
	var e expected
	live := map[string]bool{}
	for _, u := range tr.Users {
		e.users = append(e.users, u.ID)
		if u.Status != oktafake.StatusDeprovisioned {
			live[u.ID] = true
		}
		if skipDeleted[u.ID] {
			continue
		}
		for _, f := range u.FactorIDs {
			e.factors = append(e.factors, f)
			e.userFactor = append(e.userFactor, u.ID+"|assigned|"+f)
		}
		labels := map[string]bool{}
		for _, r := range u.Roles {
			e.roles = append(e.roles, roleKey(r.Label))
			if r.AssignmentType == "USER" && !labels[r.Label] {
				labels[r.Label] = true
				e.userRole = append(e.userRole, u.ID+"|assigned|"+roleKey(r.Label))
			}
		}
	}
	groupTypes := map[string]string{}
	for _, g := range tr.Groups {
		groupTypes[g.ID] = g.Type
		if g.Type == "APP_GROUP" {
			e.appGroups = append(e.appGroups, g.ID)
		} else {
			e.groups = append(e.groups, g.ID)
		}
		if skipDeleted[g.ID] && g.Type != "BUILT_IN" {
			continue
		}
		for _, m := range g.MemberIDs {
			e.groupHasUser = append(e.groupHasUser, g.ID+"|has_user|"+m)
		}
		for _, r := range g.Roles {
			e.roles = append(e.roles, roleKey(r.Label))
			e.groupRole = append(e.groupRole, g.ID+"|assigned|"+roleKey(r.Label))
		}
	}
	awsKeys := func(principal, acct, role string, saml []string) []string {
		vals := saml
		if len(vals) == 0 && role != "" {
			vals = []string{role}
		}
		var out []string
		for _, v := range vals {
			r, ok := parseAWSRole(v, acct)
			if !ok {
				continue
			}
			if r.ARN != "" {
				out = append(out, principal+"|assigned|"+r.ARN)
			} else {
				out = append(out, principal+"|assigned|"+r.Account+"|"+r.Role)
			}
		}
		return out
	}
	for _, a := range tr.Apps {
		e.apps = append(e.apps, a.ID)
		if skipDeleted[a.ID] {
			continue
		}
		for _, u := range a.Users {
			e.userApp = append(e.userApp, u.UserID+"|assigned|"+a.ID)
			if a.AWSAccountID != "" {
				e.userAWS = append(e.userAWS, awsKeys(u.UserID, a.AWSAccountID, u.Role, u.SamlRoles)...)
			}
		}
		for _, g := range a.Groups {
			e.groupApp = append(e.groupApp, g.GroupID+"|assigned|"+a.ID)
			if a.AWSAccountID != "" {
				e.groupAWS = append(e.groupAWS, awsKeys(g.GroupID, a.AWSAccountID, g.Role, g.SamlRoles)...)
			}
		}
	}
	for _, r := range tr.Rules {
		e.rules = append(e.rules, r.ID)
		for _, g := range r.GroupIDs {
			e.ruleGroup = append(e.ruleGroup, r.ID+"|manages|"+g)
		}
	}
	for _, d := range tr.Devices {
		e.devices = append(e.devices, d.ID)
		for _, u := range d.UserIDs {
			e.userDevice = append(e.userDevice, u+"|has|"+d.ID)
		}
	}
	now := tr.Now
	for _, c := range tr.CreatedApps(now.Add(-systemLogWindow), now) {
		e.created = append(e.created, c.UserID+"|created|"+c.AppID)
	}
	e.roles = uniq(e.roles)
	e.userAWS = uniq(e.userAWS)
	e.groupAWS = uniq(e.groupAWS)
	return e
}

func uniq(in []string) []string {
	in = sortedCopy(in)
	out := in[:0]
	for i, s := range in {
		if i == 0 || s != in[i-1] {
			out = append(out, s)
		}
	}
	return out
}

func checkAgainstTruth(t *testing.T, c *sdktest.Collection, e expected) {
	t.Helper()
	diffSets(t, "users", e.users, entityKeys(c, typeUser))
	diffSets(t, "user groups", e.groups, entityKeys(c, typeUserGroup))
	diffSets(t, "app user groups", e.appGroups, entityKeys(c, typeAppUserGroup))
	diffSets(t, "applications", e.apps, entityKeys(c, typeApp))
	diffSets(t, "factors", e.factors, entityKeys(c, typeMFADevice))
	diffSets(t, "user factors", e.userFactor, relKeys(c, relUserAssignedFactor))
	diffSets(t, "roles", e.roles, entityKeys(c, typeRole))
	diffSets(t, "user roles", e.userRole, relKeys(c, "okta_user_assigned_role"))
	diffSets(t, "group roles", e.groupRole, relKeys(c, "okta_user_group_assigned_role"))
	diffSets(t, "rules", e.rules, entityKeys(c, typeRule))
	diffSets(t, "rule groups", e.ruleGroup, relKeys(c, "okta_rule_manages_user_group"))
	diffSets(t, "group members", e.groupHasUser, relKeys(c, relGroupHasUser))
	diffSets(t, "group apps", e.groupApp, relKeys(c, relGroupAssignedApp))
	diffSets(t, "user apps", e.userApp, relKeys(c, relUserAssignedApp))
	diffSets(t, "user aws roles", e.userAWS, relKeys(c, relUserAssignedAWSRole))
	diffSets(t, "group aws roles", e.groupAWS, relKeys(c, relUserGroupAssignedAWSRole))
	diffSets(t, "created apps", e.created, relKeys(c, relUserCreatedApp))
	if e.devices != nil && c.EntitiesOf(typeDevice) != nil {
		diffSets(t, "devices", e.devices, entityKeys(c, typeDevice))
		diffSets(t, "user devices", e.userDevice, relKeys(c, "okta_user_has_device"))
	}
	diffSets(t, "account users", prefixAll("okta_account_acme.okta.com/|has|", e.users), relKeys(c, "okta_account_has_user"))
}

func prefixAll(p string, xs []string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = p + x
	}
	return out
}

func TestCollectAgainstTruth(t *testing.T) {
	f := startFake(t, oktafake.OrgSpec{Users: 120, Seed: 7}, oktafake.ServerOptions{})
	c := f.runComplete(t)
	if m := c.Result.Summary.Metadata.Details["authMethod"]; m != AuthAPIToken {
		t.Errorf("summary records auth method %q, want %q", m, AuthAPIToken)
	}
	for _, s := range c.Result.Summary.Steps {
		for _, w := range s.Warnings {
			t.Logf("warning %s: %s", s.ID, w)
		}
	}
	st := f.srv.Server.Stats()
	t.Logf("requests: %d endpoints: %v", st.Requests, st.Endpoints)
	if strings.Contains(fmt.Sprint(c.Entities), oktafake.DefaultToken) {
		t.Error("token in entities")
	}
}

package oktafake

import (
	"slices"
	"time"
)

// Truth is the ground truth of an org as plain data, so tests can prove that
// a client collected everything (and nothing more). Slices are in id order.
type Truth struct {
	// OrgID is the org's id.
	OrgID string
	// Now is the org's current time.
	Now time.Time
	// SupportEnabled and SupportExpiration mirror /api/v1/org/privacy/oktaSupport.
	SupportEnabled    bool
	SupportExpiration *time.Time

	// Users holds every user, DEPROVISIONED ones included.
	Users []UserTruth
	// UsersByStatus maps a status (ACTIVE, ..., DEPROVISIONED) to user ids.
	UsersByStatus map[string][]string
	// Groups holds every group, the BUILT_IN "Everyone" first.
	Groups []GroupTruth
	// Apps holds every app with its assignments.
	Apps []AppTruth
	// Rules holds every group rule.
	Rules []RuleTruth
	// Devices holds every device with its users.
	Devices []DeviceTruth
	// RoleAssignees are the ids listed by /api/v1/iam/assignees/users: users
	// holding a USER-assigned role or a member of a group holding a role.
	RoleAssignees []string
	// AppCreations lists every "user created app" System Log event
	// (application.lifecycle.update with a request URI ending in "_new_"),
	// oldest first, including those whose user or app no longer exists
	// (Exists false). Use CreatedApps for the expected pairs of a window.
	AppCreations []AppCreation
}

// UserTruth is one user.
type UserTruth struct {
	ID, Login, Email, Status string
	// FactorIDs lists all enrolled factors; ActiveFactorIDs those ACTIVE.
	FactorIDs, ActiveFactorIDs []string
	// Roles lists the roles /api/v1/users/{id}/roles returns: USER-assigned
	// and GROUP-assigned (inherited from a role group).
	Roles []RoleTruth
	// GroupIDs lists the groups the user belongs to, "Everyone" included
	// (for deprovisioned users too: Okta never removes a user from it).
	GroupIDs []string
}

// RoleTruth is one role assignment.
type RoleTruth struct {
	ID, Label, Type string
	// AssignmentType is USER or GROUP.
	AssignmentType string
	// GroupID is the group a GROUP assignment comes from.
	GroupID string
}

// GroupTruth is one group.
type GroupTruth struct {
	ID, Name, Type string
	// MemberIDs are the members, in id order ("Everyone": every user,
	// DEPROVISIONED ones included).
	MemberIDs []string
	// Roles are the roles assigned to the group (assignmentType GROUP).
	Roles []RoleTruth
	// AppIDs are the apps the group is assigned to.
	AppIDs []string
}

// AppTruth is one app instance and its assignments.
type AppTruth struct {
	ID, Name, Label, SignOnMode, Status string
	// AWSAccountID is set on amazon_aws apps (12 digits).
	AWSAccountID string
	// Users are the entries of /api/v1/apps/{id}/users: direct (scope USER)
	// and via groups (scope GROUP, with the group's profile).
	Users []AppUserTruth
	// Groups are the entries of /api/v1/apps/{id}/groups.
	Groups []AppGroupTruth
}

// AppUserTruth is one app user assignment.
type AppUserTruth struct {
	UserID string
	// Scope is USER (direct) or GROUP.
	Scope string
	// GroupID is the group a GROUP-scoped assignment comes from.
	GroupID   string
	Role      string
	SamlRoles []string
}

// AppGroupTruth is one app group assignment.
type AppGroupTruth struct {
	GroupID   string
	Priority  int
	Role      string
	SamlRoles []string
}

// RuleTruth is one group rule.
type RuleTruth struct {
	ID, Name, Status string
	// GroupIDs are actions.assignUserToGroups.groupIds.
	GroupIDs []string
}

// DeviceTruth is one device.
type DeviceTruth struct {
	ID, Status, DisplayName string
	// UserIDs are the users of _embedded.users (expand=user).
	UserIDs []string
}

// AppCreation is one "user created app" System Log event.
type AppCreation struct {
	UserID, AppID string
	Published     time.Time
	// Exists is false when the user or the app is not in the org (deleted
	// since): a client must not emit a relationship for it.
	Exists bool
}

// CreatedApps returns the distinct (UserID, AppID) pairs, with the time of
// their first event, of existing users and apps created in [since, until):
// what a client listing the System Log for that window should relate.
func (t *Truth) CreatedApps(since, until time.Time) []AppCreation {
	seen := map[[2]string]bool{}
	var out []AppCreation
	for _, c := range t.AppCreations {
		if !c.Exists || c.Published.Before(since) || !c.Published.Before(until) {
			continue
		}
		k := [2]string{c.UserID, c.AppID}
		if !seen[k] {
			seen[k] = true
			out = append(out, c)
		}
	}
	return out
}

// LiveUserIDs returns the ids of users that GET /api/v1/users lists (every
// status but DEPROVISIONED).
func (t *Truth) LiveUserIDs() []string {
	var out []string
	for _, u := range t.Users {
		if u.Status != StatusDeprovisioned {
			out = append(out, u.ID)
		}
	}
	return out
}

func (o *Org) roleTruth(r *roleRec, assignment, group string) RoleTruth {
	rt := roleTypes[r.typ]
	return RoleTruth{ID: r.id, Label: rt.label, Type: rt.typ, AssignmentType: assignment, GroupID: group}
}

// Truth computes the ground truth. It allocates the whole answer (use it in
// tests; for a 100k-user org it is a few tens of MB).
func (o *Org) Truth() *Truth {
	t := &Truth{OrgID: o.orgID, Now: o.Now(), SupportEnabled: o.spec.SupportEnabled, UsersByStatus: map[string][]string{}}
	if o.spec.SupportEnabled {
		e := o.Now().Add(8 * time.Hour)
		t.SupportExpiration = &e
	}
	userGroups := make([][]string, len(o.users))
	for gi := range o.groups {
		g := &o.groups[gi]
		gt := GroupTruth{ID: g.id, Name: g.name, Type: groupTypeNames[g.typ]}
		if g.typ == gtBuiltIn {
			gt.MemberIDs = make([]string, 0, len(o.all))
			for _, ui := range o.all {
				gt.MemberIDs = append(gt.MemberIDs, o.users[ui].id)
				userGroups[ui] = append(userGroups[ui], g.id)
			}
		} else {
			gt.MemberIDs = make([]string, 0, len(g.members))
			for _, ui := range g.members {
				gt.MemberIDs = append(gt.MemberIDs, o.users[ui].id)
				userGroups[ui] = append(userGroups[ui], g.id)
			}
		}
		for k := range g.roles {
			gt.Roles = append(gt.Roles, o.roleTruth(&g.roles[k], "GROUP", g.id))
		}
		t.Groups = append(t.Groups, gt)
	}
	t.Users = make([]UserTruth, len(o.users))
	for i := range o.users {
		u := &o.users[i]
		login := o.userLogin(i)
		ut := UserTruth{ID: u.id, Login: login, Email: login, Status: UserStatuses[u.status], GroupIDs: userGroups[i]}
		for _, f := range o.userFactors(i) {
			ut.FactorIDs = append(ut.FactorIDs, f.id)
			if f.active {
				ut.ActiveFactorIDs = append(ut.ActiveFactorIDs, f.id)
			}
		}
		direct, via := o.rolesOfUser(int32(i))
		for k := range direct {
			ut.Roles = append(ut.Roles, o.roleTruth(&direct[k], "USER", ""))
		}
		for _, gk := range via {
			g := &o.groups[gk[0]]
			ut.Roles = append(ut.Roles, o.roleTruth(&g.roles[gk[1]], "GROUP", g.id))
		}
		t.Users[i] = ut
		t.UsersByStatus[ut.Status] = append(t.UsersByStatus[ut.Status], u.id)
	}
	for ai := range o.apps {
		a := &o.apps[ai]
		st := "ACTIVE"
		if !a.active {
			st = "INACTIVE"
		}
		at := AppTruth{ID: a.id, Name: a.name, Label: a.label, SignOnMode: a.tmpl.mode, Status: st, AWSAccountID: a.awsAccount}
		for _, au := range a.users {
			p := o.profiles[au.prof]
			x := AppUserTruth{UserID: o.users[au.user].id, Scope: "USER", Role: p.Role, SamlRoles: slices.Clone(p.SamlRoles)}
			if au.group >= 0 {
				x.Scope = "GROUP"
				x.GroupID = o.groups[au.group].id
			}
			at.Users = append(at.Users, x)
		}
		for k, ag := range a.groups {
			p := o.profiles[ag.prof]
			at.Groups = append(at.Groups, AppGroupTruth{GroupID: o.groups[ag.group].id, Priority: k, Role: p.Role, SamlRoles: slices.Clone(p.SamlRoles)})
			t.Groups[ag.group].AppIDs = append(t.Groups[ag.group].AppIDs, a.id)
		}
		t.Apps = append(t.Apps, at)
	}
	for i := range o.rules {
		ru := &o.rules[i]
		rt := RuleTruth{ID: ru.id, Name: ru.name, Status: "ACTIVE"}
		if !ru.active {
			rt.Status = "INACTIVE"
		}
		for _, gi := range ru.groups {
			rt.GroupIDs = append(rt.GroupIDs, o.groups[gi].id)
		}
		t.Rules = append(t.Rules, rt)
	}
	for i := range o.devices {
		d := &o.devices[i]
		dt := DeviceTruth{ID: d.id, Status: deviceStatuses[d.status], DisplayName: o.deviceDisplayName(i)}
		for _, ui := range d.users {
			dt.UserIDs = append(dt.UserIDs, o.users[ui].id)
		}
		t.Devices = append(t.Devices, dt)
	}
	for _, ui := range o.assignees {
		t.RoleAssignees = append(t.RoleAssignees, o.users[ui].id)
	}
	for pos := range o.events {
		e := &o.events[pos]
		if e.kind != evAppNew {
			continue
		}
		t.AppCreations = append(t.AppCreations, AppCreation{
			UserID: o.eventActorID(e), AppID: o.eventTargetID(e),
			Published: time.UnixMilli(e.ms).UTC(),
			Exists:    int(e.actor) < len(o.users) && int(e.target) < len(o.apps),
		})
	}
	return t
}

package oktafake

import (
	"cmp"
	"slices"
)

type eventRec struct {
	ms     int64 // published, unix milliseconds
	actor  int32 // user index; >= len(users) is a user deleted since
	target int32 // app or group index (by kind); >= len(apps) is a deleted app
	kind   uint8
}

const (
	evAppCreate uint8 = iota
	evAppNew
	evAppUpdate
	evSessionStart
	evSSO
	evPasswordUpdate
	evGroupAdd
	evAppUserAdd
)

// EventTypeAppUpdate is the System Log event type which, with a request URI
// ending in "_new_", records that a user created an app in the Admin Console.
const EventTypeAppUpdate = "application.lifecycle.update"

var eventKinds = []struct {
	typ, display, legacy, target string
}{
	{"application.lifecycle.create", "Create application", "app.generic.config.app_created", "AppInstance"},
	{EventTypeAppUpdate, "Update application", "app.generic.config.app_updated", "AppInstance"},
	{EventTypeAppUpdate, "Update application", "app.generic.config.app_updated", "AppInstance"},
	{"user.session.start", "User login to Okta", "core.user_auth.login_success", ""},
	{"user.authentication.sso", "User single sign on to app", "app.auth.sso", "AppInstance"},
	{"user.account.update_password", "Update password for user", "core.user.config.password_update.success", ""},
	{"group.user_membership.add", "Add user to group membership", "core.user_group_member.user_add", "UserGroup"},
	{"application.user_membership.add", "Add user to application membership", "app.generic.provision.assign_user_to_app", "AppInstance"},
}

var noiseKinds = []uint8{evSessionStart, evSessionStart, evSessionStart, evSSO, evSSO, evAppUpdate, evPasswordUpdate, evGroupAdd, evAppUserAdd}

func (o *Org) genEvents() {
	r := newRand(o.seed, 7)
	nowMs := o.now * 1000
	window := int64(120 * day * 1000)
	nU, nA := int32(len(o.users)), int32(len(o.apps))
	var ev []eventRec
	pickCreator := func() int32 {
		if len(o.assignees) > 0 && r.IntN(10) < 7 {
			return o.assignees[r.IntN(len(o.assignees))]
		}
		return int32(r.IntN(int(nU)))
	}
	for i := range o.apps {
		a := &o.apps[i]
		ms := a.created * 1000
		if ms < nowMs-window {
			continue
		}
		actor := pickCreator()
		ev = append(ev,
			eventRec{ms: ms, actor: actor, target: int32(i), kind: evAppCreate},
			eventRec{ms: ms + between(r, 300, 3000), actor: actor, target: int32(i), kind: evAppNew})
	}
	if nA > 0 && nU > 0 {
		// A creator who has since been deleted, and an app deleted since: the
		// client must skip both (they are not in Truth's expected pairs).
		ev = append(ev,
			eventRec{ms: nowMs - 5*day*1000 - between(r, 0, 1000), actor: nU + 1, target: int32(r.IntN(int(nA))), kind: evAppNew},
			eventRec{ms: nowMs - 6*day*1000 - between(r, 0, 1000), actor: pickCreator(), target: nA + 1, kind: evAppNew})
	}
	L := len(o.live)
	for j := 0; j < o.spec.NoiseEvents && L > 0; j++ {
		e := eventRec{ms: nowMs - between(r, 1000, window), actor: o.live[r.IntN(L)], kind: noiseKinds[r.IntN(len(noiseKinds))]}
		switch eventKinds[e.kind].target {
		case "AppInstance":
			if nA == 0 {
				e.kind = evSessionStart
			} else {
				e.target = int32(r.IntN(int(nA)))
			}
		case "UserGroup":
			e.target = int32(r.IntN(len(o.groups)))
		}
		ev = append(ev, e)
	}
	slices.SortStableFunc(ev, func(x, y eventRec) int { return cmp.Compare(x.ms, y.ms) })
	o.events = slices.Clip(ev)
}

func (o *Org) eventUUID(pos int) string {
	e := &o.events[pos]
	return uuidFrom(mix64(o.seed^uint64(e.ms)), mix64(uint64(pos)<<8^uint64(e.kind)^o.seed))
}

func (o *Org) ghostUserID(i int32) string { return makeID("00u", o.tag, kindUser, o.seed, int(i)) }
func (o *Org) ghostAppID(i int32) string  { return makeID("0oa", o.tag, kindApp, o.seed, int(i)) }

func (o *Org) eventActorID(e *eventRec) string {
	if int(e.actor) < len(o.users) {
		return o.users[e.actor].id
	}
	return o.ghostUserID(e.actor)
}

func (o *Org) eventTargetID(e *eventRec) string {
	switch eventKinds[e.kind].target {
	case "AppInstance":
		if int(e.target) < len(o.apps) {
			return o.apps[e.target].id
		}
		return o.ghostAppID(e.target)
	case "UserGroup":
		return o.groups[e.target].id
	}
	return ""
}

func (o *Org) eventAppName(e *eventRec) string {
	if int(e.target) < len(o.apps) {
		return o.apps[e.target].name
	}
	return "oidc_client"
}

func (o *Org) eventRequestURI(e *eventRec) string {
	switch e.kind {
	case evAppCreate, evAppNew:
		return "/admin/app/" + o.eventAppName(e) + "/instance/_new_"
	case evAppUpdate:
		return "/api/v1/apps/" + o.eventTargetID(e)
	case evSessionStart:
		return "/api/v1/authn"
	case evSSO:
		return "/app/" + o.eventAppName(e) + "/" + o.eventTargetID(e) + "/sso/saml"
	case evPasswordUpdate:
		return "/api/v1/users/" + o.eventActorID(e) + "/credentials/change_password"
	case evGroupAdd:
		return "/api/v1/groups/" + o.eventTargetID(e) + "/users/" + o.eventActorID(e)
	case evAppUserAdd:
		return "/api/v1/apps/" + o.eventTargetID(e) + "/users"
	}
	return "/"
}

// eventField returns the value of a System Log filter attribute.
func (o *Org) eventField(pos int, field string) (string, bool) {
	e := &o.events[pos]
	switch field {
	case "eventType":
		return eventKinds[e.kind].typ, true
	case "debugContext.debugData.requestUri":
		return o.eventRequestURI(e), true
	case "actor.id":
		return o.eventActorID(e), true
	case "actor.type":
		return "User", true
	case "target.id":
		return o.eventTargetID(e), true
	case "target.type":
		return eventKinds[e.kind].target, true
	case "outcome.result":
		return "SUCCESS", true
	case "severity":
		return "INFO", true
	case "legacyEventType":
		return eventKinds[e.kind].legacy, true
	case "uuid":
		return o.eventUUID(pos), true
	case "published":
		return fmtMs(e.ms), true
	}
	return "", false
}

package oktafake

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// DefaultNow is the fixed "current time" of a generated org when
// OrgSpec.Now is zero. Every org timestamp is relative to it, so an org does
// not depend on the wall clock.
var DefaultNow = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// User statuses, as Okta spells them.
const (
	StatusActive          = "ACTIVE"
	StatusStaged          = "STAGED"
	StatusProvisioned     = "PROVISIONED"
	StatusRecovery        = "RECOVERY"
	StatusPasswordExpired = "PASSWORD_EXPIRED"
	StatusLockedOut       = "LOCKED_OUT"
	StatusSuspended       = "SUSPENDED"
	StatusDeprovisioned   = "DEPROVISIONED"
)

// UserStatuses lists every user status a generated org contains (when it has
// at least 8 users).
var UserStatuses = []string{
	StatusActive, StatusStaged, StatusProvisioned, StatusRecovery,
	StatusPasswordExpired, StatusLockedOut, StatusSuspended, StatusDeprovisioned,
}

const (
	stActive uint8 = iota
	stStaged
	stProvisioned
	stRecovery
	stPasswordExpired
	stLockedOut
	stSuspended
	stDeprovisioned
)

// Group types.
const (
	GroupTypeOkta    = "OKTA_GROUP"
	GroupTypeApp     = "APP_GROUP"
	GroupTypeBuiltIn = "BUILT_IN"
)

const (
	gtOkta uint8 = iota
	gtApp
	gtBuiltIn
)

var groupTypeNames = []string{GroupTypeOkta, GroupTypeApp, GroupTypeBuiltIn}

// Factor types generated.
var factorTypes = []struct{ typ, provider, vendor, prefix string }{
	{"sms", "OKTA", "OKTA", "mbl"},
	{"push", "OKTA", "OKTA", "opf"},
	{"token:software:totp", "GOOGLE", "GOOGLE", "uft"},
	{"webauthn", "FIDO", "FIDO", "fwf"},
}

// Id kinds (mixed into id hashes).
const (
	kindUser uint64 = iota + 1
	kindGroup
	kindApp
	kindFactor
	kindRole
	kindRule
	kindDevice
	kindUserType
	kindOrg
	kindClient
)

// OrgSpec describes a synthetic org. Zero counts get defaults proportional to
// Users; a negative count means "none".
type OrgSpec struct {
	// Users is the number of users of every status (default 100).
	Users int
	// Seed selects the org; the same spec and seed give the same org.
	Seed int64
	// Name is the org's subdomain, used in custom app names such as
	// "acme_mydashboard_1" (default "acme").
	Name string
	// EmailDomain is the domain of logins and emails (default "example.com").
	EmailDomain string
	// Now is the org's "current time" (default DefaultNow). All timestamps,
	// the System Log and the oktaSupport expiration are relative to it.
	Now time.Time
	// Groups counts all groups including the BUILT_IN "Everyone"
	// (default max(5, Users/20)).
	Groups int
	// Apps is the number of app instances (default max(8, Users/100)); the
	// first 8 always cover SAML_2_0, OPENID_CONNECT, BOOKMARK, AUTO_LOGIN,
	// BROWSER_PLUGIN and WS_FEDERATION and include two amazon_aws apps.
	Apps int
	// Devices is the number of Okta Identity Engine devices (default
	// max(4, Users/4)); the first four have the four platforms Okta reports
	// (MACOS, WINDOWS, IOS, ANDROID).
	Devices int
	// Rules is the number of group rules (default max(2, Groups/10)).
	Rules int
	// Admins is the number of users holding USER-assigned admin roles
	// (default max(2, 1.5% of Users)).
	Admins int
	// RoleGroups is the number of groups holding GROUP-assigned admin roles
	// (default 1 to 3, from Groups/20).
	RoleGroups int
	// NoiseEvents is the number of System Log events that are not app
	// creations (default max(50, Users/5)).
	NoiseEvents int
	// SupportEnabled sets oktaSupport to ENABLED (expiring 8 h after Now).
	SupportEnabled bool
}

func defaultCount(v, def int) int {
	switch {
	case v < 0:
		return 0
	case v == 0:
		return def
	}
	return v
}

func (s OrgSpec) normalized() OrgSpec {
	if s.Users <= 0 {
		s.Users = 100
	}
	if s.Name == "" {
		s.Name = "acme"
	}
	if s.EmailDomain == "" {
		s.EmailDomain = "example.com"
	}
	if s.Now.IsZero() {
		s.Now = DefaultNow
	}
	s.Now = s.Now.UTC().Truncate(time.Second)
	n := s.Users
	s.Groups = max(defaultCount(s.Groups, max(5, n/20)), 5)
	s.Apps = defaultCount(s.Apps, max(8, n/100))
	s.Devices = defaultCount(s.Devices, max(4, n/4))
	s.Rules = defaultCount(s.Rules, max(2, s.Groups/10))
	s.Admins = min(defaultCount(s.Admins, max(2, n*3/200)), n)
	s.RoleGroups = min(defaultCount(s.RoleGroups, min(3, max(1, s.Groups/20))), len(roleGroupDefs), s.Groups-3)
	s.NoiseEvents = defaultCount(s.NoiseEvents, max(50, n/5))
	return s
}

// Compact records: everything else is derived at render time.

type userRec struct {
	id                                    string
	created, activated, statusChanged     int64 // unix seconds, 0 = null
	lastLogin, lastUpdated, passwordChged int64
	factorStart                           int32
	first, last                           uint16
	nFactors                              uint8
	status                                uint8
	dept, title, country                  uint8
	flags                                 uint8 // userSecondEmail | userADProvider | userHireDate
}

const (
	userSecondEmail uint8 = 1 << iota
	userADProvider
	userHireDate
	userMobilePhone
)

type factorRec struct {
	id                   string
	created, lastUpdated int64
	typ                  uint8
	active               bool
}

type roleRec struct {
	id                   string
	typ                  uint8
	created, lastUpdated int64
}

type groupRec struct {
	id                                  string
	name, desc                          string
	created, lastUpdated, lastMembershp int64
	members                             []int32 // sorted user indices; unused for Everyone
	roles                               []roleRec
	appsCount                           int32
	sourceApp                           int32 // APP_GROUP source, -1 none
	typ                                 uint8
}

type assignProfile struct {
	Role      string
	SamlRoles []string
}

type appUserRec struct {
	user  int32
	group int32 // -1 for a direct (USER scope) assignment
	prof  int16
}

type appGroupRec struct {
	group int32
	prof  int16
}

type appRec struct {
	id, name, label      string
	created, lastUpdated int64
	users                []appUserRec // sorted by user
	groups               []appGroupRec
	awsAccount           string
	tmpl                 *appTemplate
	active               bool
}

type ruleRec struct {
	id, name             string
	created, lastUpdated int64
	groups               []int32
	dept                 uint8
	active               bool
}

type deviceRec struct {
	id                   string
	created, lastUpdated int64
	users                []int32
	platform             uint8
	status               uint8 // 0 ACTIVE, 1 SUSPENDED, 2 DEACTIVATED
}

var deviceStatuses = []string{"ACTIVE", "SUSPENDED", "DEACTIVATED"}

// Org is an immutable, deterministic synthetic Okta org. It is safe for
// concurrent use. Objects are kept as compact records; JSON is rendered on
// demand by the Server.
type Org struct {
	spec     OrgSpec
	seed     uint64
	tag      string
	now      int64
	orgID    string
	userType string

	users     []userRec
	live      []int32 // non-deprovisioned users, ascending
	all       []int32 // every user, ascending: the members of Everyone
	factors   []factorRec
	groups    []groupRec
	apps      []appRec
	profiles  []assignProfile // index 0 = empty profile
	rules     []ruleRec
	devices   []deviceRec
	events    []eventRec // sorted by time
	userRoles map[int32][]roleRec
	roleGrps  []int32 // groups holding roles
	assignees []int32 // users holding any role, ascending
	nRoles    int
}

// NewOrg generates the org described by spec. It is deterministic and takes
// well under a second for 100k users.
func NewOrg(spec OrgSpec) *Org {
	spec = spec.normalized()
	o := &Org{spec: spec, seed: uint64(spec.Seed), now: spec.Now.Unix()}
	o.tag = orgTag(o.seed)
	o.orgID = makeID("00o", o.tag, kindOrg, o.seed, 0)
	o.userType = makeID("oty", o.tag, kindUserType, o.seed, 0)
	o.profiles = append([]assignProfile{{}}, awsProfiles...)
	o.genUsers()
	o.genGroups()
	o.genApps()
	o.genRoles()
	o.genRules()
	o.genDevices()
	o.genEvents()
	return o
}

// Spec returns the effective spec, with every default filled in.
func (o *Org) Spec() OrgSpec { return o.spec }

// Now returns the org's current time (OrgSpec.Now).
func (o *Org) Now() time.Time { return time.Unix(o.now, 0).UTC() }

// ID returns the org id (used in ORNs).
func (o *Org) ID() string { return o.orgID }

func between(r *rand.Rand, a, b int64) int64 {
	if b <= a {
		return a
	}
	return a + r.Int64N(b-a+1)
}

const day = 86400

func (o *Org) genUsers() {
	n := o.spec.Users
	r := newRand(o.seed, 1)
	o.users = make([]userRec, n)
	weights := []int{85, 2, 3, 1, 2, 2, 2, 3}
	forced := map[int]uint8{}
	if n >= len(UserStatuses) {
		for k := range UserStatuses {
			forced[k*n/len(UserStatuses)+n/(2*len(UserStatuses))] = uint8(k)
		}
	}
	nf := 0
	for i := range o.users {
		u := &o.users[i]
		u.id = makeID("00u", o.tag, kindUser, o.seed, i)
		w := r.IntN(100)
		st := uint8(0)
		for k, wt := range weights {
			if w < wt {
				st = uint8(k)
				break
			}
			w -= wt
		}
		if f, ok := forced[i]; ok {
			st = f
		}
		u.status = st
		u.first = uint16(r.IntN(len(firstNames)))
		u.last = uint16(r.IntN(len(lastNames)))
		u.dept = uint8(r.IntN(len(departments)))
		u.title = uint8(r.IntN(len(titles)))
		u.country = uint8(r.IntN(len(countries)))
		if r.IntN(10) == 0 {
			u.flags |= userSecondEmail
		}
		if r.IntN(8) == 0 {
			u.flags |= userADProvider
		}
		if r.IntN(3) != 0 {
			u.flags |= userHireDate
		}
		if r.IntN(2) == 0 {
			u.flags |= userMobilePhone
		}
		now := o.now
		u.created = now - between(r, 2*day, 3*365*day)
		if st != stStaged {
			u.activated = u.created + between(r, 60, 3*day)
		}
		switch st {
		case stStaged:
			u.statusChanged = 0
		case stActive, stProvisioned:
			u.statusChanged = u.activated
		default:
			u.statusChanged = between(r, u.activated, now-3600)
		}
		if st != stStaged && st != stProvisioned {
			if st == stActive && r.IntN(10) != 0 {
				u.lastLogin = between(r, max(u.activated, now-30*day), now-60)
			} else {
				u.lastLogin = between(r, u.activated, max(u.activated, u.statusChanged))
			}
			u.passwordChged = between(r, u.activated, max(u.activated, u.lastLogin))
		}
		u.lastUpdated = max(u.created, u.activated, u.statusChanged, u.passwordChged) + between(r, 0, 3600)
		if u.lastUpdated > now {
			u.lastUpdated = now
		}
		// Factors: none for deprovisioned (Okta removes them) and staged users.
		u.factorStart = int32(nf)
		if st != stDeprovisioned && st != stStaged {
			k := []int{0, 1, 1, 1, 2, 2, 2, 3, 3, 1}[r.IntN(10)]
			if st == stActive && i == n/2 { // a stable known MFA user
				k = max(k, 1)
			}
			perm := r.Perm(len(factorTypes))
			for j := 0; j < k; j++ {
				f := factorRec{
					typ:    uint8(perm[j]),
					active: st != stProvisioned && r.IntN(8) != 0,
				}
				f.id = makeID(factorTypes[f.typ].prefix, o.tag, kindFactor, o.seed, nf)
				f.created = between(r, u.activated, now-60)
				f.lastUpdated = between(r, f.created, now)
				o.factors = append(o.factors, f)
				nf++
			}
			u.nFactors = uint8(k)
		}
		if st != stDeprovisioned {
			o.live = append(o.live, int32(i))
		}
		o.all = append(o.all, int32(i))
	}
}

func (o *Org) userFactors(i int) []factorRec {
	u := &o.users[i]
	return o.factors[u.factorStart : u.factorStart+int32(u.nFactors)]
}

func (o *Org) genGroups() {
	G := o.spec.Groups
	r := newRand(o.seed, 2)
	o.groups = make([]groupRec, G)
	now := o.now
	empty := make([]bool, G)
	nApp, nEmpty := 0, 0
	for i := range o.groups {
		g := &o.groups[i]
		g.id = makeID("00g", o.tag, kindGroup, o.seed, i)
		g.sourceApp = -1
		g.created = now - between(r, 30*day, 4*365*day)
		g.lastUpdated = between(r, g.created, now-day)
		g.lastMembershp = between(r, g.created, now-60)
		switch {
		case i == 0:
			g.typ = gtBuiltIn
		case i <= o.spec.RoleGroups:
			g.typ = gtOkta
		default:
			if r.IntN(5) == 0 {
				g.typ = gtApp
			}
			if r.IntN(12) == 0 {
				empty[i] = true
			}
		}
		if g.typ == gtApp {
			nApp++
		}
		if empty[i] {
			nEmpty++
		}
	}
	if nApp == 0 {
		o.groups[G-1].typ = gtApp
	}
	if nEmpty == 0 {
		empty[G-2] = true
	}
	// Names.
	okN, appN := 0, 0
	for i := range o.groups {
		g := &o.groups[i]
		switch {
		case i == 0:
			g.name, g.desc = "Everyone", "All users in your organization"
		case i <= o.spec.RoleGroups:
			g.name = roleGroupDefs[i-1].name
			g.desc = "Members hold " + roleTypes[roleGroupDefs[i-1].roles[0]].label + " rights"
		case g.typ == gtApp:
			src := appGroupSources[appN%len(appGroupSources)]
			k := appN / len(appGroupSources)
			dep := departments[k%len(departments)]
			g.name = src + ": " + dep
			if k >= len(departments) {
				g.name += fmt.Sprintf(" %d", k/len(departments)+1)
			}
			g.desc = "Imported from " + src
			if o.spec.Apps > 0 {
				g.sourceApp = int32(r.IntN(o.spec.Apps))
			}
			appN++
		default:
			per := len(departments) * len(groupSuffixes)
			k := okN % per
			g.name = departments[k%len(departments)] + groupSuffixes[k/len(departments)]
			if okN >= per {
				g.name += fmt.Sprintf(" %d", okN/per+1)
			}
			if r.IntN(4) != 0 {
				g.desc = "Members of " + g.name
			}
			okN++
		}
	}
	// Memberships: skewed so that a few groups are large (more than one page
	// of 1000 members in big orgs); role groups sit at the thin end.
	var cand []int32
	for i := 1 + o.spec.RoleGroups; i < G; i++ {
		if !empty[i] {
			cand = append(cand, int32(i))
		}
	}
	for i := 1; i <= o.spec.RoleGroups; i++ {
		cand = append(cand, int32(i))
	}
	m := len(cand)
	for _, ui := range o.live {
		k := []int{0, 1, 1, 1, 2, 2, 2, 3, 3, 4}[r.IntN(10)]
		for j := 0; j < k; j++ {
			x := r.Float64()
			gi := cand[min(int(float64(m)*x*x), m-1)]
			g := &o.groups[gi]
			if n := len(g.members); n == 0 || g.members[n-1] != ui {
				g.members = append(g.members, ui)
			}
		}
	}
	// Every role group has members; every non-empty group has at least one.
	for _, gi := range cand {
		g := &o.groups[gi]
		if len(g.members) == 0 && len(o.live) > 0 {
			g.members = []int32{o.live[r.IntN(len(o.live))]}
		}
	}
	for i := range o.groups {
		g := &o.groups[i]
		if len(g.members) > 0 {
			g.members = slices.Clip(g.members)
		}
	}
}

// groupHas reports whether user ui is a member of group gi.
func (o *Org) groupHas(gi int, ui int32) bool {
	g := &o.groups[gi]
	if g.typ == gtBuiltIn {
		// Okta never removes a user from Everyone; deactivation keeps
		// group memberships.
		return true
	}
	_, ok := slices.BinarySearch(g.members, ui)
	return ok
}

func (o *Org) groupSize(gi int) int {
	if o.groups[gi].typ == gtBuiltIn {
		return len(o.all)
	}
	return len(o.groups[gi].members)
}

func (o *Org) genApps() {
	A := o.spec.Apps
	r := newRand(o.seed, 3)
	o.apps = make([]appRec, A)
	now := o.now
	customN := map[string]int{}
	labelN := map[string]int{}
	awsN := 0
	L := len(o.live)
	maxDirect := min(L, 10+o.spec.Users/500)
	for i := range o.apps {
		a := &o.apps[i]
		a.id = makeID("0oa", o.tag, kindApp, o.seed, i)
		var t *appTemplate
		if i < len(fixedApps) {
			t = &fixedApps[i]
		} else {
			t = &poolApps[r.IntN(len(poolApps))]
		}
		a.tmpl = t
		a.name = t.name
		if a.name == "" {
			w := customAppWords[r.IntN(len(customAppWords))]
			if i == 3 {
				w = "mydashboard"
			} else if i == 6 {
				w = "expenses"
			}
			customN[w]++
			a.name = fmt.Sprintf("%s_%s_%d", o.spec.Name, w, customN[w])
		}
		labelN[t.label]++
		a.label = t.label
		if labelN[t.label] > 1 {
			a.label = fmt.Sprintf("%s %d", t.label, labelN[t.label])
		}
		a.active = i < len(fixedApps) || r.IntN(10) != 0
		if t.kind == appAWS {
			if awsN == 0 {
				a.awsAccount = "123456789012"
			} else {
				a.awsAccount = fmt.Sprintf("%012d", mix64(o.seed^uint64(i)*7919)%1_000_000_000_000)
			}
			awsN++
		}
		// Creation time: about half the apps were created in the last 120
		// days (and have a System Log creation event); app 0 is recent and
		// app 1 is 100 days old (outside the 90-day window).
		switch {
		case i == 0:
			a.created = now - 10*day - between(r, 0, day)
		case i == 1:
			a.created = now - 100*day - between(r, 0, day)
		case r.IntN(2) == 0:
			a.created = now - between(r, 3600, 120*day)
		default:
			a.created = now - between(r, 121*day, 5*365*day)
		}
		a.lastUpdated = between(r, a.created, now-60)

		// Assignments.
		var entries []appUserRec
		d := 0
		if L > 0 && (r.IntN(10) != 0 || t.kind == appAWS) {
			d = 1 + r.IntN(maxDirect)
		}
		for j := 0; j < d; j++ {
			p := int16(0)
			if t.kind == appAWS {
				p = int16(1 + r.IntN(len(awsProfiles)))
			}
			entries = append(entries, appUserRec{user: o.live[r.IntN(L)], group: -1, prof: p})
		}
		ng := r.IntN(4)
		if t.kind == appAWS {
			ng = max(ng, 1)
		}
		seen := map[int32]bool{}
		for j := 0; j < ng; j++ {
			gi := int32(1 + r.IntN(len(o.groups)-1))
			if seen[gi] {
				continue
			}
			seen[gi] = true
			p := int16(0)
			if t.kind == appAWS {
				p = int16(1 + r.IntN(len(awsProfiles)))
			}
			a.groups = append(a.groups, appGroupRec{group: gi, prof: p})
			o.groups[gi].appsCount++
			for _, ui := range o.groups[gi].members {
				entries = append(entries, appUserRec{user: ui, group: gi, prof: p})
			}
		}
		slices.SortFunc(a.groups, func(x, y appGroupRec) int { return int(x.group - y.group) })
		// Direct assignments win over group ones; among groups the first
		// (lowest index) wins, like Okta's group priority.
		slices.SortStableFunc(entries, func(x, y appUserRec) int {
			if x.user != y.user {
				return int(x.user - y.user)
			}
			return int(x.group - y.group)
		})
		a.users = slices.CompactFunc(entries, func(x, y appUserRec) bool { return x.user == y.user })
		a.users = slices.Clip(a.users)
	}
}

func (o *Org) newRole(typ uint8, r *rand.Rand) roleRec {
	rr := roleRec{typ: typ}
	rr.id = makeID("ra1", o.tag, kindRole, o.seed, o.nRoles)
	o.nRoles++
	rr.created = o.now - between(r, day, 3*365*day)
	rr.lastUpdated = between(r, rr.created, o.now)
	return rr
}

func (o *Org) genRoles() {
	r := newRand(o.seed, 4)
	o.userRoles = map[int32][]roleRec{}
	L := len(o.live)
	if L > 0 {
		want := min(o.spec.Admins, L)
		picked := map[int32]bool{}
		var admins []int32
		for len(admins) < want {
			ui := o.live[r.IntN(L)]
			if !picked[ui] {
				picked[ui] = true
				admins = append(admins, ui)
			}
		}
		for k, ui := range admins {
			var types []uint8
			if k == 0 {
				types = []uint8{roleSuperAdmin}
			} else {
				types = []uint8{uint8(1 + r.IntN(len(roleTypes)-1))}
				if r.IntN(4) == 0 {
					t2 := uint8(1 + r.IntN(len(roleTypes)-1))
					if t2 != types[0] {
						types = append(types, t2)
					}
				}
			}
			for _, t := range types {
				o.userRoles[ui] = append(o.userRoles[ui], o.newRole(t, r))
			}
		}
	}
	set := map[int32]bool{}
	for ui := range o.userRoles {
		set[ui] = true
	}
	for gi := 1; gi <= o.spec.RoleGroups; gi++ {
		g := &o.groups[gi]
		for _, t := range roleGroupDefs[gi-1].roles {
			g.roles = append(g.roles, o.newRole(t, r))
		}
		o.roleGrps = append(o.roleGrps, int32(gi))
		for _, ui := range g.members {
			set[ui] = true
		}
	}
	for ui := range set {
		o.assignees = append(o.assignees, ui)
	}
	slices.Sort(o.assignees)
}

// rolesOfUser returns the roles a user holds: USER-assigned first, then those
// inherited from role groups (with the group index).
func (o *Org) rolesOfUser(ui int32) (direct []roleRec, viaGroup [][2]int) {
	direct = o.userRoles[ui]
	for _, gi := range o.roleGrps {
		if o.groupHas(int(gi), ui) {
			for k := range o.groups[gi].roles {
				viaGroup = append(viaGroup, [2]int{int(gi), k})
			}
		}
	}
	return direct, viaGroup
}

func (o *Org) genRules() {
	r := newRand(o.seed, 5)
	var okta []int32
	for i := range o.groups {
		if o.groups[i].typ == gtOkta {
			okta = append(okta, int32(i))
		}
	}
	o.rules = make([]ruleRec, o.spec.Rules)
	for i := range o.rules {
		ru := &o.rules[i]
		ru.id = makeID("0pr", o.tag, kindRule, o.seed, i)
		ru.dept = uint8(r.IntN(len(departments)))
		ru.name = fmt.Sprintf("Assign %s %d", departments[ru.dept], i+1)
		ru.active = r.IntN(7) != 0
		ru.created = o.now - between(r, day, 2*365*day)
		ru.lastUpdated = between(r, ru.created, o.now)
		k := 1 + r.IntN(2)
		for j := 0; j < k && len(okta) > 0; j++ {
			gi := okta[r.IntN(len(okta))]
			if !slices.Contains(ru.groups, gi) {
				ru.groups = append(ru.groups, gi)
			}
		}
	}
}

func (o *Org) genDevices() {
	r := newRand(o.seed, 6)
	o.devices = make([]deviceRec, o.spec.Devices)
	// The first devices have one platform each, so every platform Okta
	// reports is in any org with at least that many devices.
	var cover []uint8
	for i, p := range devicePlatforms {
		if !slices.ContainsFunc(cover, func(c uint8) bool { return devicePlatforms[c].platform == p.platform }) {
			cover = append(cover, uint8(i))
		}
	}
	L := len(o.live)
	for i := range o.devices {
		d := &o.devices[i]
		d.id = makeID("guo", o.tag, kindDevice, o.seed, i)
		d.platform = uint8(r.IntN(len(devicePlatforms)))
		if i < len(cover) {
			d.platform = cover[i]
		}
		switch x := r.IntN(20); {
		case x == 0:
			d.status = 1
		case x == 1:
			d.status = 2
		}
		d.created = o.now - between(r, day, 2*365*day)
		d.lastUpdated = between(r, d.created, o.now)
		if L > 0 {
			n := []int{0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2}[r.IntN(20)]
			for j := 0; j < n; j++ {
				ui := o.live[r.IntN(L)]
				if !slices.Contains(d.users, ui) {
					d.users = append(d.users, ui)
				}
			}
			slices.Sort(d.users)
		}
	}
}

func (o *Org) userLogin(i int) string {
	u := &o.users[i]
	return strings.ToLower(strings.ReplaceAll(firstNames[u.first]+"."+lastNames[u.last], "'", "")) +
		fmt.Sprint(i) + "@" + o.spec.EmailDomain
}

func (o *Org) userDisplayName(i int) string {
	u := &o.users[i]
	return firstNames[u.first] + " " + lastNames[u.last]
}

func (o *Org) userIndex(id string) int {
	i := parseIndex(id, "00u", o.tag)
	if i < 0 || i >= len(o.users) || o.users[i].id != id {
		return -1
	}
	return i
}

func (o *Org) groupIndex(id string) int {
	i := parseIndex(id, "00g", o.tag)
	if i < 0 || i >= len(o.groups) || o.groups[i].id != id {
		return -1
	}
	return i
}

func (o *Org) appIndex(id string) int {
	i := parseIndex(id, "0oa", o.tag)
	if i < 0 || i >= len(o.apps) || o.apps[i].id != id {
		return -1
	}
	return i
}

func (o *Org) ruleIndex(id string) int {
	i := parseIndex(id, "0pr", o.tag)
	if i < 0 || i >= len(o.rules) || o.rules[i].id != id {
		return -1
	}
	return i
}

func (o *Org) deviceIndex(id string) int {
	i := parseIndex(id, "guo", o.tag)
	if i < 0 || i >= len(o.devices) || o.devices[i].id != id {
		return -1
	}
	return i
}

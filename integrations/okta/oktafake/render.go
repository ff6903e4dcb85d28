package oktafake

import (
	"fmt"
	"strings"
)

// JSON shapes of the Okta management API, rendered on demand from the compact
// records. Field order follows Okta's responses.

type jHref struct {
	Href string `json:"href"`
}

type jHrefM struct {
	Href   string `json:"href"`
	Method string `json:"method,omitempty"`
}

type jUserType struct {
	ID string `json:"id"`
}

type jUserProfile struct {
	FirstName       string  `json:"firstName"`
	LastName        string  `json:"lastName"`
	MobilePhone     *string `json:"mobilePhone"`
	SecondEmail     *string `json:"secondEmail"`
	Login           string  `json:"login"`
	Email           string  `json:"email"`
	Title           string  `json:"title,omitempty"`
	Department      string  `json:"department,omitempty"`
	EmployeeNumber  string  `json:"employeeNumber,omitempty"`
	CountryCode     string  `json:"countryCode,omitempty"`
	HireDate        string  `json:"hireDate,omitempty"`
	TerminationDate string  `json:"terminationDate,omitempty"`
}

type jEmail struct {
	Value  string `json:"value"`
	Status string `json:"status"`
	Type   string `json:"type"`
}

type jProvider struct {
	Type string `json:"type"`
	Name string `json:"name"`
}

type jUserCreds struct {
	Password *struct{} `json:"password,omitempty"`
	Emails   []jEmail  `json:"emails"`
	Provider jProvider `json:"provider"`
}

type jUserLinks struct {
	Self jHref `json:"self"`
}

type jUser struct {
	ID              string       `json:"id"`
	Status          string       `json:"status"`
	Created         string       `json:"created"`
	Activated       *string      `json:"activated"`
	StatusChanged   *string      `json:"statusChanged"`
	LastLogin       *string      `json:"lastLogin"`
	LastUpdated     string       `json:"lastUpdated"`
	PasswordChanged *string      `json:"passwordChanged"`
	Type            jUserType    `json:"type"`
	Profile         jUserProfile `json:"profile"`
	Credentials     jUserCreds   `json:"credentials"`
	Links           jUserLinks   `json:"_links"`
}

func (o *Org) renderUser(base string, i int) jUser {
	u := &o.users[i]
	login := o.userLogin(i)
	st := UserStatuses[u.status]
	j := jUser{
		ID:              u.id,
		Status:          st,
		Created:         fmtSec(u.created),
		Activated:       optSec(u.activated),
		StatusChanged:   optSec(u.statusChanged),
		LastLogin:       optSec(u.lastLogin),
		LastUpdated:     fmtSec(u.lastUpdated),
		PasswordChanged: optSec(u.passwordChged),
		Type:            jUserType{ID: o.userType},
		Profile: jUserProfile{
			FirstName:      firstNames[u.first],
			LastName:       lastNames[u.last],
			Login:          login,
			Email:          login,
			Title:          titles[u.title],
			Department:     departments[u.dept],
			EmployeeNumber: fmt.Sprintf("E%06d", i+1),
			CountryCode:    countries[u.country],
		},
		Links: jUserLinks{Self: jHref{base + "/api/v1/users/" + u.id}},
	}
	if u.flags&userMobilePhone != 0 {
		p := fmt.Sprintf("+1-555-%03d-%04d", (i/10000)%1000, i%10000)
		j.Profile.MobilePhone = &p
	}
	emailStatus := "VERIFIED"
	if u.status == stStaged || u.status == stProvisioned {
		emailStatus = "UNVERIFIED"
	}
	j.Credentials.Emails = []jEmail{{Value: login, Status: emailStatus, Type: "PRIMARY"}}
	if u.flags&userSecondEmail != 0 {
		s := strings.Replace(login, "@", ".personal@", 1)
		j.Profile.SecondEmail = &s
		j.Credentials.Emails = append(j.Credentials.Emails, jEmail{Value: s, Status: "UNVERIFIED", Type: "SECONDARY"})
	}
	if u.flags&userHireDate != 0 {
		j.Profile.HireDate = fmtSec(u.created)[:10]
	}
	if u.status == stDeprovisioned {
		j.Profile.TerminationDate = fmtSec(u.statusChanged)[:10]
	}
	if u.passwordChged != 0 {
		j.Credentials.Password = &struct{}{}
	}
	j.Credentials.Provider = jProvider{Type: "OKTA", Name: "OKTA"}
	if u.flags&userADProvider != 0 {
		j.Credentials.Provider = jProvider{Type: "ACTIVE_DIRECTORY", Name: o.spec.Name + ".local"}
	}
	return j
}

type jFactor struct {
	ID          string         `json:"id"`
	FactorType  string         `json:"factorType"`
	Provider    string         `json:"provider"`
	VendorName  string         `json:"vendorName"`
	Status      string         `json:"status"`
	Created     string         `json:"created"`
	LastUpdated string         `json:"lastUpdated"`
	Profile     map[string]any `json:"profile"`
	Links       map[string]any `json:"_links"`
}

func (o *Org) renderFactor(base string, ui int, f *factorRec) jFactor {
	ft := factorTypes[f.typ]
	st := "ACTIVE"
	if !f.active {
		st = "PENDING_ACTIVATION"
	}
	self := base + "/api/v1/users/" + o.users[ui].id + "/factors/" + f.id
	j := jFactor{
		ID: f.id, FactorType: ft.typ, Provider: ft.provider, VendorName: ft.vendor, Status: st,
		Created: fmtSec(f.created), LastUpdated: fmtSec(f.lastUpdated),
		Links: map[string]any{
			"self": jHref{self},
			"user": jHref{base + "/api/v1/users/" + o.users[ui].id},
		},
	}
	cred := f.id[3:]
	switch ft.typ {
	case "sms":
		j.Profile = map[string]any{"phoneNumber": fmt.Sprintf("+1 XXX-XXX-%04d", ui%10000)}
	case "push":
		p := devicePlatforms[ui%len(devicePlatforms)]
		j.Profile = map[string]any{
			"credentialId": o.userLogin(ui), "deviceType": "SmartPhone_" + strings.ToUpper(p.platform[:1]) + strings.ToLower(p.platform[1:]),
			"name": p.kind, "platform": p.platform, "version": p.osVersion,
		}
	case "token:software:totp":
		j.Profile = map[string]any{"credentialId": o.userLogin(ui)}
	case "webauthn":
		j.Profile = map[string]any{"credentialId": cred, "authenticatorName": "MacBook Touch ID"}
	}
	if f.active {
		j.Links["verify"] = jHrefM{Href: self + "/verify", Method: "POST"}
	} else {
		j.Links["activate"] = jHrefM{Href: self + "/lifecycle/activate", Method: "POST"}
	}
	return j
}

type jRole struct {
	ID             string           `json:"id"`
	Label          string           `json:"label"`
	Type           string           `json:"type"`
	Status         string           `json:"status"`
	Created        string           `json:"created"`
	LastUpdated    string           `json:"lastUpdated"`
	AssignmentType string           `json:"assignmentType"`
	Links          map[string]jHref `json:"_links"`
}

func renderRole(r *roleRec, assignment, assigneeHref string) jRole {
	rt := roleTypes[r.typ]
	return jRole{
		ID: r.id, Label: rt.label, Type: rt.typ, Status: "ACTIVE",
		Created: fmtSec(r.created), LastUpdated: fmtSec(r.lastUpdated),
		AssignmentType: assignment,
		Links:          map[string]jHref{"assignee": {assigneeHref}},
	}
}

type jGroupProfile struct {
	Name        string  `json:"name"`
	Description *string `json:"description"`
}

type jGroupStats struct {
	UsersCount             int              `json:"usersCount"`
	AppsCount              int              `json:"appsCount"`
	GroupPushMappingsCount int              `json:"groupPushMappingsCount"`
	HasAdminPrivilege      bool             `json:"hasAdminPrivilege"`
	Links                  map[string]jHref `json:"_links"`
}

type jGroupEmbedded struct {
	Stats jGroupStats `json:"stats"`
}

type jGroup struct {
	ID                    string          `json:"id"`
	Created               string          `json:"created"`
	LastUpdated           string          `json:"lastUpdated"`
	LastMembershipUpdated string          `json:"lastMembershipUpdated"`
	ObjectClass           []string        `json:"objectClass"`
	Type                  string          `json:"type"`
	Profile               jGroupProfile   `json:"profile"`
	Links                 map[string]any  `json:"_links"`
	Embedded              *jGroupEmbedded `json:"_embedded,omitempty"`
}

func (o *Org) renderGroup(base string, i int, stats bool) jGroup {
	g := &o.groups[i]
	self := base + "/api/v1/groups/" + g.id
	j := jGroup{
		ID: g.id, Created: fmtSec(g.created), LastUpdated: fmtSec(g.lastUpdated),
		LastMembershipUpdated: fmtSec(g.lastMembershp),
		ObjectClass:           []string{"okta:user_group"},
		Type:                  groupTypeNames[g.typ],
		Profile:               jGroupProfile{Name: g.name},
		Links: map[string]any{
			"logo": []map[string]string{
				{"name": "medium", "href": "https://ok12static.oktacdn.com/assets/img/logos/groups/odyssey/okta-medium.png", "type": "image/png"},
				{"name": "large", "href": "https://ok12static.oktacdn.com/assets/img/logos/groups/odyssey/okta-large.png", "type": "image/png"},
			},
			"users": jHref{self + "/users"},
			"apps":  jHref{self + "/apps"},
		},
	}
	if g.desc != "" {
		d := g.desc
		j.Profile.Description = &d
	}
	if g.typ == gtApp {
		j.ObjectClass = []string{"okta:windows_security_principal"}
		if g.sourceApp >= 0 && int(g.sourceApp) < len(o.apps) {
			j.Links["source"] = jHref{base + "/api/v1/apps/" + o.apps[g.sourceApp].id}
		}
	}
	if stats {
		j.Embedded = &jGroupEmbedded{Stats: jGroupStats{
			UsersCount:        o.groupSize(i),
			AppsCount:         int(g.appsCount),
			HasAdminPrivilege: len(g.roles) > 0,
			Links:             map[string]jHref{"self": {self + "/stats"}},
		}}
	}
	return j
}

type jRuleExpression struct {
	Value string `json:"value"`
	Type  string `json:"type"`
}

type jRuleExclude struct {
	Exclude []string `json:"exclude"`
}

type jRuleConditions struct {
	People struct {
		Users  jRuleExclude `json:"users"`
		Groups jRuleExclude `json:"groups"`
	} `json:"people"`
	Expression jRuleExpression `json:"expression"`
}

type jRuleActions struct {
	AssignUserToGroups struct {
		GroupIDs []string `json:"groupIds"`
	} `json:"assignUserToGroups"`
}

type jRule struct {
	Type        string          `json:"type"`
	ID          string          `json:"id"`
	Status      string          `json:"status"`
	Name        string          `json:"name"`
	Created     string          `json:"created"`
	LastUpdated string          `json:"lastUpdated"`
	Conditions  jRuleConditions `json:"conditions"`
	Actions     jRuleActions    `json:"actions"`
}

func (o *Org) renderRule(i int) jRule {
	ru := &o.rules[i]
	st := "ACTIVE"
	if !ru.active {
		st = "INACTIVE"
	}
	j := jRule{Type: "group_rule", ID: ru.id, Status: st, Name: ru.name,
		Created: fmtSec(ru.created), LastUpdated: fmtSec(ru.lastUpdated)}
	j.Conditions.People.Users.Exclude = []string{}
	j.Conditions.People.Groups.Exclude = []string{}
	j.Conditions.Expression = jRuleExpression{
		Value: `user.department=="` + departments[ru.dept] + `"`,
		Type:  "urn:okta:expression:1.0",
	}
	j.Actions.AssignUserToGroups.GroupIDs = make([]string, 0, len(ru.groups))
	for _, gi := range ru.groups {
		j.Actions.AssignUserToGroups.GroupIDs = append(j.Actions.AssignUserToGroups.GroupIDs, o.groups[gi].id)
	}
	return j
}

type jApp struct {
	ID            string         `json:"id"`
	Name          string         `json:"name"`
	Label         string         `json:"label"`
	Status        string         `json:"status"`
	LastUpdated   string         `json:"lastUpdated"`
	Created       string         `json:"created"`
	Accessibility map[string]any `json:"accessibility"`
	Visibility    map[string]any `json:"visibility"`
	Features      []string       `json:"features"`
	SignOnMode    string         `json:"signOnMode"`
	Credentials   map[string]any `json:"credentials"`
	Settings      map[string]any `json:"settings"`
	Links         map[string]any `json:"_links"`
}

type jLinkNamed struct {
	Name string `json:"name"`
	Href string `json:"href"`
	Type string `json:"type"`
}

func (o *Org) renderApp(base string, i int) jApp {
	a := &o.apps[i]
	t := a.tmpl
	st := "ACTIVE"
	if !a.active {
		st = "INACTIVE"
	}
	self := base + "/api/v1/apps/" + a.id
	j := jApp{
		ID: a.id, Name: a.name, Label: a.label, Status: st,
		LastUpdated: fmtSec(a.lastUpdated), Created: fmtSec(a.created),
		Accessibility: map[string]any{"selfService": false, "errorRedirectUrl": nil, "loginRedirectUrl": nil},
		Visibility: map[string]any{
			"autoSubmitToolbar": false,
			"hide":              map[string]bool{"iOS": false, "web": false},
			"appLinks":          map[string]bool{"login": true},
		},
		Features:   []string{},
		SignOnMode: t.mode,
		Credentials: map[string]any{
			"scheme":           "EDIT_USERNAME_AND_PASSWORD",
			"userNameTemplate": map[string]string{"template": "${source.login}", "type": "BUILT_IN"},
			"revealPassword":   false,
			"signing":          map[string]string{"kid": "kid" + a.id[3:]},
		},
		Links: map[string]any{
			"logo": []jLinkNamed{{Name: "medium", Href: "https://ok12static.oktacdn.com/fs/bcg/4/" + t.logo + "_medium.png", Type: "image/png"}},
			"appLinks": []jLinkNamed{
				{Name: "login", Href: base + "/home/" + a.name + "/" + a.id + "/" + "aln" + a.id[3:], Type: "text/html"},
			},
			"help":       jHref{base + "/app/" + a.name + "/" + a.id + "/setup/help/" + t.mode + "/instructions"},
			"users":      jHref{self + "/users"},
			"groups":     jHref{self + "/groups"},
			"deactivate": jHref{self + "/lifecycle/deactivate"},
			"self":       jHref{self},
		},
	}
	app := map[string]any{}
	switch t.kind {
	case appAWS:
		j.Features = []string{"PUSH_NEW_USERS", "PUSH_PROFILE_UPDATES"}
		app = map[string]any{
			"awsEnvironmentType":  "aws.amazon",
			"identityProviderArn": "arn:aws:iam::" + a.awsAccount + ":saml-provider/OKTA",
			"groupFilter":         `aws_(?{{accountid}}\d+)_(?{{role}}[a-zA-Z0-9+=,.@\-_]+)`,
			"roleValuePattern":    "arn:aws:iam::${accountid}:saml-provider/OKTA,arn:aws:iam::${accountid}:role/${role}",
			"joinAllRoles":        i%2 == 0,
			"sessionDuration":     3600,
			"loginURL":            "https://console.aws.amazon.com/ec2/home",
			"useGroupMapping":     false,
		}
	case appGitHub:
		app = map[string]any{"githubOrg": o.spec.Name + "-org"}
		if t.mode == "SAML_2_0" {
			j.Features = []string{"IMPORT_NEW_USERS", "PUSH_NEW_USERS", "GROUP_PUSH"}
		}
	case appOffice365:
		app = map[string]any{"domain": o.spec.Name + ".onmicrosoft.com", "msftTenant": o.spec.Name}
		j.Features = []string{"PUSH_NEW_USERS", "PUSH_USER_DEACTIVATION", "IMPORT_NEW_USERS", "PROFILE_MASTERING"}
	case appBookmark:
		app = map[string]any{"requestIntegration": false, "url": "https://wiki." + o.spec.EmailDomain + "/"}
		delete(j.Credentials, "signing")
	case appOIDC:
		j.Credentials = map[string]any{
			"userNameTemplate": map[string]string{"template": "${source.login}", "type": "BUILT_IN"},
			"signing":          map[string]string{"kid": "kid" + a.id[3:]},
			"oauthClient": map[string]any{
				"autoKeyRotation":            true,
				"client_id":                  a.id,
				"client_secret":              "fake-secret-" + fmt.Sprintf("%016x", mix64(o.seed^uint64(i))),
				"token_endpoint_auth_method": "client_secret_basic",
			},
		}
		j.Settings = map[string]any{"app": app, "oauthClient": map[string]any{
			"redirect_uris":  []string{"https://portal." + o.spec.EmailDomain + "/callback"},
			"response_types": []string{"code"}, "grant_types": []string{"authorization_code"},
			"application_type": "web",
		}}
	case appCustomSWA:
		app = map[string]any{"url": "https://" + strings.ReplaceAll(a.name, "_", "-") + "." + o.spec.EmailDomain + "/login"}
	}
	if j.Settings == nil {
		j.Settings = map[string]any{"app": app}
	}
	return j
}

type jAppUserProfile struct {
	Role      *string  `json:"role,omitempty"`
	SamlRoles []string `json:"samlRoles,omitempty"`
}

type jAppUser struct {
	ID              string          `json:"id"`
	ExternalID      *string         `json:"externalId"`
	Created         string          `json:"created"`
	LastUpdated     string          `json:"lastUpdated"`
	Scope           string          `json:"scope"`
	Status          string          `json:"status"`
	StatusChanged   string          `json:"statusChanged"`
	PasswordChanged *string         `json:"passwordChanged"`
	SyncState       string          `json:"syncState"`
	Credentials     map[string]any  `json:"credentials"`
	Profile         jAppUserProfile `json:"profile"`
	Links           map[string]any  `json:"_links"`
}

func (o *Org) assignProfileJSON(p int16) jAppUserProfile {
	ap := &o.profiles[p]
	var j jAppUserProfile
	if ap.Role != "" {
		r := ap.Role
		j.Role = &r
	}
	if len(ap.SamlRoles) > 0 {
		j.SamlRoles = ap.SamlRoles
	}
	return j
}

func (o *Org) renderAppUser(base string, ai int, au *appUserRec) jAppUser {
	a := &o.apps[ai]
	u := &o.users[au.user]
	created := max(a.created, u.created) + int64(mix64(o.seed^uint64(ai)<<20^uint64(au.user))%(30*day))
	created = min(created, o.now)
	scope := "USER"
	if au.group >= 0 {
		scope = "GROUP"
	}
	status := "ACTIVE"
	if u.status == stSuspended || u.status == stLockedOut {
		status = "INACTIVE"
	} else if u.status == stStaged || u.status == stProvisioned {
		status = "PROVISIONED"
	}
	j := jAppUser{
		ID: u.id, Created: fmtSec(created), LastUpdated: fmtSec(created), Scope: scope,
		Status: status, StatusChanged: fmtSec(created), SyncState: "DISABLED",
		Credentials: map[string]any{"userName": o.userLogin(int(au.user))},
		Profile:     o.assignProfileJSON(au.prof),
		Links: map[string]any{
			"app":  jHref{base + "/api/v1/apps/" + a.id},
			"user": jHref{base + "/api/v1/users/" + u.id},
		},
	}
	if au.group >= 0 {
		j.Links["group"] = map[string]string{"name": o.groups[au.group].name, "href": base + "/api/v1/groups/" + o.groups[au.group].id}
	}
	return j
}

type jAppGroup struct {
	ID          string          `json:"id"`
	LastUpdated string          `json:"lastUpdated"`
	Priority    int             `json:"priority"`
	Profile     jAppUserProfile `json:"profile"`
	Links       map[string]any  `json:"_links"`
}

func (o *Org) renderAppGroup(base string, ai, k int) jAppGroup {
	a := &o.apps[ai]
	ag := &a.groups[k]
	g := &o.groups[ag.group]
	return jAppGroup{
		ID: g.id, LastUpdated: fmtSec(max(a.created, g.created)), Priority: k,
		Profile: o.assignProfileJSON(ag.prof),
		Links: map[string]any{
			"app":   jHref{base + "/api/v1/apps/" + a.id},
			"self":  jHref{base + "/api/v1/apps/" + a.id + "/groups/" + g.id},
			"group": jHref{base + "/api/v1/groups/" + g.id},
		},
	}
}

type jDeviceProfile struct {
	DisplayName           string `json:"displayName"`
	Platform              string `json:"platform"`
	Manufacturer          string `json:"manufacturer"`
	Model                 string `json:"model"`
	OSVersion             string `json:"osVersion"`
	SerialNumber          string `json:"serialNumber"`
	Registered            bool   `json:"registered"`
	SecureHardwarePresent bool   `json:"secureHardwarePresent"`
}

type jDisplayName struct {
	Value     string `json:"value"`
	Sensitive bool   `json:"sensitive"`
}

type jDeviceUser struct {
	Created          string `json:"created"`
	ManagementStatus string `json:"managementStatus"`
	ScreenLockType   string `json:"screenLockType"`
	User             jUser  `json:"user"`
}

type jDevice struct {
	ID                  string                   `json:"id"`
	Status              string                   `json:"status"`
	Created             string                   `json:"created"`
	LastUpdated         string                   `json:"lastUpdated"`
	Profile             jDeviceProfile           `json:"profile"`
	ResourceID          string                   `json:"resourceId"`
	ResourceDisplayName jDisplayName             `json:"resourceDisplayName"`
	ResourceAlternateID *string                  `json:"resourceAlternateId"`
	ResourceType        string                   `json:"resourceType"`
	Links               map[string]any           `json:"_links"`
	Embedded            map[string][]jDeviceUser `json:"_embedded,omitempty"`
}

func (o *Org) deviceDisplayName(i int) string {
	d := &o.devices[i]
	p := devicePlatforms[d.platform]
	if len(d.users) > 0 {
		return firstNames[o.users[d.users[0]].first] + "'s " + p.kind
	}
	return fmt.Sprintf("%s %d", p.kind, i+1)
}

func (o *Org) renderDevice(base string, i int, expandUser bool) jDevice {
	d := &o.devices[i]
	p := devicePlatforms[d.platform]
	name := o.deviceDisplayName(i)
	self := base + "/api/v1/devices/" + d.id
	j := jDevice{
		ID: d.id, Status: deviceStatuses[d.status], Created: fmtSec(d.created), LastUpdated: fmtSec(d.lastUpdated),
		Profile: jDeviceProfile{
			DisplayName: name, Platform: p.platform, Manufacturer: p.manufacturer, Model: p.model,
			OSVersion: p.osVersion, SerialNumber: fmt.Sprintf("C02%09X", mix64(o.seed^uint64(i)<<3)%0xfffffffff),
			Registered: d.status != 2, SecureHardwarePresent: p.platform != "WINDOWS" || i%2 == 0,
		},
		ResourceID:          d.id,
		ResourceDisplayName: jDisplayName{Value: name, Sensitive: false},
		ResourceType:        "UDDevice",
		Links: map[string]any{
			"self":  jHref{self},
			"users": jHref{self + "/users"},
		},
	}
	if expandUser {
		us := make([]jDeviceUser, 0, len(d.users))
		for k, ui := range d.users {
			ms := "NOT_MANAGED"
			if (i+k)%3 != 0 {
				ms = "MANAGED"
			}
			us = append(us, jDeviceUser{
				Created:          fmtSec(max(d.created, o.users[ui].created)),
				ManagementStatus: ms,
				ScreenLockType:   []string{"BIOMETRIC", "PASSCODE", "NONE"}[(i+k)%3],
				User:             o.renderUser(base, int(ui)),
			})
		}
		j.Embedded = map[string][]jDeviceUser{"users": us}
	}
	return j
}

type jLogActor struct {
	ID          string  `json:"id"`
	Type        string  `json:"type"`
	AlternateID string  `json:"alternateId"`
	DisplayName string  `json:"displayName"`
	DetailEntry *string `json:"detailEntry"`
}

type jLogEvent struct {
	Actor          jLogActor      `json:"actor"`
	Client         map[string]any `json:"client"`
	DisplayMessage string         `json:"displayMessage"`
	EventType      string         `json:"eventType"`
	Outcome        map[string]any `json:"outcome"`
	Published      string         `json:"published"`
	Severity       string         `json:"severity"`
	DebugContext   map[string]any `json:"debugContext"`
	LegacyType     string         `json:"legacyEventType"`
	Transaction    map[string]any `json:"transaction"`
	UUID           string         `json:"uuid"`
	Version        string         `json:"version"`
	Target         []jLogActor    `json:"target"`
}

func (o *Org) renderEvent(pos int) jLogEvent {
	e := &o.events[pos]
	k := eventKinds[e.kind]
	uuid := o.eventUUID(pos)
	actor := jLogActor{ID: o.eventActorID(e), Type: "User", AlternateID: "deleted.user@" + o.spec.EmailDomain, DisplayName: "Deleted User"}
	if int(e.actor) < len(o.users) {
		actor.AlternateID = o.userLogin(int(e.actor))
		actor.DisplayName = o.userDisplayName(int(e.actor))
	}
	reqID := "X" + strings.ReplaceAll(uuid[:18], "-", "") + "AAA"
	j := jLogEvent{
		Actor: actor,
		Client: map[string]any{
			"userAgent": map[string]string{"rawUserAgent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36", "os": "Mac OS X", "browser": "CHROME"},
			"zone":      "null", "device": "Computer",
			"ipAddress": fmt.Sprintf("203.0.113.%d", 1+pos%250),
		},
		DisplayMessage: k.display,
		EventType:      k.typ,
		Outcome:        map[string]any{"result": "SUCCESS", "reason": nil},
		Published:      fmtMs(e.ms),
		Severity:       "INFO",
		DebugContext: map[string]any{"debugData": map[string]string{
			"requestId":  reqID,
			"requestUri": o.eventRequestURI(e),
			"url":        o.eventRequestURI(e) + "?",
		}},
		LegacyType:  k.legacy,
		Transaction: map[string]any{"type": "WEB", "id": reqID, "detail": map[string]any{}},
		UUID:        uuid,
		Version:     "0",
		Target:      []jLogActor{},
	}
	switch k.target {
	case "AppInstance":
		t := jLogActor{ID: o.eventTargetID(e), Type: "AppInstance", AlternateID: "Deleted App", DisplayName: "Deleted App"}
		if int(e.target) < len(o.apps) {
			t.AlternateID = o.apps[e.target].label
			t.DisplayName = o.apps[e.target].label
		}
		j.Target = append(j.Target, t)
	case "UserGroup":
		g := &o.groups[e.target]
		j.Target = append(j.Target, jLogActor{ID: g.id, Type: "UserGroup", AlternateID: g.name, DisplayName: g.name})
	}
	if e.kind == evPasswordUpdate || e.kind == evGroupAdd {
		j.Target = append(j.Target, jLogActor{ID: actor.ID, Type: "User", AlternateID: actor.AlternateID, DisplayName: actor.DisplayName})
	}
	return j
}

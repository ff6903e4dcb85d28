package okta

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/stepgraph/stepgraph/sdk/graph"
)

// Timestamps that do not parse leave their properties unset: SetTimes'
// error is not a reason to lose the object.

// ---- account and services ----

func accountEntity(org orgInfo) *graph.Entity {
	display := org.Name
	if org.Preview {
		display += " (preview)"
	}
	e := &graph.Entity{
		Key: "okta_account_" + org.AccountID, Type: typeAccount, Class: entAccount.Class, DisplayName: display,
	}
	e.Set("name", org.Name).Set("accountId", org.AccountID).Set("webLink", org.URL)
	return e
}

func serviceEntity(org orgInfo, name string) *graph.Entity {
	e := &graph.Entity{
		Key: "okta:" + strings.ToLower(name) + ":" + org.Name, Type: typeService, Class: entService.Class,
		DisplayName: "Okta " + name,
	}
	e.Set("name", name).Set("function", []string{name}).Set("category", []string{"security"}).
		Set("controlDomain", "identity-access")
	return e
}

// ---- users ----

// oktaUser is a user of the users listing, decoded with only the fields
// the conversion reads. Timestamps are plain strings ("" when absent or
// null), which decode without an allocation per field.
type oktaUser struct {
	ID              string      `json:"id"`
	Status          string      `json:"status"`
	Created         string      `json:"created"`
	Activated       string      `json:"activated"`
	StatusChanged   string      `json:"statusChanged"`
	LastLogin       string      `json:"lastLogin"`
	LastUpdated     string      `json:"lastUpdated"`
	PasswordChanged string      `json:"passwordChanged"`
	Profile         userProfile `json:"profile"`
	Credentials     struct {
		Emails []struct {
			Value  string `json:"value"`
			Status string `json:"status"`
		} `json:"emails"`
	} `json:"credentials"`
}

// userProfile is a user's profile: every attribute, standard or custom, in
// the order Okta sent them, decoded with the keys of Okta's base profile
// shared (graph.Attributes).
type userProfile struct{ graph.Attributes }

// UnmarshalJSON decodes a profile object (or null).
func (p *userProfile) UnmarshalJSON(b []byte) error { return p.Decode(b, baseProfileKeys) }

// baseProfileKeys are the attributes of Okta's base user profile (and a
// few common custom ones): decoding shares these strings and their property
// names instead of allocating them for every user.
var baseProfileKeys = graph.NewAttributeNames(
	"login", "email", "secondEmail", "firstName", "lastName", "middleName", "honorificPrefix",
	"honorificSuffix", "title", "displayName", "nickName", "profileUrl", "primaryPhone", "mobilePhone",
	"streetAddress", "city", "state", "zipCode", "postalAddress", "countryCode", "preferredLanguage",
	"locale", "timezone", "userType", "employeeNumber", "costCenter", "organization", "division",
	"department", "managerId", "manager", "hireDate", "terminationDate",
)

// userEntity converts a user. mfa is nil when the user's factors are not
// known (source disabled, or the user vanished before they were read).
func userEntity(org orgInfo, u *oktaUser, mfa *bool) *graph.Entity {
	p := &u.Profile
	e := &graph.Entity{Key: u.ID, Type: typeUser, Class: entUser.Class, Properties: make(map[string]any, p.Len()+24)}
	p.CopyTo(e, "displayName")
	if len(u.Credentials.Emails) > 0 {
		verified, unverified := []string{}, []string{}
		for _, em := range u.Credentials.Emails {
			if em.Status == "VERIFIED" {
				verified = append(verified, em.Value)
			} else {
				unverified = append(unverified, em.Value)
			}
		}
		e.Set("verifiedEmails", verified).Set("unverifiedEmails", unverified)
	}
	login := p.String("login")
	e.DisplayName = login
	if e.DisplayName == "" {
		e.DisplayName = u.ID
	}
	username, _, _ := strings.Cut(login, "@")
	e.Set("id", u.ID).
		Set("webLink", org.AdminURL+"/admin/user/profile/view/"+u.ID).
		Set("name", strings.TrimSpace(p.String("firstName")+" "+p.String("lastName"))).
		Set("username", username).
		Set("status", strings.ToLower(u.Status)).
		Set("active", u.Status == "ACTIVE")
	if em, ok := p.Get("email").(string); ok {
		e.Set("email", strings.ToLower(em))
	} else {
		e.Set("email", nil)
	}
	e.SetTimes(&u.Created, "created", "createdOn")
	e.SetTimes(&u.Activated, "activated", "activatedOn")
	e.SetTimes(&u.StatusChanged, "statusChanged", "statusChangedOn")
	e.SetTimes(&u.LastLogin, "lastLogin", "lastLoginOn")
	e.SetTimes(&u.LastUpdated, "lastUpdated", "lastUpdatedOn")
	e.SetTimes(&u.PasswordChanged, "passwordChanged", "passwordChangedOn")
	if s := p.String("hireDate"); s != "" {
		e.SetTimes(s, "hiredOn")
	}
	if s := p.String("terminationDate"); s != "" {
		e.SetTimes(s, "terminatedOn")
	}
	if cc := p.String("countryCode"); cc != "" {
		e.Set("countryCode", cc)
	}
	if mfa != nil {
		e.Set("mfaEnabled", *mfa)
	}
	return e
}

// ---- factors ----

type oktaFactor struct {
	ID           string  `json:"id"`
	FactorType   string  `json:"factorType"`
	Provider     string  `json:"provider"`
	VendorName   string  `json:"vendorName"`
	Device       *string `json:"device"`
	Status       string  `json:"status"`
	Created      *string `json:"created"`
	LastUpdated  *string `json:"lastUpdated"`
	LastVerified *string `json:"lastVerified"`
	Profile      struct {
		AuthenticatorName *string `json:"authenticatorName"`
		Platform          *string `json:"platform"`
		DeviceType        *string `json:"deviceType"`
		CredentialID      *string `json:"credentialId"`
		Name              *string `json:"name"`
	} `json:"profile"`
}

func factorEntity(f *oktaFactor, raw json.RawMessage) *graph.Entity {
	name := f.Provider + " " + f.FactorType
	e := &graph.Entity{Key: f.ID, Type: typeMFADevice, Class: entMFADevice.Class, DisplayName: name, RawData: graph.DefaultRawData(raw),
		Properties: make(map[string]any, 14)} // sized for all of them: one map, not three as it grows
	e.Set("name", name).Set("id", f.ID).Set("factorType", f.FactorType).Set("provider", f.Provider).
		Set("status", strings.ToLower(f.Status)).Set("active", f.Status == "ACTIVE")
	e.SetIfPresent("vendorName", f.VendorName)
	e.SetIfPresent("device", f.Device)
	e.SetTimes(f.Created, "created")
	e.SetTimes(f.LastUpdated, "lastUpdated")
	e.SetTimes(f.LastVerified, "lastVerifiedOn")
	e.SetIfPresent("authenticatorName", f.Profile.AuthenticatorName)
	e.SetIfPresent("platform", f.Profile.Platform)
	e.SetIfPresent("deviceType", f.Profile.DeviceType)
	e.SetIfPresent("credentialId", f.Profile.CredentialID)
	e.SetIfPresent("profileName", f.Profile.Name)
	return e
}

// ---- groups ----

type oktaGroup struct {
	ID                    string   `json:"id"`
	Created               *string  `json:"created"`
	LastUpdated           *string  `json:"lastUpdated"`
	LastMembershipUpdated *string  `json:"lastMembershipUpdated"`
	ObjectClass           []string `json:"objectClass"`
	Type                  string   `json:"type"`
	Profile               struct {
		Name        string  `json:"name"`
		Description *string `json:"description"`
	} `json:"profile"`
	Embedded *struct {
		Stats *struct {
			UsersCount        *int  `json:"usersCount"`
			HasAdminPrivilege *bool `json:"hasAdminPrivilege"`
		} `json:"stats"`
	} `json:"_embedded"`
}

func groupType(t string) string {
	if t == "APP_GROUP" {
		return typeAppUserGroup
	}
	return typeUserGroup
}

func groupEntity(org orgInfo, g *oktaGroup, raw json.RawMessage) *graph.Entity {
	name := g.Profile.Name
	if name == "" {
		name = g.ID
	}
	e := &graph.Entity{Key: g.ID, Type: groupType(g.Type), Class: entUserGroup.Class, DisplayName: name, RawData: graph.DefaultRawData(raw)}
	e.Set("id", g.ID).Set("name", name).Set("type", g.Type).
		Set("webLink", org.AdminURL+"/admin/group/"+g.ID)
	e.SetIfPresent("description", g.Profile.Description)
	if g.ObjectClass != nil {
		e.Set("objectClass", g.ObjectClass)
	}
	e.SetTimes(g.Created, "created", "createdOn")
	e.SetTimes(g.LastUpdated, "lastUpdated", "lastUpdatedOn")
	e.SetTimes(g.LastMembershipUpdated, "lastMembershipUpdated", "lastMembershipUpdatedOn")
	return e
}

// ---- applications ----

type oktaApp struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Label       string   `json:"label"`
	Status      string   `json:"status"`
	Created     *string  `json:"created"`
	LastUpdated *string  `json:"lastUpdated"`
	Features    []string `json:"features"`
	SignOnMode  string   `json:"signOnMode"`
	Settings    struct {
		App map[string]any `json:"app"`
	} `json:"settings"`
	Links struct {
		Logo     json.RawMessage `json:"logo"`
		AppLinks json.RawMessage `json:"appLinks"`
	} `json:"_links"`
}

type namedLink struct {
	Name string `json:"name"`
	Href string `json:"href"`
}

// links decodes a HAL link that may be one object or an array of them.
func links(raw json.RawMessage) []namedLink {
	if len(raw) == 0 {
		return nil
	}
	var many []namedLink
	if json.Unmarshal(raw, &many) == nil {
		return many
	}
	var one namedLink
	if json.Unmarshal(raw, &one) == nil {
		return []namedLink{one}
	}
	return nil
}

func appEntity(org orgInfo, a *oktaApp, raw json.RawMessage) *graph.Entity {
	display := a.Label
	if display == "" {
		display = a.Name
	}
	if display == "" {
		display = a.ID
	}
	name := a.Name
	if name == "" {
		name = a.Label
	}
	short := appShortName(a.Name)
	e := &graph.Entity{Key: a.ID, Type: typeApp, Class: entApp.Class, DisplayName: display, RawData: graph.DefaultRawData(raw)}
	e.Set("id", a.ID).Set("name", name).Set("shortName", short).Set("label", a.Label).
		Set("status", strings.ToLower(a.Status)).Set("active", a.Status == "ACTIVE").
		Set("signOnMode", a.SignOnMode).
		Set("isSAMLApp", strings.HasPrefix(a.SignOnMode, "SAML")).
		Set("appVendorName", vendorName(short)).
		Set("appAccountType", accountType(short)).
		Set("isMultiInstanceApp", isMultiInstanceApp(short)).
		Set("webLink", org.AdminURL+"/admin/app/"+a.Name+"/instance/"+a.ID)
	if a.Features != nil {
		e.Set("features", a.Features)
	}
	e.SetTimes(a.Created, "created")
	e.SetTimes(a.LastUpdated, "lastUpdated")
	if l := links(a.Links.Logo); len(l) > 0 && l[0].Href != "" {
		e.Set("imageUrl", l[0].Href)
	}
	if l := links(a.Links.AppLinks); len(l) > 0 {
		login := l[0]
		for _, x := range l {
			if x.Name == "login" {
				login = x
				break
			}
		}
		e.SetIfPresent("loginUrl", login.Href)
	}
	s := a.Settings.App
	switch {
	case s == nil:
	case s["awsEnvironmentType"] == "aws.amazon":
		arn, _ := s["identityProviderArn"].(string)
		if id := awsAccountIDFromARN(arn); id != "" {
			e.Set("awsAccountId", id).Set("appAccountId", id)
		}
		for from, to := range map[string]string{
			"identityProviderArn": "awsIdentityProviderArn", "awsEnvironmentType": "awsEnvironmentType",
			"groupFilter": "awsGroupFilter", "roleValuePattern": "awsRoleValuePattern",
			"joinAllRoles": "awsJoinAllRoles", "sessionDuration": "awsSessionDuration",
		} {
			if v, ok := graph.FlatValue(s[from]); ok {
				e.Set(to, v)
			}
		}
	case nonEmptyString(s["githubOrg"]) != "":
		e.Set("githubOrg", s["githubOrg"]).Set("appAccountId", s["githubOrg"])
	case nonEmptyString(s["domain"]) != "":
		e.Set("appDomain", s["domain"]).Set("appAccountId", s["domain"])
	}
	return e
}

func nonEmptyString(v any) string {
	s, _ := v.(string)
	return s
}

// ---- roles ----

type oktaRole struct {
	ID             string  `json:"id"`
	Label          string  `json:"label"`
	Type           string  `json:"type"`
	Status         string  `json:"status"`
	Description    *string `json:"description"`
	Created        *string `json:"created"`
	LastUpdated    *string `json:"lastUpdated"`
	AssignmentType string  `json:"assignmentType"`
}

func roleEntity(r *oktaRole, raw json.RawMessage) *graph.Entity {
	e := &graph.Entity{Key: roleKey(r.Label), Type: typeRole, Class: entRole.Class, DisplayName: r.Label, RawData: graph.DefaultRawData(raw)}
	e.Set("id", r.ID).Set("name", r.Label).Set("roleType", r.Type).
		Set("status", strings.ToLower(r.Status)).Set("active", r.Status == "ACTIVE").
		Set("superAdmin", r.Type == "SUPER_ADMIN")
	e.SetIfPresent("description", r.Description)
	e.SetTimes(r.Created, "createdOn")
	e.SetTimes(r.LastUpdated, "lastUpdatedOn")
	return e
}

// ---- rules ----

type oktaRule struct {
	ID          string          `json:"id"`
	Name        string          `json:"name"`
	Type        string          `json:"type"`
	Status      string          `json:"status"`
	Created     *string         `json:"created"`
	LastUpdated *string         `json:"lastUpdated"`
	Conditions  json.RawMessage `json:"conditions"`
	Actions     json.RawMessage `json:"actions"`
}

func (r *oktaRule) groupIDs() []string {
	var a struct {
		AssignUserToGroups struct {
			GroupIDs []string `json:"groupIds"`
		} `json:"assignUserToGroups"`
	}
	_ = json.Unmarshal(r.Actions, &a)
	return a.AssignUserToGroups.GroupIDs
}

func ruleEntity(r *oktaRule, raw json.RawMessage) *graph.Entity {
	name := r.Name
	if name == "" {
		name = r.ID
	}
	e := &graph.Entity{Key: r.ID, Type: typeRule, Class: entRule.Class, DisplayName: name, RawData: graph.DefaultRawData(raw)}
	e.Set("id", r.ID).Set("name", r.Name).Set("ruleType", r.Type).
		Set("status", strings.ToLower(r.Status)).Set("active", r.Status == "ACTIVE")
	e.SetTimes(r.Created, "created", "createdOn")
	e.SetTimes(r.LastUpdated, "lastUpdated", "lastUpdatedOn")
	if s := graph.CompactJSON(r.Conditions); s != "" {
		e.Set("conditions", s)
	}
	if s := graph.CompactJSON(r.Actions); s != "" {
		e.Set("actions", s)
	}
	return e
}

// ---- devices ----

type oktaDevice struct {
	ID                  string  `json:"id"`
	Status              string  `json:"status"`
	Created             *string `json:"created"`
	LastUpdated         *string `json:"lastUpdated"`
	ResourceType        *string `json:"resourceType"`
	ResourceDisplayName struct {
		Value string `json:"value"`
	} `json:"resourceDisplayName"`
	Profile struct {
		DisplayName  string  `json:"displayName"`
		Platform     *string `json:"platform"`
		Manufacturer *string `json:"manufacturer"`
		Model        *string `json:"model"`
		OSVersion    *string `json:"osVersion"`
		SerialNumber *string `json:"serialNumber"`
		Registered   *bool   `json:"registered"`
	} `json:"profile"`
	Embedded struct {
		Users []struct {
			User struct {
				ID string `json:"id"`
			} `json:"user"`
		} `json:"users"`
	} `json:"_embedded"`
}

func optString(p *string) any {
	if p == nil {
		return nil
	}
	return *p
}

// devicePlatform maps Okta's device platform (profile.platform: ANDROID,
// IOS, MACOS, WINDOWS) to the data model's Device.platform enum (darwin,
// linux, unix, windows, android, ios, embedded, other).
func devicePlatform(okta string) string {
	switch strings.ToUpper(okta) {
	case "MACOS":
		return "darwin"
	case "WINDOWS":
		return "windows"
	case "IOS":
		return "ios"
	case "ANDROID":
		return "android"
	}
	return "other"
}

func deviceEntity(d *oktaDevice, raw json.RawMessage) *graph.Entity {
	name := d.ResourceDisplayName.Value
	if name == "" {
		name = d.Profile.DisplayName
	}
	if name == "" {
		name = d.ID
	}
	e := &graph.Entity{Key: d.ID, Type: typeDevice, Class: entDevice.Class, DisplayName: name, RawData: graph.DefaultRawData(raw)}
	e.Set("id", d.ID).Set("deviceId", d.ID).Set("name", name).Set("deviceStatus", d.Status).
		Set("category", optString(d.ResourceType)).
		Set("make", optString(d.Profile.Manufacturer)).
		Set("model", optString(d.Profile.Model)).
		Set("serial", optString(d.Profile.SerialNumber))
	if p := d.Profile.Platform; p != nil && *p != "" {
		e.Set("platform", devicePlatform(*p)).Set("osPlatform", *p)
	}
	e.SetIfPresent("osVersion", d.Profile.OSVersion)
	if d.Profile.Registered != nil {
		e.Set("registered", *d.Profile.Registered)
	}
	e.SetTimes(d.Created, "createdOn")
	e.SetTimes(d.LastUpdated, "updatedOn", "lastSeenOn")
	return e
}

// ---- assignments ----

// assignProfile is the profile of an app user or app group assignment.
type assignProfile struct {
	Email     string          `json:"email"`
	Role      json.RawMessage `json:"role"`
	SamlRoles json.RawMessage `json:"samlRoles"`
}

// roleProps returns the role and roles relationship properties: role as a
// string (JSON when it is not one), roles as the JSON of samlRoles.
func (p *assignProfile) roleProps() (role, roles any) {
	if s := strings.TrimSpace(string(p.Role)); s != "" && s != "null" {
		var str string
		if json.Unmarshal(p.Role, &str) == nil {
			role = str
		} else {
			role = graph.CompactJSON(p.Role)
		}
	}
	if s := strings.TrimSpace(string(p.SamlRoles)); s != "" && s != "null" {
		roles = graph.CompactJSON(p.SamlRoles)
	}
	return role, roles
}

// awsRoleValues returns samlRoles when present, else [role]; non-string
// values are reported through bad.
func (p *assignProfile) awsRoleValues(bad func(string)) []string {
	if s := strings.TrimSpace(string(p.SamlRoles)); s != "" && s != "null" {
		var vals []any
		if err := json.Unmarshal(p.SamlRoles, &vals); err != nil {
			bad(s)
			return nil
		}
		var out []string
		for _, v := range vals {
			if str, ok := v.(string); ok {
				out = append(out, str)
			} else {
				bad(fmt.Sprint(v))
			}
		}
		return out
	}
	if s := strings.TrimSpace(string(p.Role)); s != "" && s != "null" {
		var str string
		if json.Unmarshal(p.Role, &str) == nil {
			return []string{str}
		}
		bad(s)
	}
	return nil
}

// awsRoleRelationship builds the mapped relationship from an Okta
// principal (user or group) to an AWS IAM role.
func awsRoleRelationship(relType, principalKey, principalType, value, awsAccountID string) (*graph.Relationship, bool) {
	r, ok := parseAWSRole(value, awsAccountID)
	if !ok {
		return nil, false
	}
	src := &graph.Entity{Key: principalKey, Type: principalType}
	var target graph.MappedTarget
	var key string
	if r.ARN == "" {
		key = principalKey + "|assigned|" + r.Account + "|" + r.Role
		target = graph.MappedTarget{
			Entity: map[string]any{
				"_class": "AccessRole", "_type": typeAWSRole, "roleName": r.Role, "name": r.Role,
				"displayName": r.Role, "tag.AccountName": r.Account,
			},
			FilterKeys:         [][]string{{"_type", "roleName", "tag.AccountName"}},
			SkipTargetCreation: true,
		}
	} else {
		key = principalKey + "|assigned|" + r.ARN
		target = graph.MappedTarget{
			Entity: map[string]any{
				"_class": "AccessRole", "_type": typeAWSRole, "_key": r.ARN, "roleName": r.Role, "name": r.Role,
				"displayName": r.Role,
			},
			FilterKeys:         [][]string{{"_type", "_key"}},
			SkipTargetCreation: true,
		}
	}
	return graph.Mapped(src, graph.ASSIGNED, graph.Reverse, target, graph.WithKey(key), graph.WithType(relType)), true
}

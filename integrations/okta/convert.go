package okta

import (
	"cmp"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/stepgraph/stepgraph/sdk/graph"
)

// Okta's objects are decoded into structs holding only the fields the
// conversion reads. A field's prop tag names the properties it becomes
// (graph.PropertyMap: "created createdOn,time" is one timestamp kept under
// both names, "status,lower,active=ACTIVE" the lower-cased status and
// whether Okta said ACTIVE), so each struct reads like its row of the data
// model (okta-spec.md, §3); the conversion functions hold what tags cannot
// say: display names with fallbacks, web links, values computed from
// several fields. Timestamps are plain strings ("" when absent or null),
// which decode without an allocation per field; those that do not parse
// leave their properties unset: a bad timestamp is not a reason to lose
// the object.

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

// oktaUser is a user of the users listing.
type oktaUser struct {
	ID              string      `json:"id" prop:"id"`
	Status          string      `json:"status" prop:"status,lower,active=ACTIVE"`
	Created         string      `json:"created" prop:"created createdOn,time"`
	Activated       string      `json:"activated" prop:"activated activatedOn,time"`
	StatusChanged   string      `json:"statusChanged" prop:"statusChanged statusChangedOn,time"`
	LastLogin       string      `json:"lastLogin" prop:"lastLogin lastLoginOn,time"`
	LastUpdated     string      `json:"lastUpdated" prop:"lastUpdated lastUpdatedOn,time"`
	PasswordChanged string      `json:"passwordChanged" prop:"passwordChanged passwordChangedOn,time"`
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

// userEntity converts a user: the profile's attributes, then the
// properties computed from the user, which win over attributes of the
// same name. mfa is nil when the user's factors are not known (source
// disabled, or the user vanished before they were read).
func userEntity(org orgInfo, u *oktaUser, mfa *bool) *graph.Entity {
	p := &u.Profile
	login := p.String("login")
	e := &graph.Entity{Key: u.ID, Type: typeUser, Class: entUser.Class, DisplayName: cmp.Or(login, u.ID),
		Properties: make(map[string]any, p.Len()+24)}
	p.CopyTo(e, "displayName")
	graph.SetProperties(e, u)
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
	username, _, _ := strings.Cut(login, "@")
	e.Set("webLink", org.AdminURL+"/admin/user/profile/view/"+u.ID).
		Set("name", strings.TrimSpace(p.String("firstName")+" "+p.String("lastName"))).
		Set("username", username)
	if em, ok := p.Get("email").(string); ok {
		e.Set("email", strings.ToLower(em))
	} else {
		e.Set("email", nil)
	}
	e.SetTimes(p.String("hireDate"), "hiredOn")
	e.SetTimes(p.String("terminationDate"), "terminatedOn")
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
	ID           string `json:"id" prop:"id"`
	FactorType   string `json:"factorType" prop:"factorType"`
	Provider     string `json:"provider" prop:"provider"`
	VendorName   string `json:"vendorName" prop:"vendorName,omitempty"`
	Device       string `json:"device" prop:"device,omitempty"`
	Status       string `json:"status" prop:"status,lower,active=ACTIVE"`
	Created      string `json:"created" prop:"created,time"`
	LastUpdated  string `json:"lastUpdated" prop:"lastUpdated,time"`
	LastVerified string `json:"lastVerified" prop:"lastVerifiedOn,time"`
	Profile      struct {
		AuthenticatorName string `json:"authenticatorName" prop:"authenticatorName,omitempty"`
		Platform          string `json:"platform" prop:"platform,omitempty"`
		DeviceType        string `json:"deviceType" prop:"deviceType,omitempty"`
		CredentialID      string `json:"credentialId" prop:"credentialId,omitempty"`
		Name              string `json:"name" prop:"profileName,omitempty"`
	} `json:"profile"`
}

func factorEntity(f *oktaFactor, raw json.RawMessage) *graph.Entity {
	name := f.Provider + " " + f.FactorType
	e := &graph.Entity{Key: f.ID, Type: typeMFADevice, Class: entMFADevice.Class, DisplayName: name, RawData: graph.DefaultRawData(raw),
		Properties: make(map[string]any, 14)} // sized for a typical factor: one map, not three as it grows
	return graph.SetProperties(e, f).Set("name", name)
}

// ---- groups ----

type oktaGroup struct {
	ID                    string   `json:"id" prop:"id"`
	Created               string   `json:"created" prop:"created createdOn,time"`
	LastUpdated           string   `json:"lastUpdated" prop:"lastUpdated lastUpdatedOn,time"`
	LastMembershipUpdated string   `json:"lastMembershipUpdated" prop:"lastMembershipUpdated lastMembershipUpdatedOn,time"`
	ObjectClass           []string `json:"objectClass" prop:"objectClass"`
	Type                  string   `json:"type" prop:"type"`
	Profile               struct {
		Name        string `json:"name"`
		Description string `json:"description" prop:"description,omitempty"`
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
	name := cmp.Or(g.Profile.Name, g.ID)
	e := &graph.Entity{Key: g.ID, Type: groupType(g.Type), Class: entUserGroup.Class, DisplayName: name, RawData: graph.DefaultRawData(raw)}
	return graph.SetProperties(e, g).Set("name", name).Set("webLink", org.AdminURL+"/admin/group/"+g.ID)
}

// ---- applications ----

type oktaApp struct {
	ID          string   `json:"id" prop:"id"`
	Name        string   `json:"name"`
	Label       string   `json:"label" prop:"label"`
	Status      string   `json:"status" prop:"status,lower,active=ACTIVE"`
	Created     string   `json:"created" prop:"created,time"`
	LastUpdated string   `json:"lastUpdated" prop:"lastUpdated,time"`
	Features    []string `json:"features" prop:"features"`
	SignOnMode  string   `json:"signOnMode" prop:"signOnMode,isSAMLApp=SAML*"`
	Settings    struct {
		App map[string]any `json:"app"`
	} `json:"settings"`
	Links struct {
		Logo     graph.Links `json:"logo"`
		AppLinks graph.Links `json:"appLinks"`
	} `json:"_links"`
}

// awsAppSettings are the settings.app members of an AWS app kept as
// properties, by the property each becomes.
var awsAppSettings = map[string]string{
	"identityProviderArn": "awsIdentityProviderArn", "awsEnvironmentType": "awsEnvironmentType",
	"groupFilter": "awsGroupFilter", "roleValuePattern": "awsRoleValuePattern",
	"joinAllRoles": "awsJoinAllRoles", "sessionDuration": "awsSessionDuration",
}

func appEntity(org orgInfo, a *oktaApp, raw json.RawMessage) *graph.Entity {
	short := appShortName(a.Name)
	e := &graph.Entity{Key: a.ID, Type: typeApp, Class: entApp.Class, DisplayName: cmp.Or(a.Label, a.Name, a.ID), RawData: graph.DefaultRawData(raw)}
	graph.SetProperties(e, a).Set("name", cmp.Or(a.Name, a.Label)).Set("shortName", short).
		Set("appVendorName", vendorName(short)).
		Set("appAccountType", accountType(short)).
		Set("isMultiInstanceApp", isMultiInstanceApp(short)).
		Set("webLink", org.AdminURL+"/admin/app/"+a.Name+"/instance/"+a.ID)
	e.SetIfPresent("imageUrl", a.Links.Logo.Href(""))          // the first logo
	e.SetIfPresent("loginUrl", a.Links.AppLinks.Href("login")) // the login link, else the first
	s := a.Settings.App
	githubOrg, _ := s["githubOrg"].(string)
	domain, _ := s["domain"].(string)
	switch {
	case s["awsEnvironmentType"] == "aws.amazon":
		arn, _ := s["identityProviderArn"].(string)
		if id := awsAccountIDFromARN(arn); id != "" {
			e.Set("awsAccountId", id).Set("appAccountId", id)
		}
		for from, to := range awsAppSettings {
			if v, ok := graph.FlatValue(s[from]); ok {
				e.Set(to, v)
			}
		}
	case githubOrg != "":
		e.Set("githubOrg", githubOrg).Set("appAccountId", githubOrg)
	case domain != "":
		e.Set("appDomain", domain).Set("appAccountId", domain)
	}
	return e
}

// ---- roles ----

type oktaRole struct {
	ID             string `json:"id" prop:"id"`
	Label          string `json:"label" prop:"name"`
	Type           string `json:"type" prop:"roleType,superAdmin=SUPER_ADMIN"`
	Status         string `json:"status" prop:"status,lower,active=ACTIVE"`
	Description    string `json:"description" prop:"description,omitempty"`
	Created        string `json:"created" prop:"createdOn,time"`
	LastUpdated    string `json:"lastUpdated" prop:"lastUpdatedOn,time"`
	AssignmentType string `json:"assignmentType"`
}

func roleEntity(r *oktaRole, raw json.RawMessage) *graph.Entity {
	e := &graph.Entity{Key: roleKey(r.Label), Type: typeRole, Class: entRole.Class, DisplayName: r.Label, RawData: graph.DefaultRawData(raw)}
	return graph.SetProperties(e, r)
}

// ---- rules ----

type oktaRule struct {
	ID          string          `json:"id" prop:"id"`
	Name        string          `json:"name" prop:"name"`
	Type        string          `json:"type" prop:"ruleType"`
	Status      string          `json:"status" prop:"status,lower,active=ACTIVE"`
	Created     string          `json:"created" prop:"created createdOn,time"`
	LastUpdated string          `json:"lastUpdated" prop:"lastUpdated lastUpdatedOn,time"`
	Conditions  json.RawMessage `json:"conditions" prop:"conditions"`
	Actions     json.RawMessage `json:"actions" prop:"actions"`
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
	e := &graph.Entity{Key: r.ID, Type: typeRule, Class: entRule.Class, DisplayName: cmp.Or(r.Name, r.ID), RawData: graph.DefaultRawData(raw)}
	return graph.SetProperties(e, r)
}

// ---- devices ----

type oktaDevice struct {
	ID                  string  `json:"id" prop:"id deviceId"`
	Status              string  `json:"status" prop:"deviceStatus"`
	Created             string  `json:"created" prop:"createdOn,time"`
	LastUpdated         string  `json:"lastUpdated" prop:"updatedOn lastSeenOn,time"`
	ResourceType        *string `json:"resourceType" prop:"category,null"`
	ResourceDisplayName struct {
		Value string `json:"value"`
	} `json:"resourceDisplayName"`
	Profile struct {
		DisplayName  string  `json:"displayName"`
		Platform     string  `json:"platform" prop:"osPlatform,omitempty"`
		Manufacturer *string `json:"manufacturer" prop:"make,null"`
		Model        *string `json:"model" prop:"model,null"`
		OSVersion    string  `json:"osVersion" prop:"osVersion,omitempty"`
		SerialNumber *string `json:"serialNumber" prop:"serial,null"`
		Registered   *bool   `json:"registered" prop:"registered"`
	} `json:"profile"`
	Embedded struct {
		Users []struct {
			User struct {
				ID string `json:"id"`
			} `json:"user"`
		} `json:"users"`
	} `json:"_embedded"`
}

// devicePlatforms maps Okta's device platform (profile.platform) to the
// data model's Device.platform enum (darwin, linux, unix, windows,
// android, ios, embedded, other); any other platform is other.
var devicePlatforms = map[string]string{"MACOS": "darwin", "WINDOWS": "windows", "IOS": "ios", "ANDROID": "android"}

func deviceEntity(d *oktaDevice, raw json.RawMessage) *graph.Entity {
	name := cmp.Or(d.ResourceDisplayName.Value, d.Profile.DisplayName, d.ID)
	e := &graph.Entity{Key: d.ID, Type: typeDevice, Class: entDevice.Class, DisplayName: name, RawData: graph.DefaultRawData(raw)}
	graph.SetProperties(e, d).Set("name", name)
	if p := d.Profile.Platform; p != "" {
		e.Set("platform", cmp.Or(devicePlatforms[strings.ToUpper(p)], "other"))
	}
	return e
}

// ---- assignments ----

// assignProfile is the profile of an app user or app group assignment;
// role (a string, or JSON text when it is not one) and roles (the JSON
// text of samlRoles) are properties of the ASSIGNED relationship.
type assignProfile struct {
	Email     string          `json:"email"`
	Role      json.RawMessage `json:"role" prop:"role,text"`
	SamlRoles json.RawMessage `json:"samlRoles" prop:"roles"`
}

var assignProps = graph.MustPropertyMap[assignProfile]()

// awsRoleValues returns the AWS role values of an assignment: samlRoles
// when present, else role; values that are not strings are reported
// through bad.
func (p *assignProfile) awsRoleValues(bad func(string)) []string {
	var vals []any
	if graph.CompactJSON(p.SamlRoles) != "" {
		if err := json.Unmarshal(p.SamlRoles, &vals); err != nil {
			bad(string(p.SamlRoles))
			return nil
		}
	} else if graph.CompactJSON(p.Role) != "" {
		var role any
		_ = json.Unmarshal(p.Role, &role) // valid JSON: it was decoded from the page
		vals = []any{role}
	}
	var out []string
	for _, v := range vals {
		if s, ok := v.(string); ok {
			out = append(out, s)
		} else {
			bad(fmt.Sprint(v))
		}
	}
	return out
}

// awsRoleRelationship builds the mapped relationship from an Okta
// principal (user or group) to the AWS IAM role a role value names: by ARN
// when the value is a bare role name, else by role and account name.
func awsRoleRelationship(relType, principalKey, principalType, value, awsAccountID string) (*graph.Relationship, bool) {
	r, ok := parseAWSRole(value, awsAccountID)
	if !ok {
		return nil, false
	}
	target := graph.MappedTarget{Entity: map[string]any{"_class": "AccessRole", "_type": typeAWSRole}, SkipTargetCreation: true}
	graph.PropertiesOf[awsRole]().SetMap(target.Entity, &r)
	key, filter := principalKey+"|assigned|"+r.ARN, []string{"_type", "_key"}
	if r.ARN == "" {
		key, filter = principalKey+"|assigned|"+r.Account+"|"+r.Role, []string{"_type", "roleName", "tag.AccountName"}
	}
	target.FilterKeys = [][]string{filter}
	src := &graph.Entity{Key: principalKey, Type: principalType}
	return graph.Mapped(src, graph.ASSIGNED, graph.Reverse, target, graph.WithKey(key), graph.WithType(relType)), true
}

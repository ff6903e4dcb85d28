package okta

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	fastjson "github.com/segmentio/encoding/json"

	"github.com/stepgraph/stepgraph/sdk/graph"
)

// conversionCases are provider objects whose fields are present, empty,
// null and absent, each with the entity it converts to (the bytes as
// written): a property set to null is not a property left out, "" is not
// absent, and a timestamp that does not parse is left out.
var conversionCases = []struct {
	name, raw, want string
}{
	{"factor/full", `{"id":"mfa1","factorType":"push","provider":"OKTA","vendorName":"OKTA","device":"d1","status":"ACTIVE","created":"2020-01-02T03:04:05.000Z","lastUpdated":"bad","lastVerified":"2022-01-02T03:04:05Z","profile":{"authenticatorName":"a","platform":"IOS","deviceType":"t","credentialId":"c","name":"n"}}`,
		`{"_key":"mfa1","_type":"mfa_device","_class":["Key","AccessKey"],"displayName":"OKTA push","_rawData":[{"name":"default","rawData":{}}],"active":true,"authenticatorName":"a","created":1577934245000,"credentialId":"c","device":"d1","deviceType":"t","factorType":"push","id":"mfa1","lastVerifiedOn":1641092645000,"name":"OKTA push","platform":"IOS","profileName":"n","provider":"OKTA","status":"active","vendorName":"OKTA"}`},
	{"factor/empty", `{"id":"mfa2","factorType":"sms","provider":"OKTA","vendorName":"","device":"","status":"PENDING_ACTIVATION","created":null,"profile":{"authenticatorName":null,"platform":"","name":null}}`,
		`{"_key":"mfa2","_type":"mfa_device","_class":["Key","AccessKey"],"displayName":"OKTA sms","_rawData":[{"name":"default","rawData":{}}],"active":false,"factorType":"sms","id":"mfa2","name":"OKTA sms","provider":"OKTA","status":"pending_activation"}`},
	{"factor/bare", `{"id":"mfa3"}`,
		`{"_key":"mfa3","_type":"mfa_device","_class":["Key","AccessKey"],"displayName":" ","_rawData":[{"name":"default","rawData":{}}],"active":false,"factorType":"","id":"mfa3","name":" ","provider":"","status":""}`},
	{"group/full", `{"id":"00g1","type":"APP_GROUP","created":"2020-01-02T03:04:05.000Z","lastUpdated":"2021-01-02T03:04:05.000Z","lastMembershipUpdated":"2022-01-02T03:04:05.000Z","objectClass":["okta:user_group"],"profile":{"name":"Eng","description":"engineers"}}`,
		`{"_key":"00g1","_type":"okta_app_user_group","_class":["UserGroup"],"displayName":"Eng","_rawData":[{"name":"default","rawData":{}}],"created":1577934245000,"createdOn":1577934245000,"description":"engineers","id":"00g1","lastMembershipUpdated":1641092645000,"lastMembershipUpdatedOn":1641092645000,"lastUpdated":1609556645000,"lastUpdatedOn":1609556645000,"name":"Eng","objectClass":["okta:user_group"],"type":"APP_GROUP","webLink":"https://acme-admin.okta.com/admin/group/00g1"}`},
	{"group/empty", `{"id":"00g2","type":"OKTA_GROUP","objectClass":[],"profile":{"name":"","description":""}}`,
		`{"_key":"00g2","_type":"okta_user_group","_class":["UserGroup"],"displayName":"00g2","_rawData":[{"name":"default","rawData":{}}],"id":"00g2","name":"00g2","objectClass":[],"type":"OKTA_GROUP","webLink":"https://acme-admin.okta.com/admin/group/00g2"}`},
	{"group/bare", `{"id":"00g3","profile":{"description":null}}`,
		`{"_key":"00g3","_type":"okta_user_group","_class":["UserGroup"],"displayName":"00g3","_rawData":[{"name":"default","rawData":{}}],"id":"00g3","name":"00g3","type":"","webLink":"https://acme-admin.okta.com/admin/group/00g3"}`},
	{"app/aws", `{"id":"0oa1","name":"amazon_aws","label":"AWS","status":"ACTIVE","created":"2020-01-02T03:04:05.000Z","features":["PUSH_NEW_USERS"],"signOnMode":"SAML_2_0","settings":{"app":{"awsEnvironmentType":"aws.amazon","identityProviderArn":"arn:aws:iam::123456789012:saml-provider/OKTA","joinAllRoles":false,"sessionDuration":3600,"groupFilter":null,"roleValuePattern":{"x":1}}},"_links":{"logo":[{"name":"medium","href":"https://logo"}],"appLinks":[{"name":"other","href":"https://other"},{"name":"login","href":"https://login"}]}}`,
		`{"_key":"0oa1","_type":"okta_application","_class":["Application"],"displayName":"AWS","_rawData":[{"name":"default","rawData":{}}],"active":true,"appAccountId":"123456789012","appAccountType":"aws_account","appVendorName":"Amazon Web Services","awsAccountId":"123456789012","awsEnvironmentType":"aws.amazon","awsIdentityProviderArn":"arn:aws:iam::123456789012:saml-provider/OKTA","awsJoinAllRoles":false,"awsSessionDuration":3600,"created":1577934245000,"features":["PUSH_NEW_USERS"],"id":"0oa1","imageUrl":"https://logo","isMultiInstanceApp":true,"isSAMLApp":true,"label":"AWS","loginUrl":"https://login","name":"amazon_aws","shortName":"aws","signOnMode":"SAML_2_0","status":"active","webLink":"https://acme-admin.okta.com/admin/app/amazon_aws/instance/0oa1"}`},
	{"app/github", `{"id":"0oa2","name":"acme_githubcloud_1","label":"","status":"INACTIVE","signOnMode":"BOOKMARK","settings":{"app":{"githubOrg":"acme","domain":"d"}},"_links":{"logo":{"name":"medium","href":""},"appLinks":{"name":"other","href":"https://first"}}}`,
		`{"_key":"0oa2","_type":"okta_application","_class":["Application"],"displayName":"acme_githubcloud_1","_rawData":[{"name":"default","rawData":{}}],"active":false,"appAccountId":"acme","appAccountType":"github_account","appVendorName":"GitHub","githubOrg":"acme","id":"0oa2","isMultiInstanceApp":true,"isSAMLApp":false,"label":"","loginUrl":"https://first","name":"acme_githubcloud_1","shortName":"githubcloud","signOnMode":"BOOKMARK","status":"inactive","webLink":"https://acme-admin.okta.com/admin/app/acme_githubcloud_1/instance/0oa2"}`},
	{"app/domain", `{"id":"0oa3","name":"","label":"Zendesk","features":[],"settings":{"app":{"githubOrg":"","domain":"acme.zendesk.com"}},"_links":{"logo":"x","appLinks":[]}}`,
		`{"_key":"0oa3","_type":"okta_application","_class":["Application"],"displayName":"Zendesk","_rawData":[{"name":"default","rawData":{}}],"active":false,"appAccountId":"acme.zendesk.com","appAccountType":"_account","appDomain":"acme.zendesk.com","appVendorName":"","features":[],"id":"0oa3","isMultiInstanceApp":false,"isSAMLApp":false,"label":"Zendesk","name":"Zendesk","shortName":"","signOnMode":"","status":"","webLink":"https://acme-admin.okta.com/admin/app//instance/0oa3"}`},
	{"app/bare", `{"id":"0oa4","settings":{"app":null}}`,
		`{"_key":"0oa4","_type":"okta_application","_class":["Application"],"displayName":"0oa4","_rawData":[{"name":"default","rawData":{}}],"active":false,"appAccountType":"_account","appVendorName":"","id":"0oa4","isMultiInstanceApp":false,"isSAMLApp":false,"label":"","name":"","shortName":"","signOnMode":"","status":"","webLink":"https://acme-admin.okta.com/admin/app//instance/0oa4"}`},
	{"role/full", `{"id":"ra1","label":"Super Administrator","type":"SUPER_ADMIN","status":"ACTIVE","description":"all","created":"2020-01-02T03:04:05.000Z","lastUpdated":"2021-01-02T03:04:05.000Z","assignmentType":"USER"}`,
		`{"_key":"okta_role:SuperAdministrator","_type":"okta_role","_class":["AccessRole"],"displayName":"Super Administrator","_rawData":[{"name":"default","rawData":{}}],"active":true,"createdOn":1577934245000,"description":"all","id":"ra1","lastUpdatedOn":1609556645000,"name":"Super Administrator","roleType":"SUPER_ADMIN","status":"active","superAdmin":true}`},
	{"role/empty", `{"id":"ra2","label":"Help Desk","type":"HELP_DESK_ADMIN","status":"","description":""}`,
		`{"_key":"okta_role:HelpDesk","_type":"okta_role","_class":["AccessRole"],"displayName":"Help Desk","_rawData":[{"name":"default","rawData":{}}],"active":false,"id":"ra2","name":"Help Desk","roleType":"HELP_DESK_ADMIN","status":"","superAdmin":false}`},
	{"rule/full", `{"id":"0pr1","name":"Eng","type":"group_rule","status":"ACTIVE","created":"2020-01-02T03:04:05.000Z","lastUpdated":"2021-01-02T03:04:05.000Z","conditions":{ "expression" : {"value":"x"} },"actions":{"assignUserToGroups":{"groupIds":["00g1"]}}}`,
		`{"_key":"0pr1","_type":"okta_rule","_class":["Configuration"],"displayName":"Eng","_rawData":[{"name":"default","rawData":{}}],"actions":"{\"assignUserToGroups\":{\"groupIds\":[\"00g1\"]}}","active":true,"conditions":"{\"expression\":{\"value\":\"x\"}}","created":1577934245000,"createdOn":1577934245000,"id":"0pr1","lastUpdated":1609556645000,"lastUpdatedOn":1609556645000,"name":"Eng","ruleType":"group_rule","status":"active"}`},
	{"rule/empty", `{"id":"0pr2","name":"","status":"INACTIVE","conditions":null}`,
		`{"_key":"0pr2","_type":"okta_rule","_class":["Configuration"],"displayName":"0pr2","_rawData":[{"name":"default","rawData":{}}],"active":false,"id":"0pr2","name":"","ruleType":"","status":"inactive"}`},
	{"device/full", `{"id":"guo1","status":"ACTIVE","created":"2020-01-02T03:04:05.000Z","lastUpdated":"2021-01-02T03:04:05.000Z","resourceType":"UDDevice","resourceDisplayName":{"value":"Ann's Mac"},"profile":{"displayName":"mac","platform":"MACOS","manufacturer":"Apple","model":"MBP","osVersion":"14","serialNumber":"S1","registered":true}}`,
		`{"_key":"guo1","_type":"okta_device","_class":["Device"],"displayName":"Ann's Mac","_rawData":[{"name":"default","rawData":{}}],"category":"UDDevice","createdOn":1577934245000,"deviceId":"guo1","deviceStatus":"ACTIVE","id":"guo1","lastSeenOn":1609556645000,"make":"Apple","model":"MBP","name":"Ann's Mac","osPlatform":"MACOS","osVersion":"14","platform":"darwin","registered":true,"serial":"S1","updatedOn":1609556645000}`},
	{"device/empty", `{"id":"guo2","status":"","resourceType":"","profile":{"displayName":"pc","platform":"chromeos","manufacturer":"","model":null,"osVersion":"","serialNumber":"","registered":false}}`,
		`{"_key":"guo2","_type":"okta_device","_class":["Device"],"displayName":"pc","_rawData":[{"name":"default","rawData":{}}],"category":"","deviceId":"guo2","deviceStatus":"","id":"guo2","make":"","model":null,"name":"pc","osPlatform":"chromeos","platform":"other","registered":false,"serial":""}`},
	{"device/bare", `{"id":"guo3","profile":{"platform":""}}`,
		`{"_key":"guo3","_type":"okta_device","_class":["Device"],"displayName":"guo3","_rawData":[{"name":"default","rawData":{}}],"category":null,"deviceId":"guo3","deviceStatus":"","id":"guo3","make":null,"model":null,"name":"guo3","serial":null}`},
}

// convertCase decodes raw as its kind's struct (as the steps do, with
// segmentio's decoder) and returns the entity's bytes.
func convertCase(t *testing.T, name, raw string) string {
	t.Helper()
	org := orgInfo{AdminURL: "https://acme-admin.okta.com"}
	decode := func(v any) {
		if err := fastjson.Unmarshal([]byte(raw), v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	rawMsg := json.RawMessage(`{}`)
	var b []byte
	var err error
	switch kind, _, _ := strings.Cut(name, "/"); kind {
	case "factor":
		var f oktaFactor
		decode(&f)
		b, err = factorEntity(&f, rawMsg).AppendJSON(nil)
	case "group":
		var g oktaGroup
		decode(&g)
		b, err = groupEntity(org, &g, rawMsg).AppendJSON(nil)
	case "app":
		var a oktaApp
		decode(&a)
		b, err = appEntity(org, &a, rawMsg).AppendJSON(nil)
	case "role":
		var r oktaRole
		decode(&r)
		b, err = roleEntity(&r, rawMsg).AppendJSON(nil)
	case "rule":
		var r oktaRule
		decode(&r)
		b, err = ruleEntity(&r, rawMsg).AppendJSON(nil)
	case "device":
		var d oktaDevice
		decode(&d)
		b, err = deviceEntity(&d, rawMsg).AppendJSON(nil)
	default:
		t.Fatalf("unknown kind %q", kind)
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestConversionsKeepNilAndAbsentApart: every kind converts its present,
// empty, null and absent fields exactly as the data model (okta-spec.md
// §3) says, byte for byte.
func TestConversionsKeepNilAndAbsentApart(t *testing.T) {
	for _, c := range conversionCases {
		if got := convertCase(t, c.name, c.raw); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
	}
}

// TestAssignmentRoleProperties: an assignment's role is kept as a string
// (JSON text when it is not one), samlRoles as JSON text, and neither when
// absent or null.
func TestAssignmentRoleProperties(t *testing.T) {
	for raw, want := range map[string]map[string]any{
		`{"email":"a@b.c","role":"admin","samlRoles":["r1", "r2"]}`: {"role": "admin", "roles": `["r1","r2"]`},
		`{"role":{"name": "x"},"samlRoles":null}`:                   {"role": `{"name":"x"}`},
		`{"role":null,"samlRoles":"r"}`:                             {"roles": `"r"`},
		`{}`:                                                        {},
		`null`:                                                      {},
	} {
		var p assignProfile
		if err := fastjson.Unmarshal([]byte(raw), &p); err != nil {
			t.Fatal(err)
		}
		props := map[string]any{}
		assignProps.SetMap(props, &p)
		if !reflect.DeepEqual(props, want) {
			t.Errorf("%s: properties %v, want %v", raw, props, want)
		}
	}
}

// TestAWSRoleTargets: the AWS IAM role a role value maps to, exactly: by
// ARN for a bare role name, by role and account name otherwise.
func TestAWSRoleTargets(t *testing.T) {
	r, _ := awsRoleRelationship(relUserAssignedAWSRole, "00u1", typeUser, "[Dev] -- ReadOnly", "123456789012")
	want := map[string]any{"_class": "AccessRole", "_type": typeAWSRole, "roleName": "ReadOnly", "name": "ReadOnly",
		"displayName": "ReadOnly", "tag.AccountName": "Dev"}
	if !reflect.DeepEqual(r.Mapping.TargetEntity, want) || r.Key != "00u1|assigned|Dev|ReadOnly" ||
		!reflect.DeepEqual(r.Mapping.TargetFilterKeys, [][]string{{"_type", "roleName", "tag.AccountName"}}) {
		t.Errorf("by name: key %s, target %v, filter %v", r.Key, r.Mapping.TargetEntity, r.Mapping.TargetFilterKeys)
	}
	r, _ = awsRoleRelationship(relUserGroupAssignedAWSRole, "00g1", typeUserGroup, "Admin", "123456789012")
	arn := "arn:aws:iam::123456789012:role/Admin"
	want = map[string]any{"_class": "AccessRole", "_type": typeAWSRole, "_key": arn, "roleName": "Admin", "name": "Admin",
		"displayName": "Admin"}
	if !reflect.DeepEqual(r.Mapping.TargetEntity, want) || r.Key != "00g1|assigned|"+arn || r.Type != relUserGroupAssignedAWSRole ||
		r.Mapping.SourceEntityKey != "00g1" || !r.Mapping.SkipTargetCreation || r.Mapping.Direction != graph.Reverse ||
		!reflect.DeepEqual(r.Mapping.TargetFilterKeys, [][]string{{"_type", "_key"}}) {
		t.Errorf("by ARN: key %s, target %v, filter %v", r.Key, r.Mapping.TargetEntity, r.Mapping.TargetFilterKeys)
	}
	if _, ok := awsRoleRelationship(relUserAssignedAWSRole, "00u1", typeUser, "", "1"); ok {
		t.Error("an empty role value maps")
	}
}

// TestConverterTagsAreValid: every struct converted through its prop tags
// has a valid plan (graph.SetProperties would panic on first use).
func TestConverterTagsAreValid(t *testing.T) {
	for name, plan := range map[string]func() error{
		"oktaUser":      func() error { _, err := graph.NewPropertyMap[oktaUser](); return err },
		"oktaFactor":    func() error { _, err := graph.NewPropertyMap[oktaFactor](); return err },
		"oktaGroup":     func() error { _, err := graph.NewPropertyMap[oktaGroup](); return err },
		"oktaApp":       func() error { _, err := graph.NewPropertyMap[oktaApp](); return err },
		"oktaRole":      func() error { _, err := graph.NewPropertyMap[oktaRole](); return err },
		"oktaRule":      func() error { _, err := graph.NewPropertyMap[oktaRule](); return err },
		"oktaDevice":    func() error { _, err := graph.NewPropertyMap[oktaDevice](); return err },
		"assignProfile": func() error { _, err := graph.NewPropertyMap[assignProfile](); return err },
		"awsRole":       func() error { _, err := graph.NewPropertyMap[awsRole](); return err },
	} {
		if err := plan(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestAWSRoleValues: samlRoles when present (its strings; anything else
// reported), else role; neither gives none.
func TestAWSRoleValues(t *testing.T) {
	for raw, want := range map[string]struct {
		vals []string
		bad  int
	}{
		`{"samlRoles":["a","[Dev] -- b",5,{"x":1}],"role":"ignored"}`: {[]string{"a", "[Dev] -- b"}, 2},
		`{"samlRoles":[],"role":"ignored"}`:                           {nil, 0},
		`{"samlRoles":"a","role":"ignored"}`:                          {nil, 1},
		`{"samlRoles":null,"role":"r"}`:                               {[]string{"r"}, 0},
		`{"role":{"x":1}}`:                                            {nil, 1},
		`{"role":null}`:                                               {nil, 0},
		`{}`:                                                          {nil, 0},
	} {
		var p assignProfile
		if err := fastjson.Unmarshal([]byte(raw), &p); err != nil {
			t.Fatal(err)
		}
		bad := 0
		got := p.awsRoleValues(func(string) { bad++ })
		if !reflect.DeepEqual(got, want.vals) || bad != want.bad {
			t.Errorf("%s: values %q, %d bad; want %q, %d", raw, got, bad, want.vals, want.bad)
		}
	}
}

// TestAppLinks: imageUrl is the first logo's href, loginUrl the href of
// the app link named login, else of the first, whether Okta sends one link
// object or an array; neither is set without a link or an href.
func TestAppLinks(t *testing.T) {
	for raw, want := range map[string][2]any{
		`{"logo":[{"name":"medium","href":"L1"},{"name":"large","href":"L2"}],"appLinks":[{"name":"a","href":"A"},{"name":"login","href":"B"}]}`: {"L1", "B"},
		`{"logo":{"href":"L"},"appLinks":{"name":"x","href":"A"}}`:                                                                               {"L", "A"},
		`{"logo":[{"href":""}],"appLinks":[{"name":"login","href":""},{"href":"A"}]}`:                                                            {nil, nil},
		`{"logo":[],"appLinks":null}`: {nil, nil},
		`{"logo":"x"}`:                {nil, nil},
	} {
		var a oktaApp
		if err := fastjson.Unmarshal([]byte(`{"id":"0oa1","_links":`+raw+`}`), &a); err != nil {
			t.Fatal(err)
		}
		e := appEntity(orgInfo{}, &a, nil)
		if got := [2]any{e.Properties["imageUrl"], e.Properties["loginUrl"]}; got != want {
			t.Errorf("%s: imageUrl, loginUrl = %v, want %v", raw, got, want)
		}
	}
}

package okta

import (
	"reflect"
	"testing"

	"github.com/stepgraph/stepgraph/sdk/graph"
)

func TestAppShortName(t *testing.T) {
	for in, want := range map[string]string{
		"amazon_aws": "aws", "cloudconsole": "gcp", "hubspotsaml": "hubspot", "my_app_saml": "my_app",
		"acme_mydashboard_1": "mydashboard", "acme_my_dashboard_12": "my_dashboard", "okta_browser_plugin": "okta_browser_plugin",
		"github": "github", "template_swa": "template_swa", "office365": "office365",
	} {
		if got := appShortName(in); got != want {
			t.Errorf("appShortName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestVendorName(t *testing.T) {
	for in, want := range map[string]string{
		"aws": "Amazon Web Services", "gcp": "Google", "cloudconsole": "Google", "google": "Google",
		"atlassianjirabitbucket": "Atlassian", "office365": "Microsoft", "githubcloud": "GitHub",
		"j1dev": "JupiterOne", "jupiterone_prod": "JupiterOne", "okta_browser_plugin": "Okta Browser Plugin",
		"salesforce": "Salesforce", "zoomus": "Zoomus", "dropbox_for_business": "Dropbox", "pagerduty": "PagerDuty",
		"acme_wiki_2": "Acme Wiki 2", "amazon_business": "Amazon.com",
	} {
		if got := vendorName(in); got != want {
			t.Errorf("vendorName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAccountType(t *testing.T) {
	for in, want := range map[string]any{
		"atlassianjirabitbucket": []string{"jira_account", "bitbucket_team"}, "meraki": "cisco_meraki_account",
		"ciscomeraki": "cisco_meraki_account", "githubcloud": "github_account", "cloudconsole": "google_account",
		"j1dev": "jupiterone_account", "aws": "aws_account", "slack": "slack_account",
	} {
		if got := accountType(in); !reflect.DeepEqual(got, want) {
			t.Errorf("accountType(%q) = %v, want %v", in, got, want)
		}
	}
	for in, want := range map[string]bool{"aws": true, "gcp": true, "office365": true, "github": false, "slack": false} {
		if isMultiInstanceApp(in) != want {
			t.Errorf("isMultiInstanceApp(%q) != %v", in, want)
		}
	}
}

func TestParseAWSRole(t *testing.T) {
	cases := []struct {
		in   string
		want awsRole
		ok   bool
	}{
		{"[Prod] -- Admin", awsRole{Account: "Prod", Role: "Admin"}, true},
		{"Prod -- PowerUser", awsRole{Account: "Prod", Role: "PowerUser"}, true},
		{"ReadOnly", awsRole{Role: "ReadOnly", ARN: "arn:aws:iam::123456789012:role/ReadOnly"}, true},
		{"", awsRole{}, false},
	}
	for _, c := range cases {
		got, ok := parseAWSRole(c.in, "123456789012")
		if ok != c.ok || got != c.want {
			t.Errorf("parseAWSRole(%q) = %+v %v", c.in, got, ok)
		}
	}
	if id := awsAccountIDFromARN("arn:aws:iam::123456789012:saml-provider/OKTA"); id != "123456789012" {
		t.Errorf("account id %q", id)
	}
	r, _ := awsRoleRelationship(relUserAssignedAWSRole, "00u1", typeUser, "[Dev] -- ReadOnly", "1")
	if r.Key != "00u1|assigned|Dev|ReadOnly" || r.Mapping.Direction != graph.Reverse || !r.Mapping.SkipTargetCreation ||
		r.Mapping.TargetEntity["tag.AccountName"] != "Dev" || r.Type != relUserAssignedAWSRole {
		t.Errorf("mapped: %+v %+v", r, r.Mapping)
	}
	r, _ = awsRoleRelationship(relUserGroupAssignedAWSRole, "00g1", typeUserGroup, "Admin", "123456789012")
	if r.Key != "00g1|assigned|arn:aws:iam::123456789012:role/Admin" || r.Mapping.TargetEntity["_key"] != "arn:aws:iam::123456789012:role/Admin" ||
		!reflect.DeepEqual(r.Mapping.TargetFilterKeys, [][]string{{"_type", "_key"}}) {
		t.Errorf("mapped: %+v %+v", r, r.Mapping)
	}
}

func TestAdminURLAndKeys(t *testing.T) {
	if got := newOrgInfo("https://acme.okta.com/").AdminURL; got != "https://acme-admin.okta.com" {
		t.Errorf("AdminURL = %q", got)
	}
	if got := newOrgInfo("https://acme.okta.com:8443/").AdminURL; got != "https://acme-admin.okta.com:8443" {
		t.Errorf("AdminURL with a port = %q", got)
	}
	org := newOrgInfo("https://dev-857255.oktapreview.com/")
	acct := accountEntity(org)
	if acct.Key != "okta_account_dev-857255.oktapreview.com/" || acct.DisplayName != "dev-857255 (preview)" ||
		acct.Properties["accountId"] != "dev-857255.oktapreview.com/" || acct.Properties["webLink"] != "https://dev-857255.oktapreview.com/" {
		t.Errorf("account: %+v", acct)
	}
	if s := serviceEntity(org, "SSO"); s.Key != "okta:sso:dev-857255" || s.DisplayName != "Okta SSO" {
		t.Errorf("service: %+v", s)
	}
	if k := roleKey("Super Administrator"); k != "okta_role:SuperAdministrator" {
		t.Errorf("roleKey = %q", k)
	}
	if graph.CamelCase("User_County") != "userCounty" || graph.CamelCase("firstName") != "firstName" || graph.CamelCase("SAMAccountName") != "samAccountName" {
		t.Error("camelCase")
	}
	if Family("GET", "/api/v1/users/00u1/factors") != "users" || Family("GET", "/api/v1/iam/assignees/users") != "other" ||
		Family("GET", "/api/v1/groups/rules") != "groups" || Family("GET", "/api/v1/apps/x/users") != "apps" ||
		Family("GET", "/api/v1/logs") != "logs" || Family("GET", "/api/v1/devices") != "devices" ||
		Family("GET", "/api/v1/usersx") != "other" {
		t.Error("Family")
	}
}

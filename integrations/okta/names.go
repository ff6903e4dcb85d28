package okta

import (
	"regexp"
	"slices"
	"strings"

	"github.com/stepgraph/stepgraph/sdk/graph"
)

// appShortName derives an application's short name from its Okta app name,
// as graph-okta does: amazon_aws -> aws, cloudconsole -> gcp, "<word>saml"
// -> the word without a trailing "_", "<org>_<name>_<n>" -> name, else the
// name itself.
func appShortName(name string) string {
	switch name {
	case "amazon_aws":
		return "aws"
	case "cloudconsole":
		return "gcp"
	}
	if m := samlAppRe.FindStringSubmatch(name); m != nil {
		return strings.TrimSuffix(m[1], "_")
	}
	if first, last := strings.Index(name, "_"), strings.LastIndex(name, "_"); first >= 0 && first < last {
		if strings.ContainsAny(name[last+1:], "0123456789") {
			return name[first+1 : last]
		}
	}
	return name
}

var samlAppRe = regexp.MustCompile(`(\w+)saml`)

// appVendors gives an application's vendor from its short name: the
// first row whose expression matches (a substring, unless anchored).
var appVendors = graph.MustMatchTable([][2]string{
	{"wordpress", "WordPress / WP Engine"},
	{"threatstack", "Threat Stack"},
	{"textmagic", "TextMagic"},
	{"sumologic", "Sumo Logic"},
	{"statuspage|jira|bitbucket", "Atlassian"},
	{"trendmicro", "Trend Micro"},
	{"snyk", "Snyk"},
	{"smallimprovements", "Small Improvements"},
	{"ringcentral", "RingCentral"},
	{"pritunl", "Pritunl"},
	{"paylocity", "Paylocity"},
	{"paloalto", "Palo Alto Networks"},
	{"pagerduty", "PagerDuty"},
	{"office365", "Microsoft"},
	{"naviabenefits", "Navia Benefits Solutions"},
	{"modeanalytics", "Mode Analytics"},
	{"meraki", "Cisco Meraki"},
	{"mcafee", "McAfee"},
	{"markmonitor", "Mark Monitor"},
	{"leavelogic", "LeaveLogic"},
	{"jamf", "Jamf"},
	{"gotomeeting|logmein", "LogMeIn"},
	{"google|^cloudconsole$|^gcp$", "Google"},
	{"golinks", "GoLinks"},
	{"github", "GitHub"},
	{"floqast", "FloQast"},
	{"fireeye", "FireEye"},
	{"invision", "InVision"},
	{"hubspot", "HubSpot"},
	{"hellosign", "HelloSign"},
	{"hackerone", "HackerOne"},
	{"easecentral", "EaseCentral"},
	{"dropbox", "Dropbox"},
	{"dome9", "Dome9"},
	{"docusign", "DocuSign"},
	{"digicert", "DigiCert"},
	{"dashlane", "Dashlane"},
	{"cultureamp", "Culture Amp"},
	{"coderpad", "CoderPad"},
	{"crowdstrike", "CrowdStrike"},
	{"carbonblack", "Carbon Black"},
	{"bamboohr", "BambooHR"},
	{"ataata|mimecast", "Mimecast"},
	{"airwatch", "VMware"},
	{"aws", "Amazon Web Services"},
	{"amazon", "Amazon.com"},
	{"adobe", "Adobe"},
	{"jupiterone|^j1dev", "JupiterOne"},
	{"lifeomic", "LifeOmic"},
})

// vendorName returns the vendor of an application from its short name, or
// the short name in Start Case when the vendor is not known.
func vendorName(short string) string { return appVendors.LookupOr(short, graph.StartCase(short)) }

// appAccountTypes gives an application's appAccountType from its short
// name (first match), when it is not <shortName>_account.
var appAccountTypes = graph.MustMatchTable([][2]string{
	{"^ciscomeraki$|^meraki$", "cisco_meraki_account"},
	{"wordpress", "wordpress_account"},
	{"snyk", "snyk_account"},
	{"pritunl", "pritunl_account"},
	{"githubcloud", "github_account"},
	{"^cloudconsole$", "google_account"},
	{"lifeomic", "lifeomic_account"},
	{"jupiterone|^j1dev", "jupiterone_account"},
})

// accountType returns the appAccountType of an application from its short
// name: a string, or a list for atlassianjirabitbucket.
func accountType(short string) any {
	if short == "atlassianjirabitbucket" {
		return []string{"jira_account", "bitbucket_team"}
	}
	return appAccountTypes.LookupOr(short, short+"_account")
}

// isMultiInstanceApp reports whether an org typically has several accounts
// of the application's vendor.
func isMultiInstanceApp(short string) bool {
	return slices.Contains([]string{"aws", "githubcloud", "gcp", "google", "office365"}, short)
}

// awsRoleRe matches a secondary SAML role "[Account] -- Role" or
// "Account -- Role".
var awsRoleRe = regexp.MustCompile(`\[?([a-zA-Z0-9_-]+)\]? -- ([a-zA-Z0-9_-]+)`)

// awsRole is a parsed AWS role value of an app assignment profile; its
// tags give the properties of the aws_iam_role it maps to.
type awsRole struct {
	// Account is set for "[Account] -- Role" values.
	Account string `prop:"tag.AccountName,omitempty"`
	Role    string `prop:"roleName name displayName"`
	// ARN is set for a bare role name: arn:aws:iam::<awsAccountId>:role/<role>.
	ARN string `prop:"_key,omitempty"`
}

// parseAWSRole parses one role value of an AWS app assignment. ok is false
// for an empty value.
func parseAWSRole(value, awsAccountID string) (r awsRole, ok bool) {
	if value == "" {
		return awsRole{}, false
	}
	if m := awsRoleRe.FindStringSubmatch(value); m != nil {
		return awsRole{Account: m[1], Role: m[2]}, true
	}
	return awsRole{Role: value, ARN: "arn:aws:iam::" + awsAccountID + ":role/" + value}, true
}

// awsAccountIDRe extracts the account id of an identity provider ARN.
var awsAccountIDRe = regexp.MustCompile(`^arn:aws:iam::([0-9]+):`)

// awsAccountIDFromARN returns the account id of an IAM ARN, or "".
func awsAccountIDFromARN(arn string) string {
	if m := awsAccountIDRe.FindStringSubmatch(arn); m != nil {
		return m[1]
	}
	return ""
}

// roleKey returns the _key of an okta_role: okta_role:<label without spaces>.
func roleKey(label string) string {
	return "okta_role:" + strings.ReplaceAll(label, " ", "")
}

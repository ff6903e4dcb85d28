package okta

import (
	"regexp"
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

// vendorRule maps substrings of a short name to a vendor name.
type vendorRule struct {
	subs   []string
	vendor string
}

// vendorRules are checked in order; the first match wins.
var vendorRules = []vendorRule{
	{[]string{"wordpress"}, "WordPress / WP Engine"},
	{[]string{"threatstack"}, "Threat Stack"},
	{[]string{"textmagic"}, "TextMagic"},
	{[]string{"sumologic"}, "Sumo Logic"},
	{[]string{"statuspage", "jira", "bitbucket"}, "Atlassian"},
	{[]string{"trendmicro"}, "Trend Micro"},
	{[]string{"snyk"}, "Snyk"},
	{[]string{"smallimprovements"}, "Small Improvements"},
	{[]string{"ringcentral"}, "RingCentral"},
	{[]string{"pritunl"}, "Pritunl"},
	{[]string{"paylocity"}, "Paylocity"},
	{[]string{"paloalto"}, "Palo Alto Networks"},
	{[]string{"pagerduty"}, "PagerDuty"},
	{[]string{"office365"}, "Microsoft"},
	{[]string{"naviabenefits"}, "Navia Benefits Solutions"},
	{[]string{"modeanalytics"}, "Mode Analytics"},
	{[]string{"meraki"}, "Cisco Meraki"},
	{[]string{"mcafee"}, "McAfee"},
	{[]string{"markmonitor"}, "Mark Monitor"},
	{[]string{"leavelogic"}, "LeaveLogic"},
	{[]string{"jamf"}, "Jamf"},
	{[]string{"gotomeeting", "logmein"}, "LogMeIn"},
	{nil, "Google"}, // google, or exactly cloudconsole / gcp: see vendorName
	{[]string{"golinks"}, "GoLinks"},
	{[]string{"github"}, "GitHub"},
	{[]string{"floqast"}, "FloQast"},
	{[]string{"fireeye"}, "FireEye"},
	{[]string{"invision"}, "InVision"},
	{[]string{"hubspot"}, "HubSpot"},
	{[]string{"hellosign"}, "HelloSign"},
	{[]string{"hackerone"}, "HackerOne"},
	{[]string{"easecentral"}, "EaseCentral"},
	{[]string{"dropbox"}, "Dropbox"},
	{[]string{"dome9"}, "Dome9"},
	{[]string{"docusign"}, "DocuSign"},
	{[]string{"digicert"}, "DigiCert"},
	{[]string{"dashlane"}, "Dashlane"},
	{[]string{"cultureamp"}, "Culture Amp"},
	{[]string{"coderpad"}, "CoderPad"},
	{[]string{"crowdstrike"}, "CrowdStrike"},
	{[]string{"carbonblack"}, "Carbon Black"},
	{[]string{"bamboohr"}, "BambooHR"},
	{[]string{"ataata", "mimecast"}, "Mimecast"},
	{[]string{"airwatch"}, "VMware"},
	{[]string{"aws"}, "Amazon Web Services"},
	{[]string{"amazon"}, "Amazon.com"},
	{[]string{"adobe"}, "Adobe"},
	{nil, "JupiterOne"}, // jupiterone, or prefix j1dev: see vendorName
	{[]string{"lifeomic"}, "LifeOmic"},
}

// vendorName returns the vendor of an application from its short name, or
// the short name in Start Case when the vendor is not known.
func vendorName(short string) string {
	for _, r := range vendorRules {
		switch r.vendor {
		case "Google":
			if strings.Contains(short, "google") || short == "cloudconsole" || short == "gcp" {
				return r.vendor
			}
			continue
		case "JupiterOne":
			if strings.Contains(short, "jupiterone") || strings.HasPrefix(short, "j1dev") {
				return r.vendor
			}
			continue
		}
		for _, s := range r.subs {
			if strings.Contains(short, s) {
				return r.vendor
			}
		}
	}
	return graph.StartCase(short)
}

// accountType returns the appAccountType of an application from its short
// name: a string, or a list for atlassianjirabitbucket.
func accountType(short string) any {
	switch {
	case short == "atlassianjirabitbucket":
		return []string{"jira_account", "bitbucket_team"}
	case short == "ciscomeraki" || short == "meraki":
		return "cisco_meraki_account"
	case strings.Contains(short, "wordpress"):
		return "wordpress_account"
	case strings.Contains(short, "snyk"):
		return "snyk_account"
	case strings.Contains(short, "pritunl"):
		return "pritunl_account"
	case strings.Contains(short, "githubcloud"):
		return "github_account"
	case short == "cloudconsole":
		return "google_account"
	case strings.Contains(short, "lifeomic"):
		return "lifeomic_account"
	case strings.Contains(short, "jupiterone") || strings.HasPrefix(short, "j1dev"):
		return "jupiterone_account"
	}
	return short + "_account"
}

// isMultiInstanceApp reports whether an org typically has several accounts
// of the application's vendor.
func isMultiInstanceApp(short string) bool {
	switch short {
	case "aws", "githubcloud", "gcp", "google", "office365":
		return true
	}
	return false
}

// awsRoleRe matches a secondary SAML role "[Account] -- Role" or
// "Account -- Role".
var awsRoleRe = regexp.MustCompile(`\[?([a-zA-Z0-9_-]+)\]? -- ([a-zA-Z0-9_-]+)`)

// awsRole is a parsed AWS role value of an app assignment profile.
type awsRole struct {
	// Account and Role are set for "[Account] -- Role" values.
	Account, Role string
	// ARN is set for a bare role name: arn:aws:iam::<awsAccountId>:role/<role>.
	ARN string
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

package oktafake

// Static vocabularies used by the generator.

var firstNames = []string{
	"James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
	"William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Charles", "Karen",
	"Christopher", "Lisa", "Daniel", "Nancy", "Matthew", "Betty", "Anthony", "Sandra", "Mark", "Margaret",
	"Donald", "Ashley", "Steven", "Kimberly", "Andrew", "Emily", "Paul", "Donna", "Joshua", "Michelle",
	"Kenneth", "Carol", "Kevin", "Amanda", "Brian", "Melissa", "George", "Deborah", "Timothy", "Stephanie",
	"Ronald", "Rebecca", "Jason", "Sharon", "Edward", "Laura", "Jeffrey", "Cynthia", "Ryan", "Amy",
	"Jacob", "Kathleen", "Gary", "Angela", "Nicholas", "Shirley", "Eric", "Brenda", "Jonathan", "Emma",
	"Stephen", "Anna", "Larry", "Pamela", "Justin", "Nicole", "Scott", "Samantha", "Brandon", "Katherine",
	"Wei", "Priya", "Hiroshi", "Fatima", "Mateo", "Chloe", "Olusegun", "Ingrid", "Rahul", "Sofia",
	"Lars", "Aisha", "Diego", "Mei", "Omar", "Yuki", "Kwame", "Elena", "Arjun", "Zara",
}

var lastNames = []string{
	"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
	"Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
	"Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
	"Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores",
	"Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts",
	"Gomez", "Phillips", "Evans", "Turner", "Diaz", "Parker", "Cruz", "Edwards", "Collins", "Reyes",
	"Stewart", "Morris", "Morales", "Murphy", "Cook", "Rogers", "Gutierrez", "Ortiz", "Morgan", "Cooper",
	"Peterson", "Bailey", "Reed", "Kelly", "Howard", "Ramos", "Kim", "Cox", "Ward", "Richardson",
	"Watson", "Brooks", "Chavez", "Wood", "James", "Bennett", "Gray", "Mendoza", "Ruiz", "Hughes",
	"Patel", "Okafor", "Tanaka", "Muller", "Kowalski", "Haddad", "Novak", "Singh", "Chen", "O'Brien",
}

var departments = []string{
	"Engineering", "Sales", "Marketing", "Finance", "Human Resources", "Legal",
	"Support", "Operations", "Product", "Security", "IT", "Design",
}

var titles = []string{
	"Engineer", "Senior Engineer", "Staff Engineer", "Manager", "Director", "Analyst",
	"Specialist", "Associate", "Vice President", "Coordinator",
}

var countries = []string{"US", "US", "US", "GB", "DE", "IN", "JP", "CA", "BR", "AU"}

var groupSuffixes = []string{"", " Managers", " Contractors", " - EMEA", " - APAC", " - Americas", " Leads", " Interns"}

var appGroupSources = []string{"AD", "Workday", "Google Workspace", "Office 365"}

// Groups that hold admin roles, and the roles they hold.
var roleGroupDefs = []struct {
	name  string
	roles []uint8
}{
	{"Administrators", []uint8{roleOrgAdmin}},
	{"Help Desk", []uint8{roleHelpDesk}},
	{"Auditors", []uint8{roleReadOnly, roleReport}},
	{"App Owners", []uint8{roleAppAdmin}},
	{"Mobile Admins", []uint8{roleMobile}},
}

const (
	roleSuperAdmin uint8 = iota
	roleOrgAdmin
	roleAppAdmin
	roleUserAdmin
	roleHelpDesk
	roleReadOnly
	roleMobile
	roleAPIAccess
	roleReport
	roleGroupMembership
)

var roleTypes = []struct{ typ, label string }{
	{"SUPER_ADMIN", "Super Administrator"},
	{"ORG_ADMIN", "Organizational Administrator"},
	{"APP_ADMIN", "Application Administrator"},
	{"USER_ADMIN", "Group Administrator"},
	{"HELP_DESK_ADMIN", "Help Desk Administrator"},
	{"READ_ONLY_ADMIN", "Read-only Administrator"},
	{"MOBILE_ADMIN", "Mobile Administrator"},
	{"API_ACCESS_MANAGEMENT_ADMIN", "API Access Management Administrator"},
	{"REPORT_ADMIN", "Report Administrator"},
	{"GROUP_MEMBERSHIP_ADMIN", "Group Membership Administrator"},
}

// App kinds drive settings.app and credentials.
const (
	appGeneric uint8 = iota
	appAWS
	appGitHub
	appOffice365
	appCustomSAML
	appOIDC
	appBookmark
	appCustomSWA
)

type appTemplate struct {
	name  string // "" = custom name <org>_<word>_<n>
	label string
	mode  string
	kind  uint8
	logo  string
}

// The first len(fixedApps) apps are always these, so even the smallest org has
// every sign-on mode and two AWS accounts.
var fixedApps = []appTemplate{
	{"amazon_aws", "AWS Production", "SAML_2_0", appAWS, "amazon_aws"},
	{"github", "GitHub", "BROWSER_PLUGIN", appGitHub, "github"},
	{"office365", "Microsoft Office 365", "WS_FEDERATION", appOffice365, "office365"},
	{"", "My Dashboard", "SAML_2_0", appCustomSAML, "default"},
	{"oidc_client", "Internal Portal", "OPENID_CONNECT", appOIDC, "default"},
	{"bookmark", "Company Wiki", "BOOKMARK", appBookmark, "bookmark"},
	{"", "Expenses", "AUTO_LOGIN", appCustomSWA, "default"},
	{"amazon_aws", "AWS Development", "SAML_2_0", appAWS, "amazon_aws"},
}

var poolApps = []appTemplate{
	{"amazon_aws", "AWS Account", "SAML_2_0", appAWS, "amazon_aws"},
	{"salesforce", "Salesforce.com", "SAML_2_0", appGeneric, "salesforce"},
	{"slack", "Slack", "SAML_2_0", appGeneric, "slack"},
	{"zoomus", "Zoom", "SAML_2_0", appGeneric, "zoomus"},
	{"pagerduty", "PagerDuty", "SAML_2_0", appGeneric, "pagerduty"},
	{"dropbox_for_business", "Dropbox Business", "SAML_2_0", appGeneric, "dropbox"},
	{"cloudconsole", "Google Cloud Console", "SAML_2_0", appGeneric, "cloudconsole"},
	{"atlassianjirabitbucket", "Jira and Bitbucket", "BROWSER_PLUGIN", appGeneric, "atlassian"},
	{"datadog", "Datadog", "SAML_2_0", appGeneric, "datadog"},
	{"docusign", "DocuSign", "SAML_2_0", appGeneric, "docusign"},
	{"template_swa", "Team Tool", "BROWSER_PLUGIN", appGeneric, "default"},
	{"template_basic_auth", "Legacy Portal", "BASIC_AUTH", appGeneric, "default"},
	{"oidc_client", "Service App", "OPENID_CONNECT", appOIDC, "default"},
	{"bookmark", "Handbook", "BOOKMARK", appBookmark, "bookmark"},
	{"", "Custom SAML App", "SAML_2_0", appCustomSAML, "default"},
	{"", "Custom SWA App", "AUTO_LOGIN", appCustomSWA, "default"},
	{"githubcloud", "GitHub Enterprise Cloud", "SAML_2_0", appGitHub, "githubcloud"},
	{"office365", "Microsoft Office 365", "WS_FEDERATION", appOffice365, "office365"},
}

var customAppWords = []string{"mydashboard", "expenses", "wiki", "timesheets", "crm", "intranet", "reports", "payroll", "builds", "metrics"}

// AWS assignment profiles (profile.role / profile.samlRoles).
var awsProfiles = []assignProfile{
	{Role: "", SamlRoles: []string{"[Prod] -- Admin", "ReadOnly"}},
	{Role: "Developer", SamlRoles: []string{"[Dev] -- Developer"}},
	{Role: "ReadOnly"},
	{Role: "", SamlRoles: []string{"Prod -- PowerUser", "[Staging] -- Admin", "Billing"}},
	{Role: "Admin", SamlRoles: []string{"[Prod] -- Admin"}},
	{Role: "SecurityAudit", SamlRoles: []string{"SecurityAudit", "[Dev] -- ReadOnly"}},
}

// devicePlatforms are the device models of the fake org, covering every
// value of Okta's profile.platform (ANDROID, IOS, MACOS, WINDOWS).
var devicePlatforms = []struct{ platform, manufacturer, model, osVersion, kind string }{
	{"MACOS", "Apple", "MacBookPro18,3", "14.4.1", "MacBook Pro"},
	{"MACOS", "Apple", "Mac14,2", "15.1", "MacBook Air"},
	{"WINDOWS", "Dell Inc.", "Latitude 7440", "10.0.22631", "Latitude"},
	{"WINDOWS", "LENOVO", "ThinkPad X1 Carbon Gen 11", "10.0.19045", "ThinkPad"},
	{"IOS", "Apple", "iPhone15,2", "17.5", "iPhone"},
	{"ANDROID", "Google", "Pixel 8", "14", "Pixel"},
	{"ANDROID", "samsung", "SM-S911B", "14", "Galaxy"},
}

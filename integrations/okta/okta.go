package okta

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/stepgraph/stepgraph/sdk/graph"
	"github.com/stepgraph/stepgraph/sdk/httpclient"
	"github.com/stepgraph/stepgraph/sdk/integration"
)

// Name is the integration's name: it prefixes types and names the
// recordings folder.
const Name = "okta"

// Step IDs.
const (
	StepAccount             = "fetch-account"
	StepUsers               = "fetch-users"
	StepGroups              = "fetch-groups"
	StepApplications        = "fetch-applications"
	StepMFADevices          = "fetch-mfa-devices"
	StepUserGroupUsers      = "build-user-group-users-relationships"
	StepAppUserGroupUsers   = "build-app-user-group-users-relationships"
	StepGroupApps           = "build-group-app-relationships"
	StepUserApps            = "build-user-app-relationships"
	StepRules               = "fetch-rules"
	StepRoles               = "fetch-roles"
	StepApplicationCreation = "build-application-creation-relationship"
	StepDevices             = "fetch-devices"
	StepGroupMembers        = "fetch-group-members"
	StepAppUsers            = "fetch-application-users"
)

// Tuning defaults.
const (
	// DefaultMaxInFlight is the default cap on concurrent requests of the
	// shared client: about a fifth of Okta's default org-wide concurrent
	// limit of 75, which every API client of the org shares, close to
	// Okta's note that bulk loads rarely need more than 10 concurrent
	// requests, and as many as one step's fan-out. Concurrency-limit 429s
	// lower it further (see sdk/httpclient); Options.MaxInFlight sets it.
	DefaultMaxInFlight = 16
	// systemLogWindow is how far back app creations are read (Okta keeps
	// 90 days of System Log).
	systemLogWindow = 90 * 24 * time.Hour
)

// Typed run state handed between steps (integration.Key): persisted
// indexes survive reuse; scratch stores are run-local.
var (
	keyAccount          = integration.NewKey[string]("okta.account") // the account's _key
	keyUsers            = integration.NewKey[*userIndex]("okta.users")
	keyGroups           = integration.NewKey[[]groupInfo]("okta.groups")
	keyApps             = integration.NewKey[[]appInfo]("okta.apps")
	keyFactors          = integration.NewLocalKey[*factorData]("okta.factors")
	keyUserGroupMembers = integration.NewLocalKey[*memberPages]("okta.userGroupMembers")
	keyAppGroupMembers  = integration.NewLocalKey[*memberPages]("okta.appGroupMembers")
	keyAppUsers         = integration.NewLocalKey[*assignments]("okta.appUsers")
)

// Entity types.
const (
	typeAccount      = "okta_account"
	typeService      = "okta_service"
	typeUser         = "okta_user"
	typeUserGroup    = "okta_user_group"
	typeAppUserGroup = "okta_app_user_group"
	typeApp          = "okta_application"
	typeMFADevice    = "mfa_device"
	typeRole         = "okta_role"
	typeRule         = "okta_rule"
	typeDevice       = "okta_device"
	typeAWSRole      = "aws_iam_role"
)

// Relationship types.
const (
	relAccountHasGroup          = "okta_account_has_group"
	relGroupHasUser             = "okta_group_has_user"
	relGroupAssignedApp         = "okta_group_assigned_application"
	relUserAssignedApp          = "okta_user_assigned_application"
	relUserAssignedFactor       = "okta_user_assigned_factor"
	relUserAssignedAWSRole      = "okta_user_assigned_aws_iam_role"
	relUserGroupAssignedAWSRole = "okta_user_group_assigned_aws_iam_role"
	relUserCreatedApp           = "okta_user_created_application"
)

// Okta API paths and queries.
const (
	pathUsers           = "/api/v1/users"
	pathGroups          = "/api/v1/groups"
	pathRules           = "/api/v1/groups/rules"
	pathApps            = "/api/v1/apps"
	pathLogs            = "/api/v1/logs"
	pathDevices         = "/api/v1/devices"
	pathAssignees       = "/api/v1/iam/assignees/users"
	pathOktaSupport     = "/api/v1/org/privacy/oktaSupport"
	appCreationFilter   = `eventType eq "application.lifecycle.update" and debugContext.debugData.requestUri ew "_new_"`
	deprovisionedSearch = `status eq "DEPROVISIONED"`
)

// Options configure the integration beyond its Config. The zero value
// collects from the configured org over the network.
type Options struct {
	// BaseURL, when set, sends every request there instead of to the
	// configured orgUrl, while entity keys and web links still derive from
	// orgUrl. It exists for tests and for the bundled fake (oktafake); it is
	// never read from flags or the environment. It must be an absolute
	// http(s) URL.
	BaseURL string
	// Transport replaces the HTTP transport (e.g. a go-vcr recorder).
	Transport http.RoundTripper
	// Logger receives the HTTP client's debug records (retries, waits).
	Logger *slog.Logger
	// Now is the clock of the System Log window (default time.Now).
	Now func() time.Time
	// Clock is the clock of OAuth 2.0 client assertions and access-token
	// expiry (default time.Now).
	Clock func() time.Time
	// MaxInFlight caps concurrent requests of the shared client (default
	// DefaultMaxInFlight, 16: well below Okta's usual org-wide
	// concurrency limit of 75, which the org's other clients share).
	MaxInFlight int
	// Source, when set, is recorded as metadata.details.source in
	// summary.json instead of the org URL: the bundled demo org sets it so
	// its output can never be mistaken for a real org's.
	Source string
	// HTTP, when set, may adjust the HTTP client configuration before the
	// client is built (e.g. shorter backoffs in tests).
	HTTP func(*httpclient.Config)
}

// Collector is the Okta integration and the HTTP statistics of its runs.
// Use New for the integration alone.
type Collector struct {
	opts  Options
	integ *integration.Integration[Config]
	stats httpclient.Tracker // the clients of its runs
}

// New returns the Okta integration declaration. Every run builds its own
// HTTP client in Setup, shared by its steps and dropped when it ends.
func New(opts Options) *integration.Integration[Config] {
	return NewCollector(opts).Integration()
}

// NewCollector returns a Collector for opts.
func NewCollector(opts Options) *Collector {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.MaxInFlight <= 0 {
		opts.MaxInFlight = DefaultMaxInFlight
	}
	x := &Collector{opts: opts}
	x.integ = &integration.Integration[Config]{
		Name:     Name,
		Validate: x.validate,
		Setup:    x.setup,
		Sources:  x.sources(),
		Prober: func(rc *integration.RunContext[Config]) (integration.Prober, error) {
			return integration.Need(rc, keyAPI)
		},
		Describe: x.describe,
		Classify: classify,
		Steps:    x.steps(),
	}
	return x
}

// describe is the summary's metadata.details: how the run authenticated
// and where the data comes from (the org, or Options.Source).
func (x *Collector) describe(cfg *Config) map[string]string {
	out := x.describeAuth(cfg)
	if out == nil {
		out = map[string]string{}
	}
	switch {
	case x.opts.Source != "":
		out["source"] = x.opts.Source
	default:
		if org, err := NormalizeOrgURL(cfg.OrgURL, cfg.AllowCustomDomain); err == nil {
			out["source"] = org
		}
	}
	return out
}

// Integration returns the integration declaration.
func (x *Collector) Integration() *integration.Integration[Config] { return x.integ }

// HTTPStats returns the per-family counters of the HTTP clients of every
// run of the collector: those that ended and those in progress.
func (x *Collector) HTTPStats() map[string]httpclient.FamilyStats { return x.stats.Families() }

// Family maps a request path to its Okta rate-limit bucket: users (and
// every /api/v1/users/* sub-resource), groups, apps, logs, devices, or
// other.
var Family = httpclient.FamiliesByPath("other", map[string]string{
	pathUsers: "users", pathGroups: "groups", pathApps: "apps", pathLogs: "logs", pathDevices: "devices",
})

// orgAPI is what every step of a run shares: the run's HTTP client (one
// rate-limit pacer for all steps), how it authenticates, and the org.
type orgAPI struct {
	c    *httpclient.Client
	auth *clientAuth
	org  orgInfo
}

// keyAPI hands the run's api from Setup to the steps.
var keyAPI = integration.NewLocalKey[*orgAPI]("okta.api")

// newAPI builds an HTTP client for cfg (validated by validateFields).
// logger receives the client's records unless Options.Logger is set.
func (x *Collector) newAPI(cfg *Config, logger *slog.Logger) (*orgAPI, error) {
	org, err := validateFields(cfg)
	if err != nil {
		return nil, err
	}
	base := strings.TrimSuffix(org, "/")
	if x.opts.BaseURL != "" {
		base = strings.TrimSuffix(x.opts.BaseURL, "/")
	}
	auth, err := x.newClientAuth(cfg, org, base)
	if err != nil {
		return nil, err
	}
	hc := httpclient.Config{
		BaseURL:     base,
		Transport:   x.opts.Transport,
		Family:      Family,
		Share:       cfg.RateLimitShare,
		MaxInFlight: x.opts.MaxInFlight,
		UserAgent:   "stepgraph-okta",
		Logger:      cmp.Or(x.opts.Logger, logger),
	}
	auth.configure(&hc)
	if x.opts.HTTP != nil {
		x.opts.HTTP(&hc)
	}
	c, err := httpclient.New(hc)
	if err != nil {
		return nil, fmt.Errorf("okta: building the HTTP client: %w", err)
	}
	return &orgAPI{c: c, auth: auth, org: newOrgInfo(org)}, nil
}

// setup builds the run's client, proves the credentials work with one
// cheap request (GET /api/v1/users?limit=1) before any step starts, and
// hands the client to the steps. Its counters join HTTPStats' totals
// when the run ends.
func (x *Collector) setup(ctx context.Context, rc *integration.RunContext[Config]) error {
	a, err := x.newAPI(rc.Config, rc.Logger)
	if err != nil {
		return err
	}
	rc.OnEnd(x.stats.Track(a.c))
	if err := checkAuth(ctx, a.c, a.auth); err != nil {
		return err
	}
	integration.Put(rc, keyAPI, a)
	return nil
}

// validate checks every field and normalises orgUrl, without any
// request (Setup proves the credentials work).
func (x *Collector) validate(_ context.Context, cfg *Config) error {
	org, err := validateFields(cfg)
	if err != nil {
		return err
	}
	cfg.OrgURL = org
	cfg.APIKey = strings.TrimSpace(cfg.APIKey)
	return nil
}

// Entity and relationship declarations.
var (
	entAccount      = integration.EntityType{Resource: "Okta Account", Type: typeAccount, Class: []string{"Account"}}
	entService      = integration.EntityType{Resource: "Okta Service", Type: typeService, Class: []string{"Service", "Control"}}
	entUser         = integration.EntityType{Resource: "Okta User", Type: typeUser, Class: []string{"User"}}
	entUserGroup    = integration.EntityType{Resource: "Okta UserGroup", Type: typeUserGroup, Class: []string{"UserGroup"}}
	entAppUserGroup = integration.EntityType{Resource: "Okta App UserGroup", Type: typeAppUserGroup, Class: []string{"UserGroup"}}
	entApp          = integration.EntityType{Resource: "Okta Application", Type: typeApp, Class: []string{"Application"}}
	entMFADevice    = integration.EntityType{Resource: "Okta Factor Device", Type: typeMFADevice, Class: []string{"Key", "AccessKey"}}
	entRole         = integration.EntityType{Resource: "Okta Role", Type: typeRole, Class: []string{"AccessRole"}}
	entRule         = integration.EntityType{Resource: "Okta Rule", Type: typeRule, Class: []string{"Configuration"}}
	entDevice       = integration.EntityType{Resource: "Okta Device", Type: typeDevice, Class: []string{"Device"}}
)

// steps declares the 15 steps.
func (x *Collector) steps() []integration.Step[Config] {
	return []integration.Step[Config]{
		{
			ID: StepAccount, Name: "Fetch Account",
			Entities:      []integration.EntityType{entAccount, entService},
			Relationships: []integration.RelationshipType{integration.Relates(typeAccount, graph.HAS, typeService)},
			Data:          []integration.DataKey{keyAccount.Data()},
			Run:           x.fetchAccount,
		},
		{
			ID: StepUsers, Name: "Fetch Users", DependsOn: []string{StepAccount}, NeedsData: integration.Needs(keyAccount),
			Entities:      []integration.EntityType{entUser},
			Relationships: []integration.RelationshipType{integration.Relates(typeAccount, graph.HAS, typeUser)},
			// With the mfa-devices source on, it also reads the users'
			// factors (mfaEnabled needs them) and hands them over.
			Data: []integration.DataKey{keyUsers.Data(), keyFactors.Data()},
			Run:  x.fetchUsers,
		},
		{
			ID: StepGroups, Name: "Fetch Groups", Source: SourceGroups, DependsOn: []string{StepAccount}, NeedsData: integration.Needs(keyAccount),
			Entities: []integration.EntityType{entUserGroup, entAppUserGroup},
			Relationships: []integration.RelationshipType{
				integration.Relates(typeAccount, graph.HAS, typeUserGroup).Named(relAccountHasGroup),
				integration.Relates(typeAccount, graph.HAS, typeAppUserGroup).Named(relAccountHasGroup),
			},
			Data: []integration.DataKey{keyGroups.Data()},
			Run:  x.fetchGroups,
		},
		{
			ID: StepGroupMembers, Name: "Fetch Group Members", Source: SourceGroups, DependsOn: []string{StepGroups}, NeedsData: integration.Needs(keyGroups),
			Data: []integration.DataKey{keyUserGroupMembers.Data(), keyAppGroupMembers.Data()},
			Run:  x.fetchGroupMembers,
		},
		{
			ID: StepApplications, Name: "Fetch Applications", Source: SourceApplications, DependsOn: []string{StepAccount}, NeedsData: integration.Needs(keyAccount),
			Entities:      []integration.EntityType{entApp},
			Relationships: []integration.RelationshipType{integration.Relates(typeAccount, graph.HAS, typeApp)},
			Data:          []integration.DataKey{keyApps.Data()},
			Run:           x.fetchApplications,
		},
		{
			ID: StepAppUsers, Name: "Fetch Application Users", Source: SourceApplications, DependsOn: []string{StepApplications}, NeedsData: integration.Needs(keyApps),
			Data: []integration.DataKey{keyAppUsers.Data()},
			Run:  x.fetchAppUsers,
		},
		{
			ID: StepMFADevices, Name: "Fetch MFA Devices", Source: SourceMFADevices, DependsOn: []string{StepUsers}, NeedsData: integration.Needs(keyFactors),
			Entities:      []integration.EntityType{entMFADevice},
			Relationships: []integration.RelationshipType{integration.Relates(typeUser, graph.ASSIGNED, typeMFADevice).Named(relUserAssignedFactor)},
			Run:           x.fetchMFADevices,
		},
		{
			ID: StepUserGroupUsers, Name: "Build User Group Users Relationships", DependsOn: []string{StepUsers, StepGroups, StepGroupMembers},
			NeedsData:     integration.Needs(keyUsers, keyGroups, keyUserGroupMembers),
			Relationships: []integration.RelationshipType{integration.Relates(typeUserGroup, graph.HAS, typeUser).Named(relGroupHasUser)},
			Run:           buildGroupUsers(false),
		},
		{
			ID: StepAppUserGroupUsers, Name: "Build App User Group Users Relationships", DependsOn: []string{StepUsers, StepGroups, StepGroupMembers},
			NeedsData:     integration.Needs(keyGroups, keyAppGroupMembers),
			Relationships: []integration.RelationshipType{integration.Relates(typeAppUserGroup, graph.HAS, typeUser).Named(relGroupHasUser)},
			Run:           buildGroupUsers(true),
		},
		{
			ID: StepGroupApps, Name: "Build Group Application Relationships", DependsOn: []string{StepGroups, StepApplications},
			NeedsData: integration.Needs(keyGroups, keyApps),
			Relationships: []integration.RelationshipType{
				integration.Relates(typeUserGroup, graph.ASSIGNED, typeApp).Named(relGroupAssignedApp),
				integration.Relates(typeAppUserGroup, graph.ASSIGNED, typeApp).Named(relGroupAssignedApp),
			},
			MappedRelationships: []integration.MappedRelationshipType{integration.MapsTo(typeUserGroup, graph.ASSIGNED, typeAWSRole, graph.Reverse)},
			Run:                 buildAssignments(true),
		},
		{
			ID: StepUserApps, Name: "Build User Application Relationships", DependsOn: []string{StepUsers, StepApplications, StepAppUsers},
			NeedsData:           integration.Needs(keyUsers, keyApps, keyAppUsers),
			Relationships:       []integration.RelationshipType{integration.Relates(typeUser, graph.ASSIGNED, typeApp)},
			MappedRelationships: []integration.MappedRelationshipType{integration.MapsTo(typeUser, graph.ASSIGNED, typeAWSRole, graph.Reverse)},
			Run:                 buildAssignments(false),
		},
		{
			ID: StepRules, Name: "Fetch Rules", Source: SourceRules, DependsOn: []string{StepUsers, StepGroups}, NeedsData: integration.Needs(keyAccount),
			Entities: []integration.EntityType{entRule},
			Relationships: []integration.RelationshipType{
				integration.Relates(typeAccount, graph.HAS, typeRule),
				integration.Relates(typeRule, graph.MANAGES, typeUserGroup),
			},
			Run: x.fetchRules,
		},
		{
			ID: StepRoles, Name: "Fetch Roles", Source: SourceRoles, DependsOn: []string{StepUsers, StepGroups}, NeedsData: integration.Needs(keyUsers, keyGroups),
			Entities: []integration.EntityType{entRole},
			Relationships: []integration.RelationshipType{
				integration.Relates(typeUser, graph.ASSIGNED, typeRole),
				integration.Relates(typeUserGroup, graph.ASSIGNED, typeRole),
			},
			Run: x.fetchRoles,
		},
		{
			ID: StepApplicationCreation, Name: "Build User Created Application Relationship", DependsOn: []string{StepUsers, StepApplications},
			Relationships: []integration.RelationshipType{{
				Type: relUserCreatedApp, Class: graph.CREATED, Source: typeUser, Target: typeApp, Partial: true,
			}},
			Run: x.buildApplicationCreation,
		},
		{
			ID: StepDevices, Name: "Fetch Devices", Source: SourceDevices, DependsOn: []string{StepUsers}, NeedsData: integration.Needs(keyAccount),
			Entities: []integration.EntityType{entDevice},
			Relationships: []integration.RelationshipType{
				integration.Relates(typeAccount, graph.HAS, typeDevice),
				integration.Relates(typeUser, graph.HAS, typeDevice),
			},
			Run: x.fetchDevices,
		},
	}
}

package oktafake

import (
	"net/http"
	"time"
)

// DefaultToken is the API token the server accepts when ServerOptions.Token
// is empty. Send it as "Authorization: SSWS fake-okta-token-0123456789".
const DefaultToken = "fake-okta-token-0123456789"

// Rate-limit bucket names (keys of ServerOptions.Limits and Stats.Buckets).
const (
	// BucketUsers: /api/v1/users and every /api/v1/users/* sub-resource
	// (factors, roles).
	BucketUsers = "users"
	// BucketGroups: /api/v1/groups and /api/v1/groups/* (members, rules,
	// group roles).
	BucketGroups = "groups"
	// BucketApps: /api/v1/apps and every /api/v1/apps/* (one shared counter).
	BucketApps = "apps"
	// BucketLogs: /api/v1/logs.
	BucketLogs = "logs"
	// BucketDevices: /api/v1/devices.
	BucketDevices = "devices"
	// BucketOther: everything else, including /api/v1/iam/assignees/users
	// and /api/v1/org/privacy/oktaSupport.
	BucketOther = "other"
)

// Buckets lists the bucket names.
var Buckets = []string{BucketUsers, BucketGroups, BucketApps, BucketLogs, BucketDevices, BucketOther}

// DefaultLimits are the per-window limits of a typical workforce org (per
// minute), from the Okta contract.
var DefaultLimits = map[string]int{
	BucketUsers:   600,
	BucketGroups:  500,
	BucketApps:    100,
	BucketLogs:    120,
	BucketDevices: 100,
	BucketOther:   1200,
}

// Endpoint path templates, as reported in Stats.Endpoints and accepted by
// Faults.Forbidden and Faults.Endpoints.
const (
	EndpointOktaSupport  = "/api/v1/org/privacy/oktaSupport"
	EndpointUsers        = "/api/v1/users"
	EndpointUser         = "/api/v1/users/{id}"
	EndpointUserFactors  = "/api/v1/users/{id}/factors"
	EndpointUserRoles    = "/api/v1/users/{id}/roles"
	EndpointIAMAssignees = "/api/v1/iam/assignees/users"
	EndpointGroups       = "/api/v1/groups"
	EndpointGroup        = "/api/v1/groups/{id}"
	EndpointGroupUsers   = "/api/v1/groups/{id}/users"
	EndpointGroupRoles   = "/api/v1/groups/{id}/roles"
	EndpointGroupRules   = "/api/v1/groups/rules"
	EndpointApps         = "/api/v1/apps"
	EndpointApp          = "/api/v1/apps/{id}"
	EndpointAppUsers     = "/api/v1/apps/{id}/users"
	EndpointAppGroups    = "/api/v1/apps/{id}/groups"
	EndpointDevices      = "/api/v1/devices"
	EndpointLogs         = "/api/v1/logs"
	// EndpointUnknown is any path the fake does not implement (404).
	EndpointUnknown = "(unknown)"
)

// AdminOnlyEndpoints are the endpoints a token without admin rights cannot
// read; pass them as Faults.Forbidden to simulate such a token.
var AdminOnlyEndpoints = []string{
	EndpointUserRoles, EndpointGroupRoles, EndpointIAMAssignees,
	EndpointLogs, EndpointDevices, EndpointOktaSupport,
}

// ServerOptions configures a Server. The zero value is a faithful server with
// Okta's default limits per 60 s window.
type ServerOptions struct {
	// Token is the accepted API token (default DefaultToken).
	Token string
	// BaseURL, if set (e.g. "https://acme.okta.com"), is used in every link
	// instead of the request's own scheme and host.
	BaseURL string
	// ObjectBaseURL, if set, is used only in links inside objects (_links,
	// app login URLs), while paging links keep the request's own host: a
	// client served on a loopback port then records the org's URLs, stable
	// across runs, and still pages through the fake.
	ObjectBaseURL string
	// Window is the rate-limit window (default 60 s). Windows are aligned to
	// wall-clock multiples of Window, like Okta's per-minute reset.
	Window time.Duration
	// Limits overrides the per-window limit of buckets by name (see Buckets);
	// missing buckets keep DefaultLimits.
	Limits map[string]int
	// LimitScale multiplies every limit (0 = 1); the result is at least 1.
	LimitScale float64
	// DisableRateLimits never answers 429 for a bucket (headers are still
	// sent and requests still counted).
	DisableRateLimits bool
	// ConcurrencyLimit is the org-wide number of requests in flight; a
	// request arriving while that many are in flight gets a 429 carrying
	// the concurrent values, as Okta documents: X-Rate-Limit-Limit is the
	// concurrency limit, Remaining 0, and X-Rate-Limit-Reset an estimate
	// (the next second; no -Reset-Ms). Zero disables it.
	ConcurrencyLimit int
	// ConcurrencyLimitZero makes concurrency-limit 429s report
	// X-Rate-Limit-Limit: 0 (with the bucket's reset) instead, the form
	// older Okta documentation describes.
	ConcurrencyLimitZero bool
	// Latency delays every admitted request (honouring cancellation).
	Latency time.Duration
	// Faults injects errors.
	Faults Faults
	// Clock replaces time.Now for rate-limit windows and the Date header.
	Clock func() time.Time
	// DateOffset is added to the Date header only (not to the windows nor
	// the reset headers): negative for a stale Date, positive for one
	// ahead of the resets.
	DateOffset time.Duration
	// OAuth configures the org authorization server (TokenPath): the
	// registered service apps, token lifetime and scope handling.
	OAuth OAuthOptions
}

// Faults configures deterministic fault injection. Whether a request fails
// depends only on Faults.Seed, its method and URI, and how many times that
// same URI was requested before, so a run is reproducible regardless of
// request interleaving, and a retried request eventually succeeds.
type Faults struct {
	// Seed selects which requests and objects are hit.
	Seed int64
	// ErrorRate is the fraction of requests answered 500 E0000009.
	ErrorRate float64
	// DropRate is the fraction of requests whose connection is closed after
	// the status line, headers (with the full Content-Length) and part of
	// the body.
	DropRate float64
	// Endpoints restricts ErrorRate and DropRate to these templates
	// (Endpoint* constants); empty means all endpoints.
	Endpoints []string
	// DeletedFraction is the fraction of users, groups and apps "deleted
	// between the list and the detail calls": they are still listed, but
	// their sub-resources (factors, roles, members, app users/groups) and
	// detail GETs answer 404 E0000007.
	DeletedFraction float64
	// DeletedIDs are deleted in the same way, in addition.
	DeletedIDs []string
	// Forbidden endpoints (templates, or bucket names for a whole bucket)
	// answer 403 E0000006, as for a token without admin rights.
	Forbidden []string
	// RulesNotEnabled makes /api/v1/groups/rules answer 400 (feature not
	// enabled).
	RulesNotEnabled bool
	// GroupStatsLimit, if > 0, makes /api/v1/groups?expand=stats answer 500
	// E0000009 when the effective limit exceeds it (Okta's timeout on big
	// pages with stats).
	GroupStatsLimit int
}

// Route limits: default and maximum page sizes.
var pageLimits = map[string][2]int{
	EndpointUsers:        {200, 200},
	EndpointIAMAssignees: {100, 100},
	EndpointGroups:       {10000, 10000},
	EndpointGroupUsers:   {1000, 1000},
	EndpointGroupRules:   {50, 200},
	EndpointApps:         {20, 200},
	EndpointAppUsers:     {50, 500},
	EndpointAppGroups:    {20, 200},
	EndpointDevices:      {200, 200},
	EndpointLogs:         {100, 1000},
}

// PageLimits returns the default and maximum `limit` of a list endpoint
// template, and false for endpoints without paging.
func PageLimits(endpoint string) (def, maxLimit int, ok bool) {
	l, ok := pageLimits[endpoint]
	return l[0], l[1], ok
}

var _ http.Handler = (*Server)(nil)

package oktabench

import (
	"github.com/stepgraph/stepgraph/integrations/okta/oktafake"
)

// Plan is the minimal request plan of a complete collection of an org: how
// many requests each endpoint needs at the least, derived from the fake
// org's ground truth and Okta's page-size maxima.
type Plan struct {
	// Endpoints maps oktafake endpoint templates to request counts.
	Endpoints map[string]int64
	// Buckets sums Endpoints per rate-limit bucket.
	Buckets map[string]int64
	// Chain is the longest chain of requests that must run one after the
	// other: the token check, the support setting, every users page
	// (each names the next) and the last user's factors.
	Chain int64
}

// Total is the plan's number of requests.
func (p *Plan) Total() int64 {
	var n int64
	for _, v := range p.Endpoints {
		n += v
	}
	return n
}

func pages(n, size int) int64 {
	if n <= 0 {
		return 1 // an empty list is still one request
	}
	return int64((n + size - 1) / size)
}

// MinimalPlan computes the plan of the default sources (devices off): one
// page per 200 users (active and deprovisioned listed separately) plus the
// validation call, one factors call per non-deprovisioned user, role calls
// only for users listed by the IAM assignees endpoint, group member pages
// only for non-empty groups other than Everyone, app user and group pages
// per app, roles only of groups that hold some (known from group
// stats), and the rules, logs and support calls.
func MinimalPlan(t *oktafake.Truth) *Plan {
	p := &Plan{Endpoints: map[string]int64{}, Buckets: map[string]int64{}}
	add := func(ep string, n int64) { p.Endpoints[ep] += n }

	live := t.LiveUserIDs()
	deprov := len(t.UsersByStatus["DEPROVISIONED"])
	add(oktafake.EndpointUsers, 1) // token check: GET /api/v1/users?limit=1
	add(oktafake.EndpointUsers, pages(len(live), 200))
	add(oktafake.EndpointUsers, pages(deprov, 200))
	add(oktafake.EndpointUserFactors, int64(len(live)))
	p.Chain = 3 + pages(len(live), 200) + pages(deprov, 200)
	add(oktafake.EndpointIAMAssignees, pages(len(t.RoleAssignees), 100))
	add(oktafake.EndpointUserRoles, int64(len(t.RoleAssignees)))
	add(oktafake.EndpointOktaSupport, 1)

	add(oktafake.EndpointGroups, pages(len(t.Groups), 10000))
	for _, g := range t.Groups {
		if g.Type != "BUILT_IN" && len(g.MemberIDs) > 0 {
			add(oktafake.EndpointGroupUsers, pages(len(g.MemberIDs), 1000))
		}
	}
	for _, g := range t.Groups {
		if g.Type != "APP_GROUP" && len(g.Roles) > 0 {
			add(oktafake.EndpointGroupRoles, 1) // only groups holding roles (by stats)
		}
	}
	add(oktafake.EndpointGroupRules, pages(len(t.Rules), 200))

	add(oktafake.EndpointApps, pages(len(t.Apps), 200))
	for _, a := range t.Apps {
		add(oktafake.EndpointAppUsers, pages(len(a.Users), 500))
		add(oktafake.EndpointAppGroups, pages(len(a.Groups), 200))
	}
	add(oktafake.EndpointLogs, 1)

	for ep, n := range p.Endpoints {
		p.Buckets[bucketOf(ep)] += n
	}
	return p
}

// bucketOf maps an endpoint template to its bucket, as the fake does.
func bucketOf(ep string) string {
	switch ep {
	case oktafake.EndpointUsers, oktafake.EndpointUser, oktafake.EndpointUserFactors, oktafake.EndpointUserRoles:
		return oktafake.BucketUsers
	case oktafake.EndpointGroups, oktafake.EndpointGroup, oktafake.EndpointGroupUsers, oktafake.EndpointGroupRoles, oktafake.EndpointGroupRules:
		return oktafake.BucketGroups
	case oktafake.EndpointApps, oktafake.EndpointApp, oktafake.EndpointAppUsers, oktafake.EndpointAppGroups:
		return oktafake.BucketApps
	case oktafake.EndpointLogs:
		return oktafake.BucketLogs
	case oktafake.EndpointDevices:
		return oktafake.BucketDevices
	}
	return oktafake.BucketOther
}

// GraphOktaPlan is the request plan of JupiterOne's graph-okta for the same
// org, as far as the users bucket (the busiest) is concerned: it lists the
// users like we do but asks every user, deprovisioned ones included, for
// its factors and for its roles (one request each). Other buckets are left
// as in the minimal plan. It exists to size limits the way graph-okta's
// published baseline did ("Okta's ratios scaled so graph-okta's plan needs
// two windows").
func GraphOktaPlan(t *oktafake.Truth) *Plan {
	p := MinimalPlan(t)
	g := &Plan{Endpoints: map[string]int64{}, Buckets: map[string]int64{}}
	for ep, n := range p.Endpoints {
		g.Endpoints[ep] = n
	}
	g.Endpoints[oktafake.EndpointUserFactors] = int64(len(t.Users))
	g.Endpoints[oktafake.EndpointUserRoles] = int64(len(t.Users))
	for ep, n := range g.Endpoints {
		g.Buckets[bucketOf(ep)] += n
	}
	return g
}

package okta

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/stepgraph/stepgraph/sdk/integration"
)

// Sources every run reads, declared Required so that validate probes and
// reports them like the sources a run may disable.
const (
	sourceCredentials = "credentials"
	sourceAccount     = "account"
	sourceUsers       = "users"
	sourceSystemLog   = "system-log"
)

// sources declares the ingestion sources (steps name theirs in
// Step.Source): --disable-source, disableSources, enableDevices, the
// scopes a service app requests by default (Needs) and validate's probes
// derive from it. A probe makes one small request with the run's client
// (orgAPI, the Prober), after Setup proved the credentials work and the SDK
// checked that the token carries the source's scopes (orgAPI.Lacks); a
// refusal names the missing admin role (orgAPI.Get).
func (x *Collector) sources() []integration.Source[Config] {
	return []integration.Source[Config]{
		{
			Name: sourceCredentials, Description: "the configured credentials (Setup proves them with GET " + pathUsers + "?limit=1)",
			Required: true,
			Probe: integration.Using[Config](keyAPI, func(ctx context.Context, a *orgAPI) error {
				_, err := a.auth.describeCredentials(ctx)
				return err
			}),
			ProbeDetail: func(ctx context.Context, rc *integration.RunContext[Config]) string {
				detail, _ := integration.MustGet(rc, keyAPI).auth.describeCredentials(ctx) // Setup put it
				return detail
			},
		},
		{Name: sourceAccount, Description: "the org's Okta support settings (okta_account)", Required: true, Needs: []string{ScopeOrgsRead}, Get: pathOktaSupport},
		{Name: sourceUsers, Description: "users", Required: true, Needs: []string{ScopeUsersRead}, Get: pathUsers + "?limit=1"},
		{Name: SourceGroups, Description: "groups, their members and their application assignments", Needs: []string{ScopeGroupsRead}, Get: pathGroups + "?limit=1"},
		{Name: SourceApplications, Description: "applications and their user/group assignments, AWS role mappings, creators", Needs: []string{ScopeAppsRead}, Get: pathApps + "?limit=1"},
		{
			Name: SourceMFADevices, Description: "users' MFA factors (also sets okta_user.mfaEnabled)",
			Needs:         []string{ScopeUsersRead}, // factors are a user sub-resource
			ProbeEndpoint: "GET " + pathUsers + "/{id}/factors", Probe: integration.Using[Config](keyAPI, probeFactors),
		},
		{Name: SourceRoles, Description: "admin roles of users and groups", Needs: []string{ScopeRolesRead}, Get: pathAssignees + "?limit=1"},
		{Name: SourceRules, Description: "group rules", Needs: []string{ScopeGroupsRead}, Get: pathRules + "?limit=1"},
		{
			// Read by the applications source's app-creation step; probed
			// (and its scope requested) on every run.
			Name: sourceSystemLog, Description: "the System Log (application creators)", Required: true,
			Needs: []string{ScopeLogsRead}, ProbeEndpoint: "GET " + pathLogs,
			Probe: integration.Using[Config](keyAPI, func(ctx context.Context, a *orgAPI) error {
				now := x.opts.Now().UTC()
				return a.Get(ctx, pathLogs+"?limit=1&since="+now.Add(-time.Hour).Format(time.RFC3339)+"&until="+now.Format(time.RFC3339), []string{ScopeLogsRead})
			}),
		},
		{
			Name: SourceDevices, Description: "Okta Identity Engine devices (off unless --enableDevices)", Needs: []string{ScopeDevicesRead},
			Get: pathDevices + "?limit=1", EnabledBy: "enableDevices", OffNote: "needs Okta Identity Engine",
		},
	}
}

// Lacks implements integration.Prober: the first of needs (scopes) the
// service app's token does not carry, and why; an API token has no scopes.
func (a *orgAPI) Lacks(ctx context.Context, needs []string) error {
	if a.auth.ts == nil {
		return nil
	}
	return a.auth.ts.Lacks(ctx, needs)
}

// Get implements integration.Prober: GET path with the run's client; a 403
// names the missing admin role.
func (a *orgAPI) Get(ctx context.Context, path string, needs []string) error {
	_, err := a.c.Do(ctx, http.MethodGet, path, nil)
	return a.auth.explainForbidden(needs, err)
}

// probeFactors reads the factors of the first listed user: MFA factors
// are a sub-resource with no listing of their own.
func probeFactors(ctx context.Context, a *orgAPI) error {
	var users []struct {
		ID string `json:"id"`
	}
	if _, err := a.c.GetJSON(ctx, pathUsers+"?limit=1", &users); err != nil {
		return a.auth.explainForbidden([]string{ScopeUsersRead}, err)
	}
	if len(users) == 0 {
		return errors.New("the org lists no user whose factors could be read")
	}
	return a.Get(ctx, pathUsers+"/"+seg(users[0].ID)+"/factors", []string{ScopeUsersRead})
}

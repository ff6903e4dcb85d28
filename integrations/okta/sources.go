package okta

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/stepgraph/stepgraph/sdk/httpclient"
	"github.com/stepgraph/stepgraph/sdk/integration"
)

// Sources every run reads, declared Required so that validate probes and
// reports them like the sources a run may disable (Sources).
const (
	sourceCredentials = "credentials"
	sourceAccount     = "account"
	sourceUsers       = "users"
	sourceSystemLog   = "system-log"
)

// sources declares the ingestion sources (steps name theirs in
// Step.Source): --disable-source, disableSources and validate's probes
// derive from it. Each probe makes one small request with the run's
// client, after Setup proved the credentials work; a missing scope or
// admin role is named in the probe's error.
func (x *Collector) sources() []integration.Source[Config] {
	get := func(source, path string, query func() string) func(context.Context, *integration.RunContext[Config]) error {
		return func(ctx context.Context, rc *integration.RunContext[Config]) error {
			a, err := integration.Need(rc, keyAPI)
			if err != nil {
				return err
			}
			if err := a.auth.scopeProblem(ctx, source); err != nil {
				return err
			}
			req := path
			if q := query(); q != "" {
				req += "?" + q
			}
			_, err = a.c.Do(ctx, http.MethodGet, req, nil)
			return a.auth.explainForbidden(source, err)
		}
	}
	first := func() string { return "limit=1" }
	logWindow := func() string {
		now := x.opts.Now()
		return "limit=1&since=" + now.Add(-time.Hour).UTC().Format(time.RFC3339) + "&until=" + now.UTC().Format(time.RFC3339)
	}
	src := func(name, desc, path string, query func() string) integration.Source[Config] {
		return integration.Source[Config]{Name: name, Description: desc, Probe: get(name, path, query), ProbeEndpoint: "GET " + path}
	}
	required := func(s integration.Source[Config]) integration.Source[Config] {
		s.Required = true
		return s
	}
	return []integration.Source[Config]{
		{
			Name: sourceCredentials, Description: "the configured credentials (Setup proves them with GET " + pathUsers + "?limit=1)",
			Required: true,
			Probe: func(ctx context.Context, rc *integration.RunContext[Config]) error {
				a, err := integration.Need(rc, keyAPI)
				if err != nil {
					return err
				}
				_, err = a.auth.describeCredentials(ctx)
				return err
			},
			ProbeDetail: func(ctx context.Context, rc *integration.RunContext[Config]) string {
				a, err := integration.Need(rc, keyAPI)
				if err != nil {
					return ""
				}
				detail, _ := a.auth.describeCredentials(ctx)
				return detail
			},
		},
		required(src(sourceAccount, "the org's Okta support settings (okta_account)", pathOktaSupport, func() string { return "" })),
		required(src(sourceUsers, "users", pathUsers, first)),
		src(SourceGroups, "groups, their members and their application assignments", pathGroups, first),
		src(SourceApplications, "applications and their user/group assignments, AWS role mappings, creators", pathApps, first),
		{
			Name: SourceMFADevices, Description: "users' MFA factors (also sets okta_user.mfaEnabled)",
			ProbeEndpoint: "GET " + pathUsers + "/{id}/factors",
			Probe: func(ctx context.Context, rc *integration.RunContext[Config]) error {
				a, err := integration.Need(rc, keyAPI)
				if err != nil {
					return err
				}
				if err := a.auth.scopeProblem(ctx, SourceMFADevices); err != nil {
					return err
				}
				return a.auth.explainForbidden(SourceMFADevices, probeFactors(ctx, a.c))
			},
		},
		src(SourceRoles, "admin roles of users and groups", pathAssignees, first),
		src(SourceRules, "group rules", pathRules, first),
		required(src(sourceSystemLog, "the System Log (application creators)", pathLogs, logWindow)),
		src(SourceDevices, "Okta Identity Engine devices (off unless --enableDevices)", pathDevices, first),
	}
}

// probeFactors reads the factors of the first listed user: MFA factors
// are a sub-resource with no listing of their own.
func probeFactors(ctx context.Context, c *httpclient.Client) error {
	var users []struct {
		ID string `json:"id"`
	}
	if _, err := c.GetJSON(ctx, pathUsers+"?limit=1", &users); err != nil {
		return err
	}
	if len(users) == 0 {
		return errors.New("the org lists no user whose factors could be read")
	}
	_, err := c.Do(ctx, http.MethodGet, pathUsers+"/"+seg(users[0].ID)+"/factors", nil)
	return err
}

package okta

import (
	"context"
	"strings"
	"testing"

	"github.com/stepgraph/stepgraph/integrations/okta/oktafake"
	"github.com/stepgraph/stepgraph/sdk/cli"
	"github.com/stepgraph/stepgraph/sdk/runtime"
)

// TestProbe checks validate's permission probe: one request per source, a
// forbidden endpoint reported on its source only, and no data collected.
// The probes are the declared sources' (integration.Source.Probe), run by
// runtime.Probe after Setup like any integration's.
func TestProbe(t *testing.T) {
	f := startFake(t, oktafake.OrgSpec{Users: 20, Seed: 3}, oktafake.ServerOptions{
		Faults: oktafake.Faults{Forbidden: []string{oktafake.EndpointIAMAssignees, oktafake.EndpointUserFactors}},
	})
	res, err := runtime.Probe(context.Background(), f.col.Integration(), f.cfg, runtime.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	detail := map[string]string{}
	for _, r := range res {
		got[r.Source] = r.Err == nil
		detail[r.Source] = r.Detail
	}
	want := map[string]bool{"credentials": true, "account": true, "users": true, SourceGroups: true, SourceApplications: true, SourceRules: true,
		"system-log": true, SourceRoles: false, SourceMFADevices: false}
	for src, ok := range want {
		if v, present := got[src]; !present || v != ok {
			t.Errorf("source %s: probed=%v ok=%v, want ok=%v", src, present, v, ok)
		}
	}
	for src, d := range map[string]string{"credentials": "API token", SourceGroups: "GET /api/v1/groups",
		SourceMFADevices: "GET /api/v1/users/{id}/factors", "system-log": "GET /api/v1/logs"} {
		if !strings.Contains(detail[src], d) {
			t.Errorf("source %s: detail %q, want it to name %q", src, detail[src], d)
		}
	}
	if _, probed := got[SourceDevices]; probed {
		t.Error("devices probed although the source is off by default")
	}
	st := f.srv.Server.Stats()
	if st.Requests > 10 {
		t.Errorf("probe made %d requests, want one per source plus the token check", st.Requests)
	}
}

// TestProbeSkipsSourcesDisabledByConfig: a source the configuration's
// disable list switches off is not probed (no request to its endpoint),
// through the same declaration collect uses; a source every run reads
// cannot be disabled.
func TestProbeSkipsSourcesDisabledByConfig(t *testing.T) {
	f := startFake(t, oktafake.OrgSpec{Users: 5, Seed: 3}, oktafake.ServerOptions{})
	f.cfg.DisableSources = []string{SourceRoles, SourceMFADevices}
	res, err := runtime.Probe(context.Background(), f.col.Integration(), f.cfg, runtime.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Source == SourceRoles || r.Source == SourceMFADevices {
			t.Errorf("disabled source %s probed: %+v", r.Source, r)
		}
		if r.Err != nil {
			t.Errorf("source %s: %v", r.Source, r.Err)
		}
	}
	eps := f.srv.Server.Stats().Endpoints
	if n := eps[oktafake.EndpointIAMAssignees] + eps[oktafake.EndpointUserFactors]; n != 0 {
		t.Errorf("%d requests to disabled sources' endpoints: %v", n, eps)
	}
	_, err = runtime.Probe(context.Background(), f.col.Integration(), f.cfg, runtime.Options{DisableSources: []string{"users"}})
	if err == nil || !strings.Contains(err.Error(), "cannot be disabled") {
		t.Errorf("disabling users: err = %v, want it refused", err)
	}
}

// TestValidateOutput: okta validate prints, through the SDK's declared
// probes, the credentials in use, the endpoint of every probed source,
// what is missing for an unreachable one, and the sources not probed.
func TestValidateOutput(t *testing.T) {
	f := startFake(t, oktafake.OrgSpec{Users: 5, Seed: 3}, oktafake.ServerOptions{
		Faults: oktafake.Faults{Forbidden: []string{oktafake.EndpointIAMAssignees}},
	})
	code, stdout, stderr := runCLI(t, f.col, map[string]string{"OKTA_ORG_URL": f.cfg.OrgURL, "OKTA_API_KEY": f.cfg.APIKey}, "validate")
	if code != cli.ExitPartial {
		t.Fatalf("exit %d, want %d\n%s%s", code, cli.ExitPartial, stdout, stderr)
	}
	norm := strings.Join(strings.Fields(stdout), " ")
	for _, want := range []string{
		"credentials ok API token (legacy: Okta recommends an OAuth 2.0 service app)",
		"account ok GET /api/v1/org/privacy/oktaSupport",
		"users ok GET /api/v1/users",
		"groups ok GET /api/v1/groups",
		"system-log ok GET /api/v1/logs",
		"mfa-devices ok GET /api/v1/users/{id}/factors",
		"roles unreachable GET /api/v1/iam/assignees/users: missing admin role",
		"devices not probed Okta Identity Engine devices",
		"1 of 9 sources are not reachable",
	} {
		if !strings.Contains(norm, want) {
			t.Errorf("validate output lacks %q:\n%s", want, stdout)
		}
	}
}

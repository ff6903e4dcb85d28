package cli

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stepgraph/stepgraph/sdk/integration"
)

// declaredSourcesApp is testApp whose sources come from the integration's
// own declaration (integration.Source, Step.Source) instead of App.Sources.
func declaredSourcesApp(h *testHooks, probeGroups error) (*App[testConfig], *bytes.Buffer, *bytes.Buffer) {
	a, out, errb := testApp(h, baseEnv())
	a.Sources = nil
	integ := a.Integration
	integ.Sources = []integration.Source[testConfig]{
		{Name: "users", Description: "user accounts", Probe: func(context.Context, *integration.RunContext[testConfig]) error { return nil }},
		{Name: "groups", Description: "groups and memberships", Probe: func(context.Context, *integration.RunContext[testConfig]) error { return probeGroups }},
	}
	for i := range integ.Steps {
		switch integ.Steps[i].ID {
		case "fetch-users":
			integ.Steps[i].Source = "users"
		case "fetch-groups":
			integ.Steps[i].Source = "groups"
		}
	}
	return a, out, errb
}

// TestSourcesFromTheDeclaration: --disable-source, its help and validate's
// probes all come from the integration's declared sources.
func TestSourcesFromTheDeclaration(t *testing.T) {
	root := filepath.Join(t.TempDir(), "out")
	h := &testHooks{}
	a, out, errb := declaredSourcesApp(h, nil)
	r := runApp(t, context.Background(), a, out, errb, "collect", "--env-file", "", "--output", root, "--disable-source", "groups")
	if r.code != ExitOK || h.groupRuns.Load() != 0 || !strings.Contains(r.stdout, "fetch-groups: source groups disabled") {
		t.Fatalf("exit %d, groups ran %d times:\n%s", r.code, h.groupRuns.Load(), r.combinedOut)
	}
	r = runApp(t, context.Background(), a, out, errb, "collect", "--env-file", "", "--output", root, "--disable-source", "users")
	if r.code != ExitOK || !strings.Contains(r.stdout, "fetch-groups: dependency fetch-users is disabled") {
		t.Fatalf("disabling users: exit %d\n%s", r.code, r.combinedOut)
	}
	r = runApp(t, context.Background(), a, out, errb, "collect", "--env-file", "", "--output", root, "--disable-source", "apps")
	if r.code != ExitUsage || !strings.Contains(r.stderr, `unknown source "apps" (sources: users, groups)`) {
		t.Fatalf("unknown source: exit %d\n%s", r.code, r.combinedOut)
	}

	a, out, errb = declaredSourcesApp(nil, &apiErrForTest{})
	r = runApp(t, context.Background(), a, out, errb, "validate")
	if r.code != ExitPartial || !strings.Contains(norm(r.stdout), "users ok user accounts") ||
		!strings.Contains(norm(r.stdout), "groups unreachable") || !strings.Contains(r.stdout, "missing okta.groups.read") {
		t.Fatalf("validate: exit %d\n%s", r.code, r.combinedOut)
	}
}

// TestValidateShowsProbeDetails: validate's detail is the source's
// ProbeEndpoint or ProbeDetail, a Required source is probed but is not a
// source --disable-source accepts.
func TestValidateShowsProbeDetails(t *testing.T) {
	a, out, errb := declaredSourcesApp(nil, nil)
	ok := func(context.Context, *integration.RunContext[testConfig]) error { return nil }
	a.Integration.Sources[1].ProbeEndpoint = "GET /groups"
	a.Integration.Sources = append([]integration.Source[testConfig]{{
		Name: "credentials", Required: true, Probe: ok,
		ProbeDetail: func(context.Context, *integration.RunContext[testConfig]) string { return "token of app 0oa1" },
	}}, a.Integration.Sources...)
	r := runApp(t, context.Background(), a, out, errb, "validate")
	if r.code != ExitOK || !strings.Contains(norm(r.stdout), "credentials ok token of app 0oa1") ||
		!strings.Contains(norm(r.stdout), "groups ok GET /groups") || !strings.Contains(norm(r.stdout), "users ok user accounts") {
		t.Fatalf("validate: exit %d\n%s", r.code, r.combinedOut)
	}
	r = runApp(t, context.Background(), a, out, errb, "collect", "--env-file", "", "--output", filepath.Join(t.TempDir(), "out"), "--disable-source", "credentials")
	if r.code != ExitUsage || !strings.Contains(r.stderr, `unknown source "credentials" (sources: users, groups)`) {
		t.Fatalf("disabling a required source: exit %d\n%s", r.code, r.combinedOut)
	}
}

// TestValidateDoesNotOfferToSkipRequiredSources: an unreachable Required
// source is not one --disable-source can skip, and validate says so.
func TestValidateDoesNotOfferToSkipRequiredSources(t *testing.T) {
	a, out, errb := declaredSourcesApp(nil, &apiErrForTest{})
	a.Integration.Sources = append([]integration.Source[testConfig]{{
		Name: "system-log", Required: true,
		Probe: func(context.Context, *integration.RunContext[testConfig]) error {
			return errors.New("missing scope logs.read")
		},
	}}, a.Integration.Sources...)
	r := runApp(t, context.Background(), a, out, errb, "validate")
	if r.code != ExitPartial || !strings.Contains(r.stdout, "2 of 3 sources are not reachable") ||
		!strings.Contains(r.stdout, "skip the 1 that can be skipped (system-log cannot be: every run reads them)") {
		t.Fatalf("validate: exit %d\n%s", r.code, r.combinedOut)
	}
	a.Integration.Sources[2].Probe = func(context.Context, *integration.RunContext[testConfig]) error { return nil }
	r = runApp(t, context.Background(), a, out, errb, "validate")
	if r.code != ExitPartial || !strings.Contains(r.stdout, "system-log cannot be skipped (every run reads them)") || strings.Contains(r.stdout, "--disable-source") {
		t.Fatalf("validate: exit %d\n%s", r.code, r.combinedOut)
	}
}

// TestValidateChecksDeclaredConfigFirst: validate reports a value out of
// its tagged range or a disable list naming a source that is not declared
// as a config error (exit 2) naming the field, before the integration's
// Validate and without probing; a valid list skips the source's probe.
func TestValidateChecksDeclaredConfigFirst(t *testing.T) {
	withEnv := func(a *App[testConfig], k, v string) {
		env := baseEnv()
		env[k] = v
		a.LookupEnv = func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	}
	for _, tc := range []struct{ env, value, field string }{{"TEST_RATIO", "1.5", "ratio"}, {"TEST_SKIP", "users,widgets", "skip"}} {
		a, out, errb := declaredSourcesApp(nil, nil)
		validated := false
		a.Integration.Validate = func(context.Context, *testConfig) error { validated = true; return nil }
		withEnv(a, tc.env, tc.value)
		r := runApp(t, context.Background(), a, out, errb, "validate")
		if r.code != ExitUsage || !strings.Contains(r.stderr, tc.field) || validated || strings.Contains(r.stdout, "Sources:") {
			t.Errorf("%s=%s: exit %d, validated %v\n%s", tc.env, tc.value, r.code, validated, r.combinedOut)
		}
	}
	a, out, errb := declaredSourcesApp(nil, &apiErrForTest{})
	withEnv(a, "TEST_SKIP", "Groups")
	r := runApp(t, context.Background(), a, out, errb, "validate")
	if r.code != ExitOK || strings.Contains(norm(r.stdout), "groups unreachable") {
		t.Errorf("groups disabled by the config: exit %d\n%s", r.code, r.combinedOut)
	}
}

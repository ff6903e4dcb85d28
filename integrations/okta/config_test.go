package okta

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/stepgraph/stepgraph/integrations/okta/oktafake"
	"github.com/stepgraph/stepgraph/sdk/integration"
	"github.com/stepgraph/stepgraph/sdk/runtime"
)

func TestNormalizeOrgURL(t *testing.T) {
	ok := []struct{ in, want string }{
		{"https://acme.okta.com", "https://acme.okta.com/"},
		{"https://acme.okta.com/", "https://acme.okta.com/"},
		{"https://acme.okta.com//", "https://acme.okta.com/"},
		{"acme.okta.com", "https://acme.okta.com/"},
		{"  ACME.okta.com/ ", "https://acme.okta.com/"},
		{"dev-857255.oktapreview.com", "https://dev-857255.oktapreview.com/"},
		{"https://acme.okta-emea.com", "https://acme.okta-emea.com/"},
		{"https://acme.okta-gov.com", "https://acme.okta-gov.com/"},
	}
	for _, c := range ok {
		got, err := NormalizeOrgURL(c.in, false)
		if err != nil || got != c.want {
			t.Errorf("NormalizeOrgURL(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	if got, err := NormalizeOrgURL("login.acme.com", true); err != nil || got != "https://login.acme.com/" {
		t.Errorf("custom domain with opt-in: %q %v", got, err)
	}
	bad := []struct{ in, hint string }{
		{"", "required"},
		{"http://acme.okta.com", "https://"},
		{"ftp://acme.okta.com", "scheme"},
		{"https://acme-admin.okta.com", "https://acme.okta.com"},
		{"acme-admin.oktapreview.com", "https://acme.oktapreview.com"},
		{"https://login.acme.com", "allowCustomDomain"},
		{"https://okta.com", "not an Okta domain"},
		{"https://acme.okta.com/app/foo", "without a path"},
		{"https://user:pw@acme.okta.com", "credentials"},
		{"https://evil.com/.okta.com", "without a path"},
	}
	for _, c := range bad {
		_, err := NormalizeOrgURL(c.in, false)
		var ce *integration.ConfigError
		if !errors.As(err, &ce) || ce.Field != "orgUrl" {
			t.Errorf("NormalizeOrgURL(%q): want ConfigError on orgUrl, got %v", c.in, err)
			continue
		}
		if !strings.Contains(err.Error(), c.hint) {
			t.Errorf("NormalizeOrgURL(%q): %v; want hint %q", c.in, err, c.hint)
		}
	}
}

func TestConfigValidationMakesNoRequest(t *testing.T) {
	base := func() Config {
		return Config{OrgURL: "https://acme.okta.com", APIKey: oktafake.DefaultToken, RateLimitShare: 0.9}
	}
	cases := []struct {
		name  string
		mod   func(*Config)
		field string
	}{
		{"missing org", func(c *Config) { c.OrgURL = "" }, "orgUrl"},
		{"http org", func(c *Config) { c.OrgURL = "http://acme.okta.com" }, "orgUrl"},
		{"admin org", func(c *Config) { c.OrgURL = "https://acme-admin.okta.com" }, "orgUrl"},
		{"custom domain", func(c *Config) { c.OrgURL = "https://sso.acme.com" }, "orgUrl"},
		{"missing key", func(c *Config) { c.APIKey = "" }, "apiKey, clientId"},
		{"key with prefix", func(c *Config) { c.APIKey = "SSWS " + oktafake.DefaultToken }, "apiKey"},
		{"share above 1", func(c *Config) { c.RateLimitShare = 1.5 }, "rateLimitShare"},
		{"negative share", func(c *Config) { c.RateLimitShare = -0.1 }, "rateLimitShare"},
		{"unknown source", func(c *Config) { c.DisableSources = []string{"groups", "widgets"} }, "disableSources"},
		{"source every run reads", func(c *Config) { c.DisableSources = []string{"users"} }, "disableSources"},
		{"devices enabled and disabled", func(c *Config) { c.EnableDevices, c.DisableSources = true, []string{" Devices"} }, "disableSources"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := startFake(t, oktafake.OrgSpec{Users: 5, Seed: 1}, oktafake.ServerOptions{})
			cfg := base()
			c.mod(&cfg)
			_, err := runtime.Run(t.Context(), f.col.Integration(), &cfg, runtime.Options{})
			var ce *integration.ConfigError
			if !errors.As(err, &ce) || ce.Field != c.field {
				t.Fatalf("want ConfigError on %s, got %v", c.field, err)
			}
			if n := f.srv.Server.Stats().Requests; n != 0 {
				t.Errorf("%d requests made for an invalid config", n)
			}
			if strings.Contains(err.Error(), oktafake.DefaultToken) {
				t.Error("token in error")
			}
		})
	}
}

func TestLoadConfigFromEnv(t *testing.T) {
	env := map[string]string{
		"OKTA_ORG_URL": "acme.okta.com/", "OKTA_API_KEY": "k-0123456789",
		"OKTA_DISABLE_SOURCES": "rules, roles", "OKTA_ENABLE_DEVICES": "true",
	}
	var cfg Config
	err := integration.LoadConfig(&cfg, integration.Sources{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.RateLimitShare != 0 || !cfg.EnableDevices || !slices.Equal(cfg.DisableSources, []string{"rules", "roles"}) {
		t.Errorf("config: %+v", cfg)
	}
	org, err := validateFields(&cfg)
	if err != nil || org != "https://acme.okta.com/" {
		t.Errorf("validate: %q %v", org, err)
	}
	if m := integration.MaskedConfig(&cfg); strings.Contains(m["apiKey"], "0123456789") {
		t.Error("apiKey not masked")
	}
}

func TestDisabledSources(t *testing.T) {
	integ := New(Options{})
	cfg := &Config{DisableSources: []string{"groups"}}
	st, err := integ.SourcesOff(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(st[SourceGroups], "groups") {
		t.Errorf("groups: %q", st[SourceGroups])
	}
	if !strings.Contains(st[SourceDevices], "enableDevices") {
		t.Errorf("devices off by default: %q", st[SourceDevices])
	}
	if len(st) != 2 {
		t.Errorf("disabled sources %v, want groups and devices only", st)
	}
	if s, err := integ.SourcesOff(&Config{EnableDevices: true}); len(s) != 0 || err != nil {
		t.Errorf("disabled sources %v (%v) with devices enabled", s, err)
	}
	if want := `source "devices" is off by default (needs Okta Identity Engine); set enableDevices (OKTA_ENABLE_DEVICES=true) to collect devices`; st[SourceDevices] != want {
		t.Errorf("devices off by default: %q, want %q", st[SourceDevices], want)
	}
	// Every step that reads a source names it; the runtime disables it.
	for id, src := range map[string]string{StepGroups: SourceGroups, StepApplications: SourceApplications,
		StepMFADevices: SourceMFADevices, StepRoles: SourceRoles, StepRules: SourceRules, StepDevices: SourceDevices} {
		i := slices.IndexFunc(integ.Steps, func(s integration.Step[Config]) bool { return s.ID == id })
		if i < 0 || integ.Steps[i].Source != src {
			t.Errorf("step %s does not declare source %s", id, src)
		}
	}
}

func TestDisabledSourcesSkipSteps(t *testing.T) {
	f := startFake(t, oktafake.OrgSpec{Users: 30, Seed: 4}, oktafake.ServerOptions{})
	f.cfg.DisableSources = []string{SourceGroups, SourceMFADevices}
	res, err := runtime.Run(t.Context(), f.col.Integration(), f.cfg, runtime.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{StepGroups, StepUserGroupUsers, StepAppUserGroupUsers, StepGroupApps, StepRoles, StepRules, StepMFADevices, StepDevices} {
		if s := res.StepStatus(id); s != "disabled" {
			t.Errorf("%s: %s", id, s)
		}
	}
	for _, id := range []string{StepUsers, StepApplications, StepUserApps, StepApplicationCreation} {
		if s := res.StepStatus(id); s != "success" {
			t.Errorf("%s: %s", id, s)
		}
	}
	st := f.srv.Server.Stats().Endpoints
	if st[oktafake.EndpointUserFactors] != 0 || st[oktafake.EndpointGroups] != 0 {
		t.Errorf("disabled sources were read: %v", st)
	}
}

package integration_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/stepgraph/stepgraph/sdk/integration"
)

type sourcesConfig struct {
	Skip      []string `config:"skip" env:"T_SKIP" optional:"true" sources:"disable"`
	Devices   bool     `config:"enableDevices" env:"T_ENABLE_DEVICES" optional:"true"`
	Audit     bool     `config:"audit" optional:"true"`
	NoReports bool     `config:"noReports" optional:"true"`
}

func sourcesIntegration() *integration.Integration[sourcesConfig] {
	return &integration.Integration[sourcesConfig]{
		Name: "t",
		Sources: []integration.Source[sourcesConfig]{
			{Name: "users", Required: true, Needs: []string{"users.read"}},
			{Name: "groups", Needs: []string{"groups.read"}},
			{Name: "rules", Needs: []string{"groups.read", "rules.read"}},
			{Name: "devices", Needs: []string{"devices.read"}, EnabledBy: "enableDevices", OffNote: "needs the device add-on"},
			{Name: "audit", Needs: []string{"logs.read"}, EnabledBy: "audit"},
			{Name: "reports"},
		},
		DisabledSources: func(c *sourcesConfig) map[string]string {
			if c.NoReports {
				return map[string]string{"reports": ""}
			}
			return nil
		},
	}
}

// TestSourcesOff: the config's disable list (sources:"disable") is checked
// against the declaration, off-by-default sources (EnabledBy) get the
// standard reason, and DisabledSources adds its own.
func TestSourcesOff(t *testing.T) {
	integ := sourcesIntegration()
	off, err := integ.SourcesOff(&sourcesConfig{Skip: []string{" Groups", "devices"}, NoReports: true})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"groups":  `source "groups" disabled by configuration (skip)`,
		"devices": `source "devices" is off by default (needs the device add-on); set enableDevices (T_ENABLE_DEVICES=true) to collect devices`,
		"audit":   `source "audit" is off by default; set audit to collect audit`,
		"reports": "source reports disabled by configuration",
	}
	if len(off) != len(want) {
		t.Errorf("off = %v, want %v", off, want)
	}
	for name, why := range want {
		if off[name] != why {
			t.Errorf("%s: %q, want %q", name, off[name], why)
		}
	}
	off, err = integ.SourcesOff(&sourcesConfig{Devices: true, Audit: true})
	if err != nil || len(off) != 0 {
		t.Errorf("all enabled: %v %v", off, err)
	}
	for _, tc := range []struct {
		cfg sourcesConfig
		msg string
	}{
		{sourcesConfig{Skip: []string{"groups", "widgets"}}, `unknown source "widgets" (known: groups, rules, devices, audit, reports)`},
		{sourcesConfig{Skip: []string{"users"}}, `unknown source "users" (known: groups, rules, devices, audit, reports)`},
		{sourcesConfig{Skip: []string{"DEVICES"}, Devices: true}, "devices is both enabled (enableDevices) and disabled"},
	} {
		_, err := integ.SourcesOff(&tc.cfg)
		var ce *integration.ConfigError
		if !errors.As(err, &ce) || ce.Field != "skip" || ce.Message != tc.msg {
			t.Errorf("%+v: got %v, want a ConfigError on skip: %s", tc.cfg, err, tc.msg)
		}
		if integ.CheckConfig(&tc.cfg) == nil {
			t.Errorf("%+v: CheckConfig accepts it", tc.cfg)
		}
	}
	integ.Sources[3].EnabledBy = "skip"
	if _, err := integ.SourcesOff(&sourcesConfig{}); err == nil || !strings.Contains(err.Error(), "not a bool config field") {
		t.Errorf("EnabledBy on a list: %v", err)
	}
}

// TestNeedsFollowEnabledSources: Needs is the sorted union of the enabled
// sources' needs; SourceEnabled agrees with SourcesOff.
func TestNeedsFollowEnabledSources(t *testing.T) {
	integ := sourcesIntegration()
	if got := integ.SourceNeeds(&sourcesConfig{}); !slices.Equal(got, []string{"groups.read", "rules.read", "users.read"}) {
		t.Errorf("defaults: %v", got)
	}
	if got := integ.SourceNeeds(&sourcesConfig{Skip: []string{"rules"}, Devices: true}); !slices.Equal(got, []string{"devices.read", "groups.read", "users.read"}) {
		t.Errorf("rules off, devices on: %v", got)
	}
	if got := integ.SourceNeeds(&sourcesConfig{Skip: []string{"nope"}}); got != nil {
		t.Errorf("invalid config: %v", got)
	}
	for name, on := range map[string]bool{"users": true, "groups": false, "devices": false, "rules": true, "nope": false} {
		if got := integ.SourceEnabled(&sourcesConfig{Skip: []string{"groups"}}, name); got != on {
			t.Errorf("SourceEnabled(%s) = %v, want %v", name, got, on)
		}
	}
}

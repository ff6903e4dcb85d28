package integration_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stepgraph/stepgraph/sdk/integration"
)

type checkedConfig struct {
	Share   float64       `config:"share" optional:"true" range:"(0,1]" example:"0.5"`
	Workers int           `config:"workers" range:"[1,64]"`
	Wait    time.Duration `config:"wait" optional:"true" range:"[1s,)"`
	Mode    string        `config:"mode" optional:"true" enum:"fast, full"`
	Kinds   []string      `config:"kinds" optional:"true" enum:"a,b"`
	Token   string        `config:"token" secret:"true" credential:"true" optional:"true" enum:"x"`
	KeyFile string        `config:"keyFile" credential:"true" optional:"true"`
}

// TestCheckValues: range and enum tags are checked by CheckValues, each
// failure a *ConfigError naming the field; unset optional fields pass and
// secrets are never quoted.
func TestCheckValues(t *testing.T) {
	valid := func() checkedConfig { return checkedConfig{Workers: 4} }
	for _, tc := range []struct {
		name  string
		mod   func(*checkedConfig)
		field string // "" = valid
		msg   string
	}{
		{"defaults unset", func(*checkedConfig) {}, "", ""},
		{"upper bound included", func(c *checkedConfig) { c.Share, c.Workers = 1, 64 }, "", ""},
		{"above", func(c *checkedConfig) { c.Share = 1.5 }, "share", "1.5 must be greater than 0 and at most 1 (e.g. 0.5)"},
		{"negative", func(c *checkedConfig) { c.Share = -0.1 }, "share", "-0.1 must be greater than 0 and at most 1 (e.g. 0.5)"},
		{"required zero is checked", func(c *checkedConfig) { c.Workers = 0 }, "workers", "0 must be at least 1 and at most 64"},
		{"duration", func(c *checkedConfig) { c.Wait = time.Millisecond }, "wait", "1ms must be at least 1s"},
		{"enum", func(c *checkedConfig) { c.Mode = "full" }, "", ""},
		{"enum miss", func(c *checkedConfig) { c.Mode = "slow" }, "mode", `"slow" is not one of fast, full`},
		{"list enum", func(c *checkedConfig) { c.Kinds = []string{"a", " b", "c"} }, "kinds", `"c" is not one of a, b`},
		{"secret", func(c *checkedConfig) { c.Token = "hunter2" }, "token", "(secret value) is not one of x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := valid()
			tc.mod(&cfg)
			err := integration.CheckValues(&cfg)
			if tc.field == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			var ce *integration.ConfigError
			if !errors.As(err, &ce) || ce.Field != tc.field || ce.Message != tc.msg {
				t.Fatalf("got %#v, want field %q: %q", err, tc.field, tc.msg)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Error("secret in the error")
			}
		})
	}
}

// TestValueTagsAreChecked: a malformed or misplaced tag fails when the
// fields are read, naming the field.
func TestValueTagsAreChecked(t *testing.T) {
	for name, cfg := range map[string]any{
		"range on a string": &struct {
			S string `config:"s" range:"[1,2]"`
		}{},
		"range without comma": &struct {
			N int `config:"n" range:"[1]"`
		}{},
		"range reversed": &struct {
			N int `config:"n" range:"[2,1]"`
		}{},
		"unbounded range": &struct {
			N int `config:"n" range:"(,)"`
		}{},
		"enum on a number": &struct {
			N int `config:"n" enum:"1,2"`
		}{},
		"sources on a string": &struct {
			S string `config:"s" sources:"disable"`
		}{},
		"unknown sources tag": &struct {
			S []string `config:"s" sources:"enable"`
		}{},
	} {
		if _, err := integration.Fields(cfg); err == nil || !strings.Contains(err.Error(), "config field") {
			t.Errorf("%s: Fields = %v, want an error naming the field", name, err)
		}
	}
	fields, err := integration.Fields(&checkedConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var creds []string
	for _, f := range fields {
		if f.Credential {
			creds = append(creds, f.Name)
		}
	}
	if strings.Join(creds, ",") != "token,keyFile" {
		t.Errorf("credential fields %v, want token and keyFile", creds)
	}
}

type authConfig struct {
	Token    string   `config:"token" secret:"true" optional:"true"`
	ClientID string   `config:"clientId" optional:"true"`
	Key      string   `config:"key" secret:"true" optional:"true"`
	Scopes   []string `config:"scopes" optional:"true"`
	Debug    bool     `config:"debug" optional:"true"`
}

// TestOneOf: exactly one alternative's fields may be set; the errors name
// the fields set (both) or the first of each alternative (none), never a
// value. Blank strings and lists are unset.
func TestOneOf(t *testing.T) {
	alts := []integration.Alternative{{Name: "token", Fields: []string{"token"}}, {Name: "app", Fields: []string{"clientId", "key", "scopes"}}}
	for _, tc := range []struct {
		cfg         authConfig
		want, field string
		msg         string
	}{
		{cfg: authConfig{Token: "hunter2", Debug: true}, want: "token"},
		{cfg: authConfig{Key: "k", Token: "  "}, want: "app"},
		{cfg: authConfig{Scopes: []string{"a"}}, want: "app"},
		{cfg: authConfig{Token: "hunter2", ClientID: "c", Scopes: []string{"a"}}, field: "token, clientId, scopes", msg: "both"},
		{cfg: authConfig{Scopes: []string{" "}, Debug: true}, field: "token, clientId", msg: "none"},
	} {
		got, err := integration.OneOf(&tc.cfg, "both", "none", alts...)
		var ce *integration.ConfigError
		switch {
		case tc.want != "" && (got != tc.want || err != nil):
			t.Errorf("%+v: %q %v, want %q", tc.cfg, got, err, tc.want)
		case tc.want == "" && (!errors.As(err, &ce) || ce.Field != tc.field || ce.Message != tc.msg || got != ""):
			t.Errorf("%+v: %q %v, want a ConfigError on %q: %s", tc.cfg, got, err, tc.field, tc.msg)
		case err != nil && strings.Contains(err.Error(), "hunter2"):
			t.Errorf("secret in %v", err)
		}
	}
	if _, err := integration.OneOf(&authConfig{}, "both", "none", integration.Alternative{Name: "x", Fields: []string{"nope"}}); err == nil {
		t.Error("an unknown field is accepted")
	}
}

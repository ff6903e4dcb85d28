package integration_test

import (
	"bytes"
	"errors"
	"github.com/stepgraph/stepgraph/sdk/internal/redact"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stepgraph/stepgraph/sdk/integration"
)

type testConfig struct {
	OrgURL   string        `config:"orgUrl" env:"T_ORG_URL" help:"org"`
	APIKey   string        `config:"apiKey" env:"T_API_KEY" secret:"true"`
	Share    float64       `config:"share" env:"T_SHARE" default:"0.9" optional:"true"`
	Every    time.Duration `config:"every" env:"T_EVERY" optional:"true"`
	Sources  []string      `config:"sources" env:"T_SOURCES" default:"a,b" optional:"true"`
	Devices  bool          `config:"devices" env:"T_DEVICES" optional:"true"`
	internal int
}

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestLoadConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	dot := filepath.Join(dir, ".env")
	os.WriteFile(dot, []byte("# comment\nexport T_ORG_URL=https://dotenv.example\nT_API_KEY=\"from-dotenv-key\"\nT_SHARE=0.5 # inline\nT_SOURCES='x, y'\n"), 0o600)
	var c testConfig
	err := integration.LoadConfig(&c, integration.Sources{
		Flags:     map[string]string{"orgUrl": "https://flag.example"},
		LookupEnv: env(map[string]string{"T_ORG_URL": "https://env.example", "T_API_KEY": "from-env-key", "T_EVERY": "6h"}),
		DotEnv:    dot,
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.OrgURL != "https://flag.example" || c.APIKey != "from-env-key" || c.Share != 0.5 || c.Every != 6*time.Hour ||
		strings.Join(c.Sources, "|") != "x|y" || c.Devices {
		t.Errorf("loaded %+v", c)
	}
	var d testConfig
	if err := integration.LoadConfig(&d, integration.Sources{LookupEnv: env(map[string]string{"T_ORG_URL": "o", "T_API_KEY": "k1234"})}); err != nil {
		t.Fatal(err)
	}
	if d.Share != 0.9 || strings.Join(d.Sources, ",") != "a,b" {
		t.Errorf("defaults not applied: %+v", d)
	}
}

func TestLoadConfigErrorsNameTheField(t *testing.T) {
	tests := []struct {
		env   map[string]string
		field string
	}{
		{map[string]string{"T_API_KEY": "k"}, "orgUrl"},
		{map[string]string{"T_ORG_URL": "o"}, "apiKey"},
		{map[string]string{"T_ORG_URL": "o", "T_API_KEY": "k", "T_SHARE": "lots"}, "share"},
		{map[string]string{"T_ORG_URL": "o", "T_API_KEY": "k", "T_EVERY": "often"}, "every"},
		{map[string]string{"T_ORG_URL": "o", "T_API_KEY": "k", "T_DEVICES": "perhaps"}, "devices"},
	}
	for _, tt := range tests {
		var c testConfig
		err := integration.LoadConfig(&c, integration.Sources{LookupEnv: env(tt.env)})
		var ce *integration.ConfigError
		if !errors.As(err, &ce) || ce.Field != tt.field {
			t.Errorf("env %v: error %v, want ConfigError on %s", tt.env, err, tt.field)
		}
		if integration.ErrorCode(err) != integration.CodeConfigValidation {
			t.Errorf("code %s", integration.ErrorCode(err))
		}
	}
}

func TestSecretsMasked(t *testing.T) {
	c := testConfig{OrgURL: "o", APIKey: "very-secret-api-key-000111"}
	if got := integration.SecretValues(&c); len(got) != 1 || got[0] != c.APIKey {
		t.Fatalf("secret values %v", got)
	}
	m := integration.MaskedConfig(&c)
	if strings.Contains(m["apiKey"], "very-secret") || m["orgUrl"] != "o" {
		t.Errorf("masked config %v", m)
	}
	var buf bytes.Buffer
	log := slog.New(redact.NewHandler(slog.NewJSONHandler(&buf, nil), c.APIKey))
	log.With("k", c.APIKey).Info("token "+c.APIKey, "err", errors.New("bad "+c.APIKey), slog.Group("g", "v", c.APIKey))
	if strings.Contains(buf.String(), c.APIKey) {
		t.Errorf("secret in log: %s", buf.String())
	}
	if strings.Count(buf.String(), "[REDACTED]") != 4 {
		t.Errorf("expected 4 redactions: %s", buf.String())
	}
	var bad testConfig
	err := integration.LoadConfig(&bad, integration.Sources{LookupEnv: env(map[string]string{"T_ORG_URL": "o", "T_API_KEY": "k"}), Flags: map[string]string{"share": "secretish"}})
	if err == nil {
		t.Fatal("bad share accepted")
	}
}

func TestErrorCodesAreStable(t *testing.T) {
	api := integration.APIError{Request: integration.Request{Method: "GET", Endpoint: "/api/v1/users?limit=1"}, Status: 401, ProviderCode: "E0000011", Summary: "Invalid token provided"}
	tests := []struct {
		err   error
		code  integration.Code
		fatal bool
		has   string
	}{
		{&integration.AuthenticationError{APIError: api}, integration.CodeProviderAuthentication, true, "GET /api/v1/users?limit=1: 401"},
		{&integration.AuthorizationError{APIError: api}, integration.CodeProviderAuthorization, false, "E0000011"},
		{&api, integration.CodeProviderAPI, false, "Invalid token provided"},
		{&integration.RetriesExhaustedError{Request: api.Request, Attempts: 5, LastStatus: 503}, integration.CodeRetriesExhausted, false, "last status 503"},
		{&integration.DuplicateKeyError{Key: "k", StepID: "s", Type: "t"}, integration.CodeDuplicateKey, false, "duplicate _key"},
		{errors.New("x"), integration.CodeUnexpected, false, "x"},
	}
	for _, tt := range tests {
		wrapped := errors.Join(errors.New("context"), tt.err)
		if integration.ErrorCode(wrapped) != tt.code || integration.IsFatal(wrapped) != tt.fatal || !strings.Contains(tt.err.Error(), tt.has) {
			t.Errorf("%T: code %s fatal %v msg %q", tt.err, integration.ErrorCode(wrapped), integration.IsFatal(wrapped), tt.err)
		}
	}
	var ae *integration.APIError
	if !errors.As(&integration.AuthenticationError{APIError: api}, &ae) || ae.Status != 401 {
		t.Error("AuthenticationError does not unwrap to APIError")
	}
}

package okta

import (
	"cmp"
	"crypto"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/stepgraph/stepgraph/sdk/httpclient/oauthclient"
	"github.com/stepgraph/stepgraph/sdk/integration"
)

// Authentication methods, as recorded in the run summary and printed by
// validate.
const (
	// AuthAPIToken is the legacy SSWS API token (Config.APIKey).
	AuthAPIToken = "api-token"
	// AuthServiceApp is an OAuth 2.0 API Services app: client credentials
	// with a private_key_jwt client assertion (Config.ClientID and a
	// private key).
	AuthServiceApp = "oauth2-service-app"
)

// Okta management API scopes the integration may request. Every one is
// read-only: the integration refuses any other.
const (
	ScopeUsersRead   = "okta.users.read"
	ScopeGroupsRead  = "okta.groups.read"
	ScopeAppsRead    = "okta.apps.read"
	ScopeRolesRead   = "okta.roles.read"
	ScopeLogsRead    = "okta.logs.read"
	ScopeDevicesRead = "okta.devices.read"
	ScopeOrgsRead    = "okta.orgs.read"
)

// probeScopes is the scope each probed source (validate) needs.
var probeScopes = map[string]string{
	"account":          ScopeOrgsRead,
	"users":            ScopeUsersRead,
	SourceGroups:       ScopeGroupsRead,
	SourceApplications: ScopeAppsRead,
	SourceMFADevices:   ScopeUsersRead, // factors are a user sub-resource
	SourceRoles:        ScopeRolesRead,
	SourceRules:        ScopeGroupsRead,
	SourceDevices:      ScopeDevicesRead,
	"system-log":       ScopeLogsRead,
}

// DefaultScopes returns the read scopes the sources enabled in cfg need,
// sorted: users and the org (oktaSupport) always, then per source. The
// System Log (app creators) belongs to the applications source.
func DefaultScopes(cfg *Config) []string {
	out := []string{ScopeUsersRead, ScopeOrgsRead}
	add := func(source string, scopes ...string) {
		if cfg.SourceEnabled(source) {
			out = append(out, scopes...)
		}
	}
	add(SourceGroups, ScopeGroupsRead)
	add(SourceApplications, ScopeAppsRead, ScopeLogsRead)
	add(SourceRoles, ScopeRolesRead)
	add(SourceRules, ScopeGroupsRead)
	add(SourceDevices, ScopeDevicesRead)
	slices.Sort(out)
	return slices.Compact(out)
}

// serviceApp is the validated service-app configuration.
type serviceApp struct {
	clientID string
	keyID    string
	key      crypto.Signer
	scopes   []string
	// material is the key's text as configured (inline or from the file),
	// scrubbed from the HTTP client's errors and logs.
	material string
}

// authMethod returns which method cfg configures, or a *ConfigError naming
// the fields when it configures none or both. It makes no request.
func authMethod(cfg *Config) (string, error) {
	token := strings.TrimSpace(cfg.APIKey) != ""
	var app []string
	for _, f := range []struct{ name, v string }{
		{"clientId", cfg.ClientID}, {"privateKey", cfg.PrivateKey}, {"privateKeyFile", cfg.PrivateKeyFile},
		{"keyId", cfg.KeyID}, {"scopes", strings.Join(cfg.Scopes, "")},
	} {
		if strings.TrimSpace(f.v) != "" {
			app = append(app, f.name)
		}
	}
	switch {
	case token && len(app) > 0:
		return "", &integration.ConfigError{Field: "apiKey, " + strings.Join(app, ", "),
			Message: "configure exactly one authentication method: either apiKey (legacy API token) or the OAuth 2.0 service app (clientId with privateKey or privateKeyFile), not both"}
	case token:
		return AuthAPIToken, nil
	case len(app) > 0:
		return AuthServiceApp, nil
	}
	return "", &integration.ConfigError{Field: "apiKey, clientId",
		Message: "no credentials: set clientId with privateKey or privateKeyFile (OAuth 2.0 service app, env OKTA_CLIENT_ID, OKTA_PRIVATE_KEY or OKTA_PRIVATE_KEY_FILE) or apiKey (legacy API token, env OKTA_API_KEY)"}
}

// loadServiceApp validates the service-app fields of cfg and parses the
// private key. Errors are *integration.ConfigError naming the field; they
// never include key material.
func loadServiceApp(cfg *Config) (*serviceApp, error) {
	bad := func(field, msg string) error { return &integration.ConfigError{Field: field, Message: msg} }
	id := strings.TrimSpace(cfg.ClientID)
	inline, file := strings.TrimSpace(cfg.PrivateKey), strings.TrimSpace(cfg.PrivateKeyFile)
	switch {
	case id == "":
		return nil, bad("clientId", "is required with privateKey/privateKeyFile (flag --clientId or env OKTA_CLIENT_ID): the Client ID of the Okta API Services app")
	case strings.ContainsAny(id, " \t\r\n\"'"):
		return nil, bad("clientId", "must be the app's Client ID alone (no spaces or quotes)")
	case inline != "" && file != "":
		return nil, bad("privateKey, privateKeyFile", "set only one of them: the key inline (PEM or JWK) or the path of a file holding it")
	case inline == "" && file == "":
		return nil, bad("privateKey, privateKeyFile", "the service app needs its private key: set privateKeyFile (env OKTA_PRIVATE_KEY_FILE) to a PEM or JWK file, or privateKey (env OKTA_PRIVATE_KEY) to the key itself")
	}
	field, raw := "privateKey", []byte(inline)
	if file != "" {
		field = "privateKeyFile"
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, bad(field, fmt.Sprintf("cannot read the key file: %v", err))
		}
		raw = b
	}
	app := &serviceApp{clientID: id, keyID: strings.TrimSpace(cfg.KeyID), material: strings.TrimSpace(string(raw))}
	key, kid, err := oauthclient.ParsePrivateKey(raw)
	if err != nil {
		return nil, bad(field, err.Error())
	}
	if _, err := oauthclient.Algorithm(key); err != nil {
		return nil, bad(field, err.Error())
	}
	app.key, app.keyID = key, cmp.Or(app.keyID, kid)
	if len(cfg.Scopes) == 0 {
		app.scopes = DefaultScopes(cfg)
	} else {
		for _, s := range cfg.Scopes {
			s = strings.TrimSpace(s)
			if !strings.HasPrefix(s, "okta.") || !strings.HasSuffix(s, ".read") || strings.ContainsAny(s, " \t") {
				return nil, bad("scopes", fmt.Sprintf("%q is not a read-only Okta scope (okta.<resource>.read); the integration never asks for write access", s))
			}
			app.scopes = append(app.scopes, s)
		}
		slices.Sort(app.scopes)
		app.scopes = slices.Compact(app.scopes)
	}
	return app, nil
}

// CredentialFields are the config fields that carry credentials, with
// their environment variables: either method's. A binary that falls back
// to a demo org when nothing is configured must treat any of them as
// "configured" (an org URL without them, or them without an org URL, is a
// configuration error, not the demo).
var CredentialFields = []struct{ Name, Env string }{
	{"apiKey", "OKTA_API_KEY"},
	{"clientId", "OKTA_CLIENT_ID"},
	{"privateKey", "OKTA_PRIVATE_KEY"},
	{"privateKeyFile", "OKTA_PRIVATE_KEY_FILE"},
}

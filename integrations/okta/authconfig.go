package okta

import (
	"fmt"
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

// AuthMethod returns which method cfg configures, AuthAPIToken or
// AuthServiceApp, or a *integration.ConfigError naming the fields when it
// configures none or both (integration.OneOf). It makes no request.
func AuthMethod(cfg *Config) (string, error) {
	return integration.OneOf(cfg,
		"configure exactly one authentication method: either apiKey (legacy API token) or the OAuth 2.0 service app (clientId with privateKey or privateKeyFile), not both",
		"no credentials: set clientId with privateKey or privateKeyFile (OAuth 2.0 service app, env OKTA_CLIENT_ID, OKTA_PRIVATE_KEY or OKTA_PRIVATE_KEY_FILE) or apiKey (legacy API token, env OKTA_API_KEY)",
		integration.Alternative{Name: AuthAPIToken, Fields: []string{"apiKey"}},
		integration.Alternative{Name: AuthServiceApp, Fields: []string{"clientId", "privateKey", "privateKeyFile", "keyId", "scopes"}})
}

// loadServiceApp validates the service-app fields of cfg, reads the
// private key (oauthclient.LoadKey) and returns it with the configured
// scopes (nil: request what the enabled sources need). Errors are
// *integration.ConfigError naming the field; they never include key
// material.
func loadServiceApp(cfg *Config) (*oauthclient.Key, []string, error) {
	switch id := strings.TrimSpace(cfg.ClientID); {
	case id == "":
		return nil, nil, &integration.ConfigError{Field: "clientId", Message: "is required with privateKey/privateKeyFile (flag --clientId or env OKTA_CLIENT_ID): the Client ID of the Okta API Services app"}
	case strings.ContainsAny(id, " \t\r\n\"'"):
		return nil, nil, &integration.ConfigError{Field: "clientId", Message: "must be the app's Client ID alone (no spaces or quotes)"}
	}
	key, err := oauthclient.LoadKey(oauthclient.KeyConfig{Inline: cfg.PrivateKey, File: cfg.PrivateKeyFile, KeyID: cfg.KeyID,
		InlineEnv: "OKTA_PRIVATE_KEY", FileEnv: "OKTA_PRIVATE_KEY_FILE", Who: "the service app"})
	if err != nil {
		return nil, nil, err
	}
	var scopes []string
	for _, s := range cfg.Scopes {
		s = strings.TrimSpace(s)
		if !strings.HasPrefix(s, "okta.") || !strings.HasSuffix(s, ".read") || strings.ContainsAny(s, " \t") {
			return nil, nil, &integration.ConfigError{Field: "scopes", Message: fmt.Sprintf("%q is not a read-only Okta scope (okta.<resource>.read); the integration never asks for write access", s)}
		}
		scopes = append(scopes, s)
	}
	slices.Sort(scopes)
	return key, slices.Compact(scopes), nil
}

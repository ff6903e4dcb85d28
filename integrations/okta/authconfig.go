package okta

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/go-jose/go-jose/v4"

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
	alg      jose.SignatureAlgorithm
	key      crypto.Signer
	scopes   []string
	// fingerprint identifies the key (SHA-256 of its public part) without
	// revealing it: clients are shared per (org, client, key, scopes).
	fingerprint string
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
	key, kid, err := parsePrivateKey(raw)
	if err != nil {
		return nil, bad(field, err.Error())
	}
	app.key = key
	if app.keyID == "" {
		app.keyID = kid
	}
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if k.N.BitLen() < 2048 {
			return nil, bad(field, fmt.Sprintf("is a %d-bit RSA key; Okta requires at least 2048 bits", k.N.BitLen()))
		}
		app.alg = jose.RS256
	case *ecdsa.PrivateKey:
		switch k.Curve {
		case elliptic.P256():
			app.alg = jose.ES256
		case elliptic.P384():
			app.alg = jose.ES384
		case elliptic.P521():
			app.alg = jose.ES512
		default:
			return nil, bad(field, "is an EC key on an unsupported curve (use P-256)")
		}
	default:
		return nil, bad(field, "is neither an RSA nor an EC private key (Okta signs client assertions with RS256 or ES256)")
	}
	pub, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return nil, bad(field, "has a public part that cannot be encoded")
	}
	sum := sha256.Sum256(pub)
	app.fingerprint = hex.EncodeToString(sum[:8])

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

// parsePrivateKey reads a PEM (PKCS #8, PKCS #1 or SEC 1) or JWK private
// key. It returns the JWK's kid, if any. Errors never quote the input.
func parsePrivateKey(raw []byte) (crypto.Signer, string, error) {
	text := strings.TrimSpace(string(raw))
	// Environment variables often carry PEM with escaped newlines.
	if !strings.Contains(text, "\n") && strings.Contains(text, `\n`) {
		text = strings.ReplaceAll(text, `\n`, "\n")
	}
	if strings.HasPrefix(text, "{") {
		var jwk jose.JSONWebKey
		if err := json.Unmarshal([]byte(text), &jwk); err != nil {
			return nil, "", fmt.Errorf("is not a valid JWK (JSON Web Key) private key")
		}
		if jwk.IsPublic() {
			return nil, "", fmt.Errorf("is a public JWK; the private key (with its \"d\" member) is needed")
		}
		s, ok := jwk.Key.(crypto.Signer)
		if !ok {
			return nil, "", fmt.Errorf("is a JWK that holds no RSA or EC private key")
		}
		return s, jwk.KeyID, nil
	}
	block, _ := pem.Decode([]byte(text))
	if block == nil {
		return nil, "", fmt.Errorf("is neither a PEM private key (-----BEGIN PRIVATE KEY-----) nor a JWK")
	}
	switch block.Type {
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, "", fmt.Errorf("is a PEM PRIVATE KEY block that does not parse as PKCS #8")
		}
		s, ok := k.(crypto.Signer)
		if !ok {
			return nil, "", fmt.Errorf("is a PKCS #8 key of an unsupported type")
		}
		return s, "", nil
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, "", fmt.Errorf("is a PEM RSA PRIVATE KEY block that does not parse as PKCS #1")
		}
		return k, "", nil
	case "EC PRIVATE KEY":
		k, err := x509.ParseECPrivateKey(block.Bytes)
		if err != nil {
			return nil, "", fmt.Errorf("is a PEM EC PRIVATE KEY block that does not parse")
		}
		return k, "", nil
	case "PUBLIC KEY", "RSA PUBLIC KEY", "CERTIFICATE":
		return nil, "", fmt.Errorf("is a PEM %s; the private key is needed", block.Type)
	}
	return nil, "", fmt.Errorf("is a PEM block of type %q, not a private key", block.Type)
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

package okta

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/stepgraph/stepgraph/sdk/integration"
)

// Config is the Okta integration's configuration. Values come from flags,
// the environment (OKTA_*) or a .env file; see the struct tags.
type Config struct {
	// OrgURL is the org's URL, e.g. https://acme.okta.com. It is normalised
	// by Validate to "https://<host>/" (scheme added when missing, exactly
	// one trailing slash).
	OrgURL string `config:"orgUrl" env:"OKTA_ORG_URL" optional:"true" help:"Okta org URL, e.g. https://acme.okta.com (not the -admin URL)"`
	// APIKey is an Okta API token, sent as "Authorization: SSWS <key>".
	APIKey string `config:"apiKey" env:"OKTA_API_KEY" secret:"true" credential:"true" optional:"true" help:"Okta API token (SSWS; legacy: prefer the OAuth 2.0 service app)"`
	// ClientID is the Client ID of an Okta API Services app (OAuth 2.0
	// client credentials with private_key_jwt), the alternative to APIKey.
	ClientID string `config:"clientId" env:"OKTA_CLIENT_ID" credential:"true" optional:"true" help:"Client ID of the Okta API Services app (OAuth 2.0; instead of apiKey)"`
	// PrivateKey is the service app's private key itself, PEM or JWK.
	PrivateKey string `config:"privateKey" env:"OKTA_PRIVATE_KEY" secret:"true" credential:"true" optional:"true" help:"the service app's private key, PEM or JWK (prefer privateKeyFile)"`
	// PrivateKeyFile is the path of a file holding the service app's
	// private key, PEM or JWK.
	PrivateKeyFile string `config:"privateKeyFile" env:"OKTA_PRIVATE_KEY_FILE" credential:"true" optional:"true" help:"path of a file holding the service app's private key (PEM or JWK)"`
	// KeyID is the kid of the service app's public key in Okta, needed
	// when the app has several keys (default: the JWK's own kid, if any).
	KeyID string `config:"keyId" env:"OKTA_KEY_ID" optional:"true" help:"key ID (kid) of the service app's key in Okta, when the app has several"`
	// Scopes are the OAuth 2.0 scopes to request (read-only ones only);
	// default: the read scopes the enabled sources need (their declared
	// Needs, integration.Integration.Needs).
	Scopes []string `config:"scopes" env:"OKTA_SCOPES" optional:"true" help:"comma-separated okta.*.read scopes to request (default: those the enabled sources need)"`
	// RateLimitShare is the fraction (0 < x <= 1) of each Okta rate-limit
	// bucket this integration may use, leaving the rest to other API
	// consumers of the org. Unset (0) means the SDK's share: the
	// --rate-limit-share flag, STEPGRAPH_RATE_LIMIT_SHARE, else
	// httpclient.DefaultShare (0.5). The flag and STEPGRAPH_RATE_LIMIT_SHARE
	// override it.
	RateLimitShare float64 `config:"rateLimitShare" env:"OKTA_RATE_LIMIT_SHARE" optional:"true" range:"(0,1]" example:"0.5" help:"fraction of each Okta rate-limit bucket to use (0 < x <= 1); default: the SDK's --rate-limit-share / STEPGRAPH_RATE_LIMIT_SHARE, else 0.5"`
	// AllowCustomDomain accepts an org URL on a host other than okta.com,
	// oktapreview.com, okta-emea.com or okta-gov.com (an Okta custom URL
	// domain).
	AllowCustomDomain bool `config:"allowCustomDomain" env:"OKTA_ALLOW_CUSTOM_DOMAIN" optional:"true" help:"accept an org URL on a custom (non-Okta) domain"`
	// DisableSources lists ingestion sources to skip: groups, applications,
	// mfa-devices, roles, rules, devices (checked against the declared
	// sources by the SDK: sources:"disable").
	DisableSources []string `config:"disableSources" env:"OKTA_DISABLE_SOURCES" optional:"true" sources:"disable" help:"comma-separated sources to skip: groups, applications, mfa-devices, roles, rules, devices"`
	// EnableDevices turns on the devices source (Okta Identity Engine
	// devices), which is off by default (its Source.EnabledBy).
	EnableDevices bool `config:"enableDevices" env:"OKTA_ENABLE_DEVICES" optional:"true" help:"collect Okta Identity Engine devices (off by default)"`
}

// Ingestion sources a configuration can switch off (declared in sources.go).
const (
	SourceGroups       = "groups"
	SourceApplications = "applications"
	SourceMFADevices   = "mfa-devices"
	SourceRoles        = "roles"
	SourceRules        = "rules"
	SourceDevices      = "devices"
)

// okta-owned domains accepted without opt-in.
var oktaDomains = []string{"okta.com", "oktapreview.com", "okta-emea.com", "okta-gov.com"}

// NormalizeOrgURL validates an org URL and returns it as
// "https://<host>/". A missing scheme becomes https; http:// and other
// schemes, paths, credentials, "-admin." hosts and (unless allowCustom)
// hosts outside Okta's domains are refused with a *integration.ConfigError
// naming orgUrl.
func NormalizeOrgURL(raw string, allowCustom bool) (string, error) {
	bad := func(msg string) error { return &integration.ConfigError{Field: "orgUrl", Message: msg} }
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", bad("is required (flag --orgUrl or env OKTA_ORG_URL), e.g. https://acme.okta.com")
	}
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", bad(fmt.Sprintf("%q is not a valid URL", raw))
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
	case "http":
		return "", bad(fmt.Sprintf("%q uses http://; Okta orgs are only served over https:// (use https://%s)", raw, u.Host))
	default:
		return "", bad(fmt.Sprintf("%q has scheme %q; use https://<org>.okta.com", raw, u.Scheme))
	}
	if u.User != nil {
		return "", bad("must not contain credentials; pass the token as apiKey")
	}
	host := strings.ToLower(u.Hostname())
	if host == "" {
		return "", bad(fmt.Sprintf("%q has no host", raw))
	}
	if p := strings.Trim(u.Path, "/"); p != "" || u.RawQuery != "" || u.Fragment != "" {
		return "", bad(fmt.Sprintf("%q must be the org URL only, without a path or query (e.g. https://%s)", raw, host))
	}
	label, _, _ := strings.Cut(host, ".")
	if strings.HasSuffix(label, "-admin") {
		return "", bad(fmt.Sprintf("%q is the admin console URL; use the org URL https://%s instead", raw,
			strings.TrimSuffix(label, "-admin")+strings.TrimPrefix(host, label)))
	}
	if !isOktaHost(host) && !allowCustom {
		return "", bad(fmt.Sprintf("host %q is not an Okta domain (%s); if it is your org's custom URL domain, set allowCustomDomain (OKTA_ALLOW_CUSTOM_DOMAIN=true)",
			host, strings.Join(oktaDomains, ", ")))
	}
	if !strings.Contains(host, ".") {
		return "", bad(fmt.Sprintf("host %q is not a fully qualified domain name", host))
	}
	hostPort := host
	if p := u.Port(); p != "" && p != "443" {
		hostPort += ":" + p
	}
	return "https://" + hostPort + "/", nil
}

func isOktaHost(host string) bool {
	for _, d := range oktaDomains {
		if strings.HasSuffix(host, "."+d) && len(host) > len(d)+1 {
			return true
		}
	}
	return false
}

// validateFields checks the fields that are Okta's own (the org URL, the
// credentials) without any request and returns the normalised org URL.
// The SDK checks the rest from the declaration before (Integration.
// CheckConfig: rateLimitShare's range, the disable list, enableDevices).
func validateFields(cfg *Config) (string, error) {
	org, err := NormalizeOrgURL(cfg.OrgURL, cfg.AllowCustomDomain)
	if err != nil {
		return "", err
	}
	method, err := AuthMethod(cfg)
	if err != nil {
		return "", err
	}
	if method == AuthAPIToken {
		key := strings.TrimSpace(cfg.APIKey)
		switch {
		case strings.HasPrefix(key, "SSWS ") || strings.HasPrefix(key, "Bearer "):
			return "", &integration.ConfigError{Field: "apiKey", Message: "must be the token alone, without the SSWS/Bearer prefix"}
		case strings.ContainsAny(key, " \t\r\n"):
			return "", &integration.ConfigError{Field: "apiKey", Message: "must not contain whitespace"}
		}
	}
	if method == AuthServiceApp {
		if _, _, err := loadServiceApp(cfg); err != nil {
			return "", err
		}
	}
	return org, nil
}

// orgInfo is what entity keys and web links derive from the org URL.
type orgInfo struct {
	// URL is "https://<host>/".
	URL string
	// AccountID is the URL without scheme: "<host>/".
	AccountID string
	// Name is the subdomain, e.g. "acme".
	Name string
	// Preview is true on oktapreview.com.
	Preview bool
	// AdminURL is the admin console origin, e.g. https://acme-admin.okta.com.
	AdminURL string
}

// newOrgInfo derives orgInfo from an org URL NormalizeOrgURL returned
// ("https://<host>/", the host a fully qualified name): the admin console
// has "-admin" after the subdomain (https://acme.okta.com ->
// https://acme-admin.okta.com).
func newOrgInfo(orgURL string) orgInfo {
	accountID := strings.TrimPrefix(orgURL, "https://")
	host := strings.TrimSuffix(accountID, "/")
	name, domain, _ := strings.Cut(host, ".")
	return orgInfo{
		URL:       orgURL,
		AccountID: accountID,
		Name:      name,
		Preview:   strings.HasSuffix(strings.ToLower(host), ".oktapreview.com"),
		AdminURL:  "https://" + name + "-admin." + domain,
	}
}

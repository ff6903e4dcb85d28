package okta

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/stepgraph/stepgraph/sdk/httpclient"
	"github.com/stepgraph/stepgraph/sdk/httpclient/oauthclient"
	"github.com/stepgraph/stepgraph/sdk/integration"
)

// pathToken is the org authorization server's token endpoint. Okta's
// management API only accepts tokens of the org authorization server, not
// of a custom one.
const pathToken = "/oauth2/v1/token"

// clientAuth is how the run's HTTP client authenticates: the legacy API
// token as a static header, or a service app's access tokens through an
// OAuth 2.0 token source (sdk/httpclient/oauthclient). Either way the
// credential is attached only to requests for the org's host, by the same
// HTTP client.
type clientAuth struct {
	token    string                   // API token (AuthAPIToken)
	key      *oauthclient.Key         // the service app's key (AuthServiceApp)
	ts       *oauthclient.TokenSource // AuthServiceApp
	clientID string
}

// newClientAuth builds the authentication of cfg (already validated by
// validateFields) for requests sent to base on behalf of orgURL.
func (x *Collector) newClientAuth(cfg *Config, orgURL, base string) (*clientAuth, error) {
	method, err := AuthMethod(cfg)
	if err != nil {
		return nil, err
	}
	if method == AuthAPIToken {
		return &clientAuth{token: strings.TrimSpace(cfg.APIKey)}, nil
	}
	key, scopes, err := loadServiceApp(cfg)
	if err != nil {
		return nil, err
	}
	if len(scopes) == 0 {
		scopes = x.integ.SourceNeeds(cfg)
	}
	ts, err := oauthclient.New(oauthclient.Config{
		ClientID: strings.TrimSpace(cfg.ClientID), Key: key.Signer, KeyID: key.ID, KeyField: key.Field,
		TokenURL: strings.TrimSuffix(base, "/") + pathToken, Audience: strings.TrimSuffix(orgURL, "/") + pathToken,
		Scopes: scopes, Clock: x.opts.Clock,
		Server: "the Okta authorization server", Who: "the service app",
		Hint:           "check clientId, the private key (it must match a public key registered for the app, with keyId if the app has several) and that the org URL is the org the app belongs to",
		AudienceHint:   ", the org's token endpoint; check orgUrl",
		GrantHint:      "; grant them in the Admin Console under Applications > the app > Okta API Scopes",
		RequestHint:    "add it to scopes, or leave scopes unset to request what the enabled sources need",
		ScopeGrantHint: "Admin Console: Applications > the app > Okta API Scopes > Grant",
	})
	if err != nil {
		return nil, err
	}
	return &clientAuth{key: key, ts: ts, clientID: strings.TrimSpace(cfg.ClientID)}, nil
}

// configure sets the credential fields of the HTTP client configuration.
func (a *clientAuth) configure(hc *httpclient.Config) {
	if a.ts == nil {
		hc.AuthHeader, hc.AuthValue = "Authorization", "SSWS "+a.token
		hc.Secrets = append(hc.Secrets, a.token)
		return
	}
	hc.Authenticator = a.ts
	hc.Secrets = append(hc.Secrets, a.key.Material)
}

// checkAuth proves the credentials work before anything is collected with
// GET /api/v1/users?limit=1. For a service app that request first obtains
// an access token (retried with it on 5xx, 429 and transport errors); a bad
// key, client id or audience fails there, before the request is sent. A
// rejection is an *integration.AuthenticationError that says what to fix.
func checkAuth(ctx context.Context, c *httpclient.Client, a *clientAuth) error {
	_, err := c.Do(ctx, http.MethodGet, pathUsers+"?limit=1", nil)
	if err == nil {
		return nil
	}
	var auth *integration.AuthenticationError
	if errors.As(err, &auth) {
		if auth.Request.Endpoint == pathToken {
			return auth // the token endpoint's refusal, already explained
		}
		e := *auth
		if a != nil && a.ts != nil {
			e.Summary = "Okta rejected the service app's access token (" + strings.TrimSpace(e.ProviderCode+" "+e.Summary) +
				"); check that the app is an API Services app of this org and is active"
		} else {
			e.Summary = "invalid or expired Okta API token (" + strings.TrimSpace(e.ProviderCode+" "+e.Summary) +
				"); create a new token in the Okta admin console under Security > API > Tokens, or switch to an OAuth 2.0 service app"
		}
		return &e
	}
	return fmt.Errorf("okta: checking the credentials with GET %s?limit=1: %w", pathUsers, err)
}

// explainForbidden adds to a 403 what is missing: for the service app,
// whose scopes (needs) are granted, the admin role; for the API token, its
// admin's permissions.
func (a *clientAuth) explainForbidden(needs []string, err error) error {
	if err == nil || !integration.IsForbidden(err) {
		return err
	}
	if a != nil && a.ts != nil {
		scope := strings.Join(needs, ", ")
		return fmt.Errorf("missing admin role: scope %s is granted, but the service app's admin role does not allow this (assign it the Read-only Administrator role under the app's Admin roles): %w", scope, err)
	}
	return fmt.Errorf("missing admin role: the API token's administrator may not read this (use a Read-only Administrator or higher): %w", err)
}

// describeAuth records the authentication method (and, for a service app, its
// client id and requested scopes) in summary.json's metadata.details.
func (x *Collector) describeAuth(cfg *Config) map[string]string {
	method, err := AuthMethod(cfg)
	if err != nil {
		return nil
	}
	out := map[string]string{"authMethod": method}
	if method == AuthServiceApp {
		out["clientId"] = strings.TrimSpace(cfg.ClientID)
		scopes := cfg.Scopes
		if len(scopes) == 0 {
			scopes = x.integ.SourceNeeds(cfg)
		}
		out["scopes"] = strings.Join(scopes, " ")
	}
	return out
}

// describeCredentials is validate's credentials row: which credentials
// are in use and, for a service app, the scopes its token was granted.
func (a *clientAuth) describeCredentials(ctx context.Context) (string, error) {
	if a == nil || a.ts == nil {
		return "API token (legacy: Okta recommends an OAuth 2.0 service app)", nil
	}
	granted, missing, err := a.ts.Granted(ctx)
	detail := "OAuth 2.0 service app " + a.clientID + ", token scopes: " + strings.Join(granted, " ")
	if len(missing) > 0 {
		detail += "; not granted: " + strings.Join(missing, " ")
	}
	return detail, err
}

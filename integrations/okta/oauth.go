package okta

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/stepgraph/stepgraph/sdk/integration"
)

// pathToken is the org authorization server's token endpoint. Okta's
// management API only accepts tokens of the org authorization server, not
// of a custom one.
const pathToken = "/oauth2/v1/token"

const (
	// assertionLifetime is how long a client assertion is valid. Okta
	// accepts at most one hour; a token request uses it at once.
	assertionLifetime = 5 * time.Minute
	// maxRefreshMargin is how long before its expiry an access token is
	// replaced (less for tokens that live under ten minutes: a tenth of
	// their lifetime).
	maxRefreshMargin    = time.Minute
	clientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
)

// tokenSource mints, caches and refreshes the access tokens of an Okta API
// Services app (OAuth 2.0 client credentials with a private_key_jwt client
// assertion) and attaches them to requests; it is the okta integration's
// httpclient.Authenticator. Concurrent requests share one token and one
// refresh.
type tokenSource struct {
	app      *serviceApp
	tokenURL string // where token requests go
	audience string // the client assertion's aud: the org's token endpoint
	now      func() time.Time
	signer   jose.Signer
	// hc sends token requests (httpclient.Client.CredentialClient); set
	// once, right after the client is built, before any request.
	hc *http.Client

	// lock serialises token fetches and guards the fields below; it is a
	// channel so that a waiter honours its context.
	lock    chan struct{}
	cur     *oauth2.Token
	expiry  time.Time // local clock: when cur must be replaced
	granted []string  // scopes the current token carries
	missing []string  // requested scopes the app is not granted
	fetches int       // token requests answered with a token
	dpop    *dpopKey  // set once the app turned out to require DPoP
	nonce   string    // the authorization server's latest DPoP nonce
	tokenHC *http.Client
}

func newTokenSource(app *serviceApp, orgURL, base string, now func() time.Time) (*tokenSource, error) {
	key := jose.SigningKey{Algorithm: app.alg, Key: app.key}
	if app.keyID != "" {
		key.Key = jose.JSONWebKey{Key: app.key, KeyID: app.keyID, Algorithm: string(app.alg)}
	}
	signer, err := jose.NewSigner(key, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return nil, &integration.ConfigError{Field: "privateKey", Message: "cannot sign with this key"}
	}
	return &tokenSource{
		app:      app,
		tokenURL: strings.TrimSuffix(base, "/") + pathToken,
		audience: strings.TrimSuffix(orgURL, "/") + pathToken,
		now:      now,
		signer:   signer,
		lock:     make(chan struct{}, 1),
	}, nil
}

// assertion returns a fresh signed client assertion: iss = sub = client
// id, aud = the org's token endpoint, a unique jti, valid for
// assertionLifetime.
func (ts *tokenSource) assertion() (string, error) {
	var id [18]byte
	if _, err := rand.Read(id[:]); err != nil {
		return "", err
	}
	now := ts.now()
	claims := jwt.Claims{
		Issuer:    ts.app.clientID,
		Subject:   ts.app.clientID,
		Audience:  jwt.Audience{ts.audience},
		IssuedAt:  jwt.NewNumericDate(now),
		NotBefore: jwt.NewNumericDate(now.Add(-30 * time.Second)),
		Expiry:    jwt.NewNumericDate(now.Add(assertionLifetime)),
		ID:        base64.RawURLEncoding.EncodeToString(id[:]),
	}
	s, err := jwt.Signed(ts.signer).Claims(claims).Serialize()
	if err != nil {
		return "", fmt.Errorf("okta: signing the client assertion: %w", err)
	}
	return s, nil
}

func (ts *tokenSource) acquire(ctx context.Context) error {
	select {
	case ts.lock <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (ts *tokenSource) release() { <-ts.lock }

// token returns a valid access token, fetching one when there is none or
// the current one is about to expire. Concurrent callers wait for the one
// fetch in progress.
func (ts *tokenSource) token(ctx context.Context) (*oauth2.Token, error) {
	tok, _, err := ts.current(ctx)
	return tok, err
}

// current is token, with the DPoP key the token is bound to (nil for a
// Bearer token).
func (ts *tokenSource) current(ctx context.Context) (*oauth2.Token, *dpopKey, error) {
	if err := ts.acquire(ctx); err != nil {
		return nil, nil, err
	}
	defer ts.release()
	if ts.cur != nil && ts.now().Before(ts.expiry) {
		return ts.cur, ts.boundKey(ts.cur), nil
	}
	tok, err := ts.fetchLocked(ctx)
	if err != nil {
		return nil, nil, err
	}
	return tok, ts.boundKey(tok), nil
}

func (ts *tokenSource) boundKey(tok *oauth2.Token) *dpopKey {
	if strings.EqualFold(tok.TokenType, "DPoP") {
		return ts.dpop
	}
	return nil
}

// Authenticate implements httpclient.Authenticator: "Authorization:
// Bearer <token>", or for a DPoP-bound token "Authorization: DPoP <token>"
// with a fresh proof in the DPoP header.
func (ts *tokenSource) Authenticate(req *http.Request) error {
	tok, key, err := ts.current(req.Context())
	if err != nil {
		return err
	}
	if key == nil {
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		return nil
	}
	p, err := key.proof(req.Method, htu(ts.audience, req.URL), "", tok.AccessToken, ts.now())
	if err != nil {
		return fmt.Errorf("okta: DPoP proof: %w", err)
	}
	req.Header.Set("Authorization", "DPoP "+tok.AccessToken)
	req.Header.Set("DPoP", p)
	return nil
}

// Rejected implements httpclient.Authenticator: a 401 for the current
// token drops it (the next Authenticate fetches a new one); a 401 for a
// token already replaced just asks for a resend with the new one.
func (ts *tokenSource) Rejected(req *http.Request) bool {
	_, used, ok := strings.Cut(req.Header.Get("Authorization"), " ")
	if !ok || used == "" {
		return false
	}
	if err := ts.acquire(req.Context()); err != nil {
		return false
	}
	defer ts.release()
	if ts.cur != nil && ts.cur.AccessToken == used {
		ts.cur = nil
	}
	return true
}

// Granted returns the scopes of the current token and the requested
// scopes the app is not granted, fetching a token when there is none.
func (ts *tokenSource) Granted(ctx context.Context) (granted, missing []string, err error) {
	if _, err := ts.token(ctx); err != nil {
		return nil, nil, err
	}
	if err := ts.acquire(ctx); err != nil {
		return nil, nil, err
	}
	defer ts.release()
	return slices.Clone(ts.granted), slices.Clone(ts.missing), nil
}

// fetchLocked requests a new token. When Okta refuses some requested
// scopes (invalid_scope: the app is not granted them) it drops those and
// asks again, so that only the sources needing them degrade.
func (ts *tokenSource) fetchLocked(ctx context.Context) (*oauth2.Token, error) {
	scopes := slices.Clone(ts.app.scopes)
	scopes = slices.DeleteFunc(scopes, func(s string) bool { return slices.Contains(ts.missing, s) })
	for range len(ts.app.scopes) + 1 {
		tok, err := ts.request(ctx, scopes)
		var rejected []string
		if err != nil {
			if scopeErr := (*invalidScopeError)(nil); errors.As(err, &scopeErr) {
				rejected = scopeErr.rejected(scopes)
				if len(rejected) == 0 {
					// Okta did not say which: find out one scope at a time.
					rejected, err = ts.probeScopes(ctx, scopes)
					if err != nil {
						return nil, err
					}
				}
			} else {
				return nil, err
			}
		}
		if len(rejected) > 0 {
			ts.missing = append(ts.missing, rejected...)
			slices.Sort(ts.missing)
			ts.missing = slices.Compact(ts.missing)
			scopes = slices.DeleteFunc(scopes, func(s string) bool { return slices.Contains(rejected, s) })
			if len(scopes) == 0 {
				return nil, ts.authError(http.StatusBadRequest, "invalid_scope",
					"the service app is granted none of the requested scopes ("+strings.Join(ts.app.scopes, " ")+
						"); grant them in the Admin Console under Applications > the app > Okta API Scopes")
			}
			continue
		}
		ts.install(tok, scopes)
		return tok, nil
	}
	return nil, ts.authError(http.StatusBadRequest, "invalid_scope", "the authorization server keeps refusing the requested scopes")
}

// install makes tok the current token.
func (ts *tokenSource) install(tok *oauth2.Token, requested []string) {
	ts.cur = tok
	ts.fetches++
	now := ts.now()
	life := time.Hour // Okta's access tokens live an hour
	if v, ok := tok.Extra("expires_in").(float64); ok && v > 0 {
		life = time.Duration(v * float64(time.Second))
	}
	margin := min(maxRefreshMargin, life/10)
	ts.expiry = now.Add(life - margin)
	ts.granted = requested
	if s, ok := tok.Extra("scope").(string); ok && s != "" {
		got := strings.Fields(s)
		slices.Sort(got)
		ts.granted = got
		for _, r := range requested {
			if !slices.Contains(got, r) && !slices.Contains(ts.missing, r) {
				ts.missing = append(ts.missing, r)
			}
		}
		slices.Sort(ts.missing)
	}
}

// probeScopes asks for a token with each scope alone and returns those
// refused with invalid_scope.
func (ts *tokenSource) probeScopes(ctx context.Context, scopes []string) ([]string, error) {
	var out []string
	for _, s := range scopes {
		_, err := ts.request(ctx, []string{s})
		var scopeErr *invalidScopeError
		switch {
		case errors.As(err, &scopeErr):
			out = append(out, s)
		case err != nil:
			return nil, err
		}
	}
	return out, nil
}

// request makes one token request with a fresh client assertion, and
// again (each time with a fresh assertion) when the authorization server
// asks for DPoP or for a DPoP nonce.
func (ts *tokenSource) request(ctx context.Context, scopes []string) (*oauth2.Token, error) {
	for range 3 {
		tok, err := ts.requestOnce(ctx, scopes)
		var re *oauth2.RetrieveError
		if err == nil {
			return tok, nil
		}
		if !errors.As(err, &re) {
			return nil, ts.tokenError(ctx, err)
		}
		switch {
		case re.ErrorCode == "invalid_dpop_proof" && ts.dpop == nil:
			// The app requires DPoP: prove possession from now on.
			if ts.dpop, err = newDPoPKey(); err != nil {
				return nil, err
			}
		case re.ErrorCode == "use_dpop_nonce" && ts.dpop != nil && re.Response != nil && re.Response.Header.Get("DPoP-Nonce") != "" && re.Response.Header.Get("DPoP-Nonce") != ts.nonce:
			ts.nonce = re.Response.Header.Get("DPoP-Nonce")
		default:
			return nil, ts.tokenError(ctx, err)
		}
	}
	return nil, ts.authError(http.StatusBadRequest, "invalid_dpop_proof", "the authorization server keeps refusing the DPoP proof")
}

// requestOnce makes one token request with a fresh client assertion.
func (ts *tokenSource) requestOnce(ctx context.Context, scopes []string) (*oauth2.Token, error) {
	a, err := ts.assertion()
	if err != nil {
		return nil, err
	}
	if ts.tokenHC == nil {
		hc := *ts.hc
		hc.Transport = dpopTransport{ts: ts, next: ts.hc.Transport}
		ts.tokenHC = &hc
	}
	cc := clientcredentials.Config{
		ClientID:  ts.app.clientID,
		TokenURL:  ts.tokenURL,
		Scopes:    scopes,
		AuthStyle: oauth2.AuthStyleInParams,
		EndpointParams: url.Values{
			"client_assertion_type": {clientAssertionType},
			"client_assertion":      {a},
		},
	}
	tok, err := cc.Token(context.WithValue(ctx, oauth2.HTTPClient, ts.tokenHC))
	if err != nil {
		return nil, err
	}
	if tok.AccessToken == "" {
		return nil, ts.authError(http.StatusOK, "", "the token response carries no access token")
	}
	if strings.EqualFold(tok.TokenType, "DPoP") && ts.dpop == nil {
		return nil, ts.authError(http.StatusOK, "", "the authorization server issued a DPoP-bound token without being sent a DPoP proof")
	}
	return tok, nil
}

// tokenError turns a failed token request into an error that says what
// to fix: *integration.AuthenticationError for refused credentials,
// *invalidScopeError for refused scopes, a plain (retryable) error for
// transport failures, 429 and 5xx.
func (ts *tokenSource) tokenError(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	if auth := (*integration.AuthenticationError)(nil); errors.As(err, &auth) {
		return err
	}
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		// Transport failure (connection reset, timeout, foreign host):
		// retried with the data request that needed the token.
		return fmt.Errorf("okta: requesting an access token (POST %s): %w", pathToken, err)
	}
	status := 0
	if re.Response != nil {
		status = re.Response.StatusCode
	}
	code := re.ErrorCode
	desc := oneLineASCII(re.ErrorDescription)
	switch {
	case code == "invalid_scope":
		return &invalidScopeError{desc: desc}
	case status == http.StatusTooManyRequests || status >= 500:
		return fmt.Errorf("okta: requesting an access token (POST %s): %d %s %s", pathToken, status, code, desc)
	}
	hint := "check clientId, the private key (it must match a public key registered for the app, with keyId if the app has several) and that the org URL is the org the app belongs to"
	if code == "invalid_client" && strings.Contains(strings.ToLower(desc), "audience") {
		hint = "the assertion's audience is " + ts.audience + ", the org's token endpoint; check orgUrl"
	}
	return ts.authError(status, code, "the Okta authorization server refused the service app's credentials: "+desc+"; "+hint)
}

func (ts *tokenSource) authError(status int, code, summary string) error {
	return &integration.AuthenticationError{APIError: integration.APIError{
		Request: integration.Request{Method: http.MethodPost, Endpoint: pathToken},
		Status:  status, ProviderCode: code, Summary: summary,
	}}
}

// invalidScopeError is a token response refusing some requested scopes.
type invalidScopeError struct{ desc string }

func (e *invalidScopeError) Error() string {
	return "okta: the authorization server refused the requested scopes: " + e.desc
}

var scopeNameRe = regexp.MustCompile(`okta\.[a-zA-Z]+\.[a-zA-Z]+`)

// rejected returns the requested scopes the error description names.
func (e *invalidScopeError) rejected(requested []string) []string {
	var out []string
	for _, s := range scopeNameRe.FindAllString(e.desc, -1) {
		if slices.Contains(requested, s) && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// oneLineASCII keeps a provider message printable and short.
func oneLineASCII(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}

// Package oauthclient is an OAuth 2.0 client-credentials token source for
// sdk/httpclient: the client authenticates with a private_key_jwt client
// assertion (RFC 7523) signed with its private key, tokens are cached and
// refreshed a margin before they expire (once for all concurrent
// requests), a 401 for the current token replaces it, scopes the
// authorization server refuses are dropped (so only what needs them
// degrades), and DPoP (RFC 9449) is switched on when the authorization
// server asks for it. Token requests go through the HTTP client's
// credential channel (httpclient.Client.CredentialClient), so they are
// only ever sent to the configured host.
//
// A provider integration keeps only what is its own: its token endpoint,
// its scopes and the wording of its hints (Config).
package oauthclient

import (
	"cmp"
	"context"
	"crypto"
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

	"github.com/stepgraph/stepgraph/sdk/httpclient"
	"github.com/stepgraph/stepgraph/sdk/integration"
)

// Config configures a TokenSource.
type Config struct {
	// ClientID is the OAuth 2.0 client's id: the assertion's iss and sub.
	ClientID string
	// Key signs the client assertions (RSA of at least 2048 bits, or EC
	// P-256/384/521); KeyID is its kid, when the server holds several.
	Key   crypto.Signer
	KeyID string
	// KeyField names the configuration field of the key in errors
	// (default "privateKey").
	KeyField string
	// TokenURL is where token requests are sent; Audience is the
	// assertion's aud (default TokenURL). They differ when requests go to
	// another host than the one the server knows itself as (a test fake).
	TokenURL, Audience string
	// Scopes are the scopes to request.
	Scopes []string
	// Clock is the clock of assertions and token expiry (default time.Now).
	Clock func() time.Time
	// Server, Who, Hint, AudienceHint and GrantHint word errors: "<Server>
	// refused <Who>'s credentials: <description>; <Hint>", an audience
	// refusal ends "the assertion's audience is <Audience><AudienceHint>",
	// and a client granted none of its scopes "<Who> is granted none of the
	// requested scopes (...)<GrantHint>".
	Server, Who, Hint, AudienceHint, GrantHint string
	// RequestHint and ScopeGrantHint word Lacks: "missing scope <s>: not
	// requested (<RequestHint>)" and "missing scope <s>: <Who> is not
	// granted it (<ScopeGrantHint>)".
	RequestHint, ScopeGrantHint string
}

const (
	// assertionLifetime is how long a client assertion is valid; a token
	// request uses it at once.
	assertionLifetime = 5 * time.Minute
	// maxRefreshMargin is how long before its expiry an access token is
	// replaced (less for tokens that live under ten minutes: a tenth of
	// their lifetime).
	maxRefreshMargin    = time.Minute
	clientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
)

// TokenSource mints, caches and refreshes the access tokens of an OAuth
// 2.0 client (client credentials with a private_key_jwt client assertion,
// DPoP when the authorization server requires it) and attaches them to
// requests: it is an httpclient.Authenticator. Concurrent requests share
// one token and one refresh.
type TokenSource struct {
	cfg      Config
	tokenURL string // where token requests go
	audience string // the client assertion's aud
	now      func() time.Time
	signer   jose.Signer
	// hc sends token requests (httpclient.Client.CredentialClient); set by
	// Attach, right after the client is built, before any request.
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
	path    string // the token endpoint's path, in errors
}

// New returns the token source of cfg. Set it as the Authenticator of the
// client it authenticates (httpclient.Config.Authenticator): httpclient.New
// attaches it (Attach).
func New(cfg Config) (*TokenSource, error) {
	if cfg.ClientID == "" || cfg.Key == nil || cfg.TokenURL == "" {
		return nil, errors.New("oauthclient: ClientID, Key and TokenURL are required")
	}
	alg, err := Algorithm(cfg.Key)
	if err != nil {
		return nil, &integration.ConfigError{Field: cmp.Or(cfg.KeyField, "privateKey"), Message: err.Error()}
	}
	key := jose.SigningKey{Algorithm: alg, Key: cfg.Key}
	if cfg.KeyID != "" {
		key.Key = jose.JSONWebKey{Key: cfg.Key, KeyID: cfg.KeyID, Algorithm: string(alg)}
	}
	signer, err := jose.NewSigner(key, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return nil, &integration.ConfigError{Field: cmp.Or(cfg.KeyField, "privateKey"), Message: "cannot sign with this key"}
	}
	cfg.Scopes = slices.Clone(cfg.Scopes)
	cfg.Who = cmp.Or(cfg.Who, "the OAuth client")
	cfg.Hint = cmp.Or(cfg.Hint, "check the client id and that the private key matches a public key registered for the client")
	cfg.RequestHint = cmp.Or(cfg.RequestHint, "add it to the requested scopes")
	cfg.ScopeGrantHint = cmp.Or(cfg.ScopeGrantHint, "grant it to the client on the authorization server")
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	tokenPath := ""
	if u, err := url.Parse(cfg.TokenURL); err == nil {
		tokenPath = u.Path
	}
	return &TokenSource{
		cfg:      cfg,
		tokenURL: cfg.TokenURL,
		audience: cmp.Or(cfg.Audience, cfg.TokenURL),
		now:      cfg.Clock,
		signer:   signer,
		lock:     make(chan struct{}, 1),
		path:     tokenPath,
	}, nil
}

// Attach sends the token requests through c's credential channel
// (httpclient.Client.CredentialClient): c's transport, only to c's host.
// httpclient.New calls it (httpclient.Attacher) for the client whose
// Authenticator ts is.
func (ts *TokenSource) Attach(c *httpclient.Client) { ts.hc = c.CredentialClient() }

// Scopes returns the scopes the token source requests.
func (ts *TokenSource) Scopes() []string { return slices.Clone(ts.cfg.Scopes) }

// assertion returns a fresh signed client assertion: iss = sub = client
// id, aud = the org's token endpoint, a unique jti, valid for
// assertionLifetime.
func (ts *TokenSource) assertion() (string, error) {
	var id [18]byte
	if _, err := rand.Read(id[:]); err != nil {
		return "", err
	}
	now := ts.now()
	claims := jwt.Claims{
		Issuer:    ts.cfg.ClientID,
		Subject:   ts.cfg.ClientID,
		Audience:  jwt.Audience{ts.audience},
		IssuedAt:  jwt.NewNumericDate(now),
		NotBefore: jwt.NewNumericDate(now.Add(-30 * time.Second)),
		Expiry:    jwt.NewNumericDate(now.Add(assertionLifetime)),
		ID:        base64.RawURLEncoding.EncodeToString(id[:]),
	}
	s, err := jwt.Signed(ts.signer).Claims(claims).Serialize()
	if err != nil {
		return "", fmt.Errorf("oauthclient: signing the client assertion: %w", err)
	}
	return s, nil
}

func (ts *TokenSource) acquire(ctx context.Context) error {
	select {
	case ts.lock <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (ts *TokenSource) release() { <-ts.lock }

// Token returns a valid access token, fetching one when there is none or
// the current one is about to expire. Concurrent callers wait for the one
// fetch in progress.
func (ts *TokenSource) Token(ctx context.Context) (*oauth2.Token, error) {
	tok, _, err := ts.current(ctx)
	return tok, err
}

// current is token, with the DPoP key the token is bound to (nil for a
// Bearer token).
func (ts *TokenSource) current(ctx context.Context) (*oauth2.Token, *dpopKey, error) {
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

func (ts *TokenSource) boundKey(tok *oauth2.Token) *dpopKey {
	if strings.EqualFold(tok.TokenType, "DPoP") {
		return ts.dpop
	}
	return nil
}

// Authenticate implements httpclient.Authenticator: "Authorization:
// Bearer <token>", or for a DPoP-bound token "Authorization: DPoP <token>"
// with a fresh proof in the DPoP header.
func (ts *TokenSource) Authenticate(req *http.Request) error {
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
		return fmt.Errorf("oauthclient: DPoP proof: %w", err)
	}
	req.Header.Set("Authorization", "DPoP "+tok.AccessToken)
	req.Header.Set("DPoP", p)
	return nil
}

// Rejected implements httpclient.Authenticator: a 401 for the current
// token drops it (the next Authenticate fetches a new one); a 401 for a
// token already replaced just asks for a resend with the new one.
func (ts *TokenSource) Rejected(req *http.Request) bool {
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
func (ts *TokenSource) Granted(ctx context.Context) (granted, missing []string, err error) {
	if _, err := ts.Token(ctx); err != nil {
		return nil, nil, err
	}
	if err := ts.acquire(ctx); err != nil {
		return nil, nil, err
	}
	defer ts.release()
	return slices.Clone(ts.granted), slices.Clone(ts.missing), nil
}

// fetchLocked requests a new token. When the server refuses some requested
// scopes (invalid_scope: the app is not granted them) it drops those and
// asks again, so that only the sources needing them degrade.
func (ts *TokenSource) fetchLocked(ctx context.Context) (*oauth2.Token, error) {
	scopes := slices.Clone(ts.cfg.Scopes)
	scopes = slices.DeleteFunc(scopes, func(s string) bool { return slices.Contains(ts.missing, s) })
	for range len(ts.cfg.Scopes) + 1 {
		tok, err := ts.request(ctx, scopes)
		var rejected []string
		if err != nil {
			if scopeErr := (*invalidScopeError)(nil); errors.As(err, &scopeErr) {
				rejected = scopeErr.rejected(scopes)
				if len(rejected) == 0 {
					// The server did not say which: find out one scope at a time.
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
					ts.cfg.Who+" is granted none of the requested scopes ("+strings.Join(ts.cfg.Scopes, " ")+")"+ts.cfg.GrantHint)
			}
			continue
		}
		ts.install(tok, scopes)
		return tok, nil
	}
	return nil, ts.authError(http.StatusBadRequest, "invalid_scope", "the authorization server keeps refusing the requested scopes")
}

// install makes tok the current token.
func (ts *TokenSource) install(tok *oauth2.Token, requested []string) {
	ts.cur = tok
	ts.fetches++
	now := ts.now()
	life := time.Hour // when the response does not say (Okta: an hour)
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
func (ts *TokenSource) probeScopes(ctx context.Context, scopes []string) ([]string, error) {
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
func (ts *TokenSource) request(ctx context.Context, scopes []string) (*oauth2.Token, error) {
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
func (ts *TokenSource) requestOnce(ctx context.Context, scopes []string) (*oauth2.Token, error) {
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
		ClientID:  ts.cfg.ClientID,
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
func (ts *TokenSource) tokenError(ctx context.Context, err error) error {
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
		return fmt.Errorf("oauthclient: requesting an access token (POST %s): %w", ts.path, err)
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
		return fmt.Errorf("oauthclient: requesting an access token (POST %s): %d %s %s", ts.path, status, code, desc)
	}
	hint := ts.cfg.Hint
	if code == "invalid_client" && strings.Contains(strings.ToLower(desc), "audience") {
		hint = "the assertion's audience is " + ts.audience + ts.cfg.AudienceHint
	}
	return ts.authError(status, code, cmp.Or(ts.cfg.Server, "the authorization server")+" refused "+ts.cfg.Who+"'s credentials: "+desc+"; "+hint)
}

func (ts *TokenSource) authError(status int, code, summary string) error {
	return &integration.AuthenticationError{APIError: integration.APIError{
		Request: integration.Request{Method: http.MethodPost, Endpoint: ts.path},
		Status:  status, ProviderCode: code, Summary: summary,
	}}
}

// invalidScopeError is a token response refusing some requested scopes.
type invalidScopeError struct{ desc string }

func (e *invalidScopeError) Error() string {
	return "oauthclient: the authorization server refused the requested scopes: " + e.desc
}

// rejected returns the requested scopes the error description names.
func (e *invalidScopeError) rejected(requested []string) []string {
	var out []string
	for _, s := range requested {
		if regexp.MustCompile(`(^|[^\w.])` + regexp.QuoteMeta(s) + `($|[^\w.])`).MatchString(e.desc) {
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

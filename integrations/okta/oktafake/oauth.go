package oktafake

import (
	"crypto"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/stepgraph/stepgraph/sdk/fakeprovider"
)

// TokenPath is the org authorization server's token endpoint the fake
// serves (OAuth 2.0 client credentials with private_key_jwt).
const TokenPath = "/oauth2/v1/token"

// BucketToken is the rate-limit bucket of token requests, apart from the
// management API's buckets (see TokenStats).
const BucketToken = "token"

// Okta management API scopes the fake enforces.
const (
	ScopeUsersRead   = "okta.users.read"
	ScopeGroupsRead  = "okta.groups.read"
	ScopeAppsRead    = "okta.apps.read"
	ScopeRolesRead   = "okta.roles.read"
	ScopeLogsRead    = "okta.logs.read"
	ScopeDevicesRead = "okta.devices.read"
	ScopeOrgsRead    = "okta.orgs.read"
)

// ReadScopes are every read scope the fake knows.
var ReadScopes = []string{ScopeAppsRead, ScopeDevicesRead, ScopeGroupsRead, ScopeLogsRead, ScopeOrgsRead, ScopeRolesRead, ScopeUsersRead}

// EndpointScopes is the scope an access token needs per endpoint template.
var EndpointScopes = map[string]string{
	EndpointOktaSupport:  ScopeOrgsRead,
	EndpointUsers:        ScopeUsersRead,
	EndpointUser:         ScopeUsersRead,
	EndpointUserFactors:  ScopeUsersRead,
	EndpointUserRoles:    ScopeRolesRead,
	EndpointIAMAssignees: ScopeRolesRead,
	EndpointGroups:       ScopeGroupsRead,
	EndpointGroup:        ScopeGroupsRead,
	EndpointGroupUsers:   ScopeGroupsRead,
	EndpointGroupRoles:   ScopeRolesRead,
	EndpointGroupRules:   ScopeGroupsRead,
	EndpointApps:         ScopeAppsRead,
	EndpointApp:          ScopeAppsRead,
	EndpointAppUsers:     ScopeAppsRead,
	EndpointAppGroups:    ScopeAppsRead,
	EndpointDevices:      ScopeDevicesRead,
	EndpointLogs:         ScopeLogsRead,
}

// OAuthOptions configure the fake org authorization server. With no
// Clients it refuses every token request (invalid_client).
type OAuthOptions struct {
	// Clients are the registered API Services apps.
	Clients []OAuthClient
	// Audience is the aud every client assertion must carry (default:
	// ObjectBaseURL, else BaseURL, else the request's own scheme and host,
	// followed by TokenPath).
	Audience string
	// TokenLifetime is how long an access token is valid on the server's
	// clock (default one hour, like Okta's).
	TokenLifetime time.Duration
	// TokenMaxUses, if > 0, also ends a token after that many management
	// API requests presented it: a short lifetime counted by the fake's
	// own request counter, so a test can make tokens expire mid-run
	// without clocks. The client is not told in advance (expires_in keeps
	// saying TokenLifetime), as when Okta revokes a token early.
	TokenMaxUses int
	// DownscopeTokens issues a token with the granted subset of the
	// requested scopes (its "scope" lists them) instead of Okta's 400
	// invalid_scope naming the scopes not granted.
	DownscopeTokens bool
	// TokenLimit is the per-window limit of the token bucket (default 600).
	TokenLimit int
	// VagueInvalidScope leaves the refused scopes out of invalid_scope's
	// error_description, so a client must find them by itself.
	VagueInvalidScope bool
	// FailFirst answers the first FailFirst token requests 503 (an outage
	// of the authorization server).
	FailFirst int
}

// OAuthClient is one registered API Services app.
type OAuthClient struct {
	// ClientID is the app's client id.
	ClientID string
	// PublicKey verifies its client assertions (*rsa.PublicKey,
	// *ecdsa.PublicKey).
	PublicKey crypto.PublicKey
	// KeyID, if set, must match the assertion's kid when it carries one.
	KeyID string
	// Scopes are the scopes granted to the app.
	Scopes []string
	// RequireDPoP is Okta's "Require Demonstrating Proof of Possession
	// (DPoP) header in token requests": token requests need a DPoP proof
	// with the server's nonce (use_dpop_nonce first), tokens are DPoP-bound
	// to the proof's key, and API requests must present them as
	// "Authorization: DPoP" with a fresh proof (htm, htu, ath).
	RequireDPoP bool
}

// TokenStats counts what the authorization server has seen.
type TokenStats struct {
	// Requests counts token requests; Issued those answered with a token;
	// Refused those answered with an OAuth error (invalid_client,
	// invalid_scope, ...); RateLimited those answered 429 by the token
	// bucket (Limit per Window).
	Requests, Issued, Refused, RateLimited int64
	Limit                                  int
	Window                                 time.Duration
	// Premature counts tokens issued to a client while its previous token
	// still had more than half of its lifetime (or of its uses) left: a
	// client that refreshes once per expiry keeps it at 0.
	Premature int64
	// Expired counts API requests refused because their token had
	// expired (by time or TokenMaxUses); Unknown those whose bearer
	// token was never issued; InsufficientScope those answered 403 for a
	// scope the token lacks.
	Expired, Unknown, InsufficientScope int64
	// Refusals counts refused token requests by error description.
	Refusals map[string]int64
}

type issuedToken struct {
	client  string
	jkt     string // DPoP key thumbprint the token is bound to
	scopes  []string
	issued  time.Time
	expires time.Time
	uses    int
}

// authServer is the fake's org authorization server.
type authServer struct {
	s    *Server
	opts OAuthOptions

	mu      sync.Mutex
	clients map[string]OAuthClient
	tokens  map[string]*issuedToken
	last    map[string]string // client -> latest token
	jtis    map[string]time.Time
	limiter *fakeprovider.Limiter // the token bucket
	st      TokenStats
}

func newAuthServer(s *Server, opts OAuthOptions) *authServer {
	if opts.TokenLifetime <= 0 {
		opts.TokenLifetime = time.Hour
	}
	if opts.TokenLimit <= 0 {
		opts.TokenLimit = 600
	}
	a := &authServer{s: s, opts: opts, clients: map[string]OAuthClient{}, tokens: map[string]*issuedToken{},
		last: map[string]string{}, jtis: map[string]time.Time{}, limiter: fakeprovider.NewLimiter(s.api.Window())}
	for _, c := range opts.Clients {
		a.clients[c.ClientID] = c
	}
	a.st.Refusals = map[string]int64{}
	return a
}

// TokenStats returns the authorization server's counters.
func (s *Server) TokenStats() TokenStats {
	a := s.oauth
	a.mu.Lock()
	defer a.mu.Unlock()
	out := a.st
	out.Limit, out.Window = a.opts.TokenLimit, s.api.Window()
	out.Refusals = map[string]int64{}
	for k, v := range a.st.Refusals {
		out.Refusals[k] = v
	}
	return out
}

// IssuedTokens returns every access token issued so far (for tests that
// scan output for leaked credentials).
func (s *Server) IssuedTokens() []string {
	s.oauth.mu.Lock()
	defer s.oauth.mu.Unlock()
	out := make([]string, 0, len(s.oauth.tokens))
	for t := range s.oauth.tokens {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// RegisterClient adds (or replaces) a registered API Services app.
func (s *Server) RegisterClient(c OAuthClient) {
	s.oauth.mu.Lock()
	defer s.oauth.mu.Unlock()
	s.oauth.clients[c.ClientID] = c
}

// ExpireTokens makes every access token issued so far invalid, as if it
// had expired or been revoked.
func (s *Server) ExpireTokens() {
	a := s.oauth
	a.mu.Lock()
	defer a.mu.Unlock()
	past := s.clock().Add(-time.Second)
	for _, t := range a.tokens {
		t.expires = past
	}
}

type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// serveToken answers POST /oauth2/v1/token.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	a := s.oauth
	now := s.clock()
	h := w.Header()
	h.Set("Date", now.Add(s.opts.DateOffset).UTC().Format(http.TimeFormat))
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("Content-Type", "application/json")

	a.mu.Lock()
	a.st.Requests++
	a.mu.Unlock()
	q := a.limiter.Take(BucketToken, a.opts.TokenLimit, now)
	q.SetHeaders(h)
	if !q.OK && !s.opts.DisableRateLimits {
		a.mu.Lock()
		a.st.RateLimited++
		a.mu.Unlock()
		w.WriteHeader(http.StatusTooManyRequests)
		w.Write(marshal(jError{ErrorCode: "E0000047", ErrorSummary: "API call exceeded rate limit due to too many requests.", ErrorLink: "E0000047", ErrorID: "oaetoken", ErrorCauses: []map[string]string{}}))
		return
	}
	a.mu.Lock()
	outage := a.st.Requests <= int64(a.opts.FailFirst)
	a.mu.Unlock()
	if outage {
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write(marshal(oauthError{Error: "temporarily_unavailable", Description: "The authorization server is temporarily unavailable."}))
		return
	}
	status, body := a.token(r, now)
	if e, ok := body.(oauthError); ok && e.Error == "use_dpop_nonce" {
		h.Set("DPoP-Nonce", dpopNonce)
	}
	w.WriteHeader(status)
	w.Write(marshal(body))
}

func (a *authServer) refuse(status int, code, desc string) (int, any) {
	a.mu.Lock()
	a.st.Refused++
	a.st.Refusals[desc]++
	a.mu.Unlock()
	return status, oauthError{Error: code, Description: desc}
}

// audience returns the aud assertions must carry.
func (a *authServer) audience(r *http.Request) string {
	if a.opts.Audience != "" {
		return a.opts.Audience
	}
	base := a.s.opts.ObjectBaseURL
	if base == "" {
		base = a.s.opts.BaseURL
	}
	if base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	return base + TokenPath
}

// Verification order follows Okta's: method, grant type, client
// authentication (assertion type, client, signature, claims, jti), scopes.
func (a *authServer) token(r *http.Request, now time.Time) (int, any) {
	if r.Method != http.MethodPost {
		return a.refuse(http.StatusMethodNotAllowed, "invalid_request", "The token endpoint only accepts POST.")
	}
	if err := r.ParseForm(); err != nil {
		return a.refuse(http.StatusBadRequest, "invalid_request", "The request body is not a valid form.")
	}
	f := r.PostForm
	if f.Get("grant_type") != "client_credentials" {
		return a.refuse(http.StatusBadRequest, "unsupported_grant_type", "The authorization grant type is not supported by the authorization server.")
	}
	if f.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" || f.Get("client_assertion") == "" {
		return a.refuse(http.StatusUnauthorized, "invalid_client", "Client authentication failed: a private_key_jwt client assertion is required.")
	}
	tok, err := jwt.ParseSigned(f.Get("client_assertion"), []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.ES384, jose.ES512})
	if err != nil {
		return a.refuse(http.StatusUnauthorized, "invalid_client", "The client_assertion is not a valid JWT.")
	}
	var unverified jwt.Claims
	if err := tok.UnsafeClaimsWithoutVerification(&unverified); err != nil {
		return a.refuse(http.StatusUnauthorized, "invalid_client", "The client_assertion is not a valid JWT.")
	}
	id := f.Get("client_id")
	if id == "" {
		id = unverified.Issuer
	}
	a.mu.Lock()
	client, ok := a.clients[id]
	a.mu.Unlock()
	if !ok {
		return a.refuse(http.StatusUnauthorized, "invalid_client", "Invalid value for 'client_id' parameter.")
	}
	if kid := tok.Headers[0].KeyID; kid != "" && client.KeyID != "" && kid != client.KeyID {
		return a.refuse(http.StatusUnauthorized, "invalid_client", "The client_assertion kid does not match a key registered for the client.")
	}
	var claims jwt.Claims
	if err := tok.Claims(client.PublicKey, &claims); err != nil {
		return a.refuse(http.StatusUnauthorized, "invalid_client", "The client_assertion signature is invalid.")
	}
	if claims.Issuer != client.ClientID || claims.Subject != client.ClientID {
		return a.refuse(http.StatusUnauthorized, "invalid_client", "The issuer and subject claims of the client_assertion must both be the client_id.")
	}
	if !slices.Contains(claims.Audience, a.audience(r)) {
		return a.refuse(http.StatusUnauthorized, "invalid_client", "The audience claim for client_assertion must be the endpoint invoked for the request.")
	}
	if claims.Expiry == nil || !now.Before(claims.Expiry.Time()) {
		return a.refuse(http.StatusUnauthorized, "invalid_client", "The client_assertion token is expired.")
	}
	if claims.IssuedAt != nil && claims.Expiry.Time().Sub(claims.IssuedAt.Time()) > time.Hour {
		return a.refuse(http.StatusUnauthorized, "invalid_client", "The client_assertion token has an expiration too far in the future.")
	}
	if claims.ID == "" {
		return a.refuse(http.StatusUnauthorized, "invalid_client", "The client_assertion token must carry a jti claim.")
	}
	a.mu.Lock()
	for j, exp := range a.jtis {
		if !now.Before(exp) {
			delete(a.jtis, j)
		}
	}
	_, reused := a.jtis[claims.ID]
	if !reused {
		a.jtis[claims.ID] = claims.Expiry.Time()
	}
	a.mu.Unlock()
	if reused {
		return a.refuse(http.StatusUnauthorized, "invalid_client", "The client_assertion token has already been used (jti replay).")
	}

	jkt, st, b := a.checkDPoPTokenRequest(r, client, a.audience(r), now)
	if st != 0 {
		return st, b
	}

	requested := strings.Fields(f.Get("scope"))
	if len(requested) == 0 {
		return a.refuse(http.StatusBadRequest, "invalid_scope", "The authorization server resource does not have any configured default scopes, 'scope' must be provided.")
	}
	var granted, refused []string
	for _, sc := range requested {
		if slices.Contains(client.Scopes, sc) {
			granted = append(granted, sc)
		} else {
			refused = append(refused, sc)
		}
	}
	if len(refused) > 0 && (!a.opts.DownscopeTokens || len(granted) == 0) {
		if a.opts.VagueInvalidScope {
			return a.refuse(http.StatusBadRequest, "invalid_scope", "One or more scopes are not configured for the authorization server resource.")
		}
		return a.refuse(http.StatusBadRequest, "invalid_scope", "The following scopes are not allowed: "+strings.Join(refused, " "))
	}

	access := newAccessToken(client.ClientID, granted, now, a.opts.TokenLifetime)
	a.mu.Lock()
	if prev := a.tokens[a.last[client.ClientID]]; prev != nil && a.validLocked(prev, now) {
		timeLeft := prev.expires.Sub(now) > a.opts.TokenLifetime/2
		usesLeft := a.opts.TokenMaxUses == 0 || prev.uses < a.opts.TokenMaxUses/2
		if timeLeft && usesLeft {
			a.st.Premature++
		}
	}
	a.tokens[access] = &issuedToken{client: client.ClientID, jkt: jkt, scopes: granted, issued: now, expires: now.Add(a.opts.TokenLifetime)}
	a.last[client.ClientID] = access
	a.st.Issued++
	a.mu.Unlock()
	tokenType := "Bearer"
	if jkt != "" {
		tokenType = "DPoP"
	}
	return http.StatusOK, map[string]any{
		"token_type":   tokenType,
		"expires_in":   int(a.opts.TokenLifetime / time.Second),
		"access_token": access,
		"scope":        strings.Join(granted, " "),
	}
}

func (a *authServer) validLocked(t *issuedToken, now time.Time) bool {
	return now.Before(t.expires) && (a.opts.TokenMaxUses == 0 || t.uses < a.opts.TokenMaxUses)
}

// newAccessToken returns a JWT-shaped opaque token (Okta's access tokens
// are JWTs); its signature part is random, nothing verifies it but the
// fake's own table.
func newAccessToken(client string, scopes []string, now time.Time, life time.Duration) string {
	var sig [32]byte
	rand.Read(sig[:])
	enc := base64.RawURLEncoding
	head := enc.EncodeToString([]byte(`{"kid":"fake","alg":"RS256"}`))
	payload, _ := json.Marshal(map[string]any{
		"ver": 1, "jti": "AT." + enc.EncodeToString(sig[:9]), "cid": client, "sub": client,
		"iat": now.Unix(), "exp": now.Add(life).Unix(), "scp": scopes,
	})
	return head + "." + enc.EncodeToString(payload) + "." + enc.EncodeToString(sig[:])
}

// authorize checks a management API request's credentials: the API token
// (SSWS), or an access token of the authorization server (Bearer, or DPoP
// when bound) that has not expired and carries the endpoint's scope. It
// returns the 401/403 to answer when the request may not proceed.
func (s *Server) authorize(c *fakeprovider.Call) *fakeprovider.Error {
	r := c.Request()
	authz := r.Header.Get("Authorization")
	if (fakeprovider.TokenAuth{Scheme: "SSWS", Token: s.token}).Valid(r) {
		return nil
	}
	unauthorized := func(challenge string) *fakeprovider.Error {
		return &fakeprovider.Error{Status: http.StatusUnauthorized, Reason: fakeprovider.ReasonUnauthorized,
			Header: http.Header{"Www-Authenticate": {challenge}}}
	}
	scheme, tok, _ := strings.Cut(authz, " ")
	if !(strings.EqualFold(scheme, "Bearer") || strings.EqualFold(scheme, "DPoP")) || tok == "" {
		return unauthorized(`SSWS realm="Okta"`)
	}
	a := s.oauth
	now := s.clock()
	a.mu.Lock()
	t := a.tokens[tok]
	var valid bool
	var scopes []string
	var jkt string
	if t != nil {
		jkt = t.jkt
		valid = a.validLocked(t, now)
		if valid {
			t.uses++
		}
		scopes = t.scopes
	}
	switch {
	case t == nil:
		a.st.Unknown++
	case !valid:
		a.st.Expired++
	}
	a.mu.Unlock()
	if !valid {
		return unauthorized(`Bearer authorization_uri="` + TokenPath + `", realm="Okta", error="invalid_token", error_description="The token has expired."`)
	}
	if jkt == "" && !strings.EqualFold(scheme, "Bearer") {
		return unauthorized(`Bearer realm="Okta", error="invalid_token", error_description="The access token is not DPoP-bound."`)
	}
	if jkt != "" {
		if problem := a.checkDPoPAPIRequest(r, scheme, tok, jkt, a.audience(r), now); problem != "" {
			a.mu.Lock()
			a.st.Refusals["API: "+problem]++
			a.mu.Unlock()
			return unauthorized(`DPoP algs="ES256 RS256", error="invalid_dpop_proof", error_description="` + problem + `"`)
		}
	}
	if ep := c.Endpoint(); ep != nil && ep.Scope != "" && !slices.Contains(scopes, ep.Scope) {
		a.mu.Lock()
		a.st.InsufficientScope++
		a.mu.Unlock()
		return &fakeprovider.Error{Status: http.StatusForbidden, Reason: fakeprovider.ReasonForbidden,
			Causes: []string{"The access token lacks the scope " + ep.Scope},
			Header: http.Header{"Www-Authenticate": {`Bearer realm="Okta", error="insufficient_scope", error_description="The access token provided does not contain the required scopes.", scope="` + ep.Scope + `"`}}}
	}
	return nil
}

// marshal encodes v as the fake's JSON (no HTML escaping).
func marshal(v any) []byte {
	b, err := fakeprovider.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

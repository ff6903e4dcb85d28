package oktafake

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

const (
	tClient   = "0oaTESTclient0000001"
	tAudience = "https://acme.okta.com/oauth2/v1/token"
)

type tokenClient struct {
	t   *testing.T
	srv *Running
	key *ecdsa.PrivateKey
}

func (tc *tokenClient) assertion(mod func(*jwt.Claims)) string {
	now := time.Now()
	c := jwt.Claims{Issuer: tClient, Subject: tClient, Audience: jwt.Audience{tAudience},
		IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(5 * time.Minute)), ID: rand.Text()}
	if mod != nil {
		mod(&c)
	}
	s, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: tc.key}, nil)
	out, err := jwt.Signed(s).Claims(c).Serialize()
	if err != nil {
		tc.t.Fatal(err)
	}
	return out
}

// post sends a token request and returns the status and decoded body.
func (tc *tokenClient) post(assertion, scope string, hdr http.Header) (int, map[string]any, http.Header) {
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {scope}, "client_id": {tClient},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {assertion}}
	req, _ := http.NewRequest(http.MethodPost, tc.srv.URL+TokenPath, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tc.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return resp.StatusCode, out, resp.Header
}

func (tc *tokenClient) get(path, authz string) int {
	req, _ := http.NewRequest(http.MethodGet, tc.srv.URL+path, nil)
	req.Header.Set("Authorization", authz)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tc.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func newTokenClient(t *testing.T, opts OAuthOptions, scopes ...string) *tokenClient {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	opts.Audience = tAudience
	opts.Clients = append(opts.Clients, OAuthClient{ClientID: tClient, PublicKey: key.Public(), Scopes: scopes})
	srv, err := Start(NewOrg(OrgSpec{Users: 5, Seed: 1}), ServerOptions{OAuth: opts})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return &tokenClient{t: t, srv: srv, key: key}
}

func TestTokenEndpointVerifiesAssertions(t *testing.T) {
	tc := newTokenClient(t, OAuthOptions{}, ScopeUsersRead, ScopeGroupsRead)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	foreign := &tokenClient{t: t, srv: tc.srv, key: other}
	good := tc.assertion(nil)
	for _, c := range []struct {
		name, assertion, scope, code, desc string
		status                             int
	}{
		{"wrong key", foreign.assertion(nil), ScopeUsersRead, "invalid_client", "signature is invalid", 401},
		{"wrong audience", tc.assertion(func(c *jwt.Claims) { c.Audience = jwt.Audience{"https://other.okta.com/oauth2/v1/token"} }), ScopeUsersRead, "invalid_client", "audience", 401},
		{"expired", tc.assertion(func(c *jwt.Claims) { c.Expiry = jwt.NewNumericDate(time.Now().Add(-time.Minute)) }), ScopeUsersRead, "invalid_client", "expired", 401},
		{"too long", tc.assertion(func(c *jwt.Claims) { c.Expiry = jwt.NewNumericDate(time.Now().Add(2 * time.Hour)) }), ScopeUsersRead, "invalid_client", "too far", 401},
		{"no jti", tc.assertion(func(c *jwt.Claims) { c.ID = "" }), ScopeUsersRead, "invalid_client", "jti", 401},
		{"ungranted scope", tc.assertion(nil), ScopeUsersRead + " " + ScopeLogsRead, "invalid_scope", ScopeLogsRead, 400},
		{"good", good, ScopeUsersRead, "", "", 200},
		{"jti reuse", good, ScopeUsersRead, "invalid_client", "already been used", 401},
	} {
		status, body, _ := tc.post(c.assertion, c.scope, nil)
		if status != c.status || (c.code != "" && (body["error"] != c.code || !strings.Contains(body["error_description"].(string), c.desc))) {
			t.Errorf("%s: %d %v", c.name, status, body)
		}
		if c.name == "good" {
			tok := body["access_token"].(string)
			if body["scope"] != ScopeUsersRead || body["token_type"] != "Bearer" {
				t.Errorf("token response %v", body)
			}
			if s := tc.get(EndpointUsers, "Bearer "+tok); s != 200 {
				t.Errorf("users with the token: %d", s)
			}
			if s := tc.get(EndpointGroups, "Bearer "+tok); s != 403 {
				t.Errorf("groups without okta.groups.read: %d, want 403", s)
			}
			if s := tc.get(EndpointUsers, "Bearer not-"+tok); s != 401 {
				t.Errorf("unknown token: %d, want 401", s)
			}
		}
	}
	// The server counts a request after it has answered it: let every
	// handler finish (Close waits for them) before reading the counters.
	tc.srv.Close()
	ts := tc.srv.Server.TokenStats()
	if ts.Requests != 8 || ts.Issued != 1 || ts.Refused != 7 || ts.InsufficientScope != 1 || ts.Unknown != 1 {
		t.Errorf("token stats %+v", ts)
	}
	// Token requests have their own bucket: the API buckets saw only the
	// three API requests.
	if st := tc.srv.Server.Stats(); st.Requests != 3 {
		t.Errorf("%d API requests counted, want 3", st.Requests)
	}
}

func TestTokenLifetimeAndBucket(t *testing.T) {
	tc := newTokenClient(t, OAuthOptions{TokenMaxUses: 2, TokenLimit: 3, DownscopeTokens: true}, ScopeUsersRead)
	status, body, h := tc.post(tc.assertion(nil), ScopeUsersRead+" "+ScopeGroupsRead, nil)
	if status != 200 || body["scope"] != ScopeUsersRead {
		t.Fatalf("down-scoped token: %d %v", status, body)
	}
	if h.Get("X-Rate-Limit-Limit") != "3" || h.Get("X-Rate-Limit-Remaining") != "2" {
		t.Errorf("token bucket headers %v", h)
	}
	tok := body["access_token"].(string)
	for i, want := range []int{200, 200, 401} {
		if s := tc.get(EndpointUsers, "Bearer "+tok); s != want {
			t.Errorf("use %d: %d, want %d", i+1, s, want)
		}
	}
	tc.post(tc.assertion(nil), ScopeUsersRead, nil)
	tc.post(tc.assertion(nil), ScopeUsersRead, nil)
	if status, _, _ := tc.post(tc.assertion(nil), ScopeUsersRead, nil); status != http.StatusTooManyRequests {
		t.Errorf("4th token request in a window of 3: %d, want 429", status)
	}
	tc.srv.Close() // every handler has finished counting
	if ts := tc.srv.Server.TokenStats(); ts.RateLimited != 1 || ts.Expired != 1 {
		t.Errorf("token stats %+v", ts)
	}
}

func TestTokenEndpointDPoP(t *testing.T) {
	tc := newTokenClient(t, OAuthOptions{}, ScopeUsersRead)
	tc.srv.Server.RegisterClient(OAuthClient{ClientID: tClient, PublicKey: tc.key.Public(), Scopes: []string{ScopeUsersRead}, RequireDPoP: true})
	if status, body, _ := tc.post(tc.assertion(nil), ScopeUsersRead, nil); status != 400 || body["error"] != "invalid_dpop_proof" {
		t.Fatalf("without proof: %d %v", status, body)
	}
	pk, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: pk}, (&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt"))
	proof := func(htm, htu, nonce, ath string) string {
		c := map[string]any{"htm": htm, "htu": htu, "iat": time.Now().Unix(), "jti": rand.Text()}
		if nonce != "" {
			c["nonce"] = nonce
		}
		if ath != "" {
			c["ath"] = ath
		}
		s, _ := jwt.Signed(signer).Claims(c).Serialize()
		return s
	}
	status, body, h := tc.post(tc.assertion(nil), ScopeUsersRead, http.Header{"Dpop": {proof("POST", tAudience, "", "")}})
	if status != 400 || body["error"] != "use_dpop_nonce" || h.Get("DPoP-Nonce") == "" {
		t.Fatalf("without nonce: %d %v", status, body)
	}
	status, body, _ = tc.post(tc.assertion(nil), ScopeUsersRead, http.Header{"Dpop": {proof("POST", tAudience, h.Get("DPoP-Nonce"), "")}})
	if status != 200 || body["token_type"] != "DPoP" {
		t.Fatalf("with nonce: %d %v", status, body)
	}
	tok := body["access_token"].(string)
	if s := tc.get(EndpointUsers, "Bearer "+tok); s != 401 {
		t.Errorf("DPoP-bound token as Bearer: %d, want 401", s)
	}
	if s := tc.get(EndpointUsers, "DPoP "+tok); s != 401 {
		t.Errorf("DPoP-bound token without proof: %d, want 401", s)
	}
}

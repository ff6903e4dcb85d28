package oauthclient_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/stepgraph/stepgraph/sdk/httpclient"
	"github.com/stepgraph/stepgraph/sdk/httpclient/oauthclient"
)

// authServer is a minimal authorization server: it checks the client
// assertion's signature, iss and aud, refuses the scopes in refuse with
// invalid_scope, and issues numbered tokens.
type authServer struct {
	t      *testing.T
	key    *ecdsa.PrivateKey
	aud    string
	refuse []string
	mu     sync.Mutex
	issued int
}

func (s *authServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/oauth2/v1/token" {
		w.WriteHeader(http.StatusOK)
		return
	}
	r.ParseForm()
	tok, err := jwt.ParseSigned(r.Form.Get("client_assertion"), []jose.SignatureAlgorithm{jose.ES256})
	var claims jwt.Claims
	if err == nil {
		err = tok.Claims(&s.key.PublicKey, &claims)
	}
	if err != nil || claims.Issuer != "client-1" || !slices.Contains([]string(claims.Audience), s.aud) {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"error":"invalid_client","error_description":"bad assertion: %v"}`, err)
		return
	}
	scopes := strings.Fields(r.Form.Get("scope"))
	for _, sc := range scopes {
		if slices.Contains(s.refuse, sc) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"error":"invalid_scope","error_description":"The following scopes are not allowed: %s"}`, sc)
			return
		}
	}
	s.mu.Lock()
	s.issued++
	n := s.issued
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"access_token": fmt.Sprintf("token-%d", n), "token_type": "Bearer",
		"expires_in": 3600, "scope": strings.Join(scopes, " ")})
}

// TestNewAttachesTheTokenSource: a token source set as the client's
// Authenticator is attached by httpclient.New; its token requests go
// through the client without an explicit Attach.
func TestNewAttachesTheTokenSource(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	as := &authServer{t: t, key: key, aud: "https://org.example/oauth2/v1/token"}
	srv := httptest.NewServer(as)
	t.Cleanup(srv.Close)
	ts, err := oauthclient.New(oauthclient.Config{ClientID: "client-1", Key: key, TokenURL: srv.URL + "/oauth2/v1/token", Audience: as.aud})
	if err != nil {
		t.Fatal(err)
	}
	c, err := httpclient.New(httpclient.Config{BaseURL: srv.URL, Authenticator: ts})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Do(t.Context(), http.MethodGet, "/api", nil); err != nil || as.issued != 1 {
		t.Errorf("request: %v, %d tokens issued; want one", err, as.issued)
	}
}

func newSource(t *testing.T, refuse ...string) (*oauthclient.TokenSource, *authServer) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	as := &authServer{t: t, key: key, aud: "https://org.example/oauth2/v1/token", refuse: refuse}
	srv := httptest.NewServer(as)
	t.Cleanup(srv.Close)
	ts, err := oauthclient.New(oauthclient.Config{ClientID: "client-1", Key: key, TokenURL: srv.URL + "/oauth2/v1/token",
		Audience: as.aud, Scopes: []string{"a.read", "b.read"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := httpclient.New(httpclient.Config{BaseURL: srv.URL, Authenticator: ts}); err != nil {
		t.Fatal(err)
	}
	return ts, as
}

// TestTokenIsSharedAndReplacedOnRejection: concurrent callers share one
// token; a 401 for it makes the next caller fetch one new token, and a 401
// for a token already replaced fetches nothing.
func TestTokenIsSharedAndReplacedOnRejection(t *testing.T) {
	ts, as := newSource(t)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			if _, err := ts.Token(t.Context()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	tok1, _ := ts.Token(t.Context())
	req, _ := http.NewRequest(http.MethodGet, "http://x/", nil)
	req.Header.Set("Authorization", "Bearer "+tok1.AccessToken)
	if !ts.Rejected(req) || !ts.Rejected(req) {
		t.Fatal("a rejected token asks for a resend")
	}
	tok2, _ := ts.Token(t.Context())
	if tok2.AccessToken == tok1.AccessToken || as.issued != 2 {
		t.Errorf("tokens %s then %s, %d issued; want a new one, 2 issued", tok1.AccessToken, tok2.AccessToken, as.issued)
	}
}

// TestRefusedScopesAreDropped: a scope the server refuses is left out of
// the token request and reported as missing; the others are granted.
func TestRefusedScopesAreDropped(t *testing.T) {
	ts, _ := newSource(t, "b.read")
	granted, missing, err := ts.Granted(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(granted, []string{"a.read"}) || !slices.Equal(missing, []string{"b.read"}) {
		t.Errorf("granted %v, missing %v", granted, missing)
	}
}

// TestParsePrivateKey reads PEM (also with escaped newlines, as an
// environment variable carries it) and never quotes the input in errors.
func TestParsePrivateKey(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	text := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	for _, in := range []string{text, strings.ReplaceAll(text, "\n", `\n`)} {
		k, _, err := oauthclient.ParsePrivateKey([]byte(in))
		if err != nil || !key.Equal(k) {
			t.Errorf("parse: %v", err)
		}
	}
	secret := "not-a-key-s3cr3t-material"
	if _, _, err := oauthclient.ParsePrivateKey([]byte(secret)); err == nil || strings.Contains(err.Error(), secret) {
		t.Errorf("error %v: want one that does not quote the input", err)
	}
}

package oauthclient

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// DPoP (RFC 9449, "Demonstrating Proof of Possession"): when the
// authorization server requires it, access tokens are bound to a key the
// client holds, and every request carries a fresh proof signed with that
// key. The token source does not need to be told: a token request
// answered invalid_dpop_proof switches it to DPoP (with an ephemeral P-256
// key, kept in memory only) and use_dpop_nonce supplies the server's
// nonce.

// dpopKey is the ephemeral proof-of-possession key of one token source.
type dpopKey struct {
	signer jose.Signer
}

func newDPoPKey() (*dpopKey, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("oauthclient: generating the DPoP key: %w", err)
	}
	opts := (&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt")
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k}, opts)
	if err != nil {
		return nil, fmt.Errorf("oauthclient: DPoP signer: %w", err)
	}
	return &dpopKey{signer: s}, nil
}

// proof returns a DPoP proof for method and target (scheme, host and path
// only), with the server's nonce when it gave one, and ath for an access
// token.
func (d *dpopKey) proof(method, target, nonce, accessToken string, now time.Time) (string, error) {
	var jti [16]byte
	if _, err := rand.Read(jti[:]); err != nil {
		return "", err
	}
	claims := map[string]any{
		"htm": method,
		"htu": target,
		"iat": now.Unix(),
		"jti": base64.RawURLEncoding.EncodeToString(jti[:]),
	}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		claims["ath"] = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	return jwt.Signed(d.signer).Claims(claims).Serialize()
}

// htu returns the DPoP target of a request: the org's scheme and host
// (requests may be sent elsewhere in tests) and the request's path,
// without query or fragment.
func htu(orgURL string, u *url.URL) string {
	base, err := url.Parse(orgURL)
	if err != nil {
		return ""
	}
	return (&url.URL{Scheme: base.Scheme, Host: base.Host, Path: u.Path}).String()
}

// dpopTransport adds the token source's DPoP proof to token requests once
// the app is known to require DPoP.
type dpopTransport struct {
	ts   *TokenSource
	next http.RoundTripper
}

func (t dpopTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.ts.dpop == nil {
		return t.next.RoundTrip(req)
	}
	p, err := t.ts.dpop.proof(http.MethodPost, t.ts.audience, t.ts.nonce, "", t.ts.now())
	if err != nil {
		return nil, err
	}
	r := req.Clone(req.Context())
	r.Header.Set("DPoP", p)
	return t.next.RoundTrip(r)
}

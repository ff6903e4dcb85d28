package oktafake

import (
	"crypto"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// dpopNonce is the nonce the fake's authorization server demands in DPoP
// proofs of token requests.
const dpopNonce = "fake-dpop-nonce-1"

type dpopClaims struct {
	HTM   string `json:"htm"`
	HTU   string `json:"htu"`
	IAT   int64  `json:"iat"`
	JTI   string `json:"jti"`
	Nonce string `json:"nonce"`
	ATH   string `json:"ath"`
}

// verifyDPoP checks a DPoP proof (RFC 9449): typ dpop+jwt, an embedded
// public jwk that verifies the signature, htm, htu, a recent iat and an
// unused jti. It returns the claims and the jwk's SHA-256 thumbprint, or
// an error description.
func (a *authServer) verifyDPoP(proof, method, target string, now time.Time) (dpopClaims, string, string) {
	var c dpopClaims
	if proof == "" {
		return c, "", "The DPoP proof JWT header is missing."
	}
	sig, err := jose.ParseSigned(proof, []jose.SignatureAlgorithm{jose.ES256, jose.RS256})
	if err != nil || len(sig.Signatures) != 1 {
		return c, "", "The DPoP proof is not a valid JWS."
	}
	h := sig.Signatures[0].Protected
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != "dpop+jwt" {
		return c, "", "The DPoP proof typ must be dpop+jwt."
	}
	if h.JSONWebKey == nil || !h.JSONWebKey.IsPublic() {
		return c, "", "The DPoP proof must embed a public jwk."
	}
	payload, err := sig.Verify(h.JSONWebKey)
	if err != nil {
		return c, "", "The DPoP proof signature is invalid."
	}
	if json.Unmarshal(payload, &c) != nil {
		return c, "", "The DPoP proof claims are not valid JSON."
	}
	switch {
	case c.HTM != method:
		return c, "", "The DPoP proof htm does not match the request method."
	case c.HTU != target:
		return c, "", "The DPoP proof htu does not match the request URL."
	case c.IAT < now.Add(-5*time.Minute).Unix() || c.IAT > now.Add(5*time.Minute).Unix():
		return c, "", "The DPoP proof iat is not recent."
	case c.JTI == "":
		return c, "", "The DPoP proof has no jti."
	}
	a.mu.Lock()
	_, reused := a.jtis["dpop:"+c.JTI]
	a.jtis["dpop:"+c.JTI] = now.Add(10 * time.Minute)
	a.mu.Unlock()
	if reused {
		return c, "", "The DPoP proof jti has already been used."
	}
	tp, err := h.JSONWebKey.Thumbprint(crypto.SHA256)
	if err != nil {
		return c, "", "The DPoP proof jwk has no thumbprint."
	}
	return c, base64.RawURLEncoding.EncodeToString(tp), ""
}

// checkDPoPTokenRequest applies a client's DPoP requirement to a token
// request; it returns the jkt the token is bound to, or an OAuth error.
func (a *authServer) checkDPoPTokenRequest(r *http.Request, client OAuthClient, audience string, now time.Time) (jkt string, status int, body any) {
	if !client.RequireDPoP {
		return "", 0, nil
	}
	c, tp, problem := a.verifyDPoP(r.Header.Get("DPoP"), http.MethodPost, audience, now)
	if problem != "" {
		st, b := a.refuse(http.StatusBadRequest, "invalid_dpop_proof", problem)
		return "", st, b
	}
	if c.Nonce != dpopNonce {
		st, b := a.refuse(http.StatusBadRequest, "use_dpop_nonce", "Authorization server requires nonce in DPoP proof.")
		return "", st, b
	}
	return tp, 0, nil
}

// checkDPoPAPIRequest verifies the proof of a request presenting a
// DPoP-bound token: bound to the same key, for this method and URL, with
// ath = the token's hash.
func (a *authServer) checkDPoPAPIRequest(r *http.Request, scheme, tok, jkt, audience string, now time.Time) string {
	if !strings.EqualFold(scheme, "DPoP") {
		return "The access token is DPoP-bound: send it as Authorization: DPoP with a DPoP proof."
	}
	base := strings.TrimSuffix(audience, TokenPath)
	c, tp, problem := a.verifyDPoP(r.Header.Get("DPoP"), r.Method, base+r.URL.Path, now)
	if problem != "" {
		return problem
	}
	sum := sha256.Sum256([]byte(tok))
	switch {
	case tp != jkt:
		return "The DPoP proof key is not the key the access token is bound to."
	case c.ATH != base64.RawURLEncoding.EncodeToString(sum[:]):
		return "The DPoP proof ath does not match the access token."
	}
	return ""
}

package oauthclient

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"strings"

	"github.com/go-jose/go-jose/v4"
)

// Algorithm returns the JWS algorithm client assertions are signed with
// for key: RS256 for RSA keys of at least 2048 bits, ES256/384/512 for EC
// keys on P-256/384/521. Its errors complete a sentence about the key.
func Algorithm(key crypto.Signer) (jose.SignatureAlgorithm, error) {
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if k.N.BitLen() < 2048 {
			return "", fmt.Errorf("is a %d-bit RSA key; at least 2048 bits are required", k.N.BitLen())
		}
		return jose.RS256, nil
	case *ecdsa.PrivateKey:
		switch k.Curve {
		case elliptic.P256():
			return jose.ES256, nil
		case elliptic.P384():
			return jose.ES384, nil
		case elliptic.P521():
			return jose.ES512, nil
		}
		return "", fmt.Errorf("is an EC key on an unsupported curve (use P-256)")
	}
	return "", fmt.Errorf("is neither an RSA nor an EC private key (client assertions are signed with RS256 or ES256)")
}

// ParsePrivateKey reads a PEM (PKCS #8, PKCS #1 or SEC 1) or JWK private
// key. It returns the JWK's kid, if any. Errors never quote the input:
// they complete a sentence about the key ("<field> is not a valid JWK").
func ParsePrivateKey(raw []byte) (crypto.Signer, string, error) {
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

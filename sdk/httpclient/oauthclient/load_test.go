package oauthclient_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/stepgraph/stepgraph/sdk/httpclient/oauthclient"
	"github.com/stepgraph/stepgraph/sdk/integration"
)

// TestLoadKey: the key is read inline or from its file (exactly one),
// PEM or JWK, with the JWK's kid unless one is configured; every refusal
// is a ConfigError naming the field, and none quotes key material.
func TestLoadKey(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	pemText := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	file := filepath.Join(t.TempDir(), "k.pem")
	if err := os.WriteFile(file, []byte(pemText+"\n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	jwk, _ := json.Marshal(jose.JSONWebKey{Key: key, KeyID: "kid-1"})
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	smallPEM := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(small)}))
	pub, _ := x509.MarshalPKIXPublicKey(key.Public())
	pubPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}))
	envs := oauthclient.KeyConfig{InlineEnv: "T_KEY", FileEnv: "T_KEY_FILE", Who: "the app"}

	for _, tc := range []struct {
		name         string
		kc           oauthclient.KeyConfig
		field, kid   string
		msg          string // "" = valid
		fromMaterial string
	}{
		{name: "file", kc: oauthclient.KeyConfig{File: file}, field: "privateKeyFile", fromMaterial: pemText},
		{name: "inline", kc: oauthclient.KeyConfig{Inline: pemText, KeyID: " kid-9 "}, field: "privateKey", kid: "kid-9", fromMaterial: pemText},
		{name: "jwk kid", kc: oauthclient.KeyConfig{Inline: string(jwk)}, field: "privateKey", kid: "kid-1", fromMaterial: string(jwk)},
		{name: "configured kid wins", kc: oauthclient.KeyConfig{Inline: string(jwk), KeyID: "kid-2"}, field: "privateKey", kid: "kid-2", fromMaterial: string(jwk)},
		{name: "both", kc: oauthclient.KeyConfig{Inline: pemText, File: file}, field: "privateKey, privateKeyFile", msg: "set only one of them"},
		{name: "none", kc: envs, field: "privateKey, privateKeyFile",
			msg: "the app needs its private key: set privateKeyFile (env T_KEY_FILE) to a PEM or JWK file, or privateKey (env T_KEY) to the key itself"},
		{name: "named fields", kc: oauthclient.KeyConfig{InlineField: "key", FileField: "keyPath"}, field: "key, keyPath",
			msg: "the client needs its private key: set keyPath to a PEM or JWK file, or key to the key itself"},
		{name: "missing file", kc: oauthclient.KeyConfig{File: file + ".nope"}, field: "privateKeyFile", msg: "cannot read the key file"},
		{name: "public key", kc: oauthclient.KeyConfig{Inline: pubPEM}, field: "privateKey", msg: "the private key is needed"},
		{name: "short RSA", kc: oauthclient.KeyConfig{Inline: smallPEM}, field: "privateKey", msg: "at least 2048 bits"},
		{name: "garbage", kc: oauthclient.KeyConfig{Inline: "s3cr3t-but-not-a-key"}, field: "privateKey", msg: "neither a PEM"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := oauthclient.LoadKey(tc.kc)
			if tc.msg == "" {
				if err != nil {
					t.Fatal(err)
				}
				if k.Field != tc.field || k.ID != tc.kid || k.Material != strings.TrimSpace(tc.fromMaterial) || k.Signer == nil {
					t.Errorf("key from %s kid %q material %d bytes; want %s, %q", k.Field, k.ID, len(k.Material), tc.field, tc.kid)
				}
				return
			}
			var ce *integration.ConfigError
			if !errors.As(err, &ce) || ce.Field != tc.field || !strings.Contains(ce.Message, tc.msg) {
				t.Fatalf("got %v, want a ConfigError on %q with %q", err, tc.field, tc.msg)
			}
			for _, secret := range []string{"s3cr3t", pemText[40:60], smallPEM[40:60], pubPEM[30:50]} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("key material in %v", err)
				}
			}
		})
	}
}

// TestLacks: a scope is lacking when it was not requested, or requested
// but refused; it is worded with the configured hints.
func TestLacks(t *testing.T) {
	ts, as := newSource(t, "b.read")
	if err := ts.Lacks(t.Context(), nil); err != nil || as.issued != 0 {
		t.Errorf("no needs: %v, %d tokens fetched", err, as.issued)
	}
	if err := ts.Lacks(t.Context(), []string{"a.read"}); err != nil {
		t.Errorf("granted scope: %v", err)
	}
	err := ts.Lacks(t.Context(), []string{"a.read", "b.read"})
	if err == nil || err.Error() != "missing scope b.read: the OAuth client is not granted it (grant it to the client on the authorization server)" {
		t.Errorf("refused scope: %v", err)
	}
	err = ts.Lacks(t.Context(), []string{"c.read"})
	if err == nil || err.Error() != "missing scope c.read: not requested (add it to the requested scopes)" {
		t.Errorf("scope not requested: %v", err)
	}
}

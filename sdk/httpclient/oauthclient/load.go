package oauthclient

import (
	"cmp"
	"context"
	"crypto"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/stepgraph/stepgraph/sdk/integration"
)

// KeyConfig is where a client's private key is configured: inline or in a
// file, exactly one of them. The field names (and their environment
// variables, optional) word the errors of LoadKey.
type KeyConfig struct {
	// Inline is the key itself (PEM, with \n escapes accepted, or JWK) and
	// File the path of a file holding it.
	Inline, File string
	// KeyID, when set, is the key's kid; otherwise the JWK's own, if any.
	KeyID string
	// InlineField and FileField are the configuration fields of Inline and
	// File (default "privateKey" and "privateKeyFile"); InlineEnv and
	// FileEnv their environment variables.
	InlineField, FileField, InlineEnv, FileEnv string
	// Who owns the key, in the error for a missing key (default "the
	// client"), e.g. "the service app".
	Who string
}

// Key is a private key LoadKey read and checked.
type Key struct {
	// Signer signs client assertions (Config.Key).
	Signer crypto.Signer
	// ID is the kid (Config.KeyID): KeyConfig.KeyID, else the JWK's.
	ID string
	// Field is the configuration field the key came from (Config.KeyField).
	Field string
	// Material is the key's text as configured (inline or the file's),
	// trimmed: a secret for the HTTP client to scrub from its errors and
	// logs (httpclient.Config.Secrets).
	Material string
}

// LoadKey reads the private key of kc: inline or from its file, exactly
// one of them, PEM (PKCS #8, PKCS #1, SEC 1) or JWK, of a kind client
// assertions can be signed with (Algorithm). Its errors are
// *integration.ConfigError naming the field; they never include key
// material (a file's path and the reason it cannot be read, at most).
func LoadKey(kc KeyConfig) (*Key, error) {
	inlineField, fileField := cmp.Or(kc.InlineField, "privateKey"), cmp.Or(kc.FileField, "privateKeyFile")
	both := inlineField + ", " + fileField
	inline, file := strings.TrimSpace(kc.Inline), strings.TrimSpace(kc.File)
	switch {
	case inline != "" && file != "":
		return nil, &integration.ConfigError{Field: both, Message: "set only one of them: the key inline (PEM or JWK) or the path of a file holding it"}
	case inline == "" && file == "":
		env := func(e string) string {
			if e == "" {
				return ""
			}
			return " (env " + e + ")"
		}
		return nil, &integration.ConfigError{Field: both, Message: fmt.Sprintf("%s needs its private key: set %s%s to a PEM or JWK file, or %s%s to the key itself",
			cmp.Or(kc.Who, "the client"), fileField, env(kc.FileEnv), inlineField, env(kc.InlineEnv))}
	}
	k := &Key{Field: inlineField, Material: inline}
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, &integration.ConfigError{Field: fileField, Message: fmt.Sprintf("cannot read the key file: %v", err)}
		}
		k.Field, k.Material = fileField, strings.TrimSpace(string(b))
	}
	signer, kid, err := ParsePrivateKey([]byte(k.Material))
	if err == nil {
		_, err = Algorithm(signer)
	}
	if err != nil {
		return nil, &integration.ConfigError{Field: k.Field, Message: err.Error()}
	}
	k.Signer, k.ID = signer, cmp.Or(strings.TrimSpace(kc.KeyID), kid)
	return k, nil
}

// Lacks returns why a request that needs the scopes cannot succeed with
// this source's tokens, before any request is sent: the first of them
// that was not requested ("missing scope <s>: not requested
// (<RequestHint>)") or that the server did not grant ("missing scope <s>:
// <Who> is not granted it (<ScopeGrantHint>)"). It fetches a token when
// there is none. It is nil when the current token carries every one (or
// none is asked for).
func (ts *TokenSource) Lacks(ctx context.Context, scopes []string) error {
	if len(scopes) == 0 {
		return nil
	}
	granted, _, err := ts.Granted(ctx)
	if err != nil {
		return err
	}
	for _, s := range scopes {
		switch {
		case slices.Contains(granted, s):
		case !slices.Contains(ts.cfg.Scopes, s):
			return fmt.Errorf("missing scope %s: not requested (%s)", s, ts.cfg.RequestHint)
		default:
			return fmt.Errorf("missing scope %s: %s is not granted it (%s)", s, ts.cfg.Who, ts.cfg.ScopeGrantHint)
		}
	}
	return nil
}

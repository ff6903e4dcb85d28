package sdktest

import (
	"encoding/json"
	"regexp"
	"strings"
)

// OAuth 2.0 credentials that travel in bodies rather than headers: the
// client assertion (and secret) of a token request, the tokens of a token
// response. The recorder replaces their values with Redacted whatever
// their value, so a cassette of a token exchange replays (matching is on
// method and URL) without holding a usable credential.

// credentialFormParams are form parameters (lower case) of token requests
// whose values are credentials.
var credentialFormParams = []string{"client_assertion", "client_secret", "assertion", "refresh_token", "code", "code_verifier", "password", "subject_token", "actor_token"}

// credentialJSONFields are JSON members of token responses whose values
// are credentials.
var credentialJSONFields = []string{"access_token", "refresh_token", "id_token", "client_secret", "device_code"}

// jwtLike matches a compact JWS/JWT (three base64url parts, the first two
// JSON objects): signed assertions, DPoP proofs and JWT access tokens.
var jwtLike = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{6,}\.eyJ[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{16,}`)

// credentialJSONRe finds `"access_token": "value"` and the like.
var credentialJSONRe = regexp.MustCompile(`"(` + strings.Join(credentialJSONFields, "|") + `)"\s*:\s*"((?:[^"\\]|\\.)*)"`)

// redactCredentialBody returns body with the values of credential form
// parameters (a form-encoded request) and credential JSON members
// replaced by Redacted.
func redactCredentialBody(body string) string {
	if body == "" {
		return body
	}
	body = credentialJSONRe.ReplaceAllStringFunc(body, func(m string) string {
		sub := credentialJSONRe.FindStringSubmatch(m)
		if sub[2] == Redacted {
			return m
		}
		b, _ := json.Marshal(Redacted)
		return `"` + sub[1] + `":` + string(b)
	})
	if strings.ContainsAny(body, "{[") || !strings.Contains(body, "=") {
		return body
	}
	body, _ = redactParams(body, credentialFormParams)
	return body
}

// credentialBodyProblems lists credentials left in a recorded body.
func credentialBodyProblems(body string) []string {
	var out []string
	if jwtLike.MatchString(body) {
		out = append(out, "a JWT-looking value (token, assertion or proof)")
	}
	for _, m := range credentialJSONRe.FindAllStringSubmatch(body, -1) {
		if m[2] != "" && m[2] != Redacted {
			out = append(out, "an unredacted "+m[1])
		}
	}
	if redactCredentialBody(body) != body && !strings.ContainsAny(body, "{[") {
		out = append(out, "an unredacted credential form parameter")
	}
	return out
}

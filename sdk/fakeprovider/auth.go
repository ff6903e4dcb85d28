package fakeprovider

import (
	"crypto/subtle"
	"net/http"
)

// An Authenticator checks a request's credentials: nil admits it, an
// *Error (401, or 403 for credentials that lack the endpoint's Scope)
// answers it. Call.Endpoint is nil for a path no endpoint serves.
type Authenticator interface {
	Authenticate(c *Call) *Error
}

// AuthFunc adapts a function to Authenticator.
type AuthFunc func(c *Call) *Error

// Authenticate calls f(c).
func (f AuthFunc) Authenticate(c *Call) *Error { return f(c) }

// TokenAuth accepts requests whose Authorization header is Scheme, a space
// and Token ("Bearer abc", "SSWS abc") and answers any other 401 with a
// WWW-Authenticate challenge for Scheme. It has no scopes: a token reads
// everything.
type TokenAuth struct {
	Scheme, Token string
	// Realm goes into the challenge (default "fake").
	Realm string
}

// Valid reports whether r carries the token.
func (a TokenAuth) Valid(r *http.Request) bool {
	want := a.Scheme + " " + a.Token
	return a.Token != "" && subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte(want)) == 1
}

// Authenticate implements Authenticator.
func (a TokenAuth) Authenticate(c *Call) *Error {
	if a.Valid(c.Request()) {
		return nil
	}
	realm := a.Realm
	if realm == "" {
		realm = "fake"
	}
	return &Error{Status: http.StatusUnauthorized, Reason: ReasonUnauthorized,
		Header: http.Header{"Www-Authenticate": {a.Scheme + ` realm="` + realm + `"`}}}
}

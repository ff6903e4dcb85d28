package integration

import (
	"errors"
	"net/http"
	"strings"
)

// StatusOf returns the HTTP status behind err: an *APIError's status (also
// inside an *AuthenticationError or *AuthorizationError), or the last
// status of a *RetriesExhaustedError; 0 when err carries none.
func StatusOf(err error) int {
	var re *RetriesExhaustedError
	if errors.As(err, &re) && re.LastStatus != 0 {
		return re.LastStatus
	}
	var api *APIError
	if errors.As(err, &api) {
		return api.Status
	}
	return 0
}

// IsNotFound reports whether err is a provider's 404 Not Found, typically
// an object deleted between its listing and a read of its details.
func IsNotFound(err error) bool { return StatusOf(err) == http.StatusNotFound }

// IsForbidden reports whether err is a provider's refusal of the
// credentials' permissions: an *AuthorizationError or a 403 status.
func IsForbidden(err error) bool {
	var az *AuthorizationError
	return errors.As(err, &az) || StatusOf(err) == http.StatusForbidden
}

// IsAPIErrorUnder reports whether err is an *APIError (or wraps one) about
// a request to path or below it (path/...), whatever its query: for a
// classifier that treats one API's refusals differently (a 400 from an
// optional feature's endpoint).
func IsAPIErrorUnder(err error, path string) bool {
	var api *APIError
	if !errors.As(err, &api) {
		return false
	}
	p, _, _ := strings.Cut(api.Endpoint, "?")
	return p == path || strings.HasPrefix(p, path+"/")
}

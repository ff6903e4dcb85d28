package fakeprovider

import "net/http"

// Reason says why the fake answers with an error.
type Reason uint8

// Reasons of error answers.
const (
	ReasonBadRequest         Reason = iota + 1 // 400: an invalid parameter
	ReasonUnauthorized                         // 401: missing or wrong credentials
	ReasonForbidden                            // 403: credentials without the permission
	ReasonNotFound                             // 404: unknown path or object
	ReasonMethodNotAllowed                     // 405
	ReasonRateLimited                          // 429: the bucket's window is spent
	ReasonConcurrencyLimited                   // 429: too many requests in flight
	ReasonServerError                          // 500: an injected (or simulated) provider failure
)

var reasonNames = [...]string{
	ReasonBadRequest: "bad_request", ReasonUnauthorized: "unauthorized", ReasonForbidden: "forbidden",
	ReasonNotFound: "not_found", ReasonMethodNotAllowed: "method_not_allowed", ReasonRateLimited: "rate_limited",
	ReasonConcurrencyLimited: "concurrency_limited", ReasonServerError: "server_error",
}

// String returns the reason's name, e.g. "rate_limited".
func (r Reason) String() string {
	if int(r) < len(reasonNames) && reasonNames[r] != "" {
		return reasonNames[r]
	}
	return "error"
}

// Error is an error answer, rendered by Options.WriteError.
type Error struct {
	// Status is the HTTP status.
	Status int
	// Reason is why; a WriteError maps it to the provider's error code
	// when Code is empty.
	Reason Reason
	// Code is the provider's error code, when the endpoint knows it.
	Code string
	// Message is a human-readable summary; empty means the writer's
	// default for the reason.
	Message string
	// Causes are details, for providers whose errors list them.
	Causes []string
	// Header holds headers to send with the error (WWW-Authenticate).
	Header http.Header
}

// DefaultWriteError renders e as {"error": code or reason, "message":
// message or the status text}.
func DefaultWriteError(c *Call, e *Error) {
	code := e.Code
	if code == "" {
		code = e.Reason.String()
	}
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	c.JSON(e.Status, struct {
		Error   string `json:"error"`
		Message string `json:"message"`
	}{code, msg})
}

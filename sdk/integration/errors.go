package integration

import (
	"errors"
	"fmt"
	"net/http"
)

// Code is a stable machine-readable error code used in summaries and logs.
type Code string

// Stable error codes.
const (
	CodeConfigValidation       Code = "CONFIG_VALIDATION_ERROR"
	CodeProviderAuthentication Code = "PROVIDER_AUTHENTICATION_ERROR"
	CodeProviderAuthorization  Code = "PROVIDER_AUTHORIZATION_ERROR"
	CodeProviderAPI            Code = "PROVIDER_API_ERROR"
	CodeRetriesExhausted       Code = "RETRIES_EXHAUSTED"
	CodeDuplicateKey           Code = "DUPLICATE_KEY_DETECTED"
	CodeUndeclaredType         Code = "UNDECLARED_TYPE"
	CodeInvalidObject          Code = "INVALID_GRAPH_OBJECT"
	CodeUnexpected             Code = "UNEXPECTED_ERROR"
)

// Coded is implemented by errors that carry a stable Code.
type Coded interface {
	error
	Code() Code
}

// ErrorCode returns the code of the first Coded error in err's chain, or
// CodeUnexpected.
func ErrorCode(err error) Code {
	var c Coded
	if errors.As(err, &c) {
		return c.Code()
	}
	return CodeUnexpected
}

// IsFatal reports whether err must stop the whole run (authentication failures).
func IsFatal(err error) bool {
	var a *AuthenticationError
	return errors.As(err, &a)
}

// ConfigError reports an invalid configuration field.
type ConfigError struct {
	Field   string
	Message string
}

// Error implements the error interface.
func (e *ConfigError) Error() string {
	return fmt.Sprintf("config %s: %s", e.Field, e.Message)
}

// Code implements Coded.
func (e *ConfigError) Code() Code { return CodeConfigValidation }

// Request identifies a provider request in errors: method and endpoint
// (path and query, never headers or credentials).
type Request struct {
	Method   string
	Endpoint string
}

// String implements fmt.Stringer.
func (r Request) String() string {
	if r.Method == "" {
		return r.Endpoint
	}
	return r.Method + " " + r.Endpoint
}

// APIError is a provider API error: the endpoint, HTTP status and the
// provider's own error code and summary when it sent them.
type APIError struct {
	Request
	Status       int
	ProviderCode string
	Summary      string
}

// Error implements the error interface.
func (e *APIError) Error() string {
	s := fmt.Sprintf("provider API error: %s: %d %s", e.Request, e.Status, http.StatusText(e.Status))
	if e.ProviderCode != "" {
		s += " (" + e.ProviderCode + ")"
	}
	if e.Summary != "" {
		s += ": " + e.Summary
	}
	return s
}

// Code implements Coded.
func (e *APIError) Code() Code { return CodeProviderAPI }

// AuthenticationError means the provider rejected the credentials. It is
// fatal: the runtime cancels the run.
type AuthenticationError struct{ APIError }

// Error implements the error interface.
func (e *AuthenticationError) Error() string {
	return "provider authentication failed (invalid or expired credentials): " + e.APIError.Error()
}

// Code implements Coded.
func (e *AuthenticationError) Code() Code { return CodeProviderAuthentication }

// Unwrap exposes the underlying APIError.
func (e *AuthenticationError) Unwrap() error { return &e.APIError }

// AuthorizationError means the credentials lack a permission for one endpoint.
type AuthorizationError struct{ APIError }

// Error implements the error interface.
func (e *AuthorizationError) Error() string {
	return "provider authorization failed (missing permission): " + e.APIError.Error()
}

// Code implements Coded.
func (e *AuthorizationError) Code() Code { return CodeProviderAuthorization }

// Unwrap exposes the underlying APIError.
func (e *AuthorizationError) Unwrap() error { return &e.APIError }

// RetriesExhaustedError reports a request that kept failing with retryable
// errors until the retry budget ran out.
type RetriesExhaustedError struct {
	Request
	Attempts   int
	LastStatus int // 0 when the last attempt failed without a response
	Err        error
}

// Error implements the error interface.
func (e *RetriesExhaustedError) Error() string {
	s := fmt.Sprintf("retries exhausted: %s: %d attempts", e.Request, e.Attempts)
	if e.LastStatus != 0 {
		s += fmt.Sprintf(", last status %d", e.LastStatus)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Code implements Coded.
func (e *RetriesExhaustedError) Code() Code { return CodeRetriesExhausted }

// Unwrap returns the last attempt's error.
func (e *RetriesExhaustedError) Unwrap() error { return e.Err }

// DuplicateKeyError reports a second object with a _key already in the
// collection. Diff describes how the two objects differ.
type DuplicateKeyError struct {
	Key       string
	StepID    string
	FirstType string
	Type      string
	Diff      string
}

// Error implements the error interface.
func (e *DuplicateKeyError) Error() string {
	s := fmt.Sprintf("duplicate _key %q (type %s) in step %s", e.Key, e.Type, e.StepID)
	if e.FirstType != "" && e.FirstType != e.Type {
		s += fmt.Sprintf("; first seen as type %s", e.FirstType)
	}
	if e.Diff != "" {
		s += "; differences (-first +second): " + e.Diff
	} else {
		s += "; the two objects are identical"
	}
	return s
}

// Code implements Coded.
func (e *DuplicateKeyError) Code() Code { return CodeDuplicateKey }

// UndeclaredTypeError reports an object whose _type the emitting step did not declare.
type UndeclaredTypeError struct {
	StepID string
	Type   string
	Kind   string // "entity" or "relationship"
}

// Error implements the error interface.
func (e *UndeclaredTypeError) Error() string {
	return fmt.Sprintf("step %s emitted %s type %q that it does not declare", e.StepID, e.Kind, e.Type)
}

// Code implements Coded.
func (e *UndeclaredTypeError) Code() Code { return CodeUndeclaredType }

// InvalidObjectError wraps a validation failure of an emitted object.
type InvalidObjectError struct {
	StepID string
	Err    error
}

// Error implements the error interface.
func (e *InvalidObjectError) Error() string {
	return fmt.Sprintf("step %s: %v", e.StepID, e.Err)
}

// Code implements Coded.
func (e *InvalidObjectError) Code() Code { return CodeInvalidObject }

// Unwrap returns the validation error.
func (e *InvalidObjectError) Unwrap() error { return e.Err }

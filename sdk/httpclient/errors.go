package httpclient

import (
	"encoding/json"
	"fmt"
	"github.com/stepgraph/stepgraph/sdk/internal/redact"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/stepgraph/stepgraph/sdk/integration"
)

// ForeignHostError reports a URL (a request target, a next-page link or a
// redirect) on another scheme or host than the configured BaseURL. No
// request is sent there. It names only the scheme and host, never a path,
// query or credential.
type ForeignHostError struct {
	Host    string // scheme://host of the refused URL
	Allowed string // scheme://host of BaseURL
}

// Error implements the error interface.
func (e *ForeignHostError) Error() string {
	return fmt.Sprintf("httpclient: refusing to send a request to foreign host %s (only %s is allowed)", e.Host, e.Allowed)
}

// RequestError is a request that failed without an HTTP response and was
// not retried (or was not retryable): an invalid URL, a certificate error, a
// body too large. Err's message is scrubbed of secrets.
type RequestError struct {
	integration.Request
	Err error
}

// Error implements the error interface.
func (e *RequestError) Error() string {
	return fmt.Sprintf("httpclient: %s: %v", e.Request, e.Err)
}

// Unwrap returns the underlying error.
func (e *RequestError) Unwrap() error { return e.Err }

// Code implements integration.Coded.
func (e *RequestError) Code() integration.Code { return integration.CodeProviderAPI }

// BodyTooLargeError is a response body over Config.MaxBodyBytes. The request
// fails without retry; the error reaching the caller is a *RequestError
// naming the endpoint, wrapping this one.
type BodyTooLargeError struct {
	Limit int64
}

// Error implements the error interface.
func (e *BodyTooLargeError) Error() string {
	return fmt.Sprintf("response body exceeds the %d-byte cap (httpclient.Config.MaxBodyBytes)", e.Limit)
}

// scrubbedError carries a message scrubbed of secrets while keeping the
// original error reachable for errors.Is / errors.As.
type scrubbedError struct {
	msg string
	err error
}

// Error implements the error interface.
func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

// permanentError marks an error of our transport that must not be retried.
type permanentError struct{ err error }

// Error implements the error interface.
func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// maxLearnedSecrets bounds the credential values learnt from Config.Auth
// (rotating tokens).
const maxLearnedSecrets = 32

// scrubber replaces secret values in strings. Its set grows with the values
// Config.Auth attaches.
type scrubber struct {
	mu      sync.Mutex
	fixed   []string
	learned []string
	known   map[string]bool
	red     atomic.Pointer[redact.Redactor]
}

func newScrubber(secrets ...string) *scrubber {
	s := &scrubber{known: map[string]bool{}}
	for _, v := range secrets {
		for _, x := range secretVariants(v) {
			if !s.known[x] {
				s.known[x] = true
				s.fixed = append(s.fixed, x)
			}
		}
	}
	s.rebuild()
	return s
}

// secretVariants returns v, its URL-escaped form, and for a header value like
// "SSWS <token>" or "Bearer <token>" its long space-separated parts.
func secretVariants(v string) []string {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil
	}
	out := []string{v}
	if q := url.QueryEscape(v); q != v {
		out = append(out, q)
	}
	if f := strings.Fields(v); len(f) > 1 {
		for _, p := range f {
			if len(p) >= 8 {
				out = append(out, p)
				if q := url.QueryEscape(p); q != p {
					out = append(out, q)
				}
			}
		}
	}
	return out
}

// learn adds a credential value observed on an outgoing request.
func (s *scrubber) learn(v string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.known[v] {
		return
	}
	for _, x := range secretVariants(v) {
		if s.known[x] {
			continue
		}
		s.known[x] = true
		s.learned = append(s.learned, x)
	}
	if n := len(s.learned) - maxLearnedSecrets; n > 0 {
		for _, x := range s.learned[:n] {
			delete(s.known, x)
		}
		s.learned = append([]string(nil), s.learned[n:]...)
	}
	s.known[v] = true
	s.rebuild()
}

func (s *scrubber) rebuild() {
	all := make([]string, 0, len(s.fixed)+len(s.learned))
	all = append(all, s.fixed...)
	all = append(all, s.learned...)
	// Longer secrets first so a value is not half-replaced by one of its parts.
	for i := 1; i < len(all); i++ {
		for j := i; j > 0 && len(all[j]) > len(all[j-1]); j-- {
			all[j], all[j-1] = all[j-1], all[j]
		}
	}
	s.red.Store(redact.New(all...))
}

// scrub returns str with every known secret redacted.
func (s *scrubber) scrub(str string) string {
	return s.red.Load().Redact(str)
}

// wrap returns err with a scrubbed message; nil stays nil.
func (s *scrubber) wrap(err error) error {
	if err == nil {
		return nil
	}
	if ue, ok := err.(*url.Error); ok {
		// url.Error's message repeats the URL; the endpoint is reported
		// separately.
		err = ue.Err
	}
	return &scrubbedError{msg: s.scrub(err.Error()), err: err}
}

// maxSummary bounds the provider summary kept in an error.
const maxSummary = 1024

// providerError extracts a provider error code and summary from a JSON
// error body: Okta's {errorCode, errorSummary, errorCauses[{errorSummary}]},
// OAuth's {error, error_description}, {error: {code, message}} and
// {message}. Non-JSON bodies give empty strings.
func providerError(body []byte) (code, summary string) {
	var m map[string]json.RawMessage
	if len(body) == 0 || json.Unmarshal(body, &m) != nil {
		return "", ""
	}
	str := func(key string) string {
		var s string
		if raw, ok := m[key]; ok && json.Unmarshal(raw, &s) == nil {
			return s
		}
		return ""
	}
	code = str("errorCode")
	summary = str("errorSummary")
	if code != "" || summary != "" {
		var causes []struct {
			ErrorSummary string `json:"errorSummary"`
		}
		if raw, ok := m["errorCauses"]; ok && json.Unmarshal(raw, &causes) == nil {
			for _, c := range causes {
				if c.ErrorSummary != "" && c.ErrorSummary != summary {
					summary += "; " + c.ErrorSummary
				}
			}
		}
	} else if raw, ok := m["error"]; ok {
		var s string
		var obj struct {
			Code    json.RawMessage `json:"code"`
			Message string          `json:"message"`
		}
		switch {
		case json.Unmarshal(raw, &s) == nil:
			code = s
			summary = str("error_description")
		case json.Unmarshal(raw, &obj) == nil:
			summary = obj.Message
			var cs string
			if json.Unmarshal(obj.Code, &cs) == nil {
				code = cs
			} else if len(obj.Code) > 0 && string(obj.Code) != "null" {
				code = string(obj.Code)
			}
		}
	}
	if summary == "" {
		summary = str("message")
	}
	if len(summary) > maxSummary {
		summary = summary[:maxSummary] + "…"
	}
	return code, summary
}

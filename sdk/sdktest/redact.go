package sdktest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/dnaeon/go-vcr.v4/pkg/cassette"
)

// Redacted replaces every secret and credential the recorder removes from a
// cassette.
const Redacted = "REDACTED"

// sensitiveHeaderName matches header names that carry credentials.
var sensitiveHeaderName = regexp.MustCompile(`(?i)(authorization|cookie|token|secret|passw|api-?key|session|credential|dpop)`)

// sensitiveParams are query parameter names (lower case) whose values are
// credentials.
var sensitiveParams = []string{
	"access_token", "api_key", "apikey", "api-key", "auth", "auth_token", "client_secret",
	"key", "password", "passwd", "refresh_token", "secret", "session", "sessionid",
	"sig", "signature", "token", "x-amz-credential", "x-amz-signature", "x-amz-security-token",
}

// tokenLike matches Authorization-style credentials in a header value.
var tokenLike = regexp.MustCompile(`(?i)\b(bearer|ssws|basic|token)\s+[A-Za-z0-9._~+/=-]{8,}`)

// redactor scrubs secrets from interactions before they are saved.
type redactor struct {
	secrets []string // every form of every secret, longest first
	repl    *strings.Replacer
	headers []string // extra header names to drop (canonical)
}

func usableSecrets(secrets []string) []string {
	var out []string
	for _, s := range secrets {
		if len(s) >= 4 && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// secretForms returns the ways s can appear in a cassette: as is,
// URL-escaped (query and path) and JSON-escaped.
func secretForms(s string) []string {
	forms := []string{s}
	add := func(f string) {
		if f != "" && !slices.Contains(forms, f) {
			forms = append(forms, f)
		}
	}
	add(url.QueryEscape(s))
	add(url.PathEscape(s))
	if b, err := json.Marshal(s); err == nil {
		add(strings.Trim(string(b), `"`))
	}
	// YAML double-quoted strings escape like Go for the common cases.
	add(strings.Trim(strconv.Quote(s), `"`))
	return forms
}

func newRedactor(secrets, headers []string) *redactor {
	r := &redactor{}
	for _, s := range usableSecrets(secrets) {
		r.secrets = append(r.secrets, secretForms(s)...)
	}
	slices.SortFunc(r.secrets, func(a, b string) int { return len(b) - len(a) })
	if len(r.secrets) > 0 {
		pairs := make([]string, 0, 2*len(r.secrets))
		for _, s := range r.secrets {
			pairs = append(pairs, s, Redacted)
		}
		r.repl = strings.NewReplacer(pairs...)
	}
	for _, h := range headers {
		r.headers = append(r.headers, http.CanonicalHeaderKey(h))
	}
	return r
}

// str replaces every secret in s.
func (r *redactor) str(s string) string {
	if r.repl == nil || s == "" {
		return s
	}
	return r.repl.Replace(s)
}

// url replaces secrets and the values of credential-looking query
// parameters in a URL, keeping the parameter order, so that it is
// idempotent and usable on both sides of request matching.
func (r *redactor) url(s string) string {
	s = r.str(s)
	q := strings.IndexByte(s, '?')
	if q < 0 {
		return s
	}
	query, frag := s[q+1:], ""
	if h := strings.IndexByte(query, '#'); h >= 0 {
		query, frag = query[:h], query[h:]
	}
	redacted, changed := redactParams(query, sensitiveParams)
	if !changed {
		return s
	}
	return s[:q+1] + redacted + frag
}

// redactParams replaces the values of the parameters named in names
// (lower case) in an "a=1&b=2" query or form body by Redacted, keeping the
// order; changed says whether any was replaced.
func redactParams(query string, names []string) (out string, changed bool) {
	parts := strings.Split(query, "&")
	for i, p := range parts {
		k, v, ok := strings.Cut(p, "=")
		if !ok || v == "" || v == Redacted {
			continue
		}
		name, err := url.QueryUnescape(k)
		if err != nil {
			name = k
		}
		if slices.Contains(names, strings.ToLower(name)) {
			parts[i] = k + "=" + Redacted
			changed = true
		}
	}
	return strings.Join(parts, "&"), changed
}

func (r *redactor) sensitiveHeader(name string) bool {
	return sensitiveHeaderName.MatchString(name) || slices.Contains(r.headers, http.CanonicalHeaderKey(name))
}

// header returns a copy of h without credential headers and with secrets
// replaced in the remaining values.
func (r *redactor) header(h http.Header) http.Header {
	if h == nil {
		return nil
	}
	out := make(http.Header, len(h))
	for name, vals := range h {
		if r.sensitiveHeader(name) {
			continue
		}
		cp := make([]string, len(vals))
		for i, v := range vals {
			cp[i] = r.str(v)
		}
		out[name] = cp
	}
	return out
}

func (r *redactor) form(f url.Values) url.Values {
	if f == nil {
		return nil
	}
	out := make(url.Values, len(f))
	for k, vals := range f {
		cp := make([]string, len(vals))
		for i, v := range vals {
			if (slices.Contains(sensitiveParams, strings.ToLower(k)) || slices.Contains(credentialFormParams, strings.ToLower(k))) && v != "" {
				v = Redacted
			}
			cp[i] = r.str(v)
		}
		out[r.str(k)] = cp
	}
	return out
}

// interaction scrubs one interaction in place (the go-vcr BeforeSave hook).
// It also zeroes the recorded latency so re-recording produces small diffs.
func (r *redactor) interaction(i *cassette.Interaction) {
	req, resp := &i.Request, &i.Response
	req.Headers = r.header(req.Headers)
	req.Trailer = r.header(req.Trailer)
	req.URL = r.url(req.URL)
	req.RequestURI = r.url(req.RequestURI)
	req.Host = r.str(req.Host)
	req.Form = r.form(req.Form)
	if b := redactCredentialBody(r.str(req.Body)); b != req.Body { // oauth.go
		req.Body = b
		req.ContentLength = int64(len(b))
	}
	resp.Headers = r.header(resp.Headers)
	resp.Trailer = r.header(resp.Trailer)
	resp.Status = r.str(resp.Status)
	if b := redactCredentialBody(r.str(resp.Body)); b != resp.Body { // oauth.go
		resp.Body = b
		if resp.ContentLength >= 0 {
			resp.ContentLength = int64(len(b))
		}
		if resp.Headers.Get("Content-Length") != "" {
			resp.Headers.Set("Content-Length", strconv.Itoa(len(b)))
		}
	}
	resp.Duration = 0
}

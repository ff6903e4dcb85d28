package httpclient

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/stepgraph/stepgraph/sdk/integration"
)

// Authenticator attaches credentials that can change during a run (an
// OAuth 2.0 access token that expires and is refreshed) to requests bound
// for BaseURL's scheme and host; set it as Config.Authenticator. It is only
// ever given such requests, after the pacer released them, and must be safe
// for concurrent use.
type Authenticator interface {
	// Authenticate sets the credential headers on req, a per-attempt clone.
	// It may fetch a credential first (with req.Context()); such fetches
	// should go through [Client.CredentialClient], which neither waits for
	// the pacer nor authenticates. An error fails the attempt: an
	// *integration.AuthenticationError or *integration.ConfigError is
	// final (the credentials are wrong), any other error is retried like a
	// transport error.
	Authenticate(req *http.Request) error
	// Rejected is told that a request it authenticated was answered 401. It
	// returns true when the credential it attached is stale and a fresh one
	// may succeed (an access token that expired early or was revoked); the
	// client then authenticates the request again and resends it once,
	// within the same attempt. Concurrent requests rejected for the same
	// stale credential should cause a single refresh.
	Rejected(req *http.Request) bool
}

// Attacher is an Authenticator that sends requests of its own (an OAuth
// 2.0 token source fetching tokens): New hands it the client it builds,
// before any request, so that it can send them through the client's
// credential channel (Client.CredentialClient).
type Attacher interface {
	Attach(c *Client)
}

// send sends one attempt through the inner transport, attaching
// credentials only when out is bound for BaseURL's scheme and host.
func (c *Client) send(out *http.Request) (*http.Response, error) {
	if origin(out.URL) != c.origin {
		return c.inner.RoundTrip(out)
	}
	retry := out
	if c.cfg.Authenticator != nil && out.Body != nil && out.Body != http.NoBody {
		if out.GetBody == nil {
			retry = nil // the body cannot be replayed: no resend after a 401
		} else {
			retry = out.Clone(out.Context())
		}
	}
	if err := c.authenticate(out); err != nil {
		return nil, err
	}
	resp, err := c.inner.RoundTrip(out)
	a := c.cfg.Authenticator
	if err != nil || a == nil || resp.StatusCode != http.StatusUnauthorized || retry == nil || !a.Rejected(out) {
		return resp, err
	}
	// The credential was stale: drop this answer, authenticate afresh and
	// resend once.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	again := retry.Clone(retry.Context())
	if again.GetBody != nil && again.Body != nil && again.Body != http.NoBody {
		b, err := again.GetBody()
		if err != nil {
			return nil, fmt.Errorf("rewinding the request body for a resend after 401: %w", err)
		}
		again.Body = b
	}
	if err := c.authenticate(again); err != nil {
		return nil, err
	}
	return c.inner.RoundTrip(again)
}

// authenticate attaches credentials to req (a clone bound for BaseURL's
// host): the static AuthHeader/AuthValue, then Config.Auth, then
// Config.Authenticator. Header values the last two add are learnt for
// scrubbing.
func (c *Client) authenticate(req *http.Request) error {
	if c.cfg.AuthValue != "" {
		req.Header.Set(c.cfg.AuthHeader, c.cfg.AuthValue)
	}
	if c.cfg.Auth == nil && c.cfg.Authenticator == nil {
		return nil
	}
	before := make(map[string]string, len(req.Header))
	for k, v := range req.Header {
		before[k] = strings.Join(v, "\x00")
	}
	rawQuery := req.URL.RawQuery
	if c.cfg.Auth != nil {
		c.cfg.Auth(req)
	}
	var err error
	if c.cfg.Authenticator != nil {
		err = c.cfg.Authenticator.Authenticate(req)
	}
	for k, v := range req.Header {
		if before[k] == strings.Join(v, "\x00") {
			continue
		}
		for _, x := range v {
			c.scrub.learn(x)
			// "Bearer <token>": learn the token alone too.
			if _, tok, ok := strings.Cut(x, " "); ok {
				c.scrub.learn(tok)
			}
		}
	}
	if req.URL.RawQuery != rawQuery {
		for _, vs := range req.URL.Query() {
			for _, x := range vs {
				if !strings.Contains(rawQuery, x) {
					c.scrub.learn(x)
				}
			}
		}
	}
	if err != nil {
		var auth *integration.AuthenticationError
		var cfg *integration.ConfigError
		if errors.As(err, &auth) || errors.As(err, &cfg) {
			return &permanentError{err: err}
		}
		return fmt.Errorf("authenticating the request: %w", err)
	}
	return nil
}

// CredentialClient returns an *http.Client for credential exchanges such
// as OAuth 2.0 token requests. It sends through the same inner transport
// as the Client (Config.Transport, or the default transport with its
// timeouts), bounds each request by Config.AttemptTimeout and responses by
// Config.MaxBodyBytes, refuses any scheme and host but BaseURL's (also on
// redirects), and neither waits for the pacer, retries nor authenticates:
// a token request made while the requests it authenticates hold the
// in-flight slots must not wait behind them.
func (c *Client) CredentialClient() *http.Client {
	return &http.Client{
		Transport: credentialTransport{c: c},
		Timeout:   c.cfg.AttemptTimeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if origin(req.URL) != c.origin {
				return c.foreign(req.URL)
			}
			if len(via) >= 10 {
				return errors.New("stopped after 10 redirects")
			}
			return nil
		},
	}
}

type credentialTransport struct{ c *Client }

func (t credentialTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if origin(req.URL) != t.c.origin {
		return nil, t.c.foreign(req.URL)
	}
	if req.Header.Get("User-Agent") == "" {
		req = req.Clone(req.Context())
		req.Header.Set("User-Agent", t.c.cfg.UserAgent)
	}
	resp, err := t.c.inner.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.LimitReader(resp.Body, t.c.cfg.MaxBodyBytes), resp.Body}
	return resp, nil
}

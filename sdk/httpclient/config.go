package httpclient

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/stepgraph/stepgraph/sdk/integration"
)

// Defaults applied by New to zero Config fields.
const (
	DefaultMaxInFlight           = 32
	DefaultMaxAttempts           = 5
	DefaultBackoffMin            = 500 * time.Millisecond
	DefaultBackoffMax            = 30 * time.Second
	DefaultMaxWait               = 2 * time.Minute
	DefaultRateLimitPatience     = 5 * time.Minute
	DefaultDialTimeout           = 10 * time.Second
	DefaultTLSHandshakeTimeout   = 10 * time.Second
	DefaultResponseHeaderTimeout = 60 * time.Second
	DefaultAttemptTimeout        = 2 * time.Minute
	DefaultMaxBodyBytes          = 16 << 20
	DefaultMaxPages              = 10000
	DefaultUserAgent             = "stepgraph-httpclient"
)

// ShareEnv is the environment variable that sets the default rate-limit
// share of every client (see Config.Share).
const ShareEnv = "STEPGRAPH_RATE_LIMIT_SHARE"

// DefaultShare is the share of each rate-limit bucket a client uses when
// nothing else is configured. An API budget is usually shared by every
// client of the account (an Okta org's by all its API tokens and apps), and
// providers warn admins as a bucket nears its limit (Okta by default at 90%
// in workforce orgs, 60% in customer-identity orgs). Okta itself limits a
// new API token to 50% of each endpoint's limit by default; half leaves the
// other half to everyone else and stays clear of both warnings.
// docs/performance.md shows what it costs.
const DefaultShare = 0.5

// ShareFromEnv returns the share set by STEPGRAPH_RATE_LIMIT_SHARE, or
// DefaultShare when it is unset or empty. A value outside (0, 1] is an
// *integration.ConfigError naming the variable.
func ShareFromEnv() (float64, error) {
	v := strings.TrimSpace(os.Getenv(ShareEnv))
	if v == "" {
		return DefaultShare, nil
	}
	return ParseShare(ShareEnv, v)
}

// ParseShare parses a rate-limit share (0 < share <= 1); errors are
// *integration.ConfigError naming field.
func ParseShare(field, v string) (float64, error) {
	s, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || !(s > 0 && s <= 1) {
		return 0, &integration.ConfigError{Field: field, Message: fmt.Sprintf("%q must be a number greater than 0 and at most 1 (e.g. 0.5)", v)}
	}
	return s, nil
}

// Config configures a Client. Only BaseURL is required.
type Config struct {
	// BaseURL is the absolute http(s) URL of the provider API, e.g.
	// "https://example.okta.com". Relative paths resolve against it and
	// credentials are only ever sent to its scheme and host. It must not
	// carry user info.
	BaseURL string

	// AuthHeader and AuthValue set a static credential header, e.g.
	// "Authorization" and "SSWS <token>". AuthHeader defaults to
	// "Authorization" when AuthValue is set. AuthValue (and each of its
	// space-separated parts of 8 characters or more) is scrubbed from errors
	// and logs.
	AuthHeader string
	AuthValue  string

	// Auth, when set, is called on each attempt's request (a clone) to attach
	// credentials, after AuthHeader/AuthValue. It is only called for requests
	// to BaseURL's scheme and host. Header values it adds are scrubbed from
	// errors and logs.
	Auth func(*http.Request)

	// Authenticator, when set, attaches credentials that change during a
	// run (OAuth 2.0 access tokens) to requests for BaseURL's scheme and
	// host, after AuthHeader/AuthValue and Auth, and is told about 401s so
	// that a stale credential is refreshed and the request resent once.
	// Header values it adds are scrubbed from errors and logs.
	Authenticator Authenticator

	// Secrets are extra values scrubbed from every error and log line.
	Secrets []string

	// Transport, when set, replaces the default http.Transport (for example
	// a go-vcr recorder). The Client wraps it: pacing, timeouts per attempt
	// and authentication are still applied by the Client. The dial, TLS and
	// response-header timeouts below only configure the default transport.
	Transport http.RoundTripper

	// Family maps a request to its rate-limit family (endpoint bucket). Nil
	// puts every request in the family "".
	Family func(method, path string) string

	// Share is the fraction (0 < Share <= 1) of each rate-limit bucket this
	// client may use; the rest is left to other consumers of the same
	// budget. Zero means the environment's STEPGRAPH_RATE_LIMIT_SHARE, else
	// DefaultShare. A share set on a request's context
	// (WithRateLimitShare, the CLI's --rate-limit-share) overrides it.
	Share float64

	// MaxInFlight caps concurrent requests across all families (the
	// provider's concurrency limit, e.g. 75 for Okta). Zero means
	// DefaultMaxInFlight.
	MaxInFlight int

	// MaxInFlightPerFamily caps concurrent requests of one family. Zero means
	// no cap besides MaxInFlight.
	MaxInFlightPerFamily int

	// MaxAttempts is the number of attempts per request, first included.
	// Zero means DefaultMaxAttempts.
	MaxAttempts int

	// BackoffMin and BackoffMax bound the jittered exponential backoff
	// between attempts. Zero means DefaultBackoffMin / DefaultBackoffMax.
	BackoffMin time.Duration
	BackoffMax time.Duration

	// MaxWait caps a single wait imposed by the server (Retry-After, or the
	// reset of an exhausted rate-limit window). Zero means DefaultMaxWait.
	MaxWait time.Duration

	// RateLimitPatience bounds 429 retries by time instead of by attempts:
	// a 429 is retried while some request of the client succeeded within
	// the last RateLimitPatience, so a run that makes progress never loses
	// a request to rate or concurrency limits. Zero means
	// DefaultRateLimitPatience.
	RateLimitPatience time.Duration

	// DialTimeout, TLSHandshakeTimeout and ResponseHeaderTimeout configure
	// the default transport. Zero means the Default* values.
	DialTimeout           time.Duration
	TLSHandshakeTimeout   time.Duration
	ResponseHeaderTimeout time.Duration

	// AttemptTimeout bounds one attempt from the moment the pacer releases it
	// until its body is fully read. Zero means DefaultAttemptTimeout.
	AttemptTimeout time.Duration

	// MaxBodyBytes bounds a response body; a larger one fails its request
	// (not retried) with an error naming the endpoint. Zero means
	// DefaultMaxBodyBytes (16 MiB: an Okta page of 200 users with large
	// profiles is a few MiB).
	MaxBodyBytes int64

	// MaxPages bounds the pages of one listing (Client.Pages); a listing
	// with more ends with a *PagingError. Zero means DefaultMaxPages (two
	// million objects at 200 a page).
	MaxPages int

	// UserAgent is sent with every request. Empty means DefaultUserAgent.
	UserAgent string

	// Logger receives debug records about retries and rate-limit waits
	// (method, endpoint, family, status; never headers). Nil discards.
	Logger *slog.Logger

	// OnEvent, when set, is called synchronously for retries, rate-limit
	// waits and concurrency-limit reductions (e.g. for a progress display).
	// It must return quickly and must not call the Client.
	OnEvent func(Event)
}

// normalize validates cfg and fills defaults; it returns the parsed base URL.
func (cfg *Config) normalize() (*url.URL, error) {
	bad := func(field, msg string) error {
		return &integration.ConfigError{Field: "httpclient." + field, Message: msg}
	}
	if strings.TrimSpace(cfg.BaseURL) == "" {
		return nil, bad("BaseURL", "is required")
	}
	base, err := url.Parse(cfg.BaseURL)
	if err != nil {
		return nil, bad("BaseURL", "is not a valid URL")
	}
	if base.Scheme != "http" && base.Scheme != "https" {
		return nil, bad("BaseURL", "must be an absolute http:// or https:// URL")
	}
	if base.Host == "" || base.Hostname() == "" {
		return nil, bad("BaseURL", "must name a host")
	}
	if base.User != nil {
		return nil, bad("BaseURL", "must not contain credentials; use AuthValue or Auth")
	}
	base.Fragment, base.RawFragment = "", ""
	if !(cfg.Share >= 0 && cfg.Share <= 1) {
		return nil, bad("Share", "must be in (0, 1]")
	}
	if cfg.Share == 0 {
		s, err := ShareFromEnv()
		if err != nil {
			return nil, err
		}
		cfg.Share = s
	}
	if cfg.MaxInFlight < 0 {
		return nil, bad("MaxInFlight", "must not be negative")
	}
	if cfg.MaxInFlight == 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	if cfg.MaxInFlightPerFamily < 0 {
		return nil, bad("MaxInFlightPerFamily", "must not be negative")
	}
	if cfg.MaxAttempts < 0 {
		return nil, bad("MaxAttempts", "must not be negative")
	}
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	durations := []struct {
		name string
		p    *time.Duration
		def  time.Duration
	}{
		{"BackoffMin", &cfg.BackoffMin, DefaultBackoffMin},
		{"BackoffMax", &cfg.BackoffMax, DefaultBackoffMax},
		{"MaxWait", &cfg.MaxWait, DefaultMaxWait},
		{"RateLimitPatience", &cfg.RateLimitPatience, DefaultRateLimitPatience},
		{"DialTimeout", &cfg.DialTimeout, DefaultDialTimeout},
		{"TLSHandshakeTimeout", &cfg.TLSHandshakeTimeout, DefaultTLSHandshakeTimeout},
		{"ResponseHeaderTimeout", &cfg.ResponseHeaderTimeout, DefaultResponseHeaderTimeout},
		{"AttemptTimeout", &cfg.AttemptTimeout, DefaultAttemptTimeout},
	}
	for _, d := range durations {
		if *d.p < 0 {
			return nil, bad(d.name, "must not be negative")
		}
		if *d.p == 0 {
			*d.p = d.def
		}
	}
	if cfg.BackoffMax < cfg.BackoffMin {
		return nil, bad("BackoffMax", "must not be less than BackoffMin")
	}
	if cfg.MaxBodyBytes < 0 {
		return nil, bad("MaxBodyBytes", "must not be negative")
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.MaxPages < 0 {
		return nil, bad("MaxPages", "must not be negative")
	}
	if cfg.MaxPages == 0 {
		cfg.MaxPages = DefaultMaxPages
	}
	if cfg.AuthValue != "" && cfg.AuthHeader == "" {
		cfg.AuthHeader = "Authorization"
	}
	if cfg.AuthHeader != "" && cfg.AuthValue == "" {
		return nil, bad("AuthValue", "is required when AuthHeader is set")
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = DefaultUserAgent
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return base, nil
}

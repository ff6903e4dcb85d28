// Package httpclient is the HTTP client every provider integration uses: it
// retries, paces requests to the provider's rate limits, follows pagination
// links, and keeps credentials on the configured host.
//
// # Layers
//
// A [Client] drives each call through github.com/hashicorp/go-retryablehttp
// (retry loop, request-body rewinding, retry policy, backoff). Its
// *http.Client uses our own http.RoundTripper, which for every attempt:
//
//  1. waits for the pacer of the request's endpoint family (see below);
//  2. applies the per-attempt timeout (Config.AttemptTimeout);
//  3. attaches credentials only when the request's scheme and host equal the
//     BaseURL's;
//  4. sends the request through the inner transport (Config.Transport, or an
//     http.Transport with explicit dial, TLS-handshake and response-header
//     timeouts) and reads the whole body, so a connection dropped in the
//     middle of a body surfaces as a retryable error of that attempt;
//  5. feeds the response headers back to the pacer.
//
// Retried: 429, 5xx (but 501), connection errors (resets, unexpected EOF,
// refused), and timeouts. Never retried: other statuses, certificate errors,
// redirects to a foreign host, bodies over Config.MaxBodyBytes. Failures
// count against Config.MaxAttempts and wait a jittered exponential backoff
// (Config.BackoffMin..BackoffMax), at least Retry-After (at most
// Config.MaxWait). 429s do not count against MaxAttempts: they are retried
// while the client makes progress (a success within
// Config.RateLimitPatience), so a run that advances never loses a request
// to rate or concurrency limits. Every wait returns ctx.Err() as soon as
// ctx is done; every wait longer than 2 s is logged at Info with the family
// and the reason. Final errors are the typed errors of package
// github.com/stepgraph/stepgraph/sdk/integration; their endpoint is the
// request's path and query, never headers, and every message is scrubbed of
// the credentials and Config.Secrets.
//
// # Pacing
//
// Requests are grouped into endpoint families by Config.Family; each family
// has a pacer and families run in parallel. A pacer learns the family's
// bucket from X-Rate-Limit-Limit, X-Rate-Limit-Remaining and the reset
// (X-Rate-Limit-Reset-Ms epoch milliseconds when present, else
// X-Rate-Limit-Reset epoch seconds). The reset is on the server's clock.
// While the Date headers agree with the local clock (within their one-second
// resolution, see skewEstimator) it is read on the local clock; otherwise
// relative to the response's Date (local receive time + reset − Date).
//
// Within a window the pacer bursts: a request is released as soon as the
// in-flight caps allow while
//
//	usable = remaining − (1−share)·limit − inFlight(family) ≥ 1
//
// and once the share is used the family waits for the reset (plus a
// boundary margin: 10 ms for millisecond resets, 2% of the window, at most
// 1 s, for resets known to the second). "remaining" is the smallest value
// reported for the current window and inFlight counts released requests
// without a response yet, so a window never receives more than its share
// and a bucket never sees a 429 in steady state. The share is Config.Share
// or the request context's (WithRateLimitShare). Once the reset has passed
// the pacer assumes a fresh window (remaining = limit, reset = previous reset
// + the window length learnt from consecutive resets) until headers say
// otherwise; while the window length is unknown it sends a single probe.
// Before the first response of a family only one request of that family is
// in flight (a probe). Responses without rate-limit headers leave a family
// unpaced (only the in-flight caps apply).
//
// Every wait is bounded: a reset is clamped to one window length after the
// response (Config.MaxWait while the window length is unknown). Headers
// that cannot describe the present — a reset before the response's Date or
// more than a window after it, Date headers that disagree with each other
// and the local clock (a caching proxy, a wrong clock, replayed responses),
// consecutive resets more than an hour apart — produce one warning per
// client, and the family is from then on paced locally and conservatively:
// limit·share requests per window (a minute when unknown), evenly spread,
// whatever the headers say.
//
// A 429 that the family's window cannot explain is a concurrency limit
// (Okta's org-wide concurrent-request limit). Okta documents its form as the
// concurrent values in the same headers (X-Rate-Limit-Limit the concurrent
// limit, Remaining 0, Reset an estimate); an older form has Limit 0. So a
// 429 whose limit is 0 or differs from the family's, whose reset is not one
// of the family's window boundaries, or that arrives while the window still
// had budget beyond the requests in flight, does not (only) touch the
// window: the global in-flight cap (Config.MaxInFlight) is halved (at most
// once per round of requests, like TCP congestion control), grows back by
// 1/cap per successful response but never again past the concurrent limit
// a 429 reported times the share, and the request is retried after a short
// backoff (up to 2 s). A rate-limit 429 marks the window used up.
//
// The pacer state is shared by all goroutines using a Client.
//
// # Pagination
//
// [Client.Pages] iterates over pages following RFC 8288 Link headers
// (rel="next"), or any next-page function given with [WithNextFunc] (for
// example [NextFromBodyLinks] for bodies shaped like Okta's
// {"_links":{"next":{"href":...}}}). A next link to another scheme or host is
// refused with a [*ForeignHostError]. A listing that does not end — a next
// link to a page already fetched, or more pages than Config.MaxPages
// (WithMaxPages, WithExpectedItems) — ends with a [*PagingError] and a
// warning, never as a success.
package httpclient

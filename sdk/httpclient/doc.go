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
// redirects to a foreign host. Waits use jittered exponential backoff
// (Config.BackoffMin..BackoffMax), at least Retry-After (seconds or HTTP date,
// the date read relative to the response's Date header); a rate-limit 429
// waits until the window reset. Every wait returns ctx.Err() as soon as ctx
// is done. Final errors are the typed errors of package
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
// X-Rate-Limit-Reset epoch seconds). The reset is on the server's clock; it is
// converted to the local clock with a skew estimate (local − server). Each
// response bounds it: local receive time − Date lies in [skew, skew+1s+latency)
// because Date has one-second resolution; a response counted in a newer
// window than the previous reset proves skew <= receive time − previous
// reset; a request counted in a window proves skew > its send time − that
// window's reset. The bounds of the last one to two minutes are intersected.
// While they allow synchronised clocks the estimate is 0 (so sub-second
// X-Rate-Limit-Reset-Ms windows are read precisely on the local clock);
// otherwise it is the largest plausible skew, i.e. the latest plausible
// reset, the safe side. A new window counts as open a boundary margin after
// its reset: 10 ms for millisecond resets, 2% of the window (at most 1 s) for
// resets known only to the second, to cover their rounding.
//
// Within a window the pacer spreads what is left of the budget evenly over
// the time left, rather than bursting and then sleeping:
//
//	usable = remaining − (1−Share)·limit − inFlight(family)
//	next   = lastRelease + (reset − lastRelease) / (usable + 1)
//
// A request is released when usable ≥ 1 and now ≥ next. "remaining" is the
// smallest value reported for the current window (responses can arrive out of
// order) and inFlight counts released requests whose responses have not
// arrived yet, that is requests the reported remaining may not include yet.
// The "+1" puts the last slot of a window one interval before its reset, so in
// steady state a window receives exactly limit·Share requests, one every
// window/limit, and none races the boundary. When usable < 1 the family
// waits until the reset plus the boundary margin. Once the reset has passed
// the pacer assumes a fresh window (remaining = limit, reset = previous
// reset + the window length learnt from consecutive resets) until headers say
// otherwise; while the window length is still unknown it sends a single probe
// and waits for its headers. Responses about an older window are ignored.
//
// Before the first response of a family only one request of that family is
// in flight (a probe), so the budget is known before any burst. Responses
// without rate-limit headers leave a family unpaced (only the in-flight caps
// apply).
//
// A 429 whose X-Rate-Limit-Limit is 0 is the provider's concurrency limit
// (Okta's org-wide concurrent-request limit), not budget exhaustion: it does
// not touch the family's window; instead the global in-flight cap
// (Config.MaxInFlight) is halved (at most once per round of requests, like
// TCP congestion control), grows back by 1/cap per successful response, and
// the request is retried after a short backoff. A normal 429 marks the window
// exhausted, so every request of the family waits for the reset.
//
// The pacer state is shared by all goroutines using a Client.
//
// # Pagination
//
// [Client.Pages] iterates over pages following RFC 8288 Link headers
// (rel="next"), or any next-page function given with [WithNextFunc] (for
// example [NextFromBodyLinks] for bodies shaped like Okta's
// {"_links":{"next":{"href":...}}}). A next link to another scheme or host is
// refused with a [*ForeignHostError]; a next link to a page already fetched
// ends the iteration (a polling feed whose last page points to itself).
package httpclient

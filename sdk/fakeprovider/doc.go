// Package fakeprovider is the machinery of a fake provider API, for tests,
// demos and benchmarks: an integration's fake registers its endpoints on a
// Server and gets routing, paging helpers, credential checks, rate-limit
// buckets with X-Rate-Limit-* headers and 429s, a concurrency limit,
// latency, skewed Date headers, seeded fault injection and request counters
// for free. The fake keeps only what is specific to its provider: its data,
// the JSON it renders, its error bodies and its endpoints' quirks.
//
// It uses only the standard library, so a binary that serves a demo fake
// (okta's demo org, the teamdir example) links nothing test-only.
//
// # Serving
//
// New returns a Server (an http.Handler); Handle registers an Endpoint: a
// method, a path pattern whose {name} segments match one path segment (read
// with Call.Param), optional Paging, an optional credential Scope, and the
// function that answers it. A literal segment wins over a {name} segment, a
// trailing slash is ignored, GET endpoints also answer HEAD (without a
// body). Start, StartTLS and Serve put a handler on a listener.
//
// Every request passes these checks in order, and the first that fails
// answers: concurrency limit (429), rate limit (429), method (405 when no
// endpoint serves it), credentials (Options.Auth: 401/403), latency
// (Options.Latency, ended early by a cancelled request), forbidden
// endpoints (Faults.Forbidden: 403), injected errors (Faults.ErrorRate:
// 500, Faults.RateLimitRate: 429), unknown path (404, or 405 when the path exists for another method).
// Error bodies are the fake's own: Options.WriteError renders an Error
// (status, Reason, the provider's code, message and causes).
//
// # Rate limits
//
// Buckets count requests in fixed windows (Options.Window, default one
// minute) aligned to multiples of the window since the Unix epoch on
// Options.Clock. A request belongs to the bucket whose Paths has the
// longest prefix of its path (at a segment boundary), else to the bucket
// without Paths. Every response of a bucket carries X-Rate-Limit-Limit,
// X-Rate-Limit-Remaining, X-Rate-Limit-Reset (the window end in UTC epoch
// seconds, rounded up) and the non-standard X-Rate-Limit-Reset-Ms (the same
// instant in epoch milliseconds, for sub-second windows); over the limit it
// is a 429. A request arriving while Options.ConcurrencyLimit are in flight
// gets a 429 carrying the concurrent values (Limit = the concurrency limit,
// Remaining 0, Reset the next second), as Okta documents its concurrency
// limit, and does not count against its bucket. The Date header is the
// clock plus Options.DateOffset (a stale or skewed Date).
//
// # Faults
//
// Fault injection is deterministic: whether a request fails depends on
// Faults.Seed, its method and URI and how many times that URI was requested
// before, never on interleaving, so a run is reproducible and a retried
// request eventually succeeds. A dropped connection (Faults.DropRate) sends
// the status line, the headers with the full Content-Length and half of a
// successful answer's body, then closes the connection (HTTP/1) or aborts
// the stream (HTTP/2).
//
// # Counters
//
// Stats counts requests per endpoint and bucket, each kind of answer, and
// the highest concurrency; Stats.RateLimitFloor is the shortest time in
// which the admitted requests could have been served under the limits.
//
// Nothing here sleeps on the wall clock except Options.Latency: tests of
// windows set Options.Clock, and tests of the concurrency limit block an
// endpoint on a channel.
package fakeprovider

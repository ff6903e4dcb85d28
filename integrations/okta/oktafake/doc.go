// Package oktafake is a deterministic fake of the Okta management API, for
// tests, benchmarks and the CLI. It uses only the standard library.
//
// # Org
//
// NewOrg generates a synthetic org from an OrgSpec: users of every status,
// OKTA_GROUP / APP_GROUP groups plus the BUILT_IN "Everyone" (every
// non-deprovisioned user), some empty groups, apps of several sign-on modes
// (amazon_aws apps whose assignments carry profile.role / profile.samlRoles),
// direct and group app assignments, MFA factors, USER- and GROUP-assigned
// admin roles, group rules, devices with their users and a System Log with
// app-creation events spread over the last 120 days. The same spec and seed
// give the same org and byte-identical response bodies; nothing depends on
// the wall clock (timestamps are relative to OrgSpec.Now). Records are
// compact and JSON is rendered on demand: a 100k-user org takes about 0.1 s
// and 30 MB. Org.Truth returns the ground truth as plain data.
//
// # Server
//
// NewServer returns an http.Handler; Start / StartTLS serve it on loopback,
// Server.ListenAndServe serves it for a CLI. The mechanics (routing, paging
// links, rate-limit buckets and headers, the concurrency limit, latency,
// seeded faults, counters) are sdk/fakeprovider's; this package holds
// Okta's endpoints, data, error bodies, credentials and authorization
// server. Faithful to Okta:
//
//   - "Authorization: SSWS <token>" (401 E0000011 otherwise); JSON bodies,
//     ISO-8601 UTC times with milliseconds; error bodies {errorCode,
//     errorSummary, errorLink, errorId, errorCauses}.
//   - Cursor paging: a `Link: <url>; rel="self"` header always and a separate
//     `Link: <url>; rel="next"` header while more remain; `after` is a cursor
//     (the last object's id, or an opaque token for the System Log) and a
//     `limit` above the endpoint maximum is clamped. Defaults / maxima:
//     users 200/200, groups 10000/10000, group members 1000/1000, group rules
//     50/200, apps 20/200, app users 50/500, app groups 20/200, devices
//     200/200, logs 100/1000, iam assignees 100/100 (see PageLimits). Links
//     use the request's scheme and host, or ServerOptions.BaseURL.
//   - /api/v1/users omits DEPROVISIONED users; `search` or `filter`
//     (e.g. status eq "DEPROVISIONED") select among all users.
//   - /api/v1/users/{id}/factors, /roles and /api/v1/groups/{id}/roles are not
//     paged; a user's roles include GROUP-assigned ones inherited from role
//     groups. /api/v1/iam/assignees/users answers {"value": [...], "_links":
//     {"next": {"href"}}} with the next link in the body only.
//   - /api/v1/groups?expand=stats adds _embedded.stats.usersCount and
//     appsCount; /api/v1/devices?expand=user adds _embedded.users.
//   - /api/v1/logs returns events in [since, until) oldest first (since
//     defaults to 7 days before the org's Now) and supports filter
//     expressions (eq, ne, sw, ew, co, gt, ge, lt, le, pr, and, or,
//     parentheses) on eventType, debugContext.debugData.requestUri, actor.id,
//     target.id and a few more. Without until it is a polling query: every
//     page has a next link and an empty page's next link is its own URL, so a
//     client that only stops when next is absent never stops.
//   - Rate limits per bucket (see Buckets and DefaultLimits), counted in
//     windows aligned to multiples of ServerOptions.Window since the Unix
//     epoch. Every response carries X-Rate-Limit-Limit,
//     X-Rate-Limit-Remaining, X-Rate-Limit-Reset (UTC epoch seconds of the
//     window end, rounded up for sub-second windows) and Date, plus the
//     non-standard X-Rate-Limit-Reset-Ms (epoch milliseconds) for pacing
//     with sub-second windows. Over the limit: 429 E0000047. The org-wide
//     concurrency limit answers 429 with the concurrent values in the
//     rate-limit headers (Limit = the concurrency limit, Remaining 0, Reset
//     an estimate), as Okta documents; ConcurrencyLimitZero sends Limit 0.
//   - Authentication (oauth.go, dpop.go): the API token (SSWS), or access
//     tokens of the org authorization server at TokenPath (OAuth 2.0 client
//     credentials with private_key_jwt): registered public key per client
//     (OAuthOptions.Clients), assertion signature, iss/sub, audience, expiry
//     and jti reuse checked, granted scopes issued (400 invalid_scope, or a
//     down-scoped token), the scope enforced per endpoint (403 E0000006),
//     tokens expiring after OAuthOptions.TokenLifetime or TokenMaxUses,
//     optional DPoP (OAuthClient.RequireDPoP), token requests counted in
//     their own rate-limit bucket (TokenStats).
//
// Simplified: only GET is implemented (other methods get 405 E0000022);
// user ids but not logins resolve in /api/v1/users/{id}; `q` is a name
// prefix on groups only; the System Log ignores sortOrder and has no
// retention limit (a client must bound its own window); rate limits are
// the same for every endpoint of a bucket (Okta has finer per-endpoint
// limits); app users include group-derived assignments with the group's
// profile but no per-user overrides; deleted objects (Faults) are only
// simulated as 404s on detail calls and keep appearing in lists.
//
// Fault injection (Faults) is deterministic: whether a request fails depends
// on the fault seed, its method and URI and how many times that URI was
// requested before, never on interleaving; a dropped connection cuts off
// a successful answer only (errors are sent whole). ServerOptions.DateOffset
// makes the Date header stale or skewed. Stats counts requests per bucket
// and endpoint, 429s, injected faults and the highest concurrency, and gives
// the rate-limit floor of a run.
package oktafake

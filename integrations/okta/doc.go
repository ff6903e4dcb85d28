// Package okta is the Okta integration: it collects an Okta org into the
// graph with the same _type, _class, _key and property names as
// JupiterOne's graph-okta v3 (a drop-in replacement), on the public stepgraph
// SDK only. The contract is docs/okta.md: the configuration, the sources,
// the requests each step makes and what a missing permission degrades. The
// steps are:
//
//	fetch-account, fetch-users, fetch-groups, fetch-group-members,
//	fetch-applications, fetch-application-users,
//	fetch-mfa-devices, build-user-group-users-relationships,
//	build-app-user-group-users-relationships, build-group-app-relationships,
//	build-user-app-relationships, fetch-rules, fetch-roles,
//	build-application-creation-relationship, fetch-devices.
//
// Use New (or NewCollector for HTTP statistics) and run the result with
// sdk/runtime or mount it with sdk/cli, as cmd/okta does.
//
// # Design
//
// What the SDK can derive is declared: the ingestion sources (sources.go)
// give the disable list's and enableDevices' checks, the OAuth scopes a
// service app requests by default (each source's Needs) and validate's
// probes; the config's tags give rateLimitShare's range. The package keeps
// what is Okta's: the org URL's rules (NormalizeOrgURL), the two
// authentication methods and their hints, read-only scopes only.
//
// Requests: Setup builds one httpclient.Client per run and hands it to the
// steps under a typed run-local key, so all steps share the pacing state of
// Okta's rate-limit buckets (Family) and nothing (a token, pacing state)
// outlives the run. Child requests fan out on the runtime's run-wide worker
// budget (integration.ForEach); the client's in-flight cap is the only
// other bound. Errors go through one policy (classify): an object deleted
// since it was listed is skipped, a missing permission degrades. Each
// request belongs to the step that reports it: group members and
// application users are paged by steps of their own while fetch-users
// pages users and, before storing a page, their factors (so mfaEnabled is
// set); they are handed over in typed, disk-backed scratch stores
// (integration.Scratch).
//
// Memory: list pages are streamed and decoded into json.RawMessage items;
// the only per-object state kept across steps is compact (user id -> email
// and the non-deprovisioned ids, group id/type/stats, app id/AWS account),
// handed under typed keys (integration.Key). Users keep no _rawData (as in
// graph-okta); applications never keep `credentials`; devices drop the
// embedded user objects from their _rawData.
//
// Options.BaseURL sends requests to another base URL than the configured
// orgUrl (keys and web links still come from orgUrl), for tests and the
// bundled fake (package oktafake); it is never read from flags or the
// environment.
package okta

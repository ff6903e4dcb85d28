// Package okta is the Okta integration: it collects an Okta org into the
// graph with the same _type, _class, _key and property names as
// JupiterOne's graph-okta v3 (a drop-in replacement), on the public stepgraph
// SDK only. The contract is docs/okta.md; the steps are:
//
//	fetch-account, fetch-users, fetch-groups, fetch-group-members,
//	fetch-applications, fetch-application-users,
//	fetch-mfa-devices, build-user-group-users-relationships,
//	build-app-user-group-users-relationships, build-group-app-relationships,
//	build-user-app-relationships, fetch-rules, fetch-roles,
//	build-application-creation-relationship, fetch-devices.
//
// Use New (or NewCollector for HTTP statistics and the per-source probe)
// and run the result with sdk/runtime or mount it with sdk/cli, as
// cmd/okta does.
//
// # Design
//
// Requests: the integration's Setup builds one httpclient.Client per run
// and hands it to the steps under a typed run-local key, so all steps and
// their goroutines share the pacing state of Okta's rate-limit buckets
// (Family maps paths to them), and nothing (a token, pacing state)
// outlives the run. Child requests (factors, group members, app
// users and groups, roles) fan out on the runtime's run-wide worker budget
// (integration.ForEach, JobState.Group); the client's in-flight cap is the
// only other bound. Errors go through one policy (classify): an object
// deleted since it was listed is skipped, a missing permission degrades. The request plan is minimal:
// deprovisioned users are listed separately and never asked for factors;
// groups are listed with expand=stats so empty groups are never paged and
// only groups with admin privileges are asked for roles; the Everyone group
// is built from the collected users; roles are asked only of the users
// /api/v1/iam/assignees/users lists.
//
// Each request belongs to the step that reports it: group members and
// application users are paged by steps of their own (fetch-group-members,
// fetch-application-users), which run while fetch-users pages users, and
// hand their pages to the build steps in typed, disk-backed scratch stores
// (integration.Scratch) under run-local keys.
//
// mfaEnabled: fetch-users reads each page's factors before storing the
// page's users (integration.ForEachInBatches), so the stored user carries
// mfaEnabled (graph-okta computed it after storing and lost it); the
// factor requests are its own, made whenever the mfa-devices source is on.
// It hands the factors to fetch-mfa-devices in a scratch store, so neither
// step holds every factor in memory and fetch-mfa-devices makes no request.
//
// Memory: list pages are streamed and decoded into json.RawMessage items;
// the only per-object state kept across steps is compact (user id -> email
// and the non-deprovisioned ids, group id/type/stats, app id/AWS account),
// handed under typed keys (integration.Key); no step calls FindEntity in a loop. Users keep no
// _rawData (as in graph-okta); applications never keep `credentials`;
// devices drop the embedded user objects from their _rawData.
//
// Degrading: a missing permission (oktaSupport, roles 403, System Log 403,
// devices 401/403, group rules 400/403) is a warning and the step's types
// are marked partial; the step succeeds. A 404 on a child call (an object
// deleted since it was listed) skips that object and is counted in one
// warning per reason. Relationships whose other end was not collected are
// skipped (checked with HasKey) and counted, never emitted dangling.
// Objects already collected (a user listed by both user listings, a mapped
// AWS role reached through two apps) are dropped by an emitter that checks
// and adds under one lock.
//
// Options.BaseURL sends requests to another base URL than the configured
// orgUrl (keys and web links still come from orgUrl). It exists for tests
// and for the bundled fake (package oktafake), and is never read from
// flags or the environment.
package okta

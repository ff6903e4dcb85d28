// Package service runs many instances of integrations (one per account,
// e.g. per Okta org) on schedules, on any number of worker machines that
// share one PostgreSQL database, and raises alerts when their graphs
// change.
//
// # Pieces
//
//   - The instance registry (table service_instance): name (the account
//     name, also tag.AccountName), description, integration, polling
//     interval or DISABLED, non-secret config, and references to secrets
//     (env:NAME or file:PATH) that workers resolve on their own machine.
//     The database never holds a secret.
//   - The queue is River (github.com/riverqueue/river, pgx driver), in the
//     same schema as the graph: collection jobs are unique per instance
//     among the states that are not final, so an instance has at most one
//     collection waiting or running; the sink's instance lock
//     (postgres.NewStore) is the last guard. Each integration has a queue
//     of its own, so a worker only fetches collections it can run.
//   - Scheduling: River's leader enqueues a scheduling pass every
//     WorkerOptions.ScheduleEvery; it queues the next collection of each
//     enabled instance that has none, at its last start plus its interval
//     with ±10% jitter. Deriving the next run from the table instead of
//     one River periodic job per instance means instances added, changed
//     or removed from any machine take effect without restarting workers,
//     and a worker crash loses nothing.
//   - A collection runs the integration into postgres.Store: objects go to
//     local disk, then load in one transaction at the end (with the sink's
//     cleanup rules). A job that is cancelled (SIGTERM after
//     ShutdownTimeout, instance removed, timeout) loads nothing; a worker
//     killed mid-run loses its database session, so the sink's lock goes
//     and nothing was written, and River's rescuer hands the job to another
//     worker after RescueAfter. Failed runs are retried with River's
//     exponential backoff (collectAttempts in all); a bad secret reference
//     or config is recorded on the instance's run and not retried before
//     the next scheduled run.
//   - Alerts: rules are SQL queries (table alert_rule) over the graph
//     and its change log. The SDK's generic rules (sdk/service/rules) are
//     built in for every instance; an integration registers its own with
//     Definition.Rules, evaluated for its instances only. After each loaded run the
//     worker evaluates every rule over the instance's runs no evaluation
//     has seen, in one transaction that records new matches (table
//     alert_event, unique per rule, instance and object) and enqueues
//     their River delivery jobs: a crash re-evaluates the same runs and
//     fires nothing twice; deliveries are at least once (webhook POST with
//     an Idempotency-Key, retried with backoff; or the log). A match
//     whose type the run collected partially never fires.
//
// # Operations
//
// Statuses feeds `instances list` (last run, next run, failures, the
// token expiry guard); MetricsHandler serves Prometheus metrics;
// WriteStatus is the `status` command. The commands live in package
// servicecli so that sdk/cli carries no database code.
package service

// Package postgres is the PostgreSQL graph sink: it loads collected graphs
// into a database, per integration instance, keeps a change log, removes
// stale objects only where the collection was complete, and resolves
// mapped relationships inside the database.
//
// # Using it
//
//	db, err := postgres.Open(ctx, "postgres://user@host/db", postgres.Options{})
//	defer db.Close()
//	// load a committed .j1-integration folder (the CLI's push command):
//	dir, _ := store.OpenDir(".j1-integration")
//	res, err := postgres.Push(ctx, db, dir, postgres.Instance{Integration: "okta", Name: "acme"})
//	// or collect straight into the database (collect --sink postgres://...):
//	st, err := postgres.NewStore(ctx, db, postgres.Instance{Integration: "okta", Name: "acme"}, postgres.StoreOptions{})
//	result, err := runtime.Run(ctx, integ, cfg, runtime.Options{Store: st})
//
// OpenStore and PushURL do the same from a URL for a command line.
//
// # Schema
//
// Everything lives in one schema (Options.Schema, default "stepgraph"),
// created and migrated by the sink itself: versioned SQL files embedded in
// the binary (migrations/), recorded in schema_migrations, applied in one
// transaction under an advisory lock so concurrent starts are safe. Tables:
// instance, sync_run, sync_step, entity, relationship, change_log; see
// docs/postgres.md. Instance 0 is the "mapped" pseudo-instance that owns
// placeholder entities and rule-derived relationships.
//
// # Loading
//
// A load is one transaction on the connection that holds the instance
// lock. Every object is streamed with COPY, as its JSON document, into a
// temporary staging table; SQL splits the documents into columns, and one
// INSERT ... ON CONFLICT per object kind upserts them, while a data-modifying
// CTE over the same snapshot writes a change_log row for each added object
// and each object whose type, classes, displayName or properties differ
// (jsonb comparison). Unchanged objects only get last_seen, generation and
// run_id bumped; their stored jsonb (and its TOAST) is kept. Pushing the
// same collection twice therefore logs nothing.
//
// # Stale cleanup
//
// After the upserts, objects of the instance that this run did not see are
// deleted (and logged as removed) only for complete types: types declared
// by a step whose status is success and that no step lists as partial and
// that are not in metadata.partialDatasets.types. Types of failed,
// cancelled, dependency-failed or disabled steps, types a step marked
// partial, and types no step of this run declared (steps that did not run,
// a collection without summary.json) are never cleaned up. A failed step
// therefore never deletes data. When an entity is removed, relationships of
// partial types that pointed to it keep existing with a null endpoint id.
//
// # Concurrency
//
// Loads of different instances run in parallel: their rows are disjoint
// and staging tables are per session. Two runs of one instance are
// serialised by a session advisory lock (pg_try_advisory_lock on a key
// derived from the schema and instance): the second fails at once with a
// *BusyError ("instance X is being synced by another run since ..."). A
// run whose process died releases the lock with its connection; the next
// run marks it abandoned. Mapped-relationship resolution touches every
// instance, so it takes a schema-wide advisory lock exclusively while
// loads take it shared: resolutions never deadlock with loads.
//
// # The Store: local files during the run, one load at Commit
//
// Store implements store.Store by keeping the run's objects in a local
// filesystem store and loading them at Commit with the same code as Push.
// The alternative, buffering in a database staging table, was rejected:
// FindEntity and Iterate* during a run would cost a round trip each (steps
// call them in loops), the runtime's duplicate checks would hit the
// network, and a crashed run would leave half-written staging data behind.
// Local files give steps the exact behaviour of a plain collect (flat
// memory, atomic output), the database only ever sees complete runs in one
// transaction, and `collect --sink` and `collect` + `push` cannot drift
// apart. The instance lock is taken by NewStore, before anything is
// collected, and held until Commit or Abort. With StoreOptions.Root the
// output is also kept on disk, so a failed load can be retried with push.
//
// # Mapped relationships and the user -> person rule
//
// Mapped relationships are stored with their _mapping; the source end is
// resolved in the instance, the target end by the SQL function
// resolve_mapped_relationships(): an entity of any instance matching one of
// targetFilterKeys over targetEntity (_type, _key, _class, displayName or
// a property compared as jsonb) becomes the target; otherwise a placeholder
// entity is created in instance 0 (status created) unless
// skipTargetCreation, which leaves the relationship pending. Every later
// resolution retries pending relationships and moves relationships off
// placeholders when a real entity appears; unreferenced placeholders are
// removed. map_users_to_people() realises "map users to employees": every
// User-class entity with an email IS a Person of _type employee with that
// email (case-insensitive), created as a placeholder when missing, except
// users whose userType is generic, service or bot (any case). after_sync()
// runs both after each load; AfterSync, ResolveMappings and
// MapUsersToPeople are the Go entry points.
package postgres

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
//	integ, cfg := teamdir.New(teamdir.Options{}), &teamdir.Config{BaseURL: "https://api.teamdir.example"}
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
// instance, sync_run, sync_step, entity, relationship, change_log_entry
// (the stored change-log rows) and the change_log view over it; see
// docs/postgres.md. Instance 0 is the "mapped" pseudo-instance that owns
// placeholder entities and rule-derived relationships.
//
// # Loading
//
// A load is one transaction on the connection that holds the instance
// lock. It first reads what the instance holds: per object its id, a hash
// of its key (seeded per load) and doc_hash, a SHA-256 prefix of the bytes
// the object was loaded from. It then walks the collection's JSON without
// decoding it into graph objects (rawjson.go), on several goroutines:
// an object whose bytes hash to the stored doc_hash is unchanged and is
// not sent at all; new and changed objects are split into columns and
// streamed with COPY, straight into the table for a first load of the
// instance (relationships in key order: sorted.go), else into a temporary
// staging table from which one INSERT ... ON CONFLICT per kind upserts
// them, while a data-modifying CTE over the same snapshot writes a
// change-log row for each added object and each object whose type,
// classes, displayName or properties differ (jsonb comparison; a change of
// _rawData alone is stored but not logged). The instance's first load is
// its baseline (sync_run.baseline): it stores no change-log row at all,
// and the change_log view states an added row for every object the
// baseline added that no later run has touched (a later run that changes
// or removes such an object first stores its added row).
// Unchanged objects are never rewritten: there is no per-row last_seen,
// an object is in the instance's last collection unless missing_since is
// set. Pushing the same collection twice therefore logs and writes
// nothing. A change-log row for an added object carries no after document:
// the object's state then is its current row or the before of its next
// change.
//
// # Stale cleanup and partial types
//
// Stored objects the collection lacks are deleted (and logged as removed)
// only for complete types: types declared by a step whose status is
// success and that no step lists as partial and that are not in
// metadata.partialDatasets.types. Types of failed, cancelled,
// dependency-failed or disabled steps, types a step marked partial, and
// types no step of this run declared (steps that did not run, a collection
// without summary.json) are never cleaned up: their missing objects get
// missing_since. For a partial type the run is not trusted to describe
// the objects it has either: a stored object of a partial type is kept as
// it is even when the collection has it with other values (new objects
// are added). So objects of a partial type never appear as removed or
// changed. When an entity is removed, the instance's relationships that
// pointed to it keep existing with a null endpoint id.
//
// # Concurrency
//
// Two runs of one instance are serialised by a session advisory lock
// (pg_try_advisory_lock on instance_lock_key(id)): the second fails at
// once with a *BusyError ("instance X is being synced by another run since
// ..."). A run whose process died releases the lock with its connection;
// the next run marks it abandoned. Runs of different instances never wait
// for each other: a load reads and writes only its instance's rows (no
// foreign-key checks, no schema-wide lock), and after_sync(run, instance)
// only resolves the instance's mapped relationships and maps its users.
// Placeholder entities (instance 0) are shared: a transaction that points
// to one holds it FOR KEY SHARE until it commits, and gc_placeholders()
// locks its candidates FOR UPDATE and re-checks, so a placeholder is never
// removed while a concurrent sync is pointing to it. The only wait left
// between instances is two after_syncs creating the same new placeholder
// at the same moment (one waits for the other's short transaction).
// Entities another instance removed leave a dangling id in relationships
// that pointed to them; joins on ids simply find no entity, and mapped
// relationships become pending at their own instance's next sync.
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
// resolve_mapped_relationships(run, instance): an entity of any instance
// matching one of targetFilterKeys over targetEntity (_type, _key, _class,
// displayName or a property compared as jsonb) becomes the target;
// otherwise a placeholder entity is created in instance 0 (status created)
// unless skipTargetCreation, which leaves the relationship pending. Every
// later sync of the instance retries pending relationships and moves
// relationships off placeholders when a real entity appears; placeholders
// nothing points to any more are removed. map_users_to_people(run,
// instance) realises "map users to employees": every User-class entity
// with an email IS a Person of _type employee with that email
// (case-insensitive), created as a placeholder when missing, except users
// whose userType is generic, service or bot (any case); its relationships
// belong to the user's instance. after_sync(run, instance) runs both after
// each load; AfterSync, ResolveMappings and MapUsersToPeople run them for
// every idle instance.
package postgres

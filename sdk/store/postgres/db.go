package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stepgraph/stepgraph/sdk/internal/sqlmigrate"
)

// DefaultSchema is the schema the sink uses when Options.Schema is empty.
const DefaultSchema = "stepgraph"

//go:embed migrations/*.sql
var migrationFS embed.FS

// Options configure a DB.
type Options struct {
	// Schema holds every table and function of the sink (default
	// DefaultSchema). It is created when missing. Different schemas of
	// one database are independent sinks.
	Schema string
	// Logger receives one record per load and resolution (nil discards).
	Logger *slog.Logger
	// NoAfterSync skips the mapped-relationship resolution and the
	// user -> person rule after each load; call AfterSync yourself.
	NoAfterSync bool
	// AllowOlder lets Push load a collection that started before the
	// instance's last loaded one. By default that is refused, because it
	// would turn back last_seen and resurrect removed objects.
	AllowOlder bool
}

// DB is a PostgreSQL graph sink: a connection pool and the schema that
// holds the graph. It is safe for concurrent use; loads of different
// instances run in parallel.
type DB struct {
	pool    *pgxpool.Pool
	ownPool bool
	schema  string
	opts    Options
	log     *slog.Logger
	// hook, when set (tests), is called at the end of each load phase
	// with the load's transaction; an error aborts the load.
	hook func(ctx context.Context, phase string, tx pgx.Tx) error
	// openFiles, when set (tests), bounds the collection files each reader
	// of a key-ordered copy keeps open (default maxOpenPerReader).
	openFiles int
}

var schemaRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)

// Open connects to the database at url (a postgres:// URL or a libpq
// key=value string), creates or migrates the schema and returns the sink.
// Close releases the pool.
func Open(ctx context.Context, url string, opts Options) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse URL: %w", redactURLError(err))
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	db, err := New(ctx, pool, opts)
	if err != nil {
		pool.Close()
		return nil, err
	}
	db.ownPool = true
	return db, nil
}

// New returns the sink over an existing pool, after creating or migrating
// the schema. Close does not close a pool given here.
func New(ctx context.Context, pool *pgxpool.Pool, opts Options) (*DB, error) {
	if opts.Schema == "" {
		opts.Schema = DefaultSchema
	}
	if !schemaRE.MatchString(opts.Schema) {
		return nil, fmt.Errorf("postgres: invalid schema name %q (letters, digits and _ only)", opts.Schema)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	db := &DB{pool: pool, schema: opts.Schema, opts: opts, log: log.With("sink", "postgres", "schema", opts.Schema)}
	if err := db.Migrate(ctx); err != nil {
		return nil, err
	}
	return db, nil
}

// Pool returns the connection pool.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// Schema returns the schema that holds the graph.
func (db *DB) Schema() string { return db.schema }

// Close closes the pool when Open created it.
func (db *DB) Close() {
	if db.ownPool {
		db.pool.Close()
	}
}

// SearchPath returns the search_path value that makes the documented
// queries (Queries, docs/postgres.md) find the sink's tables.
func (db *DB) SearchPath() string { return pgx.Identifier{db.schema}.Sanitize() }

func migrations() ([]sqlmigrate.Migration, error) {
	ms, err := sqlmigrate.Load(migrationFS, "migrations")
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return ms, nil
}

// SchemaVersion is the latest migration this package knows.
func SchemaVersion() int {
	ms, err := migrations()
	if err != nil || len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].Version
}

// Migrate creates the schema and applies the migrations it lacks, in one
// transaction under an advisory lock (concurrent Migrate calls wait for
// each other; New and Open call it). A database whose schema is newer than
// this package is refused.
func (db *DB) Migrate(ctx context.Context) error {
	return db.migrateTo(ctx, 0)
}

// migrateTo applies the migrations up to version upTo (0: all of them).
func (db *DB) migrateTo(ctx context.Context, upTo int) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	if upTo > 0 {
		ms = slices.DeleteFunc(ms, func(m sqlmigrate.Migration) bool { return m.Version > upTo })
	}
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('stepgraph/' || $1::text || '/migrate', 0))`, db.schema); err != nil {
		return fmt.Errorf("postgres: migrate: lock: %w", err)
	}
	if _, err := tx.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+db.SearchPath()); err != nil {
		return fmt.Errorf("postgres: migrate: create schema: %w", err)
	}
	if _, err := tx.Exec(ctx, `SELECT set_config('search_path', $1, true)`, db.SearchPath()); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer PRIMARY KEY,
		name       text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	var current int
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	if latest := ms[len(ms)-1].Version; current > latest {
		return fmt.Errorf("postgres: schema %s is at version %d, newer than this program knows (%d): upgrade the program", db.schema, current, latest)
	}
	applied := 0
	for _, m := range ms {
		if m.Version <= current {
			continue
		}
		if _, err := tx.Exec(ctx, m.SQL); err != nil {
			return fmt.Errorf("postgres: migration %04d_%s: %w", m.Version, m.Name, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name); err != nil {
			return fmt.Errorf("postgres: migrate: %w", err)
		}
		applied++
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: migrate: commit: %w", err)
	}
	if applied > 0 {
		db.log.Info("schema migrated", "from", current, "to", ms[len(ms)-1].Version)
	}
	return nil
}

// inTx runs fn in a transaction on conn (or on the pool when conn is nil)
// with search_path set to the schema.
func (db *DB) inTx(ctx context.Context, conn *pgxpool.Conn, fn func(pgx.Tx) error) error {
	var tx pgx.Tx
	var err error
	if conn != nil {
		tx, err = conn.Begin(ctx)
	} else {
		tx, err = db.pool.Begin(ctx)
	}
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if _, err := tx.Exec(ctx, `SELECT set_config('search_path', $1, true)`, db.SearchPath()); err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// redactURLError drops a connection string (which may hold a password)
// from a parse error.
func redactURLError(err error) error {
	var pe *pgconn.ParseConfigError
	if errors.As(err, &pe) {
		return errors.New("invalid connection string (not shown: it may hold a password)")
	}
	return err
}

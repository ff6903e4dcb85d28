package service

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/stepgraph/stepgraph/sdk/internal/sqlmigrate"
	"github.com/stepgraph/stepgraph/sdk/store/postgres"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Options configure a Service.
type Options struct {
	// Schema holds the graph, the instance registry and River's tables
	// (default postgres.DefaultSchema).
	Schema string
	// Logger receives the service's records (nil discards).
	Logger *slog.Logger
	// MaxConns caps the connection pool (0: 10).
	// A worker needs about two per concurrent collection (the instance
	// lock's session and the run records) plus River's listener and
	// fetches: servicecli's worker asks for 2 x collections + 6.
	MaxConns int32
}

// Service is the instance registry, the job queue and the graph of one
// database. Commands use it to manage instances; a Worker runs its jobs.
// It is safe for concurrent use.
type Service struct {
	pool   *pgxpool.Pool
	sink   *postgres.DB
	schema string
	reg    *Registry
	log    *slog.Logger
	// queue inserts and cancels jobs (it works none).
	queue *river.Client[pgx.Tx]
}

// Open connects to the database at url, creates or migrates the graph,
// River's tables and the service's tables (once, whatever the number of
// processes starting at the same time) and returns the service. reg lists
// the integrations this program can validate and run.
func Open(ctx context.Context, url string, reg *Registry, opts Options) (*Service, error) {
	if opts.Schema == "" {
		opts.Schema = postgres.DefaultSchema
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if reg == nil {
		reg = NewRegistry()
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, errors.New("service: parse database URL: invalid connection string (not shown: it may hold a password)")
	}
	// Every connection finds the graph's tables and River's by name.
	if cfg.ConnConfig.RuntimeParams == nil {
		cfg.ConnConfig.RuntimeParams = map[string]string{}
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = pgx.Identifier{opts.Schema}.Sanitize()
	if opts.MaxConns <= 0 {
		opts.MaxConns = 10
	}
	cfg.MaxConns = max(cfg.MaxConns, opts.MaxConns)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("service: connect: %w", err)
	}
	s := &Service{pool: pool, schema: opts.Schema, reg: reg, log: log}
	if err := s.open(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

func (s *Service) open(ctx context.Context) error {
	sink, err := postgres.New(ctx, s.pool, postgres.Options{Schema: s.schema, Logger: s.log})
	if err != nil {
		return err
	}
	s.sink = sink
	if err := s.migrate(ctx); err != nil {
		return err
	}
	q, err := river.NewClient(riverpgxv5.New(s.pool), &river.Config{Schema: s.schema, Logger: s.riverLogger()})
	if err != nil {
		return fmt.Errorf("service: queue client: %w", err)
	}
	s.queue = q
	return nil
}

// riverLogger passes River's warnings and errors on.
func (s *Service) riverLogger() *slog.Logger {
	return slog.New(levelFilter{s.log.Handler(), slog.LevelWarn})
}

type levelFilter struct {
	slog.Handler
	min slog.Level
}

func (h levelFilter) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h levelFilter) WithAttrs(as []slog.Attr) slog.Handler {
	return levelFilter{h.Handler.WithAttrs(as), h.min}
}

func (h levelFilter) WithGroup(n string) slog.Handler {
	return levelFilter{h.Handler.WithGroup(n), h.min}
}

// Close releases the database connections.
func (s *Service) Close() { s.pool.Close() }

// Sink returns the graph (the PostgreSQL sink) of the service's database.
func (s *Service) Sink() *postgres.DB { return s.sink }

// Pool returns the connection pool (search_path set to the schema).
func (s *Service) Pool() *pgxpool.Pool { return s.pool }

// Schema returns the schema of the graph, the registry and the queue.
func (s *Service) Schema() string { return s.schema }

// Registry returns the integrations this program runs.
func (s *Service) Registry() *Registry { return s.reg }

func migrations() ([]sqlmigrate.Migration, error) {
	ms, err := sqlmigrate.Load(migrationFS, "migrations")
	if err != nil {
		return nil, fmt.Errorf("service: %w", err)
	}
	return ms, nil
}

// migrate brings River's tables (rivermigrate, which applies each of its
// versions in a transaction of its own) and the service's tables (one
// transaction) up to date, under a session advisory lock so that workers
// starting together migrate once; then it installs the built-in alert
// rules (the SDK's and those of the registry's integrations). The graph's own migrations ran before (postgres.New).
func (s *Service) migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("service: migrate: %w", err)
	}
	defer conn.Release()
	var key int64
	if err := conn.QueryRow(ctx, `SELECT hashtextextended('stepgraph/' || $1::text || '/service-migrate', 0)`, s.schema).Scan(&key); err != nil {
		return fmt.Errorf("service: migrate: %w", err)
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, key); err != nil {
		return fmt.Errorf("service: migrate: lock: %w", err)
	}
	defer func() {
		if _, err := conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, key); err != nil {
			_ = conn.Conn().Close(context.WithoutCancel(ctx))
		}
	}()
	m, err := rivermigrate.New(riverpgxv5.New(s.pool), &rivermigrate.Config{Schema: s.schema, Logger: s.riverLogger()})
	if err != nil {
		return fmt.Errorf("service: migrate queue: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("service: migrate queue: %w", err)
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("service: migrate: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS service_migrations (
		version    integer PRIMARY KEY,
		name       text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("service: migrate: %w", err)
	}
	var current int
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM service_migrations`).Scan(&current); err != nil {
		return fmt.Errorf("service: migrate: %w", err)
	}
	if latest := ms[len(ms)-1].Version; current > latest {
		return fmt.Errorf("service: schema %s has service tables at version %d, newer than this program knows (%d): upgrade the program", s.schema, current, latest)
	}
	for _, mg := range ms {
		if mg.Version <= current {
			continue
		}
		if _, err := tx.Exec(ctx, mg.SQL); err != nil {
			return fmt.Errorf("service: migration %04d_%s: %w", mg.Version, mg.Name, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO service_migrations (version, name) VALUES ($1, $2)`, mg.Version, mg.Name); err != nil {
			return fmt.Errorf("service: migrate: %w", err)
		}
	}
	if err := installBuiltinRules(ctx, tx, s.reg); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("service: migrate: commit: %w", err)
	}
	return nil
}

// inTx runs fn in a transaction.
func (s *Service) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, fn)
}

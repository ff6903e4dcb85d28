package postgres

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Instance names one configured source of data: the integration and a name
// for this configuration of it (e.g. {"okta", "acme"} for the Okta org
// acme). Objects, runs, locks and stale cleanup are scoped to an instance.
type Instance struct {
	// Integration is the integration's name (summary.json's "integration").
	Integration string
	// Name tells instances of one integration apart (default "default").
	Name string
}

// DefaultInstanceName is the Name used when an Instance leaves it empty.
const DefaultInstanceName = "default"

// String returns "integration/name".
func (i Instance) String() string { return i.Integration + "/" + i.name() }

func (i Instance) name() string {
	if i.Name == "" {
		return DefaultInstanceName
	}
	return i.Name
}

func (i Instance) validate() error {
	if strings.TrimSpace(i.Integration) == "" {
		return errors.New("postgres: instance has no integration name")
	}
	return nil
}

// ParseInstance parses "integration/name" or "integration" (name
// DefaultInstanceName), as a CLI flag would give it.
func ParseInstance(s string) (Instance, error) {
	integ, name, _ := strings.Cut(s, "/")
	inst := Instance{Integration: strings.TrimSpace(integ), Name: strings.TrimSpace(name)}
	if inst.Name == "" {
		inst.Name = DefaultInstanceName
	}
	return inst, inst.validate()
}

// BusyError is returned when another run holds the instance: two runs of
// the same instance are serialised and the second one fails fast.
type BusyError struct {
	Instance Instance
	// Since is when the other run started (zero when unknown).
	Since time.Time
	// RunID and Holder identify the other run (host:pid) when known.
	RunID  int64
	Holder string
}

// Error says who holds the instance and since when.
func (e *BusyError) Error() string {
	since := "an unknown time"
	if !e.Since.IsZero() {
		since = e.Since.UTC().Format(time.RFC3339)
	}
	msg := fmt.Sprintf("instance %s is being synced by another run since %s", e.Instance, since)
	if e.RunID != 0 {
		msg += fmt.Sprintf(" (run %d", e.RunID)
		if e.Holder != "" {
			msg += " by " + e.Holder
		}
		msg += ")"
	}
	return msg + "; try again when it has ended"
}

// ErrBusy matches a *BusyError with errors.Is.
var ErrBusy = errors.New("instance is being synced by another run")

// Is makes errors.Is(err, ErrBusy) true.
func (e *BusyError) Is(target error) bool { return target == ErrBusy }

// session is one sync of an instance: a connection holding the instance's
// session advisory lock and the sync_run row.
type session struct {
	db         *DB
	conn       *pgxpool.Conn
	inst       Instance
	instanceID int64
	lockKey    int64
	runID      int64
	generation int64
	source     string
	started    time.Time
	done       bool
}

func holder() string {
	h, _ := os.Hostname()
	if h == "" {
		h = "unknown-host"
	}
	return fmt.Sprintf("%s:%d", h, os.Getpid())
}

// begin takes the instance lock and records a running sync_run.
func (db *DB) begin(ctx context.Context, inst Instance, source string) (*session, error) {
	if err := inst.validate(); err != nil {
		return nil, err
	}
	inst.Name = inst.name()
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	s := &session{db: db, conn: conn, inst: inst, source: source}
	ok := false
	defer func() {
		if !ok {
			conn.Release()
		}
	}()
	err = db.inTx(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO instance (integration, name) VALUES ($1, $2) ON CONFLICT (integration, name) DO NOTHING`, inst.Integration, inst.Name); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT id, instance_lock_key(id) FROM instance WHERE integration = $1 AND name = $2`,
			inst.Integration, inst.Name).Scan(&s.instanceID, &s.lockKey)
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: instance %s: %w", inst, err)
	}
	var locked bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, s.lockKey).Scan(&locked); err != nil {
		return nil, fmt.Errorf("postgres: lock instance %s: %w", inst, err)
	}
	if !locked {
		be := &BusyError{Instance: inst}
		_ = db.inTx(ctx, conn, func(tx pgx.Tx) error {
			var since time.Time
			var id int64
			var h string
			if err := tx.QueryRow(ctx, `SELECT id, started_at, holder FROM sync_run WHERE instance_id = $1 AND status = 'running' ORDER BY id DESC LIMIT 1`, s.instanceID).Scan(&id, &since, &h); err == nil {
				be.Since, be.RunID, be.Holder = since, id, h
			}
			return nil
		})
		return nil, be
	}
	err = db.inTx(ctx, conn, func(tx pgx.Tx) error {
		// We hold the lock: a run still marked running died with its process.
		if _, err := tx.Exec(ctx, `UPDATE sync_run SET status = 'abandoned', ended_at = now(), error = 'the process running it ended without finishing' WHERE instance_id = $1 AND status = 'running'`, s.instanceID); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `UPDATE instance SET last_generation = last_generation + 1 WHERE id = $1 RETURNING last_generation`, s.instanceID).Scan(&s.generation); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `INSERT INTO sync_run (instance_id, generation, source, status, holder) VALUES ($1, $2, $3, 'running', $4) RETURNING id, started_at`,
			s.instanceID, s.generation, source, holder()).Scan(&s.runID, &s.started)
	})
	if err != nil {
		s.unlock(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("postgres: start run of %s: %w", inst, err)
	}
	ok = true
	return s, nil
}

// unlock releases the advisory lock; a connection that cannot say so is
// closed, which releases it too.
func (s *session) unlock(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var released bool
	if err := s.conn.QueryRow(ctx, `SELECT pg_advisory_unlock($1)`, s.lockKey).Scan(&released); err != nil || !released {
		_ = s.conn.Conn().Close(ctx)
	}
}

// end marks the run aborted or failed (unless the load finalised it),
// releases the lock and the connection.
func (s *session) end(ctx context.Context, status string, cause error) {
	if s.done {
		return
	}
	s.done = true
	ctx = context.WithoutCancel(ctx)
	if status != "" {
		msg := ""
		if cause != nil {
			msg = cause.Error()
		}
		err := s.db.inTx(ctx, s.conn, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `UPDATE sync_run SET status = $2, ended_at = now(), error = nullif($3, '') WHERE id = $1 AND status = 'running'`, s.runID, status, msg)
			return err
		})
		if err != nil {
			// Use a fresh connection: this one may be broken.
			_ = s.db.inTx(ctx, nil, func(tx pgx.Tx) error {
				_, err := tx.Exec(ctx, `UPDATE sync_run SET status = $2, ended_at = now(), error = nullif($3, '') WHERE id = $1 AND status = 'running'`, s.runID, status, msg)
				return err
			})
		}
	}
	s.unlock(ctx)
	s.conn.Release()
}

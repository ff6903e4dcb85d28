package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/stepgraph/stepgraph/sdk/graph"
	"github.com/stepgraph/stepgraph/sdk/store"
)

// StoreOptions configure a Store.
type StoreOptions struct {
	// Root, when set, is where the run's .j1-integration output is
	// published (and kept) before it is loaded, exactly as a plain
	// collect writes it: if the load fails, `push` can load it later.
	// Empty means a temporary folder removed after the load.
	Root string
	// Filesystem tunes the local store.
	Filesystem store.FilesystemOptions
}

// Store is a store.Store that collects a run straight into the database.
//
// During the run objects go to a local filesystem store (flat memory, the
// same validation and FindEntity / Iterate* behaviour as a plain collect);
// Commit publishes that output and loads it with Push in one transaction,
// so the database only ever sees complete runs. The instance lock is taken
// by NewStore, so a second run of the same instance fails before it
// collects anything, and is held until Commit or Abort.
type Store struct {
	db     *DB
	ownsDB bool
	sess   *session
	fs     *store.Filesystem
	root   string
	tmp    string // removed at the end when not empty

	mu     sync.Mutex
	result *PushResult
	ended  bool
}

var (
	_ store.Store          = (*Store)(nil)
	_ store.StepDataWriter = (*Store)(nil)
	_ store.Scratcher      = (*Store)(nil)
)

// NewStore starts a run of inst that collects into db. It fails with a
// *BusyError when another run holds the instance.
func NewStore(ctx context.Context, db *DB, inst Instance, opts StoreOptions) (*Store, error) {
	s := &Store{db: db, root: opts.Root}
	if s.root == "" {
		tmp, err := os.MkdirTemp("", "stepgraph-sink-")
		if err != nil {
			return nil, fmt.Errorf("postgres: local store: %w", err)
		}
		s.tmp = tmp
		s.root = filepath.Join(tmp, store.DefaultRoot)
	}
	sess, err := db.begin(ctx, inst, "collect")
	if err != nil {
		s.removeTmp()
		return nil, err
	}
	s.sess = sess
	fs, err := store.NewFilesystem(s.root, opts.Filesystem)
	if err != nil {
		sess.end(ctx, RunFailed, err)
		s.removeTmp()
		return nil, err
	}
	s.fs = fs
	return s, nil
}

// OpenStore is NewStore over a database it opens at url (see Open) and
// closes when the run ends. (The CLI's `collect --sink` does not hold the
// instance while it collects: it collects to disk, then calls PushURL, so
// an unreachable database loses nothing.)
func OpenStore(ctx context.Context, url string, inst Instance, opts Options, sopts StoreOptions) (*Store, error) {
	db, err := Open(ctx, url, opts)
	if err != nil {
		return nil, err
	}
	s, err := NewStore(ctx, db, inst, sopts)
	if err != nil {
		db.Close()
		return nil, err
	}
	s.ownsDB = true
	return s, nil
}

func (s *Store) removeTmp() {
	if s.tmp != "" {
		_ = os.RemoveAll(s.tmp)
	}
}

// RunID returns the sync_run id of this run.
func (s *Store) RunID() int64 { return s.sess.runID }

// Root returns the folder the local output is published to.
func (s *Store) Root() string { return s.root }

// Result returns the load's report after a successful Commit, else nil.
func (s *Store) Result() *PushResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.result
}

// AddEntities implements store.Store.
func (s *Store) AddEntities(ctx context.Context, stepID string, es []*graph.Entity) error {
	return s.fs.AddEntities(ctx, stepID, es)
}

// AddRelationships implements store.Store.
func (s *Store) AddRelationships(ctx context.Context, stepID string, rs []*graph.Relationship) error {
	return s.fs.AddRelationships(ctx, stepID, rs)
}

// FindEntity implements store.Store (from this run's objects).
func (s *Store) FindEntity(ctx context.Context, key string) (*graph.Entity, error) {
	return s.fs.FindEntity(ctx, key)
}

// FindRelationship implements store.Store (from this run's objects).
func (s *Store) FindRelationship(ctx context.Context, key string) (*graph.Relationship, error) {
	return s.fs.FindRelationship(ctx, key)
}

// IterateEntities implements store.Store (this run's objects).
func (s *Store) IterateEntities(ctx context.Context, typ string, fn func(*graph.Entity) error) error {
	return s.fs.IterateEntities(ctx, typ, fn)
}

// IterateRelationships implements store.Store (this run's objects).
func (s *Store) IterateRelationships(ctx context.Context, typ string, fn func(*graph.Relationship) error) error {
	return s.fs.IterateRelationships(ctx, typ, fn)
}

// Flush implements store.Store.
func (s *Store) Flush(ctx context.Context) error { return s.fs.Flush(ctx) }

// WriteStepData implements store.StepDataWriter: the values go with the
// local output, so a later --use-cache run reuses them.
func (s *Store) WriteStepData(ctx context.Context, stepID string, data map[string]json.RawMessage) error {
	return s.fs.WriteStepData(ctx, stepID, data)
}

// ScratchDir implements store.Scratcher: the local output's staging folder
// holds the run's scratch space.
func (s *Store) ScratchDir() (string, error) { return s.fs.ScratchDir() }

// Commit implements store.Store: the local output is published with the
// summary, then loaded into the database (see Push), the mapped
// relationships are resolved, and the instance lock is released.
func (s *Store) Commit(ctx context.Context, summary json.RawMessage) error {
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return errors.New("postgres: store already committed or aborted")
	}
	s.ended = true
	s.mu.Unlock()
	defer s.finish()
	if err := s.fs.Commit(ctx, summary); err != nil {
		s.sess.end(ctx, RunFailed, err)
		return err
	}
	dir, err := store.OpenDir(s.root)
	if err != nil {
		s.sess.end(ctx, RunFailed, err)
		return err
	}
	res, err := s.db.loadAndResolve(ctx, s.sess, dir)
	if res == nil {
		s.sess.end(ctx, RunFailed, err)
		if s.tmp == "" {
			err = fmt.Errorf("%w (the collection is kept in %s: load it with push)", err, s.root)
		}
		return err
	}
	s.sess.end(ctx, "", nil)
	s.mu.Lock()
	s.result = res
	s.mu.Unlock()
	return err
}

// Abort implements store.Store: nothing is loaded, the run is recorded as
// aborted and the instance lock released.
func (s *Store) Abort() error {
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return nil
	}
	s.ended = true
	s.mu.Unlock()
	defer s.finish()
	err := s.fs.Abort()
	s.sess.end(context.Background(), RunAborted, errors.New("collection aborted"))
	return err
}

func (s *Store) finish() {
	s.removeTmp()
	if s.ownsDB {
		s.db.Close()
	}
}

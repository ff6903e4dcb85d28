package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/stepgraph/stepgraph/sdk/graph"
	"github.com/stepgraph/stepgraph/sdk/internal/keyindex"
	"github.com/stepgraph/stepgraph/sdk/internal/scratch"
)

// DefaultRoot is the conventional output folder.
const DefaultRoot = ".j1-integration"

// IndexFile is the per-type index written at the root of a committed
// output: for each entity and relationship _type, the graph files holding it.
const IndexFile = "index.json"

// SummaryFile is the run summary written at the root of a committed output.
const SummaryFile = "summary.json"

// FilesystemOptions tunes a Filesystem store.
type FilesystemOptions struct {
	// MaxObjectsPerFile bounds the objects in one graph file (default 1000).
	MaxObjectsPerFile int
	// MaxBytesPerFile flushes a file early when its encoded objects reach
	// this size (default 4 MiB).
	MaxBytesPerFile int
}

type objKind uint8

const (
	kindEntity objKind = iota
	kindRelationship
)

func (k objKind) dir() string {
	if k == kindEntity {
		return "entities"
	}
	return "relationships"
}

type fileState uint8

const (
	fileOpen    fileState = iota // taking objects
	fileWriting                  // complete, chunks waiting for the writer
	fileWritten                  // complete and closed on disk
)

type graphFile struct {
	rel   string // path relative to the root
	kind  objKind
	typ   string
	n     int
	state fileState
	data  []byte // encoded objects not handed to the writer yet
	// size is the bytes handed to the writer so far (the file's prefix),
	// queued the chunks of them not written yet.
	size   int
	queued int
}

// chunk is a piece of a graph file for the writer: the next bytes of
// file id, and whether they end it.
type chunk struct {
	id   uint32
	data []byte
	last bool
}

// chunkSize is the size at which an open file's encoded objects go to the
// writer. Files are streamed to disk in chunks, so an open file holds at
// most about this much in memory, instead of all its objects (up to
// MaxBytesPerFile).
const chunkSize = 64 << 10

type bufKey struct {
	kind objKind
	step string
	typ  string
}

type kindType struct {
	kind objKind
	typ  string
}

// Filesystem writes JupiterOne's .j1-integration layout:
//
//	<root>/graph/<stepId>/entities/<type>.<n>.json      {"entities":[...]}
//	<root>/graph/<stepId>/relationships/<type>.<n>.json {"relationships":[...]}
//	<root>/index.json                                   per-type file index
//	<root>/summary.json                                 the run summary
//
// Each file holds one _type and at most MaxObjectsPerFile objects. A run
// writes into a fresh staging folder beside the root, and Commit swaps it
// in with renames, so a crash or a failed run never leaves a torn tree and
// the previous output survives until the new one is complete.
type Filesystem struct {
	root    string
	staging string
	opts    FilesystemOptions

	mu     sync.Mutex
	wrote  *sync.Cond // on mu: the writer finished a chunk
	files  []*graphFile
	open   map[bufKey]uint32
	seq    map[bufKey]int
	free   [][]byte // written chunks' buffers, reused
	byType map[kindType][]uint32
	// index maps hash(_key) -> fileID<<32 | position. It is built on the
	// first FindEntity/FindRelationship and kept up to date from then on,
	// so runs that never look objects up by key pay nothing for it.
	index   *keyindex.Index
	indexed bool
	buildMu sync.Mutex
	err     error // first write error, sticky
	done    bool
	// Files are written by one background writer, chunk by chunk, so
	// encoding goes on while the kernel copies bytes; the bounded queue
	// caps the memory held by chunks waiting to be written.
	queue   chan chunk
	pending sync.WaitGroup
	writer  sync.WaitGroup
	dirMu   sync.Mutex
	dirs    map[string]bool
	cacheMu sync.Mutex
	cache   [4]cachedFile
	cacheAt int
	// afterAdd, when set (by tests), runs in add between releasing mu and
	// handing full files to the writer: the window a concurrent Commit or
	// Abort must not be able to use to close the writer's queue.
	afterAdd func()
}

type cachedFile struct {
	id   uint32
	ok   bool
	ents []*graph.Entity
	rels []*graph.Relationship
}

// NewFilesystem prepares a run whose output will replace root on Commit.
// Staging folders left by crashed runs are removed.
func NewFilesystem(root string, opts FilesystemOptions) (*Filesystem, error) {
	if root == "" {
		root = DefaultRoot
	}
	root = filepath.Clean(root)
	if opts.MaxObjectsPerFile <= 0 {
		opts.MaxObjectsPerFile = 1000
	}
	if opts.MaxBytesPerFile <= 0 {
		opts.MaxBytesPerFile = 4 << 20
	}
	parent, base := filepath.Split(root)
	if parent == "" {
		parent = "."
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Errorf("store: create %s: %w", parent, err)
	}
	recoverInterrupted(parent, base, root)
	staging, err := os.MkdirTemp(parent, "."+base+".staging-"+strconv.Itoa(os.Getpid())+"-")
	if err != nil {
		return nil, fmt.Errorf("store: create staging folder: %w", err)
	}
	s := &Filesystem{
		queue:   make(chan chunk, 32),
		root:    root,
		staging: staging,
		opts:    opts,
		open:    map[bufKey]uint32{},
		seq:     map[bufKey]int{},
		free:    make([][]byte, 0, 48),
		byType:  map[kindType][]uint32{},
		dirs:    map[string]bool{},
	}
	s.wrote = sync.NewCond(&s.mu)
	s.writer.Add(1)
	go s.writeLoop()
	return s, nil
}

func (s *Filesystem) writeLoop() {
	defer s.writer.Done()
	open := map[uint32]*os.File{} // files with chunks still to come
	defer func() {
		for _, fd := range open { // an aborted run's unfinished files
			fd.Close()
		}
	}()
	for c := range s.queue {
		_ = s.writeChunk(open, c) // the error is kept in s.err and reported by later calls
		s.pending.Done()
	}
}

// send hands chunks, already counted in pending, to the writer, blocking
// while its queue is full.
func (s *Filesystem) send(cs []chunk) {
	for _, c := range cs {
		s.queue <- c
	}
}

// stopWriter waits for queued writes and ends the writer. Caller has set done.
func (s *Filesystem) stopWriter() {
	s.pending.Wait()
	close(s.queue)
	s.writer.Wait()
}

// recoverInterrupted restores a previous output left aside by a crash in the
// middle of Commit and removes staging folders of processes that are gone.
func recoverInterrupted(parent, base, root string) {
	entries, err := os.ReadDir(parent)
	if err != nil {
		return
	}
	for _, e := range entries {
		name := e.Name()
		for _, marker := range []string{".staging-", ".old-"} {
			rest, ok := strings.CutPrefix(name, "."+base+marker)
			if !ok {
				continue
			}
			pidStr, _, _ := strings.Cut(rest, "-")
			pid, _ := strconv.Atoi(pidStr)
			if pid > 0 && pid != os.Getpid() && scratch.Alive(pid) {
				continue // a live process owns it
			}
			p := filepath.Join(parent, name)
			if marker == ".old-" {
				if _, err := os.Stat(root); errors.Is(err, fs.ErrNotExist) {
					_ = os.Rename(p, root)
					continue
				}
			}
			_ = os.RemoveAll(p)
		}
	}
}

// Root returns the folder the output is published to.
func (s *Filesystem) Root() string { return s.root }

// AddEntities implements Store. Objects are encoded straight into the
// buffer of their graph file.
func (s *Filesystem) AddEntities(ctx context.Context, stepID string, es []*graph.Entity) error {
	return s.add(kindEntity, stepID, len(es), func(i int) (string, string) { return es[i].Type, es[i].Key },
		func(i int, buf []byte) ([]byte, error) { return es[i].AppendJSON(buf) })
}

// AddRelationships implements Store.
func (s *Filesystem) AddRelationships(ctx context.Context, stepID string, rs []*graph.Relationship) error {
	return s.add(kindRelationship, stepID, len(rs), func(i int) (string, string) { return rs[i].Type, rs[i].Key },
		func(i int, buf []byte) ([]byte, error) { return rs[i].AppendJSON(buf) })
}

func (s *Filesystem) add(kind objKind, stepID string, n int, at func(int) (typ, key string), enc func(int, []byte) ([]byte, error)) error {
	var full []chunk
	s.mu.Lock()
	if s.done {
		s.mu.Unlock()
		return errors.New("store: add after commit or abort")
	}
	if s.err != nil {
		err := s.err
		s.mu.Unlock()
		return err
	}
	var encErr error
	var f *graphFile
	var id uint32
	for i := range n {
		typ, key := at(i)
		k := bufKey{kind, stepID, typ}
		// Batches usually hold one type: reuse the file of the previous object.
		if f == nil || f.state != fileOpen || f.typ != typ {
			var ok bool
			if id, ok = s.open[k]; !ok {
				id = s.newFile(k)
			}
			f = s.files[id]
		}
		mark := len(f.data)
		if f.n > 0 {
			f.data = append(f.data, ',')
		}
		if f.data, encErr = enc(i, f.data); encErr != nil {
			f.data = f.data[:mark]
			break
		}
		if s.indexed {
			s.index.Insert(s.index.Hash(key), uint64(id)<<32|uint64(f.n))
		}
		f.n++
		if f.n >= s.opts.MaxObjectsPerFile || f.size+len(f.data) >= s.opts.MaxBytesPerFile {
			delete(s.open, k)
			full = append(full, s.cut(id, f, true))
		} else if len(f.data) >= chunkSize {
			full = append(full, s.cut(id, f, false))
		}
	}
	// Count the chunks as pending while mu is held: a Commit or Abort that
	// takes mu next waits for them before it closes the writer's queue.
	s.pending.Add(len(full))
	s.mu.Unlock()
	if s.afterAdd != nil {
		s.afterAdd()
	}
	s.send(full)
	return encErr
}

// cut hands f's encoded objects to the writer as its next chunk (the last
// one, closing the JSON document, when last). Caller holds s.mu and sends
// the chunk after releasing it.
func (s *Filesystem) cut(id uint32, f *graphFile, last bool) chunk {
	if last {
		f.data = append(f.data, "]}\n"...)
		f.state = fileWriting
	}
	c := chunk{id: id, data: f.data, last: last}
	f.size += len(f.data)
	f.queued++
	f.data = nil
	if !last {
		f.data = s.buffer()
	}
	return c
}

// buffer returns an empty chunk buffer. Caller holds s.mu.
func (s *Filesystem) buffer() []byte {
	if n := len(s.free); n > 0 {
		b := s.free[n-1][:0]
		s.free = s.free[:n-1]
		return b
	}
	// Room for a chunk and the object that crosses its end.
	return make([]byte, 0, chunkSize+chunkSize/2)
}

// newFile opens a new graph file for k. Caller holds s.mu.
func (s *Filesystem) newFile(k bufKey) uint32 {
	s.seq[k]++
	rel := filepath.Join("graph", k.step, k.kind.dir(), fmt.Sprintf("%s.%d.json", k.typ, s.seq[k]))
	id := uint32(len(s.files))
	data := append(s.buffer(), `{"`+k.kind.dir()+`":[`...)
	s.files = append(s.files, &graphFile{rel: rel, kind: k.kind, typ: k.typ, data: data})
	s.open[k] = id
	kt := kindType{k.kind, k.typ}
	s.byType[kt] = append(s.byType[kt], id)
	return id
}

// writeChunk appends chunk c to its file, creating the file (and its
// folder) on its first chunk and closing it on its last. open holds the
// writer's open files. Only the writer goroutine calls it, so the chunks of
// a file are written in the order they were queued.
func (s *Filesystem) writeChunk(open map[uint32]*os.File, c chunk) error {
	s.mu.Lock()
	f := s.files[c.id]
	failed := s.err != nil
	s.mu.Unlock()
	path := filepath.Join(s.staging, f.rel)

	var err error
	fd := open[c.id]
	if fd == nil && !failed {
		dir := filepath.Dir(path)
		s.dirMu.Lock()
		if !s.dirs[dir] {
			if err = os.MkdirAll(dir, 0o755); err == nil {
				s.dirs[dir] = true
			}
		}
		s.dirMu.Unlock()
		if err == nil {
			fd, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
		}
		if err == nil {
			open[c.id] = fd
		}
	}
	if err == nil && fd != nil {
		_, err = fd.Write(c.data)
	}
	if c.last && fd != nil {
		if cerr := fd.Close(); err == nil {
			err = cerr
		}
		delete(open, c.id)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f.queued--
	if c.last && f.queued == 0 {
		f.state = fileWritten
	}
	if len(s.free) < cap(s.free) && cap(c.data) >= chunkSize && cap(c.data) <= 4*chunkSize {
		s.free = append(s.free, c.data[:0]) // reuse the buffer
	}
	s.wrote.Broadcast()
	if err != nil {
		err = fmt.Errorf("store: write %s: %w", f.rel, err)
		if s.err == nil {
			s.err = err
		}
		return err
	}
	return nil
}

// Flush implements Store: every open file is written, and Flush returns
// when all writes have ended.
func (s *Filesystem) Flush(ctx context.Context) error {
	s.mu.Lock()
	if s.done {
		s.mu.Unlock()
		return errors.New("store: flush after commit or abort")
	}
	var ids []uint32
	for k, id := range s.open {
		ids = append(ids, id)
		delete(s.open, k)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	cs := make([]chunk, len(ids))
	for i, id := range ids {
		cs[i] = s.cut(id, s.files[id], true)
	}
	s.pending.Add(len(cs))
	s.mu.Unlock()
	s.send(cs)
	s.pending.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// loadFile decodes the objects of one graph file, from memory while it is
// not written yet.
func (s *Filesystem) loadFile(id uint32) ([]*graph.Entity, []*graph.Relationship, error) {
	s.cacheMu.Lock()
	for _, c := range s.cache {
		if c.ok && c.id == id {
			s.cacheMu.Unlock()
			return c.ents, c.rels, nil
		}
	}
	s.cacheMu.Unlock()

	raw, f, state, err := s.fileBytes(id)
	if err != nil {
		return nil, nil, err
	}
	ents, rels, err := decodeGraphFile(raw, f.kind)
	if err != nil {
		return nil, nil, fmt.Errorf("store: decode %s: %w", f.rel, err)
	}
	if state == fileWritten { // immutable from now on: safe to cache
		s.cacheMu.Lock()
		s.cache[s.cacheAt] = cachedFile{id: id, ok: true, ents: ents, rels: rels}
		s.cacheAt = (s.cacheAt + 1) % len(s.cache)
		s.cacheMu.Unlock()
	}
	return ents, rels, nil
}

// fileBytes returns the content of graph file id so far: once written,
// the file as on disk; while open, the chunks written so far followed by
// the objects not handed to the writer yet, closed as a JSON document.
// f's rel and kind never change and may be read without s.mu.
func (s *Filesystem) fileBytes(id uint32) (raw []byte, f *graphFile, state fileState, err error) {
	s.mu.Lock()
	f = s.files[id]
	for f.queued > 0 { // the prefix on disk is complete once they are written
		s.wrote.Wait()
	}
	state = f.state
	path := filepath.Join(s.staging, f.rel)
	if state == fileWritten {
		s.mu.Unlock()
		if raw, err = os.ReadFile(path); err != nil {
			return nil, f, state, fmt.Errorf("store: read %s: %w", f.rel, err)
		}
		return raw, f, state, nil
	}
	// Open: no chunk of it can be queued while mu is held, so the prefix
	// read now is exactly f.size bytes.
	defer s.mu.Unlock()
	if f.size > 0 {
		if raw, err = os.ReadFile(path); err != nil {
			return nil, f, state, fmt.Errorf("store: read %s: %w", f.rel, err)
		}
		if len(raw) != f.size {
			return nil, f, state, fmt.Errorf("store: read %s: %d bytes on disk, want %d", f.rel, len(raw), f.size)
		}
	}
	raw = append(raw, f.data...)
	return append(raw, "]}"...), f, state, nil
}

// decodeGraphFile decodes either a bare array or {"entities"|"relationships": [...]}.
func decodeGraphFile(raw []byte, kind objKind) ([]*graph.Entity, []*graph.Relationship, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '{' {
		var wrap map[string]json.RawMessage
		if err := json.Unmarshal(raw, &wrap); err != nil {
			return nil, nil, err
		}
		raw = wrap[kind.dir()]
	}
	if kind == kindEntity {
		var es []*graph.Entity
		err := json.Unmarshal(raw, &es)
		return es, nil, err
	}
	var rs []*graph.Relationship
	err := json.Unmarshal(raw, &rs)
	return nil, rs, err
}

// ensureIndex builds the key index from everything stored so far.
func (s *Filesystem) ensureIndex() error {
	s.buildMu.Lock()
	defer s.buildMu.Unlock()
	s.mu.Lock()
	if s.indexed {
		s.mu.Unlock()
		return nil
	}
	s.index = keyindex.New(true)
	s.indexed = true // adds from now on index themselves
	n := len(s.files)
	s.mu.Unlock()
	for id := range uint32(n) {
		ents, rels, err := s.loadFile(id)
		if err != nil {
			return err
		}
		s.mu.Lock()
		for pos, e := range ents {
			s.index.Insert(s.index.Hash(e.Key), uint64(id)<<32|uint64(pos))
		}
		for pos, r := range rels {
			s.index.Insert(s.index.Hash(r.Key), uint64(id)<<32|uint64(pos))
		}
		s.mu.Unlock()
	}
	return nil
}

func (s *Filesystem) locate(key string) (id uint32, pos int, ok bool) {
	if err := s.ensureIndex(); err != nil {
		return 0, 0, false
	}
	s.mu.Lock()
	v, ok := s.index.Get(s.index.Hash(key))
	s.mu.Unlock()
	return uint32(v >> 32), int(uint32(v)), ok
}

// FindEntity implements Store. It reads (and caches) the file that holds the
// key, so it suits occasional lookups; steps that join large sets should hand
// compact data between steps with SetData instead.
func (s *Filesystem) FindEntity(ctx context.Context, key string) (*graph.Entity, error) {
	id, pos, ok := s.locate(key)
	if !ok {
		return nil, nil
	}
	if s.fileKind(id) == kindEntity {
		ents, _, err := s.loadFile(id)
		if err != nil {
			return nil, err
		}
		if pos < len(ents) && ents[pos].Key == key {
			return ents[pos], nil
		}
	}
	// Hash collision with another key: search every entity file.
	var found *graph.Entity
	err := s.scan(ctx, kindEntity, func(e *graph.Entity, _ *graph.Relationship) bool {
		if e.Key == key {
			found = e
			return false
		}
		return true
	})
	return found, err
}

// FindRelationship implements Store.
func (s *Filesystem) FindRelationship(ctx context.Context, key string) (*graph.Relationship, error) {
	id, pos, ok := s.locate(key)
	if !ok {
		return nil, nil
	}
	if s.fileKind(id) == kindRelationship {
		_, rels, err := s.loadFile(id)
		if err != nil {
			return nil, err
		}
		if pos < len(rels) && rels[pos].Key == key {
			return rels[pos], nil
		}
	}
	var found *graph.Relationship
	err := s.scan(ctx, kindRelationship, func(_ *graph.Entity, r *graph.Relationship) bool {
		if r.Key == key {
			found = r
			return false
		}
		return true
	})
	return found, err
}

func (s *Filesystem) fileKind(id uint32) objKind {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.files[id].kind
}

func (s *Filesystem) scan(ctx context.Context, kind objKind, fn func(*graph.Entity, *graph.Relationship) bool) error {
	s.mu.Lock()
	var ids []uint32
	for id, f := range s.files {
		if f.kind == kind {
			ids = append(ids, uint32(id))
		}
	}
	s.mu.Unlock()
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return err
		}
		ents, rels, err := s.loadFile(id)
		if err != nil {
			return err
		}
		for _, e := range ents {
			if !fn(e, nil) {
				return nil
			}
		}
		for _, r := range rels {
			if !fn(nil, r) {
				return nil
			}
		}
	}
	return nil
}

func (s *Filesystem) filesOf(kind objKind, typ string) []uint32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]uint32(nil), s.byType[kindType{kind, typ}]...)
}

// IterateEntities implements Store.
func (s *Filesystem) IterateEntities(ctx context.Context, typ string, fn func(*graph.Entity) error) error {
	for _, id := range s.filesOf(kindEntity, typ) {
		if err := ctx.Err(); err != nil {
			return err
		}
		ents, _, err := s.loadFile(id)
		if err != nil {
			return err
		}
		for _, e := range ents {
			if err := fn(e); err != nil {
				return err
			}
		}
	}
	return nil
}

// IterateRelationships implements Store.
func (s *Filesystem) IterateRelationships(ctx context.Context, typ string, fn func(*graph.Relationship) error) error {
	for _, id := range s.filesOf(kindRelationship, typ) {
		if err := ctx.Err(); err != nil {
			return err
		}
		_, rels, err := s.loadFile(id)
		if err != nil {
			return err
		}
		for _, r := range rels {
			if err := fn(r); err != nil {
				return err
			}
		}
	}
	return nil
}

// Index is the content of index.json: for each _type, its graph files
// relative to the root, with object counts.
type Index struct {
	Entities      map[string][]IndexedFile `json:"entities"`
	Relationships map[string][]IndexedFile `json:"relationships"`
}

// IndexedFile is one graph file in the Index.
type IndexedFile struct {
	Path  string `json:"path"`
	Count int    `json:"count"`
}

func (s *Filesystem) buildIndex() *Index {
	s.mu.Lock()
	defer s.mu.Unlock()
	idx := &Index{Entities: map[string][]IndexedFile{}, Relationships: map[string][]IndexedFile{}}
	for _, f := range s.files {
		m := idx.Entities
		if f.kind == kindRelationship {
			m = idx.Relationships
		}
		m[f.typ] = append(m[f.typ], IndexedFile{Path: filepath.ToSlash(f.rel), Count: f.n})
	}
	// Steps running in parallel create files in an order that changes from
	// run to run: list a type's files by step (each step's in the order it
	// wrote them), so identical input gives an identical index.
	for _, m := range []map[string][]IndexedFile{idx.Entities, idx.Relationships} {
		for _, fs := range m {
			sort.SliceStable(fs, func(i, j int) bool { return stepOfPath(fs[i].Path) < stepOfPath(fs[j].Path) })
		}
	}
	return idx
}

// stepOfPath returns the step of a graph file path graph/<step>/....
func stepOfPath(p string) string {
	rest, _ := strings.CutPrefix(p, "graph/")
	step, _, _ := strings.Cut(rest, "/")
	return step
}

// Commit implements Store: flush, write index.json and summary.json, then
// replace the previous output with this run's.
func (s *Filesystem) Commit(ctx context.Context, summary json.RawMessage) error {
	if err := s.Flush(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	if s.done {
		s.mu.Unlock()
		return errors.New("store: already committed or aborted")
	}
	s.done = true
	s.mu.Unlock()
	s.stopWriter()
	if err := writeJSON(filepath.Join(s.staging, IndexFile), s.buildIndex()); err != nil {
		return err
	}
	if len(summary) > 0 {
		if err := writeJSON(filepath.Join(s.staging, SummaryFile), summary); err != nil {
			return err
		}
	}
	// Scratch files are the run's, never part of its output.
	if err := os.RemoveAll(filepath.Join(s.staging, scratchName)); err != nil {
		return fmt.Errorf("store: remove scratch folder: %w", err)
	}
	return s.swap()
}

func (s *Filesystem) swap() error {
	parent, base := filepath.Split(s.root)
	if parent == "" {
		parent = "."
	}
	old := filepath.Join(parent, fmt.Sprintf(".%s.old-%d-%d", base, os.Getpid(), time.Now().UnixNano()))
	hadOld := false
	if _, err := os.Stat(s.root); err == nil {
		if err := os.Rename(s.root, old); err != nil {
			return fmt.Errorf("store: move previous output aside: %w", err)
		}
		hadOld = true
	}
	if err := os.Rename(s.staging, s.root); err != nil {
		if hadOld {
			_ = os.Rename(old, s.root)
		}
		return fmt.Errorf("store: publish output: %w", err)
	}
	if hadOld {
		if err := os.RemoveAll(old); err != nil {
			return fmt.Errorf("store: remove previous output: %w", err)
		}
	}
	return nil
}

// Abort implements Store: the staging folder is removed and the previous
// output stays as it was.
func (s *Filesystem) Abort() error {
	s.mu.Lock()
	if s.done {
		s.mu.Unlock()
		return nil
	}
	s.done = true
	s.mu.Unlock()
	s.stopWriter()
	return os.RemoveAll(s.staging)
}

// WriteStepData implements StepDataWriter: the values go to
// stepdata/<stepID>.json of the staged output and are published with it.
func (s *Filesystem) WriteStepData(_ context.Context, stepID string, data map[string]json.RawMessage) error {
	s.mu.Lock()
	done := s.done
	s.mu.Unlock()
	if done {
		return errors.New("store: step data after commit or abort")
	}
	dir := filepath.Join(s.staging, StepDataDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return writeJSON(filepath.Join(dir, stepID+".json"), data)
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("store: encode %s: %w", filepath.Base(path), err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("store: write %s: %w", filepath.Base(path), err)
	}
	return nil
}

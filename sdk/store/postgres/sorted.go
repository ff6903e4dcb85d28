package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"sync"

	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"

	"github.com/stepgraph/stepgraph/sdk/store"
)

// A first load of an instance's relationships copies them in key order:
// a new instance's keys then go to the right end of the (instance_id, key)
// index, one page after the other, instead of to random pages of it (1.5
// s -> 0.5 s of server CPU for 708,093 Okta relationships). Collections
// are not in key order (Okta's group memberships arrive in random group
// order), so the loader reads them twice: once for the keys and where each
// object is (20 bytes per object and its key's bytes: about 55 MB for those
// 708,093), sorted; then object by object in that order.

// objRef locates one object of a collection file and its key (in the
// file's key arena): 20 bytes per object, plus its key's bytes.
type objRef struct {
	file           int32
	keyOff, keyLen uint32
	off, n         uint32
}

// sortedObjects is where the objects of a kind are, by key.
type sortedObjects struct {
	refs   []objRef
	arenas [][]byte // per file: its objects' keys, one after the other
}

func (s *sortedObjects) key(r objRef) []byte { return s.arenas[r.file][r.keyOff : r.keyOff+r.keyLen] }

// errRepeatedKey reports a collection that repeats a key: it is loaded
// through the staging tables, where the last object of a key wins.
var errRepeatedKey = errors.New("the collection repeats a key")

// sortedRefs reads every object of kind k and returns where each is, by
// key. It fails with errRepeatedKey when two objects share a key.
func sortedRefs(ctx context.Context, dir *store.Dir, k kind, files []string) (*sortedObjects, error) {
	so := &sortedObjects{arenas: make([][]byte, len(files))}
	parts := make([][]objRef, len(files))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(min(goruntime.GOMAXPROCS(0), 4))
	for i := range files {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			var err error
			parts[i], so.arenas[i], err = fileRefs(dir, k, files, int32(i))
			return err
		})
	}
	err := g.Wait()
	if err == nil {
		err = ctx.Err() // cancelled after the last file was read
	}
	if err != nil {
		return nil, err
	}
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	so.refs = make([]objRef, 0, n)
	for i, p := range parts {
		so.refs = append(so.refs, p...)
		parts[i] = nil
	}
	slices.SortFunc(so.refs, func(a, b objRef) int { return bytes.Compare(so.key(a), so.key(b)) })
	for i := 1; i < len(so.refs); i++ {
		if bytes.Equal(so.key(so.refs[i]), so.key(so.refs[i-1])) {
			return nil, errRepeatedKey
		}
	}
	return so, nil
}

// fileRefs reads collection file files[i] and returns where each object
// of kind k is in it, with its objects' keys one after the other.
func fileRefs(dir *store.Dir, k kind, files []string, i int32) ([]objRef, []byte, error) {
	b, err := os.ReadFile(filepath.Join(dir.Root(), filepath.FromSlash(files[i])))
	if err != nil {
		return nil, nil, err
	}
	if len(b) > math.MaxUint32 {
		return nil, nil, fmt.Errorf("%s: larger than 4 GB", files[i])
	}
	var refs []objRef
	var arena []byte
	err = eachObject(b, k.list, func(obj []byte) error {
		key, typ, err := keyAndType(obj)
		if err != nil || key == "" || typ == "" {
			return err
		}
		off := cap(b) - cap(obj) // obj is a slice of b
		if off < 0 || off >= len(b) || &b[off] != &obj[0] {
			return fmt.Errorf("object outside its file")
		}
		refs = append(refs, objRef{file: i, keyOff: uint32(len(arena)), keyLen: uint32(len(key)), off: uint32(off), n: uint32(len(obj))})
		arena = append(arena, key...)
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", files[i], err)
	}
	return refs, arena, nil
}

// maxOpenPerReader bounds the files each reader of copySorted keeps open
// (DB.openFiles, when set, in tests).
const maxOpenPerReader = 128

// copySorted copies the objects refs locates, in their order, into
// to.table: several goroutines read and split them, one chunk each, and
// the chunks are sent in order.
func copySorted(ctx context.Context, tx pgx.Tx, dir *store.Dir, files []string, so *sortedObjects, to copyTarget, maxOpen int) error {
	if maxOpen <= 0 {
		maxOpen = maxOpenPerReader
	}
	refs := so.refs
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	chunks := (len(refs) + copyBatch - 1) / copyBatch
	results := make([]chan [][]any, chunks)
	for i := range results {
		results[i] = make(chan [][]any, 1)
	}
	jobs := make(chan int)
	ahead := make(chan struct{}, 16) // chunks built and not yet sent
	var failed error
	var failOnce sync.Once
	fail := func(err error) {
		failOnce.Do(func() { failed = err; cancel() })
	}
	var wg sync.WaitGroup
	for range min(goruntime.GOMAXPROCS(0), 4) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// This goroutine's open files: a few hundred at most, whatever
			// the collection's size (objects of one key range usually
			// come from few files).
			open := map[int32]*os.File{}
			defer func() {
				for _, f := range open {
					_ = f.Close()
				}
			}()
			fileOf := func(i int32) (*os.File, error) {
				if f, ok := open[i]; ok {
					return f, nil
				}
				if len(open) >= maxOpen {
					for j, f := range open {
						_ = f.Close()
						delete(open, j)
						break
					}
				}
				f, err := os.Open(filepath.Join(dir.Root(), filepath.FromSlash(files[i])))
				if err != nil {
					return nil, err
				}
				open[i] = f
				return f, nil
			}
			for c := range jobs {
				part := refs[c*copyBatch : min((c+1)*copyBatch, len(refs))]
				rows := make([][]any, 0, len(part))
				for _, r := range part {
					f, err := fileOf(r.file)
					if err != nil {
						fail(err)
						return
					}
					obj := make([]byte, r.n)
					if _, err := f.ReadAt(obj, int64(r.off)); err != nil {
						fail(fmt.Errorf("read %s: %w", files[r.file], err))
						return
					}
					key, typ, err := keyAndType(obj)
					if err == nil && key != string(so.key(r)) {
						err = fmt.Errorf("%s changed while it was loaded", files[r.file])
					}
					var row []any
					if err == nil {
						row, err = to.row(obj, key, typ, hashDoc(obj))
					}
					if err != nil {
						fail(fmt.Errorf("relationship %q: %w", key, err))
						return
					}
					rows = append(rows, row)
				}
				results[c] <- rows
			}
		}()
	}
	go func() {
		defer close(jobs)
		for c := range chunks {
			select {
			case ahead <- struct{}{}:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- c:
			case <-ctx.Done():
				return
			}
		}
	}()
	c, i := 0, 0
	var cur [][]any
	src := pgx.CopyFromFunc(func() ([]any, error) {
		for i >= len(cur) {
			if c == chunks {
				return nil, nil
			}
			select {
			case cur = <-results[c]:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			c, i = c+1, 0
			<-ahead
		}
		i++
		return cur[i-1], nil
	})
	_, err := tx.CopyFrom(ctx, pgx.Identifier{to.table}, to.columns, src)
	cancel()
	wg.Wait()
	if failed != nil {
		return failed
	}
	return err
}

package integration

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sync"

	"github.com/stepgraph/stepgraph/sdk/graph"
)

// Scratch is a disk-backed, typed store of values by key, for data one
// step fetches and a later step of the same run emits from (group members
// fetched while users are still being listed, say), so neither holds it
// all in memory however large the provider's data. Hand it over with a
// run-local key (NewLocalKey[*Scratch[T]]).
//
// Its file lives in the run's scratch folder (JobState.ScratchDir, inside
// the run's staging folder), so it goes when the run ends, however it
// ends. Memory holds 24 bytes per value (a hash of its key and where it
// is), never the values.
//
// Add is safe for concurrent use. Each reads the values grouped by key in
// an order that depends only on the keys, with the values of one key in
// the order they were added: identical input gives identical output
// whatever order concurrent producers added it in.
//
// Values are encoded as JSON, except json.RawMessage and []byte values,
// which are stored as they are.
type Scratch[T any] struct {
	name string
	mu   sync.Mutex
	f    *os.File
	w    *bufio.Writer
	off  int64
	idx  []scratchEntry
	err  error
}

type scratchEntry struct {
	hash uint64
	off  int64
	n    uint32 // record length: key length (4 bytes), key, value
}

// NewScratch creates an empty store in js's scratch folder; name says
// what it holds, in errors. Under the runtime a store that no step closed
// (its producer failed, or its consumer did not run) is closed when the
// run ends.
func NewScratch[T any](js JobState, name string) (*Scratch[T], error) {
	dir, err := js.ScratchDir()
	if err != nil {
		return nil, fmt.Errorf("scratch %s: %w", name, err)
	}
	f, err := os.CreateTemp(dir, "scratch-*.bin")
	if err != nil {
		return nil, fmt.Errorf("scratch %s: %w", name, err)
	}
	s := &Scratch[T]{name: name, f: f, w: bufio.NewWriterSize(f, 256<<10)}
	if w, ok := js.(interface{ jobState() JobState }); ok {
		js = w.jobState() // a StepContext: its runtime's job state
	}
	if r, ok := js.(interface{ OnEnd(func()) }); ok {
		r.OnEnd(func() { s.Close() }) // a store its steps did not close (one failed, or its consumer did not run)
	}
	return s, nil
}

// NewScratchFor is NewScratch for a store handed over under k: it creates
// the store and puts it under k at once, so the steps that need it get
// what was added also when the producing step fails part-way (they drain
// it with EmitEach, which closes it).
func NewScratchFor[T any](js JobState, k Key[*Scratch[T]], name string) (*Scratch[T], error) {
	s, err := NewScratch[T](js, name)
	if err != nil {
		return nil, err
	}
	Put(js, k, s)
	return s, nil
}

// Add appends v under key.
func (s *Scratch[T]) Add(key string, v T) error {
	var b []byte
	switch x := any(v).(type) {
	case json.RawMessage:
		b = x
	case []byte:
		b = x
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			return fmt.Errorf("scratch %s: encoding a value of %s: %w", s.name, key, err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	var hdr [4]byte
	binary.LittleEndian.PutUint32(hdr[:], uint32(len(key)))
	n := 4 + len(key) + len(b)
	s.w.Write(hdr[:])
	s.w.WriteString(key)
	if _, err := s.w.Write(b); err != nil {
		s.err = fmt.Errorf("scratch %s: writing: %w", s.name, err)
		return s.err
	}
	s.idx = append(s.idx, scratchEntry{hash: keyHash(key), off: s.off, n: uint32(n)})
	s.off += int64(n)
	return nil
}

// Len returns the number of values added.
func (s *Scratch[T]) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.idx)
}

// Each calls fn with every value and its key, grouped by key (see
// Scratch). Call it once the producers are done; it stops at fn's first
// error or when ctx is done.
func (s *Scratch[T]) Each(ctx context.Context, fn func(key string, v T) error) error {
	s.mu.Lock()
	if s.err == nil {
		if err := s.w.Flush(); err != nil {
			s.err = fmt.Errorf("scratch %s: writing: %w", s.name, err)
		}
	}
	err := s.err
	idx := slices.Clone(s.idx)
	s.mu.Unlock()
	if err != nil {
		return err
	}
	slices.SortStableFunc(idx, func(a, b scratchEntry) int { return cmp.Compare(a.hash, b.hash) })
	var buf []byte
	for _, e := range idx {
		if err := ctx.Err(); err != nil {
			return err
		}
		buf = slices.Grow(buf[:0], int(e.n))[:e.n]
		if _, err := s.f.ReadAt(buf, e.off); err != nil {
			return fmt.Errorf("scratch %s: reading: %w", s.name, err)
		}
		kn := binary.LittleEndian.Uint32(buf)
		key, raw := string(buf[4:4+kn]), buf[4+kn:]
		var v T
		switch p := any(&v).(type) {
		case *json.RawMessage:
			*p = bytes.Clone(raw)
		case *[]byte:
			*p = bytes.Clone(raw)
		default:
			if err := json.Unmarshal(raw, &v); err != nil {
				return fmt.Errorf("scratch %s: decoding a value of %s: %w", s.name, key, err)
			}
		}
		if err := fn(key, v); err != nil {
			return err
		}
	}
	return nil
}

// EmitEach is the body of a step that emits what an earlier step fetched
// into the store: it calls convert for every value, in Each's order, and
// emits the entities and relationships it returns in batches of at least
// size objects (NewBatch), counting the entities under name for progress
// displays unless name is "". Then it closes the store: the step that
// emits a store's values is its only reader.
func (s *Scratch[T]) EmitEach(ctx context.Context, js JobState, name string, size int,
	convert func(key string, v T) ([]*graph.Entity, []*graph.Relationship, error)) error {
	defer s.Close()
	b := NewBatch(js, size)
	if name != "" {
		b.OnEmit = func(n int) { js.Progress(name, int64(n)) }
	}
	err := s.Each(ctx, func(key string, v T) error {
		es, rs, err := convert(key, v)
		if err != nil {
			return err
		}
		return b.Add(ctx, es, rs...)
	})
	if err != nil {
		return err
	}
	return b.Flush(ctx)
}

// Close removes the store's file. The store cannot be used afterwards.
func (s *Scratch[T]) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = fmt.Errorf("scratch %s: closed", s.name)
	}
	s.f.Close()
	return os.Remove(s.f.Name())
}

// keyHash is FNV-1a: fixed across processes, so the order Each reads in
// is the same in every run.
func keyHash(key string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(key); i++ {
		h ^= uint64(key[i])
		h *= 1099511628211
	}
	return h
}

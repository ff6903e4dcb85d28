package okta

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/stepgraph/stepgraph/sdk/graph"
)

// spill is a temporary file of records one step fetches and a later step
// emits, one record a line: key TAB tag TAB payload (payload is compact JSON
// or a comma-separated id list; keys and tags are Okta ids and words, which
// hold no tab or newline). Reading it needs no JSON validation of the
// envelope, which matters at hundreds of thousands of records. Fetching early lets requests to one rate-limit bucket
// run while another bucket is busy, and the file keeps memory flat however
// large the org. Writes are safe from many goroutines.
type spill struct {
	mu   sync.Mutex
	f    *os.File
	w    *bufio.Writer
	what string
	n    int64
}

// spillPattern names spill files.
const spillPattern = "okta-spill-*.tsv"

// newSpill creates a spill in the run's scratch folder (inside its staging
// folder): it goes with the run, and a killed run's spills are removed
// when the next run starts.
func (r *run) newSpill(what string) (*spill, error) {
	dir, err := r.sc.ScratchDir()
	if err != nil {
		return nil, fmt.Errorf("okta: the %s spill file: %w", what, err)
	}
	f, err := os.CreateTemp(dir, spillPattern)
	if err != nil {
		return nil, fmt.Errorf("okta: creating the %s spill file: %w", what, err)
	}
	return &spill{f: f, w: bufio.NewWriterSize(f, 256<<10), what: what}, nil
}

// write appends one record. A payload holding a newline (pretty-printed
// JSON) is compacted first.
func (s *spill) write(key, tag string, payload []byte) error {
	if bytes.IndexByte(payload, '\n') >= 0 {
		var buf bytes.Buffer
		if err := json.Compact(&buf, payload); err != nil {
			return fmt.Errorf("okta: spilling %s of %s: %w", s.what, key, err)
		}
		payload = buf.Bytes()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	s.w.WriteString(key)
	s.w.WriteByte('\t')
	s.w.WriteString(tag)
	s.w.WriteByte('\t')
	s.w.Write(payload)
	return s.w.WriteByte('\n')
}

// finish flushes and closes the file and returns its path for the consumer.
func (s *spill) finish() (string, error) {
	err := s.w.Flush()
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(s.f.Name())
		return "", fmt.Errorf("okta: writing the %s spill file: %w", s.what, err)
	}
	return s.f.Name(), nil
}

// discard removes an unfinished spill (the producing step failed).
func (s *spill) discard() {
	s.f.Close()
	os.Remove(s.f.Name())
}

// readSpill calls fn for each record of a finished spill, ordered by key
// (records of one key in the order they were written), and removes the
// file. Writers run concurrently, so the file's own order changes from run
// to run; reading by key makes the emitted graph byte-identical for
// identical input. Memory holds one small index entry per record (key,
// offset, length), never the payloads. payload is only valid during the
// call.
func readSpill(path string, fn func(key, tag string, payload []byte) error) error {
	defer os.Remove(path)
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("okta: opening a spill file: %w", err)
	}
	defer f.Close()
	type entry struct {
		key      string
		off, len int64
	}
	var idx []entry
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 256<<10), 64<<20)
	var off int64
	for sc.Scan() {
		line := sc.Bytes()
		key, _, ok := bytes.Cut(line, []byte{'\t'})
		if !ok {
			return fmt.Errorf("okta: malformed spill record %.40q", line)
		}
		idx = append(idx, entry{key: string(key), off: off, len: int64(len(line))})
		off += int64(len(line)) + 1
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("okta: reading a spill file: %w", err)
	}
	slices.SortStableFunc(idx, func(a, b entry) int { return strings.Compare(a.key, b.key) })
	var buf []byte
	for _, e := range idx {
		if int64(cap(buf)) < e.len {
			buf = make([]byte, e.len)
		}
		line := buf[:e.len]
		if _, err := f.ReadAt(line, e.off); err != nil {
			return fmt.Errorf("okta: reading a spill file: %w", err)
		}
		key, rest, ok1 := bytes.Cut(line, []byte{'\t'})
		tag, payload, ok2 := bytes.Cut(rest, []byte{'\t'})
		if !ok1 || !ok2 {
			return fmt.Errorf("okta: malformed spill record %.40q", line)
		}
		if err := fn(string(key), string(tag), payload); err != nil {
			return err
		}
	}
	return nil
}

// spillRecord is one record read from a spill; it owns its bytes.
type spillRecord struct {
	key, tag string
	payload  []byte
}

// readSpillBatches reads a finished spill (in readSpill's order) in batches
// of up to size records, turns each batch into objects with decode on
// workers goroutines at once (decode must be safe for concurrent use), and
// hands the objects to emit one batch at a time in file order, so decoding
// uses every core while the output stays in a stable order. The file is
// removed afterwards.
func readSpillBatches(ctx context.Context, path string, workers, size int,
	decode func(recs []spillRecord) ([]*graph.Entity, []*graph.Relationship, error),
	emit func(ctx context.Context, es []*graph.Entity, rs []*graph.Relationship) error) error {
	type batch struct {
		seq  int
		recs []spillRecord
	}
	g, ctx := errgroup.WithContext(ctx)
	batches := make(chan batch, workers)
	g.Go(func() error {
		defer close(batches)
		seq := 0
		cur := make([]spillRecord, 0, size)
		send := func() error {
			select {
			case batches <- batch{seq, cur}:
			case <-ctx.Done():
				return ctx.Err()
			}
			seq++
			cur = make([]spillRecord, 0, size)
			return nil
		}
		err := readSpill(path, func(key, tag string, payload []byte) error {
			cur = append(cur, spillRecord{key: key, tag: tag, payload: bytes.Clone(payload)})
			if len(cur) < size {
				return nil
			}
			return send()
		})
		if err == nil && len(cur) > 0 {
			err = send()
		}
		return err
	})
	// Emission takes turns by sequence number.
	var mu sync.Mutex
	turn := sync.NewCond(&mu)
	next := 0
	for range max(1, workers) {
		g.Go(func() error {
			for b := range batches {
				es, rs, err := decode(b.recs)
				mu.Lock()
				for next != b.seq && ctx.Err() == nil {
					turn.Wait()
				}
				if err == nil && ctx.Err() == nil {
					err = emit(ctx, es, rs)
				}
				next++
				turn.Broadcast()
				mu.Unlock()
				if err != nil {
					return err
				}
				if ctx.Err() != nil {
					return ctx.Err()
				}
			}
			return nil
		})
	}
	return g.Wait()
}

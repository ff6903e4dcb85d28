package okta

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
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

// spillPattern names spill files; removeStaleSpills deletes old ones.
const spillPattern = "okta-spill-*.tsv"

func newSpill(dir, what string) (*spill, error) {
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

// readSpill calls fn for each record of a finished spill and removes the
// file. payload is only valid during the call.
func readSpill(path string, fn func(key, tag string, payload []byte) error) error {
	defer os.Remove(path)
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("okta: opening a spill file: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 256<<10), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		key, rest, ok1 := bytes.Cut(line, []byte{'\t'})
		tag, payload, ok2 := bytes.Cut(rest, []byte{'\t'})
		if !ok1 || !ok2 {
			return fmt.Errorf("okta: malformed spill record %.40q", line)
		}
		if err := fn(string(key), string(tag), payload); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("okta: reading a spill file: %w", err)
	}
	return nil
}

// spillRecord is one record read from a spill; it owns its bytes.
type spillRecord struct {
	key, tag string
	payload  []byte
}

// readSpillBatches reads a finished spill in batches of up to size records
// and calls fn from workers goroutines at once (fn must be safe for
// concurrent use), so decoding the records uses every core while the
// emitted objects still go through the job state one batch at a time. The
// file is removed afterwards.
func readSpillBatches(ctx context.Context, path string, workers, size int, fn func(ctx context.Context, recs []spillRecord) error) error {
	g, ctx := errgroup.WithContext(ctx)
	batches := make(chan []spillRecord, workers)
	g.Go(func() error {
		defer close(batches)
		batch := make([]spillRecord, 0, size)
		err := readSpill(path, func(key, tag string, payload []byte) error {
			batch = append(batch, spillRecord{key: key, tag: tag, payload: bytes.Clone(payload)})
			if len(batch) < size {
				return nil
			}
			select {
			case batches <- batch:
			case <-ctx.Done():
				return ctx.Err()
			}
			batch = make([]spillRecord, 0, size)
			return nil
		})
		if err == nil && len(batch) > 0 {
			select {
			case batches <- batch:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return err
	})
	for range max(1, workers) {
		g.Go(func() error {
			for b := range batches {
				if err := fn(ctx, b); err != nil {
					return err
				}
			}
			return nil
		})
	}
	return g.Wait()
}

// removeStaleSpills deletes spill files older than a day, left by runs whose
// consuming step never ran (e.g. a run limited with --step, or a crash).
func removeStaleSpills(dir string) {
	matches, _ := filepath.Glob(filepath.Join(dir, spillPattern))
	for _, m := range matches {
		if fi, err := os.Stat(m); err == nil && time.Since(fi.ModTime()) > 24*time.Hour {
			_ = os.Remove(m)
		}
	}
}

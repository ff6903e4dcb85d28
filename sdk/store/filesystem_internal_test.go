package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"testing"

	"github.com/stepgraph/stepgraph/sdk/graph"
)

// TestAddThenAbortInTheHandOverWindow aborts the run exactly between an
// add's release of the lock and its hand-over of full files to the writer.
// The add must still hand them over (no send on a closed queue, which
// panics) and Abort must wait for them.
func TestAddThenAbortInTheHandOverWindow(t *testing.T) {
	for _, end := range []string{"abort", "commit"} {
		t.Run(end, func(t *testing.T) {
			fs, err := NewFilesystem(filepath.Join(t.TempDir(), "out"), FilesystemOptions{MaxObjectsPerFile: 1})
			if err != nil {
				t.Fatal(err)
			}
			ended := make(chan error, 1)
			fs.afterAdd = func() {
				fs.afterAdd = nil
				go func() {
					if end == "abort" {
						ended <- fs.Abort()
					} else {
						ended <- fs.Commit(context.Background(), nil)
					}
				}()
				// Let the abort get as far as it can: on the old code it
				// closes the queue; now it waits for this add's files.
				for range 10000 {
					fs.mu.Lock()
					done := fs.done
					fs.mu.Unlock()
					if done {
						break
					}
					goruntime.Gosched()
				}
				for range 1000 {
					goruntime.Gosched()
				}
			}
			var es []*graph.Entity
			for i := range 3 {
				es = append(es, (&graph.Entity{Key: fmt.Sprintf("t_a-%06d", i), Type: "t_a", Class: []string{"Configuration"}}))
			}
			if err := fs.AddEntities(context.Background(), "s", es); err != nil {
				t.Fatal(err)
			}
			if err := <-ended; err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestOpenFilesStreamToDisk: a graph file's objects go to disk in chunks
// while the file is still open, so an open file holds about chunkSize
// bytes in memory (before, every object until the file was full, up to
// MaxBytesPerFile, times every open file of every step and type). Objects
// are found and iterated whether they are on disk or still in memory, and
// the committed file is the same document.
func TestOpenFilesStreamToDisk(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	fs, err := NewFilesystem(out, FilesystemOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var es []*graph.Entity
	var want []byte
	want = append(want, `{"entities":[`...)
	for i := range 900 { // ~230 KB: several chunks, under MaxObjectsPerFile
		e := (&graph.Entity{Key: fmt.Sprintf("t_a-%06d", i), Type: "t_a", Class: []string{"Configuration"}}).
			Set("pad", strings.Repeat("x", 200)).Set("n", i)
		es = append(es, e)
		if i > 0 {
			want = append(want, ',')
		}
		if want, err = e.AppendJSON(want); err != nil {
			t.Fatal(err)
		}
	}
	want = append(want, "]}\n"...)
	for i := 0; i < len(es); i += 100 {
		if err := fs.AddEntities(ctx, "s", es[i:i+100]); err != nil {
			t.Fatal(err)
		}
	}
	fs.pending.Wait() // the chunks handed over so far are on disk
	fs.mu.Lock()
	f := fs.files[0]
	onDisk, inMemory, state := f.size, len(f.data), f.state
	fs.mu.Unlock()
	if state != fileOpen {
		t.Fatalf("file state %d, want open", state)
	}
	st, err := os.Stat(filepath.Join(fs.staging, f.rel))
	if err != nil || st.Size() != int64(onDisk) || onDisk < 3*chunkSize {
		t.Fatalf("open file on disk: %v bytes (err %v), %d handed over; want at least %d", st, err, onDisk, 3*chunkSize)
	}
	if inMemory >= chunkSize+1024 {
		t.Fatalf("open file holds %d bytes in memory, want under %d", inMemory, chunkSize+1024)
	}
	for _, i := range []int{0, 450, 899} { // on disk, on disk, in memory
		got, err := fs.FindEntity(ctx, es[i].Key)
		if err != nil || got == nil || got.Properties["n"] != float64(i) {
			t.Fatalf("FindEntity(%s) = %v, %v", es[i].Key, got, err)
		}
	}
	n := 0
	if err := fs.IterateEntities(ctx, "t_a", func(e *graph.Entity) error {
		if e.Key != es[n].Key {
			t.Fatalf("object %d is %s, want %s", n, e.Key, es[n].Key)
		}
		n++
		return nil
	}); err != nil || n != len(es) {
		t.Fatalf("iterated %d of %d objects: %v", n, len(es), err)
	}
	if err := fs.Commit(ctx, nil); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(out, "graph", "s", "entities", "t_a.1.json"))
	if err != nil || string(got) != string(want) {
		t.Fatalf("committed file differs (%d bytes, want %d): %v", len(got), len(want), err)
	}
}

package store

import (
	"context"
	"fmt"
	"path/filepath"
	goruntime "runtime"
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

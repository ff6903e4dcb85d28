package runtime_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stepgraph/stepgraph/sdk/integration"
	"github.com/stepgraph/stepgraph/sdk/runtime"
	"github.com/stepgraph/stepgraph/sdk/store"
)

// TestScratchDirIsTheRunsAndGoesWithIt is issue #10 item 9 at the job
// state: steps share one scratch folder, inside the staging folder of a
// filesystem store (a temporary folder for other stores), removed when the
// run ends.
func TestScratchDirIsTheRunsAndGoesWithIt(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"filesystem", "memory"} {
		t.Run(name, func(t *testing.T) {
			var st store.Store = store.NewMemory()
			if name == "filesystem" {
				fs, err := store.NewFilesystem(filepath.Join(dir, "out"), store.FilesystemOptions{})
				if err != nil {
					t.Fatal(err)
				}
				st = fs
			}
			var paths []string
			write := func(ctx context.Context, sc *integration.StepContext[cfg]) error {
				d, err := sc.ScratchDir()
				if err != nil {
					return err
				}
				paths = append(paths, d)
				return os.WriteFile(filepath.Join(d, sc.StepID+".tsv"), []byte("spill"), 0o600)
			}
			a, b := step("a"), step("b", "a")
			a.Run, b.Run = write, write
			res, err := runtime.Run(context.Background(), &integration.Integration[cfg]{Name: "t", Steps: []integration.Step[cfg]{a, b}}, &cfg{}, runtime.Options{Store: st})
			if err != nil || res.Failed() {
				t.Fatalf("run: %v %+v", err, res.Summary.Steps)
			}
			if len(paths) != 2 || paths[0] != paths[1] {
				t.Fatalf("scratch folders %v: want one for the run", paths)
			}
			if name == "filesystem" && !strings.HasPrefix(paths[0], filepath.Join(dir, ".out.staging-")) {
				t.Errorf("scratch %s is not inside the staging folder", paths[0])
			}
			if _, err := os.Stat(paths[0]); !os.IsNotExist(err) {
				t.Errorf("scratch folder %s kept after the run", paths[0])
			}
		})
	}
}

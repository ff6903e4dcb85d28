package okta

import (
	"context"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stepgraph/stepgraph/integrations/okta/oktafake"
	"github.com/stepgraph/stepgraph/sdk/runtime"
	"github.com/stepgraph/stepgraph/sdk/store"
)

// TestTwoRunsWriteIdenticalBytes is issue #10 item 12: two complete runs
// against the same org write byte-identical graph files, index and
// handed-over data (summary.json differs only by its clock fields and is
// left out).
func TestTwoRunsWriteIdenticalBytes(t *testing.T) {
	f := startFake(t, oktafake.OrgSpec{Users: 600, Seed: 21}, oktafake.ServerOptions{})
	f.cfg.EnableDevices = true
	var trees []map[string]string
	for i := range 2 {
		root := filepath.Join(t.TempDir(), "out")
		fs, err := store.NewFilesystem(root, store.FilesystemOptions{MaxObjectsPerFile: 250})
		if err != nil {
			t.Fatal(err)
		}
		res, err := runtime.Run(context.Background(), f.col.Integration(), f.cfg, runtime.Options{Store: fs})
		if err != nil {
			t.Fatal(err)
		}
		if res.Partial() {
			t.Fatalf("run %d partial: %+v", i, res.Summary.Metadata.PartialDatasets)
		}
		tree := readTree(t, root)
		delete(tree, store.SummaryFile)
		trees = append(trees, tree)
	}
	var names []string
	for n := range trees[0] {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(trees[0]) != len(trees[1]) {
		t.Errorf("%d files, then %d", len(trees[0]), len(trees[1]))
	}
	for _, n := range names {
		if trees[0][n] != trees[1][n] {
			t.Errorf("%s differs between two runs of the same org", n)
		}
	}
}

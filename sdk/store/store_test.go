package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stepgraph/stepgraph/sdk/graph"
	"github.com/stepgraph/stepgraph/sdk/store"
)

func ent(typ string, i int) *graph.Entity {
	return (&graph.Entity{Key: fmt.Sprintf("%s-%06d", typ, i), Type: typ, Class: []string{"Configuration"}}).Set("i", i)
}

func TestFilesystemLayout(t *testing.T) {
	ctx := context.Background()
	root := filepath.Join(t.TempDir(), ".j1-integration")
	fs, err := store.NewFilesystem(root, store.FilesystemOptions{MaxObjectsPerFile: 10})
	if err != nil {
		t.Fatal(err)
	}
	var es []*graph.Entity
	for i := range 25 {
		es = append(es, ent("t_a", i))
	}
	es = append(es, ent("t_b", 0))
	if err := fs.AddEntities(ctx, "step-one", es); err != nil {
		t.Fatal(err)
	}
	rel := graph.DirectByKey(es[0].Key, "t_a", graph.HAS, es[25].Key, "t_b")
	if err := fs.AddRelationships(ctx, "step-two", []*graph.Relationship{rel}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(root); !os.IsNotExist(err) {
		t.Fatal("output visible before commit")
	}
	if err := fs.Commit(ctx, json.RawMessage(`{"integration":"t"}`)); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(root, "graph", "step-one", "entities", "*.json"))
	if len(files) != 4 { // 10+10+5 of t_a, 1 of t_b
		t.Fatalf("entity files %v, want 4", files)
	}
	total := 0
	for _, f := range files {
		b, _ := os.ReadFile(f)
		var doc struct {
			Entities []map[string]any `json:"entities"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if len(doc.Entities) > 10 {
			t.Errorf("%s holds %d objects, bound 10", f, len(doc.Entities))
		}
		types := map[any]bool{}
		for _, e := range doc.Entities {
			types[e["_type"]] = true
		}
		if len(types) != 1 {
			t.Errorf("%s mixes types %v", f, types)
		}
		total += len(doc.Entities)
	}
	if total != 26 {
		t.Errorf("wrote %d entities", total)
	}
	b, err := os.ReadFile(filepath.Join(root, "graph", "step-two", "relationships", "t_a_has_b.1.json"))
	if err != nil || !strings.Contains(string(b), `"relationships":[{"_key":"t_a-000000|has|t_b-000000"`) {
		t.Errorf("relationship file: %s %v", b, err)
	}
	for _, f := range []string{store.SummaryFile, store.IndexFile} {
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			t.Errorf("%s missing", f)
		}
	}
	d, err := store.OpenDir(root)
	if err != nil {
		t.Fatal(err)
	}
	if d.Count("t_a") != 25 || d.Count("t_b") != 1 || d.Count("t_a_has_b") != 1 {
		t.Errorf("index counts: %d %d %d", d.Count("t_a"), d.Count("t_b"), d.Count("t_a_has_b"))
	}
	if sum, err := d.SummaryJSON(); err != nil || string(sum) != "{\n  \"integration\": \"t\"\n}\n" {
		t.Errorf("summary: %q, %v", sum, err)
	}
	if !slices.Equal(d.EntityTypes(), []string{"t_a", "t_b"}) {
		t.Errorf("types %v", d.EntityTypes())
	}
	// The reader also works without index.json (JupiterOne's own outputs).
	os.Remove(filepath.Join(root, store.IndexFile))
	d2, err := store.OpenDir(root)
	if err != nil || d2.Count("t_a") != 25 || d2.Count("t_a_has_b") != 1 {
		t.Errorf("walked index: %v %d", err, d2.Count("t_a"))
	}
}

func TestFilesystemFindAndIterate(t *testing.T) {
	ctx := context.Background()
	fs, err := store.NewFilesystem(filepath.Join(t.TempDir(), "out"), store.FilesystemOptions{MaxObjectsPerFile: 7})
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Abort()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 50 {
				if err := fs.AddEntities(ctx, "s", []*graph.Entity{ent("t_x", w*1000+i)}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	// Both flushed files and objects still buffered are found.
	for _, i := range []int{0, 49, 1010, 3049} {
		e, err := fs.FindEntity(ctx, ent("t_x", i).Key)
		if err != nil || e == nil || e.Prop("i") != float64(i) {
			t.Errorf("FindEntity(%d) = %v, %v", i, e, err)
		}
	}
	if e, _ := fs.FindEntity(ctx, "t_x-missing"); e != nil {
		t.Error("found a missing key")
	}
	n := 0
	if err := fs.IterateEntities(ctx, "t_x", func(*graph.Entity) error { n++; return nil }); err != nil || n != 200 {
		t.Errorf("iterated %d, %v", n, err)
	}
}

func TestFailedRunKeepsPreviousOutput(t *testing.T) {
	ctx := context.Background()
	root := filepath.Join(t.TempDir(), "out")
	first, _ := store.NewFilesystem(root, store.FilesystemOptions{})
	_ = first.AddEntities(ctx, "s", []*graph.Entity{ent("t_old", 1)})
	if err := first.Commit(ctx, nil); err != nil {
		t.Fatal(err)
	}
	second, _ := store.NewFilesystem(root, store.FilesystemOptions{})
	_ = second.AddEntities(ctx, "s", []*graph.Entity{ent("t_new", 1)})
	if err := second.Abort(); err != nil {
		t.Fatal(err)
	}
	d, _ := store.OpenDir(root)
	if d.Count("t_old") != 1 || d.Count("t_new") != 0 {
		t.Errorf("aborted run changed the output: %v", d.EntityTypes())
	}
	third, _ := store.NewFilesystem(root, store.FilesystemOptions{})
	_ = third.AddEntities(ctx, "s", []*graph.Entity{ent("t_new", 1)})
	if err := third.Commit(ctx, nil); err != nil {
		t.Fatal(err)
	}
	d, _ = store.OpenDir(root)
	if d.Count("t_old") != 0 || d.Count("t_new") != 1 {
		t.Errorf("committed run did not replace the output: %v", d.EntityTypes())
	}
	leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(root), ".out.*"))
	if len(leftovers) != 0 {
		t.Errorf("staging folders left behind: %v", leftovers)
	}
}

func TestCrashedStagingIsCleaned(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "out")
	// A staging folder of a process that no longer exists (pid 1<<30).
	stale := filepath.Join(dir, ".out.staging-1073741824-abc")
	if err := os.MkdirAll(filepath.Join(stale, "graph"), 0o755); err != nil {
		t.Fatal(err)
	}
	// A previous output moved aside by a commit that crashed half-way.
	aside := filepath.Join(dir, ".out.old-1073741824-1")
	_ = os.MkdirAll(aside, 0o755)
	_ = os.WriteFile(filepath.Join(aside, "marker"), []byte("x"), 0o644)
	fs, err := store.NewFilesystem(root, store.FilesystemOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Abort()
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Error("stale staging folder kept")
	}
	if _, err := os.Stat(filepath.Join(root, "marker")); err != nil {
		t.Error("previous output not restored after an interrupted commit")
	}
}

func TestMemoryStore(t *testing.T) {
	ctx := context.Background()
	m := store.NewMemory()
	_ = m.AddEntities(ctx, "s", []*graph.Entity{ent("t_a", 1), ent("t_a", 2)})
	if e, _ := m.FindEntity(ctx, ent("t_a", 2).Key); e == nil {
		t.Error("not found")
	}
	var keys []string
	_ = m.IterateEntities(ctx, "t_a", func(e *graph.Entity) error { keys = append(keys, e.Key); return nil })
	if len(keys) != 2 || keys[0] != ent("t_a", 1).Key {
		t.Errorf("iteration order %v", keys)
	}
}

// TestScratchGoesWithTheRun is issue #10 item 9: a run's scratch folder is
// inside its staging folder, is never published, and goes when the run
// commits or aborts; a killed run's scratch goes at the next start.
func TestScratchGoesWithTheRun(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	root := filepath.Join(dir, "out")
	// What a run killed with -9 left: its staging folder and scratch.
	dead := filepath.Join(dir, ".out.staging-1073741824-xyz", ".scratch")
	if err := os.MkdirAll(dead, 0o700); err != nil {
		t.Fatal(err)
	}
	_ = os.WriteFile(filepath.Join(dead, "okta-spill-1.tsv"), []byte("x\tfactor\t{}\n"), 0o600)
	for _, end := range []string{"commit", "abort"} {
		fs, err := store.NewFilesystem(root, store.FilesystemOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(dead); !os.IsNotExist(err) {
			t.Fatalf("a dead run's scratch survived the next start")
		}
		sc, err := fs.ScratchDir()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(sc, filepath.Join(dir, ".out.staging-")) {
			t.Errorf("scratch %s is not inside the staging folder", sc)
		}
		if err := os.WriteFile(filepath.Join(sc, "spill.tsv"), []byte("data"), 0o600); err != nil {
			t.Fatal(err)
		}
		if end == "commit" {
			err = fs.Commit(ctx, json.RawMessage(`{}`))
		} else {
			err = fs.Abort()
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(sc); !os.IsNotExist(err) {
			t.Errorf("%s: scratch folder kept", end)
		}
		if _, err := os.Stat(filepath.Join(root, ".scratch")); !os.IsNotExist(err) {
			t.Errorf("%s: scratch published with the output", end)
		}
	}
}

// TestCommitKeepsTheSummaryOpaque: a store keeps the runtime's summary as
// the JSON document it was given (the store owns no summary type) and
// refuses one that is not JSON, keeping the previous output.
func TestCommitKeepsTheSummaryOpaque(t *testing.T) {
	ctx := context.Background()
	doc := json.RawMessage(`{"integration":"t","integrationStepResults":[{"id":"a","status":"whatever"}],"extra":{"n":1}}`)
	mem := store.NewMemory()
	if err := mem.Commit(ctx, doc); err != nil {
		t.Fatal(err)
	}
	doc[2] = 'X' // the store kept its own copy
	if got := string(mem.SummaryJSON()); got != `{"integration":"t","integrationStepResults":[{"id":"a","status":"whatever"}],"extra":{"n":1}}` {
		t.Errorf("memory summary %s", got)
	}

	root := filepath.Join(t.TempDir(), "out")
	fs, err := store.NewFilesystem(root, store.FilesystemOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := fs.Commit(ctx, json.RawMessage(`{"a":[1,2]}`)); err != nil {
		t.Fatal(err)
	}
	d, err := store.OpenDir(root)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string][]int
	if b, err := d.SummaryJSON(); err != nil || json.Unmarshal(b, &back) != nil || !slices.Equal(back["a"], []int{1, 2}) {
		t.Errorf("filesystem summary %s, %v", b, err)
	}

	bad, err := store.NewFilesystem(root, store.FilesystemOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := bad.Commit(ctx, json.RawMessage(`{"a":`)); err == nil {
		t.Fatal("Commit accepted a summary that is not JSON")
	}
	if b, err := d.SummaryJSON(); err != nil || !strings.Contains(string(b), `"a"`) {
		t.Errorf("previous output lost: %s, %v", b, err)
	}
}

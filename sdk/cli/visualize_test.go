package cli

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stepgraph/stepgraph/sdk/graphview"
	"github.com/stepgraph/stepgraph/sdk/store"
)

// collectForViz runs the test integration into a fresh output folder.
func collectForViz(t *testing.T, users int) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), ".j1-integration")
	a, out, errb := testApp(nil, baseEnv())
	r := runApp(t, context.Background(), a, out, errb, "collect", "--env-file", "", "--output", root, "--users", strconv.Itoa(users))
	if r.code != ExitOK {
		t.Fatalf("collect: exit %d\n%s", r.code, r.combinedOut)
	}
	return root
}

func TestVisualizeHTML(t *testing.T) {
	root := collectForViz(t, 5)
	a, out, errb := testApp(nil, nil)
	file := filepath.Join(t.TempDir(), "g.html")
	r := runApp(t, context.Background(), a, out, errb, "visualize", "--output", root, "--file", file, "--title", "five users")
	// 1 account + 5 users + 1 group; 5 mapped person placeholders.
	if r.code != ExitOK || !strings.Contains(r.stdout, "7 entities of 4 types, 15 relationships of 3 types") ||
		!strings.Contains(r.stdout, "5 targets of mapped relationships") {
		t.Fatalf("exit %d\n%s", r.code, r.combinedOut)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	if !strings.HasPrefix(page, "<!DOCTYPE html>") || !strings.Contains(page, "<title>five users — stepgraph visualize</title>") ||
		!strings.Contains(page, `id="graph-data"`) || !strings.Contains(page, `"test-user-0000"`) {
		t.Fatalf("page lacks its title or data")
	}
	for _, bad := range []string{`src="http`, `href="http`, "<link "} {
		if strings.Contains(page, bad) {
			t.Errorf("page loads something from the network: %q", bad)
		}
	}

	// DOT: the type-level graph with counts.
	r = runApp(t, context.Background(), a, out, errb, "visualize", "--output", root, "--format", "dot", "--file", "-")
	if r.code != ExitOK || !strings.HasPrefix(r.stdout, "digraph ") || !strings.Contains(r.stdout, `"test_group" -> "test_user" [label="HAS 5"`) ||
		!strings.Contains(r.stdout, "style=dashed") || !strings.HasSuffix(r.stdout, "}\n") {
		t.Fatalf("dot: exit %d\n%s", r.code, r.stdout)
	}
	// Missing folder.
	r = runApp(t, context.Background(), a, out, errb, "visualize", "--output", filepath.Join(root, "nope"))
	if r.code != ExitUsage {
		t.Fatalf("missing folder: exit %d", r.code)
	}
	// --from needs a binary that can open it.
	r = runApp(t, context.Background(), a, out, errb, "visualize", "--from", "postgres://x/y", "--file", file)
	if r.code != ExitUsage || !strings.Contains(r.stderr, "cannot open graphs other than collection folders") {
		t.Fatalf("--from without OpenGraph: exit %d\n%s", r.code, r.combinedOut)
	}
}

// TestVisualizeFrom draws a graph the binary opens (App.OpenGraph) and
// closes it afterwards.
func TestVisualizeFrom(t *testing.T) {
	root := collectForViz(t, 3)
	a, out, errb := testApp(nil, nil)
	var gotFrom, gotInst string
	closed := false
	a.OpenGraph = func(ctx context.Context, from, instance string) (graphview.Source, func(), error) {
		gotFrom, gotInst = from, instance
		if instance == "missing" {
			return nil, nil, errors.New("no instance missing")
		}
		d, err := openDirForTest(root)
		return d, func() { closed = true }, err
	}
	file := filepath.Join(t.TempDir(), "g.html")
	r := runApp(t, context.Background(), a, out, errb, "visualize", "--from", "db://here", "--instance", "acme", "--file", file)
	if r.code != ExitOK || gotFrom != "db://here" || gotInst != "acme" || !closed || !strings.Contains(r.stdout, "5 entities of 4 types") {
		t.Fatalf("exit %d from %q instance %q closed %v\n%s", r.code, gotFrom, gotInst, closed, r.combinedOut)
	}
	b, _ := os.ReadFile(file)
	if !strings.Contains(string(b), "instance acme") {
		t.Error("title does not name the instance")
	}
	r = runApp(t, context.Background(), a, out, errb, "visualize", "--from", "db://here", "--instance", "missing", "--file", file)
	if r.code == ExitOK || !strings.Contains(r.stderr, "no instance missing") {
		t.Fatalf("failing open: exit %d\n%s", r.code, r.combinedOut)
	}
}

func openDirForTest(root string) (*store.Dir, error) { return store.OpenDir(root) }

package cli

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
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

// parsePage checks the page's structure with the standard library and
// returns its decoded data block.
func parsePage(t *testing.T, page string) Visualization {
	t.Helper()
	if !strings.HasPrefix(page, "<!DOCTYPE html>") || !strings.HasSuffix(strings.TrimSpace(page), "</html>") {
		t.Fatalf("page is not a complete HTML document")
	}
	opens := len(regexp.MustCompile(`<script[\s>]`).FindAllString(page, -1))
	closes := strings.Count(page, "</script>")
	if opens != 3 || closes != 3 {
		t.Fatalf("script tags: %d opened, %d closed, want 3", opens, closes)
	}
	for _, bad := range []string{`src="http`, `href="http`, `src='http`, "@import", "<link "} {
		if strings.Contains(page, bad) {
			t.Errorf("page loads something from the network: %q", bad)
		}
	}
	const open = `<script type="application/json" id="graph-data">`
	i := strings.Index(page, open)
	if i < 0 {
		t.Fatal("no data block")
	}
	rest := page[i+len(open):]
	j := strings.Index(rest, "</script>")
	var v Visualization
	if err := json.Unmarshal([]byte(rest[:j]), &v); err != nil {
		t.Fatalf("data block is not JSON: %v", err)
	}
	if !strings.Contains(page, "cytoscape") || len(page) < len(cytoscapeJS) {
		t.Fatal("cytoscape.js is not embedded")
	}
	return v
}

func TestEmbeddedLibraryCannotCloseScript(t *testing.T) {
	for _, s := range []string{"</script", "<!--", "<script"} {
		if strings.Contains(strings.ToLower(cytoscapeJS), s) {
			t.Errorf("embedded cytoscape.js contains %q", s)
		}
	}
}

func TestVisualizeHTML(t *testing.T) {
	root := collectForViz(t, 5)
	a, out, errb := testApp(nil, nil)
	file := filepath.Join(t.TempDir(), "g.html")
	r := runApp(t, context.Background(), a, out, errb, "visualize", "--output", root, "--file", file)
	if r.code != ExitOK || !strings.Contains(r.stdout, "12 nodes, 15 relationships") {
		t.Fatalf("exit %d\n%s", r.code, r.combinedOut)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	v := parsePage(t, string(b))
	// 1 account + 5 users + 1 group, plus 5 mapped person placeholders.
	nodes, mapped := 0, 0
	colors := map[string]string{}
	for _, n := range v.Instances.Nodes {
		if n.Mapped {
			mapped++
			continue
		}
		nodes++
		if c, ok := colors[n.Type]; ok && c != n.Color {
			t.Errorf("type %s has two colours", n.Type)
		}
		colors[n.Type] = n.Color
	}
	if nodes != 7 || mapped != 5 || len(colors) != 3 || v.Truncated {
		t.Fatalf("nodes %d mapped %d types %d truncated %v", nodes, mapped, len(colors), v.Truncated)
	}
	labels := map[string]int{}
	for _, e := range v.Instances.Edges {
		labels[e.Label]++
	}
	if labels["HAS"] != 10 || labels["IS"] != 5 {
		t.Errorf("edge labels %v", labels)
	}
	if len(v.Model.Nodes) != 4 || len(v.Model.Edges) != 3 {
		t.Errorf("model view: %d types, %d relationship types", len(v.Model.Nodes), len(v.Model.Edges))
	}

	// Truncation keeps every type and says so.
	r = runApp(t, context.Background(), a, out, errb, "visualize", "--output", root, "--file", file, "--max-nodes", "4")
	if r.code != ExitOK || !strings.Contains(r.stderr, "Truncated: showing") {
		t.Fatalf("exit %d\n%s", r.code, r.combinedOut)
	}
	b, _ = os.ReadFile(file)
	v = parsePage(t, string(b))
	types := map[string]bool{}
	for _, n := range v.Instances.Nodes {
		types[n.Type] = true
	}
	if len(v.Instances.Nodes) > 4 || !v.Truncated || !types["test_account"] || !types["test_group"] || !types["test_user"] {
		t.Fatalf("truncated view: %d nodes, types %v", len(v.Instances.Nodes), types)
	}

	// DOT.
	r = runApp(t, context.Background(), a, out, errb, "visualize", "--output", root, "--format", "dot", "--file", "-")
	if r.code != ExitOK || !strings.HasPrefix(r.stdout, "digraph ") || !strings.Contains(r.stdout, `"test-group-admins" -> "test-user-0000" [label="HAS"];`) ||
		!strings.Contains(r.stdout, "style=dashed") || !strings.HasSuffix(r.stdout, "}\n") {
		t.Fatalf("dot: exit %d\n%s", r.code, r.stdout)
	}
	// Missing folder.
	r = runApp(t, context.Background(), a, out, errb, "visualize", "--output", filepath.Join(root, "nope"))
	if r.code != ExitUsage {
		t.Fatalf("missing folder: exit %d", r.code)
	}
}

func TestQuotas(t *testing.T) {
	counts := map[string]int{"a": 1000, "b": 10, "c": 1}
	q := quotas([]string{"a", "b", "c"}, counts, 1011, 100)
	if q["a"]+q["b"]+q["c"] != 100 || q["c"] != 1 || q["b"] < 1 {
		t.Fatalf("%v", q)
	}
	q = quotas([]string{"a", "b", "c"}, counts, 1011, 2)
	if q["a"]+q["b"]+q["c"] > 3 {
		t.Fatalf("%v", q)
	}
}

// TestVisualizeInChromium opens the page in headless Chromium and checks
// that cytoscape drew the nodes without console errors.
func TestVisualizeInChromium(t *testing.T) {
	chromium := "/usr/bin/chromium"
	if _, err := os.Stat(chromium); err != nil {
		t.Skip("chromium not installed")
	}
	if testing.Short() {
		t.Skip("short")
	}
	root := collectForViz(t, 30)
	a, out, errb := testApp(nil, nil)
	file := filepath.Join(t.TempDir(), "graph.html")
	if r := runApp(t, context.Background(), a, out, errb, "visualize", "--output", root, "--file", file); r.code != ExitOK {
		t.Fatalf("visualize: %s", r.combinedOut)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--user-data-dir="+t.TempDir(),
		"--virtual-time-budget=10000", "--dump-dom", "file://"+file)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	dom, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	page := string(dom)
	m := regexp.MustCompile(`<body[^>]*data-rendered-nodes="(\d+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("page did not render (no data-rendered-nodes); errors: %s", extractErrors(page))
	}
	// 1 account + 30 users + 1 group + 30 person placeholders.
	if m[1] != "62" {
		t.Errorf("rendered %s nodes, want 62", m[1])
	}
	if !regexp.MustCompile(`<body[^>]*data-errors="0"`).MatchString(page) {
		t.Errorf("console errors: %s", extractErrors(page))
	}
	if !strings.Contains(page, "62 nodes, 90 relationships") {
		t.Errorf("status line missing")
	}
}

func extractErrors(page string) string {
	m := regexp.MustCompile(`(?s)<pre id="errors">(.*?)</pre>`).FindStringSubmatch(page)
	if m == nil {
		return "(no errors element)"
	}
	return m[1]
}

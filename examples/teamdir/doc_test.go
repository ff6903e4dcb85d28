package teamdir_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestWritingAnIntegrationExcerpts: every Go snippet of
// docs/writing-an-integration.md marked <!-- excerpt: FILE --> is, line for
// line (indentation aside), a part of FILE, which the build compiles: the
// guide cannot drift from code that works.
func TestWritingAnIntegrationExcerpts(t *testing.T) {
	root := filepath.Join("..", "..")
	doc, err := os.ReadFile(filepath.Join(root, "docs", "writing-an-integration.md"))
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile("(?s)<!-- excerpt: (\\S+) -->\\n```go\\n(.*?)```")
	blocks := re.FindAllStringSubmatch(string(doc), -1)
	if len(blocks) < 8 {
		t.Fatalf("found %d marked excerpts, want at least 8", len(blocks))
	}
	norm := func(s string) []string {
		var out []string
		for _, l := range strings.Split(s, "\n") {
			if l = strings.TrimSpace(l); l != "" {
				out = append(out, l)
			}
		}
		return out
	}
	for _, b := range blocks {
		src, err := os.ReadFile(filepath.Join(root, b[1]))
		if err != nil {
			t.Errorf("excerpt of %s: %v", b[1], err)
			continue
		}
		want := strings.Join(norm(b[2]), "\n")
		if !strings.Contains(strings.Join(norm(string(src)), "\n"), want) {
			t.Errorf("this snippet is not in %s:\n%s", b[1], b[2])
		}
	}
}

package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stepgraph/stepgraph/sdk/modeldoc"
)

func TestDocumentCommand(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "docs", "test.md")
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	stale := "# Test\n\nIntro.\n\n" + modeldoc.MarkerStart + "\nold stuff\n" + modeldoc.MarkerEnd + "\n\nFooter.\n"
	if err := os.WriteFile(file, []byte(stale), 0o644); err != nil {
		t.Fatal(err)
	}
	a, out, errb := testApp(nil, nil)
	steps := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"document", "--file", file, "--check"}, ExitFailure, "is out of date (first difference at line 6)"},
		{[]string{"document", "--file", file}, ExitOK, "Updated the Data Model section"},
		{[]string{"document", "--file", file, "--check"}, ExitOK, "is up to date"},
		{[]string{"document", "--file", filepath.Join(dir, "missing.md")}, ExitFailure, "no such file"},
	}
	for _, s := range steps {
		r := runApp(t, context.Background(), a, out, errb, s.args...)
		if r.code != s.code || !strings.Contains(r.combinedOut, s.want) {
			t.Fatalf("%v: exit %d (want %d), output lacks %q:\n%s", s.args, r.code, s.code, s.want, r.combinedOut)
		}
	}
	b, _ := os.ReadFile(file)
	doc := string(b)
	for _, w := range []string{"# Test\n\nIntro.\n\n" + modeldoc.MarkerStart, "| Test User    | `test_user`    | `User`          |",
		"| `test_account`        | **HAS**               | `test_user`           |", "`*person*`", modeldoc.MarkerEnd + "\n\nFooter.\n"} {
		if !strings.Contains(doc, w) {
			t.Errorf("doc lacks %q:\n%s", w, doc)
		}
	}
}

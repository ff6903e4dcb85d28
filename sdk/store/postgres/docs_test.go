package postgres

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// docs/postgres.md shows every query file verbatim, and only those.
func TestDocShowsTheQueryFiles(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "postgres.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	qs := Queries()
	if len(qs) < 5 {
		t.Fatalf("%d queries", len(qs))
	}
	for _, q := range qs {
		if !strings.Contains(doc, "```sql\n"+q.SQL+"```\n") {
			t.Errorf("docs/postgres.md does not show queries/%s.sql verbatim", q.Name)
		}
		if !strings.Contains(doc, "`"+q.Name+".sql`") {
			t.Errorf("docs/postgres.md does not name queries/%s.sql", q.Name)
		}
	}
}

func TestQueryPositional(t *testing.T) {
	q, err := QueryByName("last-run-changes")
	if err != nil {
		t.Fatal(err)
	}
	if len(q.Params) != 2 || q.Params[0] != "integration" || q.Params[1] != "instance" {
		t.Fatalf("params %v", q.Params)
	}
	p := q.Positional()
	if strings.Contains(p, ":'") || !strings.Contains(p, "i.integration = $1 AND i.name = $2") {
		t.Fatalf("positional:\n%s", p)
	}
	if _, err := QueryByName("nope"); err == nil {
		t.Fatal("found a missing query")
	}
}

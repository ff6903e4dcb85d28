package scratch

import (
	"os"
	"path/filepath"
	"testing"
)

// TestTempRemovesDeadRunsLeftovers: the fallback scratch of stores
// without a staging folder.
func TestTempRemovesDeadRunsLeftovers(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	dead := filepath.Join(os.TempDir(), "stepgraph-scratch-1073741824-abc")
	if err := os.MkdirAll(dead, 0o700); err != nil {
		t.Fatal(err)
	}
	ts := NewTemp()
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Error("a dead run's temp scratch survived")
	}
	d, err := ts.ScratchDir()
	if err != nil {
		t.Fatal(err)
	}
	if err := ts.Remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(d); !os.IsNotExist(err) {
		t.Error("scratch kept after Remove")
	}
}

package runtime_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestRuntimeLinksNoTestLibrary: the runtime is in every integration's
// binary, so it must not link go-cmp (a test library) for its duplicate-key
// messages.
func TestRuntimeLinksNoTestLibrary(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/stepgraph/stepgraph/sdk/runtime").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "github.com/google/go-cmp") {
		t.Error("sdk/runtime depends on github.com/google/go-cmp")
	}
}

package store_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestStoresImportNoRuntime: arrows point down (sdk/runtime -> sdk/store ->
// sdk/graph). The stores keep the runtime's summary as an opaque JSON
// document and must not depend on the runtime that owns its type.
func TestStoresImportNoRuntime(t *testing.T) {
	for _, pkg := range []string{"./", "./postgres"} {
		out, err := exec.Command("go", "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", pkg, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			if dep == "github.com/stepgraph/stepgraph/sdk/runtime" || dep == "github.com/stepgraph/stepgraph/sdk/integration" {
				t.Errorf("store package %s depends on %s", pkg, dep)
			}
		}
	}
}

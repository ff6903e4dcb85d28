package sdktest_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestBinariesLinkNoTestKit: the test kit and the test libraries it uses
// (go-cmp for golden diffs, go-vcr for cassettes) and the store
// conformance suite stay out of every binary of the module (the okta
// binary, the example's teamdir binary, any added later).
func TestBinariesLinkNoTestKit(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{if eq .Name "main"}}{{.ImportPath}}{{end}}`, "github.com/stepgraph/stepgraph/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	mains := strings.Fields(string(out))
	if len(mains) < 2 {
		t.Fatalf("found binaries %v, want at least okta and teamdir", mains)
	}
	banned := []string{
		"github.com/google/go-cmp/",
		"gopkg.in/dnaeon/go-vcr.v4",
		"github.com/stepgraph/stepgraph/sdk/sdktest",
		"github.com/stepgraph/stepgraph/sdk/store/storetest",
	}
	for _, m := range mains {
		deps, err := exec.Command("go", "list", "-deps", m).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", m, err, deps)
		}
		for _, d := range strings.Fields(string(deps)) {
			for _, b := range banned {
				if strings.HasPrefix(d+"/", b) || strings.HasPrefix(d, b) {
					t.Errorf("binary %s links %s", m, d)
				}
			}
		}
	}
}

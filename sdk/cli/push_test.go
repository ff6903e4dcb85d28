package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCollectIntoPostgresAndPush collects the test integration straight
// into PostgreSQL, then pushes the same output again: the second load must
// change nothing. It needs the server that .ci/postgres.sh starts.
func TestCollectIntoPostgresAndPush(t *testing.T) {
	url := os.Getenv("STEPGRAPH_TEST_POSTGRES_URL")
	if url == "" {
		t.Skip("STEPGRAPH_TEST_POSTGRES_URL is not set (source .ci/postgres.sh to start a test server)")
	}
	ctx := context.Background()
	out := filepath.Join(t.TempDir(), "out")
	inst := fmt.Sprintf("cli-test-%d", time.Now().UnixNano()) // a fresh instance per run
	a, stdout, stderr := testApp(&testHooks{}, baseEnv())
	r := runApp(t, ctx, a, stdout, stderr, "collect", "--output", out, "--sink", url, "--instance", inst, "--progress", "off")
	if r.code != ExitOK {
		t.Fatalf("collect --sink: exit %d\n%s", r.code, r.combinedOut)
	}
	if !strings.Contains(r.stdout, "Database: instance ") || strings.Contains(r.stdout, " 0 added") {
		t.Errorf("collect --sink did not report a load that added objects:\n%s", r.stdout)
	}
	env := baseEnv()
	env["STEPGRAPH_POSTGRES_URL"] = url
	a, stdout, stderr = testApp(&testHooks{}, env)
	r = runApp(t, ctx, a, stdout, stderr, "push", "--instance", inst, out)
	if r.code != ExitOK {
		t.Fatalf("push: exit %d\n%s", r.code, r.combinedOut)
	}
	if !strings.Contains(r.stdout, "0 added, 0 changed, 0 removed") {
		t.Errorf("pushing the same collection again changed something:\n%s", r.stdout)
	}
	r = runApp(t, ctx, a, stdout, stderr, "push", "--instance", inst, filepath.Join(t.TempDir(), "missing"))
	if r.code != ExitUsage {
		t.Errorf("push of a missing folder: exit %d, want %d", r.code, ExitUsage)
	}
}

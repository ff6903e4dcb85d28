package cli

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLILinksNoDatabaseDriver: sinks are registered by binaries, so
// sdk/cli itself links no PostgreSQL driver.
func TestCLILinksNoDatabaseDriver(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/stepgraph/stepgraph/sdk/cli").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "github.com/jackc/pgx") {
		t.Error("sdk/cli depends on pgx")
	}
}

// TestSinksAreRegistered: --sink picks the registered sink by scheme and
// hands it the request; without one it is a usage error naming the
// schemes; a busy sink exits ExitBusy.
func TestSinksAreRegistered(t *testing.T) {
	root := filepath.Join(t.TempDir(), "out")
	a, out, errb := testApp(nil, baseEnv())
	r := runApp(t, context.Background(), a, out, errb, "collect", "--env-file", "", "--output", root, "--sink", "mem://x", "--progress", "off")
	if r.code != ExitUsage || !strings.Contains(r.combinedOut, "registers no database sink") {
		t.Fatalf("no sink registered: exit %d\n%s", r.code, r.combinedOut)
	}
	var got []SinkRequest
	busy := false
	a.Sinks = []Sink{{Name: "memory", Schemes: []string{"mem"}, URLEnv: "MEM_URL",
		Push: func(ctx context.Context, req SinkRequest) (fmt.Stringer, error) {
			got = append(got, req)
			if busy {
				return nil, fmt.Errorf("memory: %w", ErrSinkBusy)
			}
			return stringer("loaded"), nil
		}}}
	r = runApp(t, context.Background(), a, out, errb, "collect", "--env-file", "", "--output", root, "--sink", "mem://x", "--instance", "acme", "--progress", "off")
	if r.code != ExitOK || len(got) != 1 || got[0].Dir != root || got[0].Instance != "acme" || got[0].Integration != "test" || !strings.Contains(r.stdout, "Database: loaded") {
		t.Fatalf("collect --sink: exit %d, requests %+v\n%s", r.code, got, r.combinedOut)
	}
	r = runApp(t, context.Background(), a, out, errb, "push", "--sink", "pg://x", root)
	if r.code != ExitUsage || !strings.Contains(r.stderr, `no sink for scheme "pg" (sinks: mem)`) {
		t.Fatalf("push to an unknown scheme: exit %d\n%s", r.code, r.combinedOut)
	}
	busy = true
	r = runApp(t, context.Background(), a, out, errb, "push", "--sink", "mem://x", root)
	if r.code != ExitBusy || !errors.Is(fmt.Errorf("x: %w", ErrSinkBusy), ErrSinkBusy) {
		t.Fatalf("push to a busy sink: exit %d\n%s", r.code, r.combinedOut)
	}
}

type stringer string

func (s stringer) String() string { return string(s) }

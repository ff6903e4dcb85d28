package cli

import (
	"context"
	"strings"
	"testing"
)

// A binary's own commands are dispatched by name, get the arguments after
// their name, and are listed in the usage text.
func TestAppRunsAddedCommands(t *testing.T) {
	a, out, errb := testApp(&testHooks{}, baseEnv())
	a.NoSignals = true
	var got []string
	a.Commands = []Command{{Name: "instances", Summary: "manage instances", Run: func(ctx context.Context, args []string) int {
		got = args
		return 7
	}}}
	if code := a.Main(context.Background(), []string{"instances", "list", "--x"}); code != 7 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if strings.Join(got, " ") != "list --x" {
		t.Errorf("args: %q", got)
	}
	if code := a.Main(context.Background(), []string{"--help"}); code != ExitOK || !strings.Contains(out.String(), "instances  manage instances") {
		t.Errorf("usage (%d): %s", code, out.String())
	}
}

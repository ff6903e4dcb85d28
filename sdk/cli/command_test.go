package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/stepgraph/stepgraph/sdk/internal/collectiontest"
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

// A binary mounts a subset of the built-in commands, one of them under
// another name, next to its own: only those are dispatched and listed,
// the built-in ones parse their own flags (help included), and a name
// mounted twice is refused before anything runs.
func TestAppMountsComposedCommands(t *testing.T) {
	oldRoot, newRoot := collectiontest.DiffPair(t)
	a, out, errb := testApp(&testHooks{}, baseEnv())
	a.NoSignals = true
	diff := a.DiffCommand()
	a.Builtins = []Command{a.ValidateCommand(), {Name: "changes", Summary: "diff, renamed", Run: diff.Run}}
	ran := false
	a.Commands = []Command{{Name: "bench", Summary: "benchmark", Run: func(context.Context, []string) int { ran = true; return ExitOK }}}

	if code := a.Main(context.Background(), []string{"--help"}); code != ExitOK {
		t.Fatalf("usage: exit %d", code)
	}
	usage := out.String()
	for _, w := range []string{"  validate ", "  changes    diff, renamed", "  bench      benchmark"} {
		if !strings.Contains(usage, w) {
			t.Errorf("usage lacks %q:\n%s", w, usage)
		}
	}
	for _, notMounted := range []string{"collect", "document", "visualize", "diff", "push"} {
		if strings.Contains(usage, "  "+notMounted+" ") {
			t.Errorf("usage lists %s, not mounted:\n%s", notMounted, usage)
		}
		errb.Reset()
		if code := a.Main(context.Background(), []string{notMounted}); code != ExitUsage || !strings.Contains(errb.String(), "unknown command") {
			t.Errorf("%s: exit %d %s", notMounted, code, errb.String())
		}
	}

	out.Reset()
	if code := a.Main(context.Background(), []string{"changes", oldRoot, newRoot, "--fail-on", "test_user:added"}); code != ExitFailure ||
		!strings.Contains(out.String(), "test_user (entity): 1 added, 1 removed, 1 changed") {
		t.Errorf("changes: exit %d\n%s", code, out.String())
	}
	out.Reset()
	if code := a.Main(context.Background(), []string{"help", "changes"}); code != ExitOK || !strings.Contains(out.String(), "--fail-on") {
		t.Errorf("help changes: exit %d\n%s", code, out.String())
	}
	if code := a.Main(context.Background(), []string{"bench"}); code != ExitOK || !ran {
		t.Errorf("bench: exit %d, ran %v", code, ran)
	}

	// Every built-in command is exported, in usage order.
	var names []string
	for _, c := range a.BuiltinCommands() {
		names = append(names, c.Name)
	}
	if got := strings.Join(names, " "); got != "collect validate document visualize diff push" {
		t.Errorf("BuiltinCommands: %s", got)
	}

	a.Commands = append(a.Commands, Command{Name: "validate", Run: func(context.Context, []string) int { return ExitOK }})
	errb.Reset()
	if code := a.Main(context.Background(), []string{"bench"}); code != ExitUsage || !strings.Contains(errb.String(), `command "validate" is mounted twice`) {
		t.Errorf("duplicate: exit %d %s", code, errb.String())
	}
}

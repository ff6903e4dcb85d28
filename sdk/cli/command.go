package cli

import (
	"context"
	"fmt"
)

// Command is one command of a binary: a built-in one (App.CollectCommand,
// App.DiffCommand, ...) or the binary's own (for example the service
// commands of sdk/service/servicecli, or Okta's bench). Main dispatches to
// it by name and lists it in the usage text.
type Command struct {
	// Name is the command's name, e.g. "worker".
	Name string
	// Summary is the one-line description shown in the usage text.
	Summary string
	// Run runs the command with the arguments after its name and returns
	// the process exit code (see the Exit constants). It parses its own
	// flags, --help included. Under Main, ctx is cancelled by the first
	// SIGINT or SIGTERM unless App.NoSignals is set; a caller that runs a
	// Command itself cancels ctx as it sees fit.
	Run func(ctx context.Context, args []string) int
}

// CollectCommand returns the collect command: run the integration and
// write its output (and, with --sink, load it into a registered sink).
func (a *App[C]) CollectCommand() Command { return a.builtin(collectCommand[C]()) }

// ValidateCommand returns the validate command: check the configuration
// and probe the declared sources without collecting.
func (a *App[C]) ValidateCommand() Command { return a.builtin(validateCommand[C]()) }

// DocumentCommand returns the document command: regenerate (or --check)
// the Data Model section of the documentation (sdk/modeldoc).
func (a *App[C]) DocumentCommand() Command { return a.builtin(documentCommand[C]()) }

// VisualizeCommand returns the visualize command: draw a collected graph
// as one HTML page (sdk/graphview).
func (a *App[C]) VisualizeCommand() Command { return a.builtin(visualizeCommand[C]()) }

// DiffCommand returns the diff command: what changed between two
// collections, with --fail-on alert rules (sdk/graphdiff).
func (a *App[C]) DiffCommand() Command { return a.builtin(diffCommand[C]()) }

// PushCommand returns the push command: load a committed collection into
// one of the registered sinks (App.Sinks).
func (a *App[C]) PushCommand() Command { return a.builtin(pushCommand[C]()) }

// BuiltinCommands returns every built-in command in usage order: what
// Main mounts when App.Builtins is nil.
func (a *App[C]) BuiltinCommands() []Command {
	cmds := a.builtins()
	out := make([]Command, len(cmds))
	for i, c := range cmds {
		out[i] = a.builtin(c)
	}
	return out
}

// builtin makes a built-in command a Command of this App: Run parses the
// command's flags (printing its help for --help) and runs it.
func (a *App[C]) builtin(c command[C]) Command {
	return Command{Name: c.name, Summary: c.summary, Run: func(ctx context.Context, args []string) int {
		return a.runBuiltin(ctx, c, args)
	}}
}

// mounted returns the commands Main dispatches to: Builtins (default all
// built-in commands), then Commands. A name mounted twice, an unnamed
// command or one without Run is an error.
func (a *App[C]) mounted() ([]Command, error) {
	builtins := a.Builtins
	if builtins == nil {
		builtins = a.BuiltinCommands()
	}
	cmds := append(append([]Command(nil), builtins...), a.Commands...)
	seen := map[string]bool{}
	for _, c := range cmds {
		switch {
		case c.Name == "":
			return nil, fmt.Errorf("cli.App: a command has no name")
		case c.Run == nil:
			return nil, fmt.Errorf("cli.App: command %q has no Run", c.Name)
		case seen[c.Name]:
			return nil, fmt.Errorf("cli.App: command %q is mounted twice", c.Name)
		}
		seen[c.Name] = true
	}
	return cmds, nil
}

func findCommand(cmds []Command, name string) (Command, bool) {
	for _, c := range cmds {
		if c.Name == name {
			return c, true
		}
	}
	return Command{}, false
}

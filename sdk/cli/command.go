package cli

import "context"

// Command is a command a binary adds to its App next to the built-in ones
// (for example the service commands of sdk/service/servicecli). Main
// dispatches to it by name and lists it in the usage text.
type Command struct {
	// Name is the command's name, e.g. "worker".
	Name string
	// Summary is the one-line description shown in the usage text.
	Summary string
	// Run runs the command with the arguments after its name and returns
	// the process exit code (see the Exit constants). It parses its own
	// flags, --help included. ctx is cancelled by the first SIGINT or
	// SIGTERM unless App.NoSignals is set.
	Run func(ctx context.Context, args []string) int
}

package cli_test

import (
	"context"
	"fmt"
	"os"

	"github.com/stepgraph/stepgraph/sdk/cli"
	"github.com/stepgraph/stepgraph/sdk/graph"
	"github.com/stepgraph/stepgraph/sdk/integration"
)

type exampleConfig struct {
	Name string `config:"name" env:"EXAMPLE_NAME" help:"the account's name"`
}

// An integration's binary mounts the command line. Prepare sees the
// configuration before it is loaded: here it supplies a name when none is
// given, as a binary would start a demo server.
func ExampleApp() {
	integ := &integration.Integration[exampleConfig]{
		Name: "example",
		Steps: []integration.Step[exampleConfig]{{
			ID: "fetch-account", Name: "Fetch Account",
			Entities: []integration.EntityType{{Resource: "Account", Type: "example_account", Class: []string{"Account"}}},
			Run: func(ctx context.Context, sc *integration.StepContext[exampleConfig]) error {
				a := &graph.Entity{Key: "example_account:1", Type: "example_account", Class: []string{"Account"}, DisplayName: sc.Config.Name}
				return sc.AddEntities(ctx, a.Set("name", sc.Config.Name))
			},
		}},
	}
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	no := false
	app := &cli.App[exampleConfig]{
		Integration: integ,
		Prepare: func(_ context.Context, p *cli.Preparation) error {
			if p.Given["name"] == "" {
				p.Set["name"] = "Demo"
			}
			return nil
		},
		LookupEnv: func(string) (string, bool) { return "", false },
		Stdout:    new(discard), Stderr: new(discard), Terminal: &no, NoSignals: true,
	}
	code := app.Main(context.Background(), []string{"collect", "--env-file", "", "--output", dir, "--progress", "off"})
	fmt.Println("exit", code)
	// Output: exit 0
}

// A binary composes its own command set: some built-in commands (one of
// them wrapped under another name), none of the others, and a command of
// its own. Each command parses its own flags; Main only dispatches.
func ExampleApp_composedCommands() {
	integ := &integration.Integration[exampleConfig]{Name: "example", Steps: []integration.Step[exampleConfig]{{
		ID: "fetch-account", Name: "Fetch Account",
		Run: func(context.Context, *integration.StepContext[exampleConfig]) error { return nil },
	}}}
	app := &cli.App[exampleConfig]{Integration: integ, Stdout: os.Stdout, Stderr: os.Stdout, NoSignals: true}
	diff := app.DiffCommand()
	changes := cli.Command{Name: "changes", Summary: "what changed since the last collection", Run: func(ctx context.Context, args []string) int {
		if len(args) == 1 { // changes OLD: compare with the default output folder
			args = append(args, ".j1-integration")
		}
		return diff.Run(ctx, args)
	}}
	app.Builtins = []cli.Command{app.CollectCommand(), app.ValidateCommand(), changes}
	app.Commands = []cli.Command{{Name: "hello", Summary: "say hello", Run: func(_ context.Context, args []string) int {
		fmt.Println("hello", args)
		return cli.ExitOK
	}}}
	app.Main(context.Background(), []string{"hello", "world"})
	app.Main(context.Background(), []string{"--help"})
	// Output:
	// hello [world]
	// example: the example integration's command line.
	//
	// Usage:
	//   example <command> [flags] [args]
	//
	// Commands:
	//   collect    run the integration and write the collected graph to the output folder
	//   validate   check the configuration and which ingestion sources the credentials can read
	//   changes    what changed since the last collection
	//   hello      say hello
	//
	// Run 'example <command> --help' for a command's flags and examples.
	//
	// Exit codes: 0 ok, 1 failure (or diff changes / stale docs), 2 bad usage or config,
	// 3 authentication failed, 4 partial success, 130 interrupted.
}

type discard struct{}

func (*discard) Write(p []byte) (int, error) { return len(p), nil }

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

type discard struct{}

func (*discard) Write(p []byte) (int, error) { return len(p), nil }

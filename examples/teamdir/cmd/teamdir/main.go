// Command teamdir runs the teamdir example integration and writes its
// output to .j1-integration/. It is deliberately minimal; the reusable
// commands of sdk/cli are meant to replace it.
//
//	go run ./examples/teamdir/cmd/teamdir -fake            # against the in-repo fake API
//	TEAMDIR_BASE_URL=https://... TEAMDIR_API_TOKEN=... go run ./examples/teamdir/cmd/teamdir
//
// Configuration comes from the environment (TEAMDIR_BASE_URL,
// TEAMDIR_API_TOKEN, TEAMDIR_PAGE_SIZE, TEAMDIR_SKIP_TEAMS) or a .env file.
// The exit status is 0 on success, 1 when the run failed or could not
// start, and 3 when some steps failed (partial output was written).
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"

	"github.com/stepgraph/stepgraph/examples/teamdir"
	"github.com/stepgraph/stepgraph/examples/teamdir/fakeapi"
	"github.com/stepgraph/stepgraph/sdk/integration"
	"github.com/stepgraph/stepgraph/sdk/runtime"
	"github.com/stepgraph/stepgraph/sdk/store"
)

func main() {
	fake := flag.Bool("fake", false, "serve the sample directory from the in-repo fake API and collect it")
	out := flag.String("out", store.DefaultRoot, "output folder")
	dotenv := flag.String("env-file", ".env", "a .env file to read configuration from (missing is fine)")
	flag.Parse()
	os.Exit(run(*fake, *out, *dotenv))
}

func run(fake bool, out, dotenv string) int {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	var cfg teamdir.Config
	src := integration.Sources{DotEnv: dotenv}
	if fake {
		const token = "fake-api-token-0000"
		srv := fakeapi.Start(fakeapi.Sample(), token)
		defer srv.Close()
		src = integration.Sources{Flags: map[string]string{"baseUrl": srv.URL, "apiToken": token}}
	}
	if err := integration.LoadConfig(&cfg, src); err != nil {
		fmt.Fprintln(os.Stderr, "teamdir:", err)
		return 1
	}
	st, err := store.NewFilesystem(out, store.FilesystemOptions{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "teamdir:", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := runtime.Run(ctx, teamdir.New(teamdir.Options{}), &cfg, runtime.Options{Store: st, Logger: log})
	if err != nil {
		fmt.Fprintln(os.Stderr, "teamdir:", err)
		return 1
	}
	for _, s := range res.Summary.Steps {
		fmt.Printf("%-24s %-10s %v\n", s.ID, s.Status, s.EncounteredTypeCounts)
	}
	fmt.Printf("output written to %s\n", st.Root())
	if res.Partial() {
		return 3
	}
	return 0
}

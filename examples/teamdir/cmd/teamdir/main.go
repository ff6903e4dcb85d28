// Command teamdir is the teamdir example integration's binary: it mounts
// the stepgraph command line (collect, validate, document, visualize,
// diff, ...), as any integration's binary does.
//
//	go run ./examples/teamdir/cmd/teamdir collect     # no baseUrl: the in-repo fake API
//	TEAMDIR_BASE_URL=https://... TEAMDIR_API_TOKEN=... go run ./examples/teamdir/cmd/teamdir collect
//
// Configuration comes from flags, the environment (TEAMDIR_BASE_URL,
// TEAMDIR_API_TOKEN, TEAMDIR_PAGE_SIZE, TEAMDIR_SKIP_TEAMS) or a .env file.
// When neither a base URL nor a token is set, collect and validate serve
// the sample directory from package fakeapi on a loopback port and use it.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/stepgraph/stepgraph/examples/teamdir"
	"github.com/stepgraph/stepgraph/examples/teamdir/fakeapi"
	"github.com/stepgraph/stepgraph/sdk/cli"
)

func main() {
	app := &cli.App[teamdir.Config]{
		Integration: teamdir.New(teamdir.Options{}),
		Prepare:     demo,
	}
	os.Exit(app.Main(context.Background(), os.Args[1:]))
}

// demo serves the fake API when no directory is configured at all.
func demo(_ context.Context, p *cli.Preparation) error {
	if p.Given["baseUrl"] != "" || p.Given["apiToken"] != "" {
		return nil
	}
	const token = "fake-api-token-0000"
	srv := fakeapi.Start(fakeapi.Sample(), token)
	p.OnDone(srv.Close)
	p.Set["baseUrl"], p.Set["apiToken"] = srv.URL, token
	fmt.Fprintln(os.Stderr, "teamdir: no baseUrl or apiToken set: collecting the sample directory from the in-repo fake API")
	return nil
}

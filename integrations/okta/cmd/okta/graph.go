package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/stepgraph/stepgraph/sdk/graphview"
	"github.com/stepgraph/stepgraph/sdk/store/postgres"
)

// openGraph lets `okta visualize --from postgres://...` draw an instance of
// the PostgreSQL graph (cli.App.OpenGraph): the CLI package itself imports
// no database driver. The instance is okta/<instance>, or
// <integration>/<name> when instance names both.
func openGraph(ctx context.Context, from, instance string) (graphview.Source, func(), error) {
	if !postgres.IsURL(from) {
		return nil, nil, fmt.Errorf("--from %q: want a postgres:// URL", from)
	}
	inst := postgres.Instance{Integration: "okta", Name: instance}
	if strings.Contains(instance, "/") {
		var err error
		if inst, err = postgres.ParseInstance(instance); err != nil {
			return nil, nil, err
		}
	}
	db, err := postgres.Open(ctx, from, postgres.Options{})
	if err != nil {
		return nil, nil, err
	}
	g, err := db.ReadGraph(ctx, inst)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return g, func() { g.Close(); db.Close() }, nil
}

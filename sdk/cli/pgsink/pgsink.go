// Package pgsink registers the PostgreSQL graph database (package
// sdk/store/postgres) as a sink of the stepgraph command line. A binary
// that wants collect --sink postgres://... and push adds it to its App:
//
//	app := &cli.App[teamdir.Config]{Integration: teamdir.New(teamdir.Options{}), Sinks: []cli.Sink{pgsink.Sink()}}
//
// It is its own package so that sdk/cli, and binaries that do not register
// it, link no PostgreSQL driver.
package pgsink

import (
	"context"
	"errors"
	"fmt"

	"github.com/stepgraph/stepgraph/sdk/cli"
	"github.com/stepgraph/stepgraph/sdk/store/postgres"
)

// Sink returns the PostgreSQL sink: postgres:// and postgresql:// URLs,
// $STEPGRAPH_POSTGRES_URL for push, the schema of Options.Schema.
func Sink() cli.Sink {
	return cli.Sink{
		Name:    "PostgreSQL",
		Schemes: []string{"postgres", "postgresql"},
		URLEnv:  postgres.URLEnv,
		Push: func(ctx context.Context, req cli.SinkRequest) (fmt.Stringer, error) {
			res, err := postgres.PushURL(ctx, req.URL, req.Dir,
				postgres.Instance{Integration: req.Integration, Name: req.Instance},
				postgres.Options{Schema: req.Schema, Logger: req.Logger, AllowOlder: req.AllowOlder})
			if errors.Is(err, postgres.ErrBusy) {
				return nil, fmt.Errorf("%w: %w", cli.ErrSinkBusy, err)
			}
			if err != nil {
				return nil, err
			}
			return res, nil
		},
	}
}

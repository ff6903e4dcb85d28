package servicecli

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/stepgraph/stepgraph/sdk/cli"
	"github.com/stepgraph/stepgraph/sdk/service"
)

func (c *cmds) worker(ctx context.Context, args []string) int {
	d := c.opts.Worker
	fs := c.newFlagSet("worker", "worker [flags]", `Runs a service worker: a River client on the service's database that
collects instances of the integrations this binary contains on their
schedules (each collection goes to local disk first, then loads in one
transaction), evaluates the alert rules after each run and delivers alerts.
Run any number of workers, on any machines, against one database. A worker
killed mid-run has its job rescued by another worker after --rescue-after;
SIGTERM (or ctrl-C) stops fetching jobs and gives running collections
--shutdown-timeout to finish before they are cancelled and released.

Secrets are resolved on the worker: an instance with --secret apiKey=env:VAR
needs VAR in this worker's environment.`)
	db := c.addDBFlags(fs)
	collections := fs.Int("collections", max(d.Collections, 2), "collections this worker runs at once")
	every := fs.Duration("schedule-every", orDefault(d.ScheduleEvery, 10*time.Second), "period of the scheduling pass (queues each instance's next run)")
	timeout := fs.Duration("job-timeout", orDefault(d.JobTimeout, 2*time.Hour), "longest a collection may take")
	rescue := fs.Duration("rescue-after", d.RescueAfter, "hand a collection whose worker died to another worker after this (default job-timeout + 15m)")
	shutdown := fs.Duration("shutdown-timeout", orDefault(d.ShutdownTimeout, time.Minute), "on SIGTERM, how long running collections may finish")
	busy := fs.Duration("busy-retry", orDefault(d.BusyRetry, 30*time.Second), "when another run holds the instance, try again after this")
	expiry := fs.Duration("expiry-warning", orDefault(d.ExpiryWarning, service.DefaultExpiryWarning), "token expiry guard: warn when an instance has not succeeded for this long")
	metrics := fs.String("metrics", "", "serve Prometheus metrics on this address (e.g. :9464)")
	level := fs.String("log-level", "info", "log level: debug, info, warn, error")
	if _, code, ok := parse(fs, args); !ok {
		return code
	}
	log := c.logger(*level)
	if *collections < 1 {
		c.errorf("worker: --collections %d: want at least 1", *collections)
		return cli.ExitUsage
	}
	s, err := c.openConns(ctx, db, log, int32(2**collections+6))
	if err != nil {
		c.errorf("worker: %v", err)
		return cli.ExitFailure
	}
	defer s.Close()
	opts := d
	opts.Collections, opts.ScheduleEvery, opts.JobTimeout, opts.RescueAfter = *collections, *every, *timeout, *rescue
	opts.ShutdownTimeout, opts.BusyRetry, opts.ExpiryWarning, opts.Logger = *shutdown, *busy, *expiry, log
	if opts.LookupEnv == nil {
		opts.LookupEnv = c.lookupEnv
	}
	w, err := s.NewWorker(opts)
	if err != nil {
		c.errorf("worker: %v", err)
		return cli.ExitFailure
	}
	if *metrics != "" {
		ln, err := net.Listen("tcp", *metrics)
		if err != nil {
			c.errorf("worker: --metrics: %v", err)
			return cli.ExitUsage
		}
		srv := &http.Server{Handler: service.MetricsHandler(s, w), ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("metrics server", "err", err)
			}
		}()
		defer srv.Close()
		log.Info("metrics served", "addr", ln.Addr().String())
	}
	if err := w.Run(ctx); err != nil {
		c.errorf("worker: %v", err)
		return cli.ExitFailure
	}
	return cli.ExitOK
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

func (c *cmds) status(ctx context.Context, args []string) int {
	fs := c.newFlagSet("status", "status [flags]", "Shows the queue (jobs by kind and state), each instance's state and undelivered alerts.")
	db := c.addDBFlags(fs)
	if _, code, ok := parse(fs, args); !ok {
		return code
	}
	s, err := c.open(ctx, db, nil)
	if err != nil {
		c.errorf("status: %v", err)
		return cli.ExitFailure
	}
	defer s.Close()
	if err := service.WriteStatus(ctx, s, c.stdout()); err != nil {
		c.errorf("status: %v", err)
		return cli.ExitFailure
	}
	return cli.ExitOK
}

package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/stepgraph/stepgraph/sdk/graph"
	"github.com/stepgraph/stepgraph/sdk/integration"
	"github.com/stepgraph/stepgraph/sdk/internal/redact"
	"github.com/stepgraph/stepgraph/sdk/runtime"
	"github.com/stepgraph/stepgraph/sdk/store"
	"github.com/stepgraph/stepgraph/sdk/store/postgres"
)

// WorkerOptions configure a Worker. Zero values take the defaults.
type WorkerOptions struct {
	// Collections is how many collections this worker runs at once
	// (default 2).
	Collections int
	// ScheduleEvery is the period of the scheduling pass that queues each
	// enabled instance's next collection (default 10s). Only the River
	// leader among the workers enqueues it.
	ScheduleEvery time.Duration
	// JobTimeout bounds one collection (default 2h); a collection that
	// takes longer is cancelled and retried.
	JobTimeout time.Duration
	// RescueAfter is when a collection still marked running (its worker
	// died) is handed to another worker (default JobTimeout + 15m).
	RescueAfter time.Duration
	// ShutdownTimeout is how long a stopping worker lets running
	// collections finish before it cancels them and releases their jobs
	// (default 1m).
	ShutdownTimeout time.Duration
	// BusyRetry is how long a collection that finds its instance held by
	// another run waits before trying again (default 30s).
	BusyRetry time.Duration
	// ExpiryWarning is the token expiry guard: an instance whose last
	// successful collection is older than this is warned about (default
	// 25 days; Okta revokes tokens unused for 30).
	ExpiryWarning time.Duration
	// LookupEnv resolves env: secret references (default os.LookupEnv).
	LookupEnv func(string) (string, bool)
	// HTTPClient delivers webhooks (default: a client with a 30s timeout).
	HTTPClient *http.Client
	// ID names this worker in run records (default host:pid).
	ID string
	// Logger receives the worker's records (default: the service's).
	Logger *slog.Logger
}

func (o *WorkerOptions) defaults(s *Service) {
	if o.Collections <= 0 {
		o.Collections = 2
	}
	if o.ScheduleEvery <= 0 {
		o.ScheduleEvery = 10 * time.Second
	}
	if o.JobTimeout <= 0 {
		o.JobTimeout = 2 * time.Hour
	}
	if o.RescueAfter <= o.JobTimeout {
		o.RescueAfter = o.JobTimeout + 15*time.Minute
	}
	if o.ShutdownTimeout <= 0 {
		o.ShutdownTimeout = time.Minute
	}
	if o.BusyRetry <= 0 {
		o.BusyRetry = 30 * time.Second
	}
	if o.ExpiryWarning <= 0 {
		o.ExpiryWarning = DefaultExpiryWarning
	}
	if o.LookupEnv == nil {
		o.LookupEnv = os.LookupEnv
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if o.ID == "" {
		h, _ := os.Hostname()
		o.ID = fmt.Sprintf("%s:%d", h, os.Getpid())
	}
	if o.Logger == nil {
		o.Logger = s.log
	}
}

// DefaultExpiryWarning is the default token expiry guard: 25 days.
const DefaultExpiryWarning = 25 * 24 * time.Hour

// Worker runs collection jobs of the integrations in the service's
// registry, the scheduling pass and alert deliveries, as a River client.
// Any number of workers, on any machines, can share one database.
type Worker struct {
	s        *Service
	opts     WorkerOptions
	log      *slog.Logger
	client   *river.Client[pgx.Tx]
	stopping atomic.Bool
	stats    Stats
}

// Stats are a worker's counters since it started.
type Stats struct {
	// Runs counts collections by outcome (success, partial, failed,
	// busy, interrupted).
	Success, Partial, Failed, Busy, Interrupted atomic.Int64
	// Objects counts entities and relationships loaded.
	Objects atomic.Int64
	// AlertsFired and AlertsDelivered count alert events.
	AlertsFired, AlertsDelivered, AlertFailures atomic.Int64
}

// NewWorker builds a worker over s. Run starts it.
func (s *Service) NewWorker(opts WorkerOptions) (*Worker, error) {
	opts.defaults(s)
	if need := int32(2*opts.Collections + 4); s.pool.Config().MaxConns < need {
		return nil, fmt.Errorf("service: worker: %d collections need a pool of at least %d connections, the service has %d (Options.MaxConns)",
			opts.Collections, need, s.pool.Config().MaxConns)
	}
	w := &Worker{s: s, opts: opts, log: opts.Logger.With("worker", opts.ID)}
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &collectWorker{w: w}); err != nil {
		return nil, err
	}
	if err := river.AddWorkerSafely(workers, &scheduleWorker{w: w}); err != nil {
		return nil, err
	}
	if err := river.AddWorkerSafely(workers, &alertWorker{w: w}); err != nil {
		return nil, err
	}
	queues := map[string]river.QueueConfig{queueControl: {MaxWorkers: 4}}
	for _, name := range s.reg.Names() {
		queues[collectQueue(name)] = river.QueueConfig{MaxWorkers: opts.Collections}
	}
	client, err := river.NewClient(riverpgxv5.New(s.pool), &river.Config{
		Schema:               s.schema,
		ID:                   sanitizeID(opts.ID),
		Logger:               s.riverLogger(),
		Queues:               queues,
		Workers:              workers,
		JobTimeout:           opts.JobTimeout,
		RescueStuckJobsAfter: opts.RescueAfter,
		SoftStopTimeout:      opts.ShutdownTimeout,
		PeriodicJobs: []*river.PeriodicJob{river.NewPeriodicJob(
			river.PeriodicInterval(opts.ScheduleEvery),
			func() (river.JobArgs, *river.InsertOpts) {
				return ScheduleArgs{}, &river.InsertOpts{Queue: queueControl, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: activeStates}}
			},
			&river.PeriodicJobOpts{ID: kindSchedule, RunOnStart: true},
		)},
	})
	if err != nil {
		return nil, fmt.Errorf("service: worker: %w", err)
	}
	w.client = client
	return w, nil
}

func sanitizeID(id string) string {
	b := []byte(id)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			b[i] = '_'
		}
	}
	return string(b)
}

// Stats returns the worker's counters.
func (w *Worker) Stats() *Stats { return &w.stats }

// Run works jobs until ctx is cancelled, then stops gracefully: no new
// jobs are fetched, running collections get ShutdownTimeout to finish,
// after which they are cancelled, load nothing and are released for
// another worker. Run returns when the worker has stopped.
func (w *Worker) Run(ctx context.Context) error {
	if err := w.client.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("service: start worker: %w", err)
	}
	w.log.Info("worker started", "integrations", w.s.reg.Names(), "collections", w.opts.Collections)
	<-ctx.Done()
	w.stopping.Store(true)
	w.log.Info("worker stopping: finishing running jobs", "timeout", w.opts.ShutdownTimeout)
	stopCtx, cancel := context.WithTimeout(context.Background(), w.opts.ShutdownTimeout+time.Minute)
	defer cancel()
	if err := w.client.Stop(stopCtx); err != nil {
		if err := w.client.StopAndCancel(context.Background()); err != nil {
			return fmt.Errorf("service: stop worker: %w", err)
		}
	}
	w.log.Info("worker stopped")
	return nil
}

// jitter returns d ± up to 10%.
func jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.9 + 0.2*rand.Float64()))
}

// collectWorker runs one collection of an instance.
type collectWorker struct {
	river.WorkerDefaults[CollectArgs]
	w *Worker
}

// Work implements river.Worker.
func (cw *collectWorker) Work(ctx context.Context, job *river.Job[CollectArgs]) error {
	return cw.w.collect(ctx, job)
}

// outcome of a collection attempt, recorded in service_run.
type outcome struct {
	status string
	res    *postgres.PushResult
	err    error
}

func (w *Worker) collect(ctx context.Context, job *river.Job[CollectArgs]) error {
	s := w.s
	inst, err := s.Instance(ctx, job.Args.Instance)
	if errors.Is(err, ErrNotFound) {
		return river.JobCancel(fmt.Errorf("instance %s no longer exists", job.Args.Instance))
	}
	if err != nil {
		return err
	}
	log := w.log.With("instance", inst.Name, "integration", inst.Integration, "job", job.ID, "attempt", job.Attempt)
	def, ok := s.reg.defs[inst.Integration]
	if !ok {
		// Not reachable through the queues (one per integration), but
		// say so clearly if it ever is.
		return fmt.Errorf("integration %s is not in this worker", inst.Integration)
	}
	// Config and secrets first: a bad reference fails this instance's
	// run, before anything is collected or locked.
	values := make(map[string]string, len(inst.Config)+len(inst.Secrets))
	for k, v := range inst.Config {
		values[k] = v
	}
	var secrets []string
	for _, k := range sortedKeys(inst.Secrets) {
		v, err := inst.Secrets[k].Resolve(w.opts.LookupEnv)
		if err != nil {
			err = fmt.Errorf("config %s: %w", k, err)
			w.record(ctx, inst, job, 0, outcome{status: "failed", err: err})
			log.Error("collection not started", "err", err)
			return river.JobCancel(err)
		}
		values[k] = v
		secrets = append(secrets, v)
	}
	red := redact.New(secrets...)
	log = slog.New(redact.NewHandler(log.Handler(), secrets...))

	pg, err := postgres.NewStore(ctx, s.sink, inst.SinkInstance(), postgres.StoreOptions{})
	if errors.Is(err, postgres.ErrBusy) {
		w.stats.Busy.Add(1)
		w.record(ctx, inst, job, 0, outcome{status: "busy", err: err})
		log.Warn("instance busy: trying again later", "err", err, "in", w.opts.BusyRetry)
		return river.JobSnooze(jitter(w.opts.BusyRetry))
	}
	if err != nil {
		w.record(ctx, inst, job, 0, outcome{status: "failed", err: err})
		return err
	}
	// We hold the instance: record the run (an older run still marked
	// running died with its worker).
	runID, err := w.startRun(ctx, inst, job, pg.RunID())
	if err != nil {
		_ = pg.Abort()
		return err
	}
	var st store.Store = pg
	if inst.TagAccountName {
		st = &tagStore{Store: st, account: inst.Name}
	}
	st = &guardStore{Store: st, job: ctx}
	log.Info("collection started")
	res, err := def.collect(ctx, inst, values, st, log)
	o := outcome{res: pg.Result(), err: err}
	switch {
	case ctx.Err() != nil:
		o.status = "interrupted"
		o.res = nil
		if o.err == nil {
			o.err = context.Cause(ctx)
		}
	case o.res != nil && res != nil && res.Summary.NoneSucceeded():
		// Loaded (harmlessly: failed steps delete nothing), but nothing
		// was collected: a failure, retried like one.
		o.status = "failed"
		o.err = fmt.Errorf("no step succeeded: %s", firstStepError(res.Summary))
	case o.res != nil:
		o.status = o.res.Status // success or partial
	default:
		o.status = "failed"
		if o.err == nil {
			o.err = errors.New("the collection ended without loading anything")
		}
	}
	if o.err != nil {
		o.err = errors.New(red.Redact(o.err.Error()))
	}
	w.finishRun(ctx, runID, o)
	switch o.status {
	case "success", "partial":
		if o.status == "success" {
			w.stats.Success.Add(1)
		} else {
			w.stats.Partial.Add(1)
		}
		w.stats.Objects.Add(o.res.Entities + o.res.Relationships)
		log.Info("collection loaded", "status", o.status, "run", o.res.RunID, "entities", o.res.Entities, "relationships", o.res.Relationships,
			"added", o.res.Added, "changed", o.res.Changed, "removed", o.res.Removed)
		if err := s.evaluateAlerts(context.WithoutCancel(ctx), inst, w); err != nil {
			// The changes stay unevaluated; the next run covers them.
			log.Error("alert rules not evaluated (the next run retries)", "err", err)
		}
		return nil
	case "interrupted":
		w.stats.Interrupted.Add(1)
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			log.Error("collection timed out: nothing loaded", "timeout", w.opts.JobTimeout)
			return o.err
		}
		if w.stopping.Load() {
			log.Warn("worker stopping: collection cancelled, nothing loaded, job released for another worker")
			return river.JobSnooze(0)
		}
		log.Warn("collection cancelled: nothing loaded")
		return river.JobCancel(o.err)
	}
	w.stats.Failed.Add(1)
	log.Error("collection failed: nothing loaded", "err", o.err)
	var cfgErr *integration.ConfigError
	if res == nil && errors.As(err, &cfgErr) {
		// Retrying cannot help; the next scheduled run tries again.
		return river.JobCancel(o.err)
	}
	return o.err
}

func firstStepError(s *runtime.Summary) string {
	for _, st := range s.Steps {
		if st.Error != "" {
			return fmt.Sprintf("%s: %s", st.ID, st.Error)
		}
	}
	return "every step failed"
}

// startRun records a running collection and marks older running ones
// abandoned (the caller holds the instance lock, so they are dead).
func (w *Worker) startRun(ctx context.Context, inst *Instance, job *river.Job[CollectArgs], syncRun int64) (int64, error) {
	var id int64
	err := w.s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE service_run SET status = 'abandoned', ended_at = now(),
			error = 'the worker running it stopped without finishing' WHERE instance_id = $1 AND status = 'running'`, inst.ID); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `INSERT INTO service_run (instance_id, job_id, attempt, worker, status, sync_run_id)
			VALUES ($1, $2, $3, $4, 'running', $5) RETURNING id`, inst.ID, job.ID, job.Attempt, w.opts.ID, syncRun).Scan(&id)
	})
	if err != nil {
		return 0, fmt.Errorf("record run of %s: %w", inst.Name, err)
	}
	return id, nil
}

func (w *Worker) finishRun(ctx context.Context, runID int64, o outcome) {
	ctx = context.WithoutCancel(ctx)
	var msg *string
	if o.err != nil {
		m := o.err.Error()
		msg = &m
	}
	var ents, rels, add, chg, rem int64
	if o.res != nil {
		ents, rels, add, chg, rem = o.res.Entities, o.res.Relationships, o.res.Added, o.res.Changed, o.res.Removed
	}
	if _, err := w.s.pool.Exec(ctx, `UPDATE service_run SET status = $2, ended_at = now(), error = $3,
		entities = $4, relationships = $5, added = $6, changed = $7, removed = $8 WHERE id = $1`,
		runID, o.status, msg, ents, rels, add, chg, rem); err != nil {
		w.log.Error("could not record the end of a run", "run", runID, "err", err)
	}
}

// record writes a run that ended before it held the instance.
func (w *Worker) record(ctx context.Context, inst *Instance, job *river.Job[CollectArgs], syncRun int64, o outcome) {
	ctx = context.WithoutCancel(ctx)
	var msg *string
	if o.err != nil {
		m := o.err.Error()
		msg = &m
	}
	if _, err := w.s.pool.Exec(ctx, `INSERT INTO service_run (instance_id, job_id, attempt, worker, status, ended_at, error)
		VALUES ($1, $2, $3, $4, $5, now(), $6)`, inst.ID, job.ID, job.Attempt, w.opts.ID, o.status, msg); err != nil {
		w.log.Error("could not record a run", "instance", inst.Name, "err", err)
	}
}

// tagStore gives every entity tag.AccountName.
type tagStore struct {
	store.Store
	account string
}

// AccountNameTag is the property "tag with account name" sets.
const AccountNameTag = "tag.AccountName"

func (t *tagStore) AddEntities(ctx context.Context, stepID string, es []*graph.Entity) error {
	for _, e := range es {
		e.Set(AccountNameTag, t.account)
	}
	return t.Store.AddEntities(ctx, stepID, es)
}

// guardStore refuses to load a collection whose job was cancelled (worker
// stopping, instance removed, timeout): a half-done run changes nothing.
type guardStore struct {
	store.Store
	job context.Context
}

func (g *guardStore) Commit(ctx context.Context, sum json.RawMessage) error {
	if g.job.Err() != nil {
		_ = g.Store.Abort()
		return fmt.Errorf("collection not loaded: %w", context.Cause(g.job))
	}
	return g.Store.Commit(ctx, sum)
}

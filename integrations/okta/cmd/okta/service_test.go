package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/stepgraph/stepgraph/integrations/okta"
	"github.com/stepgraph/stepgraph/integrations/okta/oktafake"
	"github.com/stepgraph/stepgraph/sdk/cli"
	"github.com/stepgraph/stepgraph/sdk/httpclient"
	"github.com/stepgraph/stepgraph/sdk/service"
)

// routesEnv turns the test binary into a service worker (see TestMain):
// "host=baseURL;..." sends each instance's requests to the fake org
// serving its orgUrl's host.
const routesEnv = "STEPGRAPH_TEST_WORKER_ROUTES"

func TestMain(m *testing.M) {
	if routes, ok := os.LookupEnv(routesEnv); ok {
		os.Exit(testWorkerMain(routes, os.Args[1:]))
	}
	os.Exit(m.Run())
}

// testWorkerMain is the okta binary's worker command with each instance
// routed to its fake org: the same servicecli command, registry and
// okta collector, only the base URL differs.
func testWorkerMain(routes string, args []string) int {
	base := map[string]string{}
	for _, r := range strings.Split(routes, ";") {
		if host, u, ok := strings.Cut(r, "="); ok {
			base[host] = u
		}
	}
	optsFor := func(inst *service.Instance) okta.Options {
		u, _ := url.Parse(inst.Config["orgUrl"])
		return okta.Options{
			BaseURL: base[u.Host],
			Now:     func() time.Time { return oktafake.DefaultNow },
			HTTP: func(c *httpclient.Config) {
				c.BackoffMin = 5 * time.Millisecond
				c.BackoffMax = 50 * time.Millisecond
			},
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	reg := serviceRegistry(okta.NewCollector(okta.Options{}), optsFor)
	for _, c := range serviceCommands(reg, os.LookupEnv, os.Stdout, os.Stderr) {
		if len(args) > 0 && c.Name == args[0] {
			return c.Run(ctx, args[1:])
		}
	}
	fmt.Fprintf(os.Stderr, "test worker: unknown command %v\n", args)
	return 2
}

// svcEnv is one test's database schema, fake orgs and workers.
type svcEnv struct {
	t      testing.TB
	url    string
	schema string
	pool   *pgxpool.Pool
	orgs   map[string]*oktafake.Org // by instance name
	routes []string
	env    []string // extra environment of the workers

	mu      sync.Mutex
	workers []*testWorker
}

type testWorker struct {
	cmd  *exec.Cmd
	out  *bytes.Buffer
	done chan error
}

func newSvcEnv(t testing.TB) *svcEnv {
	t.Helper()
	u := os.Getenv("STEPGRAPH_TEST_POSTGRES_URL")
	if u == "" {
		t.Skip("STEPGRAPH_TEST_POSTGRES_URL is not set: no PostgreSQL to test against (run `source .ci/postgres.sh` first)")
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	e := &svcEnv{t: t, url: u, schema: "svc_okta_" + hex.EncodeToString(b[:]), orgs: map[string]*oktafake.Org{}}
	cfg, err := pgxpool.ParseConfig(u)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = e.schema
	if e.pool, err = pgxpool.NewWithConfig(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		e.stopAll()
		_, _ = e.pool.Exec(context.Background(), `DROP SCHEMA IF EXISTS `+pgx.Identifier{e.schema}.Sanitize()+` CASCADE`)
		e.pool.Close()
	})
	return e
}

// addOrg serves a fake org and registers it as instance name with the
// given interval, through the okta binary's `instances add`.
func (e *svcEnv) addOrg(name string, spec oktafake.OrgSpec, sopts oktafake.ServerOptions, interval string) {
	t := e.t
	t.Helper()
	host := name + ".okta.com"
	org := oktafake.NewOrg(spec)
	if sopts.Window == 0 {
		sopts.Window = time.Second
	}
	sopts.ObjectBaseURL = "https://" + host
	srv, err := oktafake.Start(org, sopts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	e.orgs[name] = org
	e.routes = append(e.routes, host+"="+srv.URL)
	envName := "OKTA_TOKEN_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
	e.env = append(e.env, envName+"="+oktafake.DefaultToken)
	e.cli(0, "instances", "add", name, "--description", "fake org "+name, "--interval", interval,
		"--set", "orgUrl=https://"+host, "--secret", "apiKey=env:"+envName)
}

// cli runs the okta binary's command line (in process) and checks its
// exit code; it returns stdout.
func (e *svcEnv) cli(want int, args ...string) string {
	e.t.Helper()
	var out, errb bytes.Buffer
	args = append(args, "--database", e.url, "--schema", e.schema)
	code := run(context.Background(), args, func(string) (string, bool) { return "", false }, &out, &errb)
	if code != want {
		e.t.Fatalf("okta %v: exit %d, want %d\n%s%s", args, code, want, out.String(), errb.String())
	}
	return out.String() + errb.String()
}

// startWorker starts a worker process (this test binary in worker mode).
func (e *svcEnv) startWorker(extra ...string) *testWorker {
	e.t.Helper()
	args := append([]string{"worker", "--database", e.url, "--schema", e.schema, "--schedule-every", "1s",
		"--job-timeout", "20s", "--rescue-after", "21s", "--shutdown-timeout", "10s", "--busy-retry", "1s", "--collections", "2"}, extra...)
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), routesEnv+"="+strings.Join(e.routes, ";")), e.env...)
	w := &testWorker{cmd: cmd, out: &bytes.Buffer{}, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = &lockedWriter{w: w.out}, &lockedWriter{w: w.out}
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	go func() { w.done <- cmd.Wait() }()
	e.mu.Lock()
	e.workers = append(e.workers, w)
	e.mu.Unlock()
	return w
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (w *testWorker) output() string {
	lw := w.cmd.Stderr.(*lockedWriter)
	lw.mu.Lock()
	defer lw.mu.Unlock()
	return w.out.String()
}

// stop sends SIGTERM and waits for the worker to exit; it returns the exit error.
func (w *testWorker) stop(t testing.TB) error {
	t.Helper()
	_ = w.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-w.done:
		w.done <- err
		return err
	case <-time.After(2 * time.Minute):
		_ = w.cmd.Process.Kill()
		t.Fatalf("worker %d did not stop on SIGTERM:\n%s", w.cmd.Process.Pid, w.output())
		return nil
	}
}

func (e *svcEnv) stopAll() {
	e.mu.Lock()
	ws := e.workers
	e.workers = nil
	e.mu.Unlock()
	for _, w := range ws {
		_ = w.cmd.Process.Kill()
		<-w.done
		if e.t.Failed() {
			e.t.Logf("worker %d output:\n%s", w.cmd.Process.Pid, w.output())
		}
	}
}

// eventually polls cond until it holds or the deadline passes.
func (e *svcEnv) eventually(what string, deadline time.Duration, cond func() (bool, string)) {
	e.t.Helper()
	end := time.Now().Add(deadline)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(end) {
			e.t.Fatalf("%s: not reached within %s; last state: %s", what, deadline, state)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (e *svcEnv) queryInt(q string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.pool.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		e.t.Fatalf("%s: %v", q, err)
	}
	return n
}

func (e *svcEnv) keys(q string, args ...any) []string {
	e.t.Helper()
	rows, err := e.pool.Query(context.Background(), q, args...)
	if err != nil {
		e.t.Fatalf("%s: %v", q, err)
	}
	ks, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		e.t.Fatal(err)
	}
	sort.Strings(ks)
	return ks
}

// successes counts an instance's loaded runs.
func (e *svcEnv) successes(name string) int {
	return e.queryInt(`SELECT count(*) FROM service_run r JOIN service_instance i ON i.id = r.instance_id
		WHERE i.name = $1 AND r.status IN ('success', 'partial')`, name)
}

// checkTruth compares an instance's graph with its fake org.
func (e *svcEnv) checkTruth(name string) {
	e.t.Helper()
	truth := e.orgs[name].Truth()
	var users, groups, apps []string
	for _, u := range truth.Users {
		users = append(users, u.ID)
	}
	for _, g := range truth.Groups {
		groups = append(groups, g.ID)
	}
	for _, a := range truth.Apps {
		apps = append(apps, a.ID)
	}
	sort.Strings(users)
	sort.Strings(groups)
	sort.Strings(apps)
	inst := `(SELECT id FROM instance WHERE integration = 'okta' AND name = $1)`
	if got := e.keys(`SELECT key FROM entity WHERE instance_id = `+inst+` AND type = 'okta_user'`, name); !slices.Equal(got, users) {
		e.t.Errorf("%s: users %d, truth %d", name, len(got), len(users))
	}
	if got := e.keys(`SELECT key FROM entity WHERE instance_id = `+inst+` AND type IN ('okta_user_group', 'okta_app_user_group')`, name); !slices.Equal(got, groups) {
		e.t.Errorf("%s: groups %d, truth %d", name, len(got), len(groups))
	}
	if got := e.keys(`SELECT key FROM entity WHERE instance_id = `+inst+` AND type = 'okta_application'`, name); !slices.Equal(got, apps) {
		e.t.Errorf("%s: apps %d, truth %d", name, len(got), len(apps))
	}
	members := 0
	for _, g := range truth.Groups {
		members += len(g.MemberIDs)
	}
	if got := e.queryInt(`SELECT count(*) FROM relationship WHERE instance_id = `+inst+` AND class = 'HAS' AND from_key <> to_key
		AND from_key IN (SELECT key FROM entity WHERE instance_id = `+inst+` AND type IN ('okta_user_group', 'okta_app_user_group'))`, name); got != members {
		e.t.Errorf("%s: memberships %d, truth %d", name, got, members)
	}
	if n := e.queryInt(`SELECT count(*) FROM entity WHERE instance_id = `+inst+` AND properties->>'tag.AccountName' IS DISTINCT FROM $1`, name); n != 0 {
		e.t.Errorf("%s: %d entities without tag.AccountName = %s", name, n, name)
	}
}

// checkNoOverlap fails when two runs of one instance overlapped.
func (e *svcEnv) checkNoOverlap() {
	e.t.Helper()
	if n := e.queryInt(`SELECT count(*) FROM service_run a JOIN service_run b ON a.instance_id = b.instance_id AND a.id < b.id
		WHERE a.status NOT IN ('busy') AND b.status NOT IN ('busy') AND a.started_at IS NOT NULL
		  AND tstzrange(a.started_at, coalesce(a.ended_at, 'infinity')) && tstzrange(b.started_at, coalesce(b.ended_at, 'infinity'))
		  AND a.status <> 'abandoned'`); n != 0 {
		e.t.Errorf("%d pairs of overlapping runs of one instance", n)
	}
	if n := e.queryInt(`SELECT count(*) FROM sync_run a JOIN sync_run b ON a.instance_id = b.instance_id AND a.id < b.id
		WHERE a.status <> 'abandoned' AND tstzrange(a.started_at, coalesce(a.ended_at, 'infinity')) && tstzrange(b.started_at, coalesce(b.ended_at, 'infinity'))`); n != 0 {
		e.t.Errorf("%d pairs of overlapping sync runs of one instance", n)
	}
}

// Three worker processes collect twelve instances on distinct fake orgs on
// short intervals: each is collected again and again, its graph matches
// its org, and no two runs of an instance overlap. A secret reference that
// does not resolve fails that instance's runs (not the workers); removing
// an instance forgets its graph and stops its schedule; SIGTERM stops the
// workers cleanly.
func TestServiceWorkersCollectManyOrgs(t *testing.T) {
	e := newSvcEnv(t)
	var names []string
	for i := range 12 {
		name := fmt.Sprintf("org%02d", i+1)
		names = append(names, name)
		e.addOrg(name, oktafake.OrgSpec{Users: 20 + i, Seed: int64(100 + i), Name: name}, oktafake.ServerOptions{}, "3s")
	}
	e.cli(0, "instances", "add", "broken", "--interval", "3s", "--set", "orgUrl=https://broken.okta.com", "--secret", "apiKey=env:OKTA_TOKEN_NOT_SET_ANYWHERE")
	for range 3 {
		e.startWorker()
	}
	e.eventually("every instance collected twice", 4*time.Minute, func() (bool, string) {
		var behind []string
		for _, n := range names {
			if c := e.successes(n); c < 2 {
				behind = append(behind, fmt.Sprintf("%s:%d", n, c))
			}
		}
		return len(behind) == 0, strings.Join(behind, " ")
	})
	for _, n := range names {
		e.checkTruth(n)
	}
	e.checkNoOverlap()
	// Runs spread over the workers.
	if n := e.queryInt(`SELECT count(DISTINCT worker) FROM service_run WHERE status = 'success'`); n < 2 {
		t.Errorf("only %d worker(s) ran collections", n)
	}

	status := e.cli(0, "status")
	for _, w := range e.workers {
		if !strings.Contains(status, ":"+strconv.Itoa(w.cmd.Process.Pid)+" ") {
			t.Errorf("status does not list worker %d:\n%s", w.cmd.Process.Pid, status)
		}
	}

	// The broken instance fails with a clear error; the workers live on.
	e.eventually("broken instance failed", time.Minute, func() (bool, string) {
		return e.queryInt(`SELECT count(*) FROM service_run r JOIN service_instance i ON i.id = r.instance_id WHERE i.name = 'broken' AND r.status = 'failed'`) > 0, ""
	})
	var msg string
	if err := e.pool.QueryRow(context.Background(), `SELECT r.error FROM service_run r JOIN service_instance i ON i.id = r.instance_id WHERE i.name = 'broken' ORDER BY r.id DESC LIMIT 1`).Scan(&msg); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(msg, "secret reference env:OKTA_TOKEN_NOT_SET_ANYWHERE: environment variable OKTA_TOKEN_NOT_SET_ANYWHERE is not set on this worker") {
		t.Errorf("broken instance's error: %q", msg)
	}
	if n := e.queryInt(`SELECT count(*) FROM instance WHERE name = 'broken'`); n != 0 {
		t.Errorf("the broken instance reached the graph")
	}
	list := e.cli(0, "instances", "list")
	if !strings.Contains(list, "broken") || !regexpMatch(`(?m)^broken\s+okta\s+3s\s+failed\s.*\s[1-9]\d*\s*$`, list) || !regexpMatch(`(?m)^org01\s+okta\s+3s\s`, list) {
		t.Errorf("instances list:\n%s", list)
	}

	// Remove org01: its graph goes, its schedule stops.
	out := e.cli(0, "instances", "remove", "org01", "--yes")
	if !strings.Contains(out, "forgot its graph") {
		t.Errorf("remove: %s", out)
	}
	if n := e.queryInt(`SELECT count(*) FROM instance WHERE integration = 'okta' AND name = 'org01'`); n != 0 {
		t.Errorf("org01's graph is still there")
	}
	marks := map[string]int{}
	for _, n := range names[1:] {
		marks[n] = e.successes(n)
	}
	e.eventually("the other instances collected again", 2*time.Minute, func() (bool, string) {
		for _, n := range names[1:] {
			if e.successes(n) < marks[n]+1 {
				return false, n
			}
		}
		return true, ""
	})
	if n := e.queryInt(`SELECT count(*) FROM river_job WHERE kind = 'stepgraph_collect' AND args->>'instance' = 'org01'
		AND state IN ('available', 'pending', 'running', 'retryable', 'scheduled')`); n != 0 {
		t.Errorf("org01 still has %d collection jobs", n)
	}
	if n := e.queryInt(`SELECT count(*) FROM instance WHERE integration = 'okta' AND name = 'org01'`); n != 0 {
		t.Errorf("org01 was collected again after its removal")
	}
	e.checkNoOverlap()

	for _, w := range e.workers {
		if err := w.stop(t); err != nil {
			t.Errorf("worker exit after SIGTERM: %v\n%s", err, w.output())
		}
		if !strings.Contains(w.output(), "worker stopped") {
			t.Errorf("worker did not report a clean stop:\n%s", w.output())
		}
	}
	if n := e.queryInt(`SELECT count(*) FROM service_run WHERE status = 'running'`); n != 0 {
		t.Errorf("%d runs still marked running after a graceful stop", n)
	}
}

func regexpMatch(re, s string) bool {
	return regexpMust(re).MatchString(s)
}

func regexpMust(re string) *regexp.Regexp { return regexp.MustCompile(re) }

// workerOf returns the worker process that runs the instance's running
// collection, from the run record (worker = host:pid).
func (e *svcEnv) runningWorker(name string) (*testWorker, int64, bool) {
	var worker string
	var id int64
	err := e.pool.QueryRow(context.Background(), `SELECT r.worker, r.id FROM service_run r JOIN service_instance i ON i.id = r.instance_id
		WHERE i.name = $1 AND r.status = 'running' ORDER BY r.id DESC LIMIT 1`, name).Scan(&worker, &id)
	if err != nil {
		return nil, 0, false
	}
	_, pid, _ := strings.Cut(worker, ":")
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, w := range e.workers {
		if strconv.Itoa(w.cmd.Process.Pid) == pid {
			return w, id, true
		}
	}
	return nil, 0, false
}

// kill -9 of the worker in the middle of a collection: the job is rescued
// and completed by another worker, the graph matches the org (nothing
// duplicated or missing) and the change log shows no removals.
func TestServiceKilledWorkerJobIsRescued(t *testing.T) {
	e := newSvcEnv(t)
	// A slow org: every request takes 40ms, so a collection lasts seconds.
	e.addOrg("slow", oktafake.OrgSpec{Users: 150, Seed: 7, Name: "slow"}, oktafake.ServerOptions{Latency: 40 * time.Millisecond, DisableRateLimits: true}, "DISABLED")
	e.startWorker()
	e.startWorker()
	e.cli(0, "instances", "run", "slow")
	var victim *testWorker
	var killedRun int64
	e.eventually("a worker is collecting", time.Minute, func() (bool, string) {
		var ok bool
		victim, killedRun, ok = e.runningWorker("slow")
		return ok, "no running collection"
	})
	if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-victim.done
	victim.done <- nil
	killedPID := victim.cmd.Process.Pid
	e.eventually("the rescued job completed on another worker", 4*time.Minute, func() (bool, string) {
		return e.successes("slow") == 1, fmt.Sprintf("successes %d", e.successes("slow"))
	})
	var worker, status string
	if err := e.pool.QueryRow(context.Background(), `SELECT worker, status FROM service_run WHERE status IN ('success', 'partial')`).Scan(&worker, &status); err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(worker, ":"+strconv.Itoa(killedPID)) || status != "success" {
		t.Errorf("completed by %s (killed pid %d), status %s", worker, killedPID, status)
	}
	if err := e.pool.QueryRow(context.Background(), `SELECT status FROM service_run WHERE id = $1`, killedRun).Scan(&status); err != nil || status != "abandoned" {
		t.Errorf("the killed run is %q (%v), want abandoned", status, err)
	}
	e.eventually("the job completed", time.Minute, func() (bool, string) {
		return e.queryInt(`SELECT count(*) FROM river_job WHERE kind = 'stepgraph_collect' AND state = 'completed'`) == 1, ""
	})
	if n := e.queryInt(`SELECT attempt FROM river_job WHERE kind = 'stepgraph_collect' AND state = 'completed'`); n != 2 {
		t.Errorf("completed job attempt %d, want 2 (rescued once)", n)
	}
	e.checkTruth("slow")
	if n := e.queryInt(`SELECT count(*) FROM change_log WHERE change = 'removed'`); n != 0 {
		t.Errorf("%d removals in the change log", n)
	}
	// The killed attempt loaded nothing: its sync run is abandoned and
	// wrote no change-log row.
	if n := e.queryInt(`SELECT count(*) FROM sync_run WHERE status = 'abandoned'`); n != 1 {
		t.Errorf("%d abandoned sync runs, want 1", n)
	}
	if n := e.queryInt(`SELECT count(*) FROM change_log c JOIN sync_run r ON r.id = c.run_id WHERE r.status = 'abandoned'`); n != 0 {
		t.Errorf("%d change-log rows of the killed run", n)
	}
	e.checkNoOverlap()
}

// webhook records deliveries: it fails the first failFirst requests and
// then counts each Idempotency-Key it accepts.
type webhook struct {
	mu        sync.Mutex
	requests  int
	failFirst int
	accepted  map[string]int
	bodies    map[string]service.AlertPayload
	bad       []string
}

func (h *webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.requests++
	if r.URL.Query().Get("token") != "hook-s3cret" {
		h.bad = append(h.bad, "request without the hook's token: "+r.URL.String())
	}
	if h.requests <= h.failFirst {
		http.Error(w, "try later", http.StatusServiceUnavailable)
		return
	}
	var p service.AlertPayload
	body, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(body, &p); err != nil || r.Method != http.MethodPost || r.Header.Get("Idempotency-Key") != p.ID || p.ID == "" {
		h.bad = append(h.bad, string(body))
	}
	h.accepted[p.ID]++
	h.bodies[p.ID] = p
	w.WriteHeader(http.StatusNoContent)
}

// Alert matches reach a webhook exactly once across reruns and worker
// restarts, and a failing receiver is retried until it accepts.
func TestServiceAlertsDeliveredOnce(t *testing.T) {
	e := newSvcEnv(t)
	hook := &webhook{failFirst: 2, accepted: map[string]int{}, bodies: map[string]service.AlertPayload{}}
	recv := httptest.NewServer(hook)
	defer recv.Close()
	e.addOrg("alerting", oktafake.OrgSpec{Users: 60, Seed: 11, Name: "alerting"}, oktafake.ServerOptions{}, "DISABLED")
	// The hook's URL stays on the workers (it could carry a token).
	e.env = append(e.env, "ALERT_HOOK_URL="+recv.URL+"/hook?token=hook-s3cret")
	e.cli(0, "alerts", "set", "new-admin-role-assignment", "--webhook", "env:ALERT_HOOK_URL")
	e.cli(cli.ExitFailure, "alerts", "set", "new-admin-role-assignment", "--webhook", "ftp://nope")

	// expected: the admin role assignments of the org, as the rule reads them.
	expected := func() []string {
		return e.keys(`SELECT 'x' || r.key FROM relationship r JOIN entity role ON role.id = r.to_id AND role.type = 'okta_role'
			WHERE r.class = 'ASSIGNED' AND r.instance_id = (SELECT id FROM instance WHERE name = 'alerting')`)
	}
	settled := func(runs int) {
		t.Helper()
		e.eventually(fmt.Sprintf("run %d loaded, evaluated and delivered", runs), 3*time.Minute, func() (bool, string) {
			ok := e.successes("alerting")
			evaluated := e.queryInt(`SELECT count(*) FROM service_instance i WHERE i.name = 'alerting' AND i.alerts_run_id =
				(SELECT coalesce(max(id), 0) FROM sync_run WHERE instance_id = (SELECT id FROM instance WHERE name = 'alerting') AND status IN ('success', 'partial'))`)
			pending := e.queryInt(`SELECT count(*) FROM river_job WHERE kind IN ('stepgraph_alert', 'stepgraph_collect') AND state NOT IN ('completed', 'cancelled', 'discarded')`)
			return ok == runs && evaluated == 1 && pending == 0, fmt.Sprintf("successes %d evaluated %d pending deliveries %d", ok, evaluated, pending)
		})
	}
	check := func(when string) {
		t.Helper()
		want := len(expected())
		hook.mu.Lock()
		defer hook.mu.Unlock()
		if want == 0 {
			t.Fatalf("%s: the org has no admin role assignments to alert on", when)
		}
		if len(hook.accepted) != want {
			t.Errorf("%s: %d distinct alerts delivered, want %d", when, len(hook.accepted), want)
		}
		for id, n := range hook.accepted {
			if n != 1 {
				t.Errorf("%s: alert %s delivered %d times", when, id, n)
			}
			if p := hook.bodies[id]; p.Rule != "new-admin-role-assignment" || p.Instance != "alerting" || !strings.HasPrefix(p.Summary, "admin role ") {
				t.Errorf("%s: payload %+v", when, p)
			}
		}
		if len(hook.bad) > 0 {
			t.Errorf("%s: malformed deliveries: %v", when, hook.bad)
		}
		if hook.requests != want+hook.failFirst {
			t.Errorf("%s: %d requests, want %d (%d failed, then one per alert)", when, hook.requests, want+hook.failFirst, hook.failFirst)
		}
	}

	w := e.startWorker()
	e.cli(0, "instances", "run", "alerting")
	settled(1)
	check("first run")
	if n := e.queryInt(`SELECT count(*) FROM alert_event WHERE rule = 'new-admin-role-assignment' AND attempts > 1`); n == 0 {
		t.Errorf("no delivery was retried, though the receiver failed its first %d requests", hook.failFirst)
	}
	if n := e.queryInt(`SELECT count(*) FROM alert_event e WHERE row_to_json(e)::text LIKE '%hook-s3cret%'`) +
		e.queryInt(`SELECT count(*) FROM alert_rule r WHERE row_to_json(r)::text LIKE '%hook-s3cret%'`); n != 0 {
		t.Errorf("the hook's token reached the database (%d rows)", n)
	}
	if strings.Contains(w.output(), "hook-s3cret") {
		t.Errorf("the hook's token reached the worker's log")
	}
	// The log destination got the other rules' matches.
	if n := e.queryInt(`SELECT count(*) FROM alert_event WHERE destination = 'log' AND delivered_at IS NOT NULL`); n == 0 {
		t.Errorf("no alert delivered to the log")
	}

	e.cli(0, "instances", "run", "alerting")
	settled(2)
	check("rerun")

	if err := w.stop(t); err != nil {
		t.Fatalf("stop: %v", err)
	}
	e.startWorker()
	e.cli(0, "instances", "run", "alerting")
	settled(3)
	check("after a worker restart")

	out := e.cli(0, "alerts", "test", "new-admin-role-assignment", "--instance", "alerting")
	if !strings.Contains(out, "0 matches, 0 new.") {
		t.Errorf("alerts test after three identical runs (no new changes):\n%s", out)
	}
	out = e.cli(0, "alerts", "list")
	if !strings.Contains(out, "webhook from env:ALERT_HOOK_URL") || !strings.Contains(out, "user-without-mfa-added-to-app") {
		t.Errorf("alerts list:\n%s", out)
	}
}

// SIGTERM during a collection: the worker gives it --shutdown-timeout,
// then cancels it (nothing loaded), releases the job and exits 0; another
// worker completes it.
func TestServiceSIGTERMReleasesRunningJob(t *testing.T) {
	e := newSvcEnv(t)
	e.addOrg("slow", oktafake.OrgSpec{Users: 150, Seed: 8, Name: "slow"}, oktafake.ServerOptions{Latency: 40 * time.Millisecond, DisableRateLimits: true}, "DISABLED")
	first := e.startWorker("--shutdown-timeout", "100ms")
	e.cli(0, "instances", "run", "slow")
	e.eventually("the first worker is collecting", time.Minute, func() (bool, string) {
		w, _, ok := e.runningWorker("slow")
		return ok && w == first, "not running on the first worker"
	})
	if err := first.stop(t); err != nil {
		t.Fatalf("worker exit after SIGTERM: %v\n%s", err, first.output())
	}
	if !strings.Contains(first.output(), "job released for another worker") {
		t.Errorf("the worker did not release the job:\n%s", first.output())
	}
	if n := e.queryInt(`SELECT count(*) FROM service_run WHERE status = 'interrupted'`); n != 1 {
		t.Errorf("%d interrupted runs, want 1", n)
	}
	if n := e.queryInt(`SELECT count(*) FROM sync_run WHERE status IN ('success', 'partial')`); n != 0 {
		t.Errorf("the interrupted collection loaded something (%d runs)", n)
	}
	e.startWorker()
	e.eventually("another worker completed the job", 2*time.Minute, func() (bool, string) {
		return e.successes("slow") == 1, ""
	})
	e.checkTruth("slow")
	if n := e.queryInt(`SELECT count(*) FROM change_log WHERE change <> 'added'`); n != 0 {
		t.Errorf("%d changes other than additions", n)
	}
}

// A run that fails (here: the org rejects the token) is retried with
// backoff and recorded per attempt with the provider's error, never the
// token; the instance shows its failures.
func TestServiceFailedRunsRetried(t *testing.T) {
	e := newSvcEnv(t)
	e.addOrg("rejecting", oktafake.OrgSpec{Users: 10, Seed: 3, Name: "rejecting"}, oktafake.ServerOptions{Token: "the-token-the-org-wants-123"}, "DISABLED")
	e.startWorker()
	e.cli(0, "instances", "run", "rejecting")
	e.eventually("two failed attempts", 2*time.Minute, func() (bool, string) {
		n := e.queryInt(`SELECT count(DISTINCT attempt) FROM service_run WHERE status = 'failed'`)
		return n >= 2, fmt.Sprintf("%d failed attempts", n)
	})
	rows, err := e.pool.Query(context.Background(), `SELECT attempt, error FROM service_run WHERE status = 'failed' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var attempt int
		var msg string
		if err := rows.Scan(&attempt, &msg); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(msg, "401") || strings.Contains(msg, oktafake.DefaultToken) {
			t.Errorf("attempt %d: error %q (want the status, never the token)", attempt, msg)
		}
	}
	if n := e.queryInt(`SELECT count(*) FROM sync_run WHERE status IN ('success', 'partial')`); n != 0 {
		t.Errorf("a rejected run loaded %d runs", n)
	}
	list := e.cli(0, "instances", "list")
	if !regexpMatch(`(?m)^rejecting\s+okta\s+DISABLED\s+failed\s.*\s[2-9]\s*`, list) {
		t.Errorf("instances list:\n%s", list)
	}
}

// The service commands of the okta binary, without workers: validation
// before anything is stored, no secret echoed or stored, update, show,
// remove's confirmation, status and alerts.
func TestServiceCommands(t *testing.T) {
	e := newSvcEnv(t)
	out := e.cli(0, "instances", "add", "acme", "--description", "Acme prod", "--interval", "6h",
		"--set", "orgUrl=https://acme.okta.com", "--secret", "apiKey=env:OKTA_API_KEY_ACME")
	if !strings.Contains(out, "Added instance acme (okta, polling 6h0m0s)") {
		t.Errorf("add: %s", out)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"instances", "add", "acme", "--interval", "6h"}, "instance acme already exists"},
		{[]string{"instances", "add", "x", "--interval", "6h", "--set", "apiKey=00SECRETVALUE00"}, "config apiKey: is a secret"},
		{[]string{"instances", "add", "x", "--interval", "6h", "--secret", "apiKey=00SECRETVALUE00"}, "want env:NAME or file:PATH"},
		{[]string{"instances", "add", "x", "--set", "orgUrl=https://x.okta.com"}, "--interval: give a polling interval"},
		{[]string{"instances", "add", "x", "--interval", "5ms"}, "at least 1s"},
		{[]string{"instances", "remove", "acme"}, "add --yes to confirm"},
		{[]string{"instances", "update", "acme", "--integration", "other"}, "--integration cannot change"},
	} {
		out := e.cli(cli.ExitUsage, c.args...)
		if !strings.Contains(out, c.want) || strings.Contains(out, "00SECRETVALUE00") {
			t.Errorf("%v: %s (want %q, never the secret)", c.args, out, c.want)
		}
	}
	e.cli(cli.ExitFailure, "instances", "show", "ghost")
	e.cli(0, "instances", "update", "acme", "--interval", "DISABLED", "--description", "paused")
	show := e.cli(0, "instances", "show", "acme")
	for _, want := range []string{"Description:      paused", "Polling interval: DISABLED", "Secret apiKey from env:OKTA_API_KEY_ACME", "Config orgUrl = https://acme.okta.com", "Last run:         never"} {
		if !strings.Contains(show, want) {
			t.Errorf("show lacks %q:\n%s", want, show)
		}
	}
	if out := e.cli(0, "instances", "run", "acme"); !strings.Contains(out, "Queued a collection of acme") {
		t.Errorf("run: %s", out)
	}
	if out := e.cli(0, "instances", "run", "acme"); !strings.Contains(out, "already waiting") {
		t.Errorf("second run: %s", out)
	}
	if out := e.cli(0, "status"); !strings.Contains(out, "stepgraph_collect  available  1") || !strings.Contains(out, "instances: 1 (0 running now") {
		t.Errorf("status:\n%s", out)
	}
	bad := t.TempDir() + "/bad.sql"
	if err := os.WriteFile(bad, []byte("SELECT 1 AS not_the_columns"), 0o600); err != nil {
		t.Fatal(err)
	}
	e.cli(cli.ExitFailure, "alerts", "add", "mine", "--file", bad)
	e.cli(cli.ExitFailure, "alerts", "test", "no-such-rule")
	e.cli(0, "alerts", "set", "okta-user-without-person", "--disable")
	if out := e.cli(0, "alerts", "list"); !regexpMatch(`(?m)^okta-user-without-person\s+false\s+log\s+true\s+okta\s`, out) {
		t.Errorf("alerts list:\n%s", out)
	}
	if out := e.cli(0, "instances", "remove", "acme", "--yes"); !strings.Contains(out, "Removed instance acme") {
		t.Errorf("remove: %s", out)
	}
	if n := e.queryInt(`SELECT count(*) FROM river_job WHERE state NOT IN ('cancelled', 'completed', 'discarded')`); n != 0 {
		t.Errorf("%d jobs left after remove", n)
	}
}

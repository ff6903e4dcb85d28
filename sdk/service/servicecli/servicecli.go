// Package servicecli holds the command-line commands of the collection
// service (package service): instances, worker, alerts and status. A
// binary mounts them next to the sdk/cli commands:
//
//	integ := teamdir.New(teamdir.Options{})
//	reg := service.NewRegistry()
//	service.Register(reg, service.Definition[teamdir.Config]{Integration: integ})
//	app := &cli.App[teamdir.Config]{Integration: integ, Commands: servicecli.Commands(servicecli.Options{Registry: reg})}
//
// They live apart from sdk/cli so that the plain CLI carries no database
// or queue code.
package servicecli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/stepgraph/stepgraph/sdk/cli"
	"github.com/stepgraph/stepgraph/sdk/service"
	"github.com/stepgraph/stepgraph/sdk/store/postgres"
)

// Options configure the commands.
type Options struct {
	// Registry lists the integrations of the binary. Required.
	Registry *service.Registry
	// Program is the binary's name in usage text.
	Program string
	// Stdout and Stderr default to os.Stdout and os.Stderr.
	Stdout, Stderr io.Writer
	// LookupEnv reads the environment (default os.LookupEnv): the
	// database URL and, on a worker, env: secret references.
	LookupEnv func(string) (string, bool)
	// Worker holds defaults for the worker command's options.
	Worker service.WorkerOptions
}

// Commands returns the service's commands for cli.App.Commands.
func Commands(opts Options) []cli.Command {
	c := &cmds{opts: opts}
	return []cli.Command{
		{Name: "instances", Summary: "manage the instances the service collects (add, list, show, update, remove, run)", Run: c.instances},
		{Name: "worker", Summary: "run a service worker: scheduled collections into PostgreSQL, alerts", Run: c.worker},
		{Name: "alerts", Summary: "manage alert rules (list, set, add, test)", Run: c.alerts},
		{Name: "status", Summary: "show the service's queue and instances at a glance", Run: c.status},
	}
}

type cmds struct{ opts Options }

func (c *cmds) stdout() io.Writer {
	if c.opts.Stdout == nil {
		return os.Stdout
	}
	return c.opts.Stdout
}

func (c *cmds) stderr() io.Writer {
	if c.opts.Stderr == nil {
		return os.Stderr
	}
	return c.opts.Stderr
}

func (c *cmds) lookupEnv(k string) (string, bool) {
	if c.opts.LookupEnv == nil {
		return os.LookupEnv(k)
	}
	return c.opts.LookupEnv(k)
}

func (c *cmds) program() string {
	if c.opts.Program == "" {
		return "stepgraph"
	}
	return c.opts.Program
}

func (c *cmds) errorf(format string, args ...any) {
	fmt.Fprintf(c.stderr(), "%s: error: %s\n", c.program(), fmt.Sprintf(format, args...))
}

// dbFlags are the flags every command has.
type dbFlags struct {
	url    *string
	schema *string
}

func (c *cmds) addDBFlags(fs *flag.FlagSet) *dbFlags {
	return &dbFlags{
		url:    fs.String("database", "", "PostgreSQL URL of the service (default $"+postgres.URLEnv+")"),
		schema: fs.String("schema", postgres.DefaultSchema, "schema of the graph, the instances and the queue"),
	}
}

func (c *cmds) open(ctx context.Context, f *dbFlags, log *slog.Logger) (*service.Service, error) {
	return c.openConns(ctx, f, log, 0)
}

func (c *cmds) openConns(ctx context.Context, f *dbFlags, log *slog.Logger, maxConns int32) (*service.Service, error) {
	u := *f.url
	if u == "" {
		u, _ = c.lookupEnv(postgres.URLEnv)
	}
	if u == "" {
		return nil, fmt.Errorf("--database: no database URL (flag --database or env %s)", postgres.URLEnv)
	}
	s, err := service.Open(ctx, u, c.opts.Registry, service.Options{Schema: *f.schema, Logger: log, MaxConns: maxConns})
	if err != nil {
		return nil, errors.New(redactURL(err.Error(), u))
	}
	return s, nil
}

// redactURL removes a database password from a message.
func redactURL(msg, raw string) string {
	if u, err := url.Parse(raw); err == nil && u.User != nil {
		if p, ok := u.User.Password(); ok && p != "" {
			msg = strings.ReplaceAll(msg, p, "****")
		}
	}
	return msg
}

// newFlagSet returns a flag set that reports to stderr and documents
// itself with usage.
func (c *cmds) newFlagSet(name, usage, long string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(c.stderr())
	fs.Usage = func() {
		w := c.stdout()
		fmt.Fprintf(w, "Usage: %s %s\n\n%s\n\nFlags:\n", c.program(), usage, strings.TrimSpace(long))
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(c.stderr())
	}
	return fs
}

// parse parses flags anywhere among the arguments (flag stops at the
// first positional one) and returns the positional ones. ok is false
// after --help (exit 0) or an error (exit 2), with code set.
func parse(fs *flag.FlagSet, args []string) (pos []string, code int, ok bool) {
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, cli.ExitOK, false
			}
			return nil, cli.ExitUsage, false
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, 0, true
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// multiFlag collects repeated KEY=VALUE flags.
type multiFlag struct {
	vals map[string]string
	set  bool
}

func (m *multiFlag) String() string { return "" }

func (m *multiFlag) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || strings.TrimSpace(k) == "" {
		return errors.New("want KEY=VALUE")
	}
	if m.vals == nil {
		m.vals = map[string]string{}
	}
	m.vals[strings.TrimSpace(k)] = val
	m.set = true
	return nil
}

// optString is a string flag that knows whether it was given.
type optString struct {
	val string
	set bool
}

func (o *optString) String() string { return o.val }

func (o *optString) Set(v string) error { o.val, o.set = v, true; return nil }

func (c *cmds) logger(level string) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(level))
	return slog.New(slog.NewTextHandler(c.stderr(), &slog.HandlerOptions{Level: lvl}))
}

const instancesUsage = `Usage: %[1]s instances <command> [flags] [NAME]

Commands:
  add NAME     register an instance (an account of an integration) to collect
  list         list instances with their last run, next run and failures
  show NAME    show one instance
  update NAME  change an instance (only the flags given)
  remove NAME  unregister an instance and forget its graph (needs --yes)
  run NAME     collect an instance now

Run '%[1]s instances <command> --help' for its flags.
`

func (c *cmds) instances(ctx context.Context, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		w := c.stdout()
		code := cli.ExitOK
		if len(args) == 0 {
			w, code = c.stderr(), cli.ExitUsage
		}
		fmt.Fprintf(w, instancesUsage, c.program())
		return code
	}
	switch args[0] {
	case "add":
		return c.instancesAdd(ctx, args[1:])
	case "update":
		return c.instancesUpdate(ctx, args[1:])
	case "list":
		return c.instancesList(ctx, args[1:])
	case "show":
		return c.instancesShow(ctx, args[1:])
	case "remove":
		return c.instancesRemove(ctx, args[1:])
	case "run":
		return c.instancesRun(ctx, args[1:])
	}
	c.errorf("instances: unknown command %q (run %s instances --help)", args[0], c.program())
	return cli.ExitUsage
}

// instanceFlags are the flags of add and update.
type instanceFlags struct {
	integration, description, interval optString
	set, secret, unset                 multiFlag
	tag                                *bool
	tagSet                             bool
}

func addInstanceFlags(fs *flag.FlagSet, names []string) *instanceFlags {
	f := &instanceFlags{}
	fs.Var(&f.integration, "integration", "integration of the instance ("+strings.Join(names, ", ")+"; default when the binary has one)")
	fs.Var(&f.description, "description", "what the instance is, for people")
	fs.Var(&f.interval, "interval", "polling interval (e.g. 6h, 30m) or DISABLED (run only with 'instances run')")
	fs.Var(&f.set, "set", "non-secret config field, KEY=VALUE (repeatable), e.g. --set orgUrl=https://acme.okta.com")
	fs.Var(&f.secret, "secret", "secret config field, KEY=env:VAR or KEY=file:PATH resolved on the workers (repeatable); never the secret itself")
	fs.Var(&f.unset, "unset", "update: remove a config or secret field, KEY= (repeatable)")
	f.tag = fs.Bool("tag-account-name", true, "give every entity tag.AccountName = the instance name")
	return f
}

func (f *instanceFlags) apply(inst *service.Instance, fs *flag.FlagSet) error {
	fs.Visit(func(fl *flag.Flag) {
		if fl.Name == "tag-account-name" {
			f.tagSet = true
		}
	})
	if f.description.set {
		inst.Description = f.description.val
	}
	if f.interval.set {
		d, err := service.ParseInterval(f.interval.val)
		if err != nil {
			return fmt.Errorf("--interval: %w", err)
		}
		inst.Interval = d
	}
	if inst.Config == nil {
		inst.Config = map[string]string{}
	}
	if inst.Secrets == nil {
		inst.Secrets = map[string]service.SecretRef{}
	}
	for k := range f.unset.vals {
		delete(inst.Config, k)
		delete(inst.Secrets, k)
	}
	for k, v := range f.set.vals {
		inst.Config[k] = v
	}
	for k, v := range f.secret.vals {
		ref, err := service.ParseSecretRef(v)
		if err != nil {
			return fmt.Errorf("--secret %s: %v", k, err)
		}
		inst.Secrets[k] = ref
	}
	if f.tagSet {
		inst.TagAccountName = *f.tag
	}
	return nil
}

func (c *cmds) instancesAdd(ctx context.Context, args []string) int {
	names := c.opts.Registry.Names()
	fs := c.newFlagSet("instances add", "instances add [flags] NAME", `Registers an instance: an account of an integration that the workers collect
into the graph every --interval (with jitter), or only on 'instances run' when
DISABLED. NAME is the account name (and tag.AccountName). Secrets are given as
references the workers resolve (env:VAR or file:PATH), never as values: the
database never holds a secret.

Example:
  `+c.program()+` instances add acme --description "Acme prod" --interval 6h \
      --set orgUrl=https://acme.okta.com --secret apiKey=env:OKTA_API_KEY_ACME`)
	db := c.addDBFlags(fs)
	f := addInstanceFlags(fs, names)
	pos, code, ok := parse(fs, args)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		c.errorf("instances add: want one NAME, got %d arguments", len(pos))
		return cli.ExitUsage
	}
	inst := service.Instance{Name: pos[0], Integration: f.integration.val, TagAccountName: true}
	if !f.integration.set {
		if len(names) != 1 {
			c.errorf("instances add: --integration: want one of %s", strings.Join(names, ", "))
			return cli.ExitUsage
		}
		inst.Integration = names[0]
	}
	if !f.interval.set {
		c.errorf("instances add: --interval: give a polling interval (e.g. 6h) or DISABLED")
		return cli.ExitUsage
	}
	if err := f.apply(&inst, fs); err != nil {
		c.errorf("instances add: %v", err)
		return cli.ExitUsage
	}
	if err := c.opts.Registry.Validate(&inst); err != nil {
		c.errorf("instances add: %v", err)
		return cli.ExitUsage
	}
	s, err := c.open(ctx, db, nil)
	if err != nil {
		c.errorf("instances add: %v", err)
		return cli.ExitFailure
	}
	defer s.Close()
	if err := s.AddInstance(ctx, inst); err != nil {
		c.errorf("instances add: %v", err)
		return cli.ExitUsage
	}
	fmt.Fprintf(c.stdout(), "Added instance %s (%s, polling %s).\n", inst.Name, inst.Integration, inst.IntervalString())
	return cli.ExitOK
}

func (c *cmds) instancesUpdate(ctx context.Context, args []string) int {
	fs := c.newFlagSet("instances update", "instances update [flags] NAME", `Changes an instance: only the flags given change. --unset KEY= removes a
config or secret field. Setting --interval DISABLED cancels the waiting run.`)
	db := c.addDBFlags(fs)
	f := addInstanceFlags(fs, c.opts.Registry.Names())
	pos, code, ok := parse(fs, args)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		c.errorf("instances update: want one NAME, got %d arguments", len(pos))
		return cli.ExitUsage
	}
	if f.integration.set {
		c.errorf("instances update: --integration cannot change (add a new instance)")
		return cli.ExitUsage
	}
	s, err := c.open(ctx, db, nil)
	if err != nil {
		c.errorf("instances update: %v", err)
		return cli.ExitFailure
	}
	defer s.Close()
	err = s.UpdateInstance(ctx, pos[0], func(inst *service.Instance) error { return f.apply(inst, fs) })
	if err != nil {
		c.errorf("instances update: %v", err)
		if errors.Is(err, service.ErrNotFound) {
			return cli.ExitFailure
		}
		return cli.ExitUsage
	}
	fmt.Fprintf(c.stdout(), "Updated instance %s.\n", pos[0])
	return cli.ExitOK
}

func fmtWhen(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

func (c *cmds) instancesList(ctx context.Context, args []string) int {
	fs := c.newFlagSet("instances list", "instances list [flags]", `Lists the instances: polling interval, last run (status, end, objects loaded,
changes), next run, failed attempts since the last success, and a warning when
no collection succeeded for longer than the token expiry guard (an Okta API
token unused for 30 days is revoked).`)
	db := c.addDBFlags(fs)
	expiry := fs.Duration("expiry-warning", service.DefaultExpiryWarning, "token expiry guard")
	if _, code, ok := parse(fs, args); !ok {
		return code
	}
	s, err := c.open(ctx, db, nil)
	if err != nil {
		c.errorf("instances list: %v", err)
		return cli.ExitFailure
	}
	defer s.Close()
	sts, err := s.Statuses(ctx, *expiry)
	if err != nil {
		c.errorf("instances list: %v", err)
		return cli.ExitFailure
	}
	tw := tabwriter.NewWriter(c.stdout(), 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tINTEGRATION\tINTERVAL\tLAST RUN\tENDED\tOBJECTS\tCHANGES (+/~/-)\tNEXT RUN\tFAILURES\tWARNING")
	for _, st := range sts {
		last, ended, objects, changes := "never", "-", "-", "-"
		if r := st.LastRun; r != nil {
			last, ended = r.Status, fmtWhen(r.EndedAt)
			if r.Status == "success" || r.Status == "partial" {
				objects = fmt.Sprint(r.Entities + r.Relationships)
				changes = fmt.Sprintf("%d/%d/%d", r.Added, r.Changed, r.Removed)
			}
		}
		next := fmtWhen(st.NextRun)
		if st.Running {
			next = "running now"
		}
		warn := ""
		if st.ExpiryWarning {
			warn = fmt.Sprintf("no successful run since %s: the token may expire", fmtWhen(st.LastSuccess))
			if st.LastSuccess == nil {
				warn = "never collected successfully: the token may expire"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", st.Name, st.Integration, st.IntervalString(), last, ended, objects, changes, next, st.Failures, warn)
	}
	_ = tw.Flush()
	return cli.ExitOK
}

func (c *cmds) instancesShow(ctx context.Context, args []string) int {
	fs := c.newFlagSet("instances show", "instances show [flags] NAME", "Shows one instance: its configuration (secret references, never values) and last run.")
	db := c.addDBFlags(fs)
	pos, code, ok := parse(fs, args)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		c.errorf("instances show: want one NAME, got %d arguments", len(pos))
		return cli.ExitUsage
	}
	s, err := c.open(ctx, db, nil)
	if err != nil {
		c.errorf("instances show: %v", err)
		return cli.ExitFailure
	}
	defer s.Close()
	sts, err := s.Statuses(ctx, 0)
	if err != nil {
		c.errorf("instances show: %v", err)
		return cli.ExitFailure
	}
	for _, st := range sts {
		if st.Name != pos[0] {
			continue
		}
		w := c.stdout()
		fmt.Fprintf(w, "Name:             %s\nDescription:      %s\nIntegration:      %s\nPolling interval: %s\nTag account name: %v\n",
			st.Name, st.Description, st.Integration, st.IntervalString(), st.TagAccountName)
		for _, k := range sortedKeys(st.Config) {
			fmt.Fprintf(w, "Config %s = %s\n", k, st.Config[k])
		}
		for _, k := range sortedKeys(st.Secrets) {
			fmt.Fprintf(w, "Secret %s from %s\n", k, st.Secrets[k])
		}
		if r := st.LastRun; r != nil {
			fmt.Fprintf(w, "Last run:         %s (attempt %d on %s, started %s, ended %s): %d entities, %d relationships; %d added, %d changed, %d removed\n",
				r.Status, r.Attempt, r.Worker, fmtWhen(&r.StartedAt), fmtWhen(r.EndedAt), r.Entities, r.Relationships, r.Added, r.Changed, r.Removed)
			if r.Error != "" {
				fmt.Fprintf(w, "Last error:       %s\n", r.Error)
			}
		} else {
			fmt.Fprintf(w, "Last run:         never\n")
		}
		fmt.Fprintf(w, "Last success:     %s\nFailures since:   %d\nNext run:         %s\n", fmtWhen(st.LastSuccess), st.Failures, fmtWhen(st.NextRun))
		return cli.ExitOK
	}
	c.errorf("instances show: instance %s: not found", pos[0])
	return cli.ExitFailure
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (c *cmds) instancesRemove(ctx context.Context, args []string) int {
	fs := c.newFlagSet("instances remove", "instances remove --yes [flags] NAME", `Unregisters an instance and forgets its graph: its entities, relationships,
runs and change log are deleted, its schedule stops, and a running collection
of it is cancelled (it loads nothing). This cannot be undone: --yes is required.`)
	db := c.addDBFlags(fs)
	yes := fs.Bool("yes", false, "confirm: forget the instance's graph")
	wait := fs.Duration("wait", 2*time.Minute, "how long to wait for a running collection to stop")
	pos, code, ok := parse(fs, args)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		c.errorf("instances remove: want one NAME, got %d arguments", len(pos))
		return cli.ExitUsage
	}
	if !*yes {
		c.errorf("instances remove: this forgets the graph of %s; add --yes to confirm", pos[0])
		return cli.ExitUsage
	}
	s, err := c.open(ctx, db, nil)
	if err != nil {
		c.errorf("instances remove: %v", err)
		return cli.ExitFailure
	}
	defer s.Close()
	if err := s.RemoveInstance(ctx, pos[0], *wait); err != nil {
		c.errorf("instances remove: %v", err)
		return cli.ExitFailure
	}
	fmt.Fprintf(c.stdout(), "Removed instance %s and forgot its graph.\n", pos[0])
	return cli.ExitOK
}

func (c *cmds) instancesRun(ctx context.Context, args []string) int {
	fs := c.newFlagSet("instances run", "instances run [flags] NAME", `Queues a collection of the instance now (also when its polling is DISABLED).
A worker runs it; 'instances list' shows the outcome.`)
	db := c.addDBFlags(fs)
	pos, code, ok := parse(fs, args)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		c.errorf("instances run: want one NAME, got %d arguments", len(pos))
		return cli.ExitUsage
	}
	s, err := c.open(ctx, db, nil)
	if err != nil {
		c.errorf("instances run: %v", err)
		return cli.ExitFailure
	}
	defer s.Close()
	res, err := s.RunNow(ctx, pos[0])
	if err != nil {
		c.errorf("instances run: %v", err)
		return cli.ExitFailure
	}
	switch {
	case res.Queued:
		fmt.Fprintf(c.stdout(), "Queued a collection of %s (job %d).\n", pos[0], res.JobID)
	case res.Running:
		fmt.Fprintf(c.stdout(), "A collection of %s is running now (job %d); nothing more was queued.\n", pos[0], res.JobID)
	default:
		fmt.Fprintf(c.stdout(), "A collection of %s was already waiting (job %d); it runs now.\n", pos[0], res.JobID)
	}
	return cli.ExitOK
}

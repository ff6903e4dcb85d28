package servicecli

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/stepgraph/stepgraph/sdk/cli"
)

const alertsUsage = `Usage: %[1]s alerts <command> [flags]

Commands:
  list               list the rules, their destination and whether they are on
  test RULE          show what RULE matches now (last run's changes and the graph's state)
  set RULE           change a rule: --webhook URL | --log, --enable / --disable
  add RULE --file F  add a rule from an SQL file (see docs/service.md for its columns)

Run '%[1]s alerts <command> --help' for its flags.
`

func (c *cmds) alerts(ctx context.Context, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		w, code := c.stdout(), cli.ExitOK
		if len(args) == 0 {
			w, code = c.stderr(), cli.ExitUsage
		}
		fmt.Fprintf(w, alertsUsage, c.program())
		return code
	}
	switch args[0] {
	case "list":
		return c.alertsList(ctx, args[1:])
	case "test":
		return c.alertsTest(ctx, args[1:])
	case "set", "add":
		return c.alertsSet(ctx, args[0], args[1:])
	}
	c.errorf("alerts: unknown command %q (run %s alerts --help)", args[0], c.program())
	return cli.ExitUsage
}

func (c *cmds) alertsList(ctx context.Context, args []string) int {
	fs := c.newFlagSet("alerts list", "alerts list [flags]", "Lists the alert rules.")
	db := c.addDBFlags(fs)
	if _, code, ok := parse(fs, args); !ok {
		return code
	}
	s, err := c.open(ctx, db, nil)
	if err != nil {
		c.errorf("alerts list: %v", err)
		return cli.ExitFailure
	}
	defer s.Close()
	rules, err := s.Rules(ctx)
	if err != nil {
		c.errorf("alerts list: %v", err)
		return cli.ExitFailure
	}
	tw := tabwriter.NewWriter(c.stdout(), 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RULE\tENABLED\tDESTINATION\tBUILT IN\tINSTANCES\tDESCRIPTION")
	for _, r := range rules {
		// A rule an integration registered runs for its instances only.
		scope := "all"
		if r.Integration != "" {
			scope = r.Integration
		}
		fmt.Fprintf(tw, "%s\t%v\t%s\t%v\t%s\t%s\n", r.Name, r.Enabled, showDestination(r.Destination), r.Builtin, scope, r.Description)
	}
	_ = tw.Flush()
	return cli.ExitOK
}

func (c *cmds) alertsTest(ctx context.Context, args []string) int {
	fs := c.newFlagSet("alerts test", "alerts test [flags] RULE", `Shows what RULE matches now, for every instance (or --instance): the changes
of the instance's last loaded run and the graph's current state. Each match
says whether it would fire (new), already fired, or is suppressed because its
type was collected partially. Nothing is fired or delivered.`)
	db := c.addDBFlags(fs)
	inst := fs.String("instance", "", "only this instance")
	pos, code, ok := parse(fs, args)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		c.errorf("alerts test: want one RULE, got %d arguments", len(pos))
		return cli.ExitUsage
	}
	s, err := c.open(ctx, db, nil)
	if err != nil {
		c.errorf("alerts test: %v", err)
		return cli.ExitFailure
	}
	defer s.Close()
	ms, err := s.TestRule(ctx, pos[0], *inst)
	if err != nil {
		c.errorf("alerts test: %v", err)
		return cli.ExitFailure
	}
	tw := tabwriter.NewWriter(c.stdout(), 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "INSTANCE\tSTATE\tTYPE\tKEY\tSUMMARY")
	fresh := 0
	for _, m := range ms {
		state := "new"
		switch {
		case m.PartialSuppressed:
			state = "partial type: would not fire"
		case m.AlreadyFired:
			state = "fired before"
		default:
			fresh++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", m.Instance, state, m.Type, m.Key, m.Summary)
	}
	_ = tw.Flush()
	fmt.Fprintf(c.stdout(), "%d matches, %d new.\n", len(ms), fresh)
	return cli.ExitOK
}

func (c *cmds) alertsSet(ctx context.Context, verb string, args []string) int {
	fs := c.newFlagSet("alerts "+verb, "alerts "+verb+" [flags] RULE", `add creates a rule from an SQL file; set changes a rule's destination or
turns it on or off. A rule's SQL returns the columns key, type, summary and
run_id and may use @instance_id, @after_run and @run (docs/service.md).
Deliveries go to the log or are POSTed as JSON to a webhook, retried until
accepted (at least once; the Idempotency-Key header identifies duplicates).`)
	db := c.addDBFlags(fs)
	file := fs.String("file", "", "add: the rule's SQL")
	webhook := fs.String("webhook", "", "deliver to this webhook URL, or to the URL in env:VAR / file:PATH on the workers (for URLs carrying a token)")
	toLog := fs.Bool("log", false, "deliver to the workers' log")
	enable := fs.Bool("enable", false, "turn the rule on")
	disable := fs.Bool("disable", false, "turn the rule off")
	pos, code, ok := parse(fs, args)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		c.errorf("alerts %s: want one RULE, got %d arguments", verb, len(pos))
		return cli.ExitUsage
	}
	if *webhook != "" && *toLog || *enable && *disable {
		c.errorf("alerts %s: --webhook and --log, and --enable and --disable, exclude each other", verb)
		return cli.ExitUsage
	}
	var query *string
	if verb == "add" {
		if *file == "" {
			c.errorf("alerts add: --file: the rule's SQL is required")
			return cli.ExitUsage
		}
		b, err := os.ReadFile(*file)
		if err != nil {
			c.errorf("alerts add: --file: %v", err)
			return cli.ExitUsage
		}
		q := string(b)
		query = &q
	}
	dest := *webhook
	if *toLog {
		dest = "log"
	}
	var enabled *bool
	if *enable || *disable {
		v := *enable
		enabled = &v
	}
	s, err := c.open(ctx, db, nil)
	if err != nil {
		c.errorf("alerts %s: %v", verb, err)
		return cli.ExitFailure
	}
	defer s.Close()
	if err := s.SetRule(ctx, pos[0], query, dest, enabled); err != nil {
		c.errorf("alerts %s: %v", verb, err)
		return cli.ExitFailure
	}
	fmt.Fprintf(c.stdout(), "Rule %s saved.\n", pos[0])
	return cli.ExitOK
}

// showDestination prints a webhook without credentials or query (either
// may hold a token).
func showDestination(d string) string {
	if strings.HasPrefix(d, "env:") || strings.HasPrefix(d, "file:") {
		return "webhook from " + d
	}
	u, err := url.Parse(d)
	if err != nil || u.Host == "" {
		return d
	}
	out := u.Scheme + "://" + u.Host + u.Path
	if u.RawQuery != "" || u.User != nil {
		out += " (credentials/query not shown)"
	}
	return out
}

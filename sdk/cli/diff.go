package cli

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/stepgraph/stepgraph/sdk/graphdiff"
	"github.com/stepgraph/stepgraph/sdk/store"
)

// diffOutput is diff --format json: the report (graphdiff.Report) and the
// --fail-on rules that matched, as "type:change".
type diffOutput struct {
	*graphdiff.Report
	FailOnMatched []string `json:"failOnMatched,omitempty"`
}

func diffCommand[C any]() command[C] {
	return command[C]{
		name:    "diff",
		summary: "show what changed between two collections (for alerting)",
		usage:   "OLD NEW",
		long: `Compares two output folders (.j1-integration layout) type by type and prints the
entities and relationships added, removed and changed (property by property).
Memory stays bounded for large collections: one type at a time, about 40 bytes
per object of the largest type.

--fail-on makes the command exit 1 when a change matches one of its rules,
"type:change" with change added, removed, changed or * (type may be a glob like
okta_*), so it can drive an alert from cron or CI. Otherwise it exits 0 whether
or not something changed. _rawData is not compared unless --raw-data is given.

A type NEW lists as a partial dataset (summary.json) was not collected in full:
its old objects missing from NEW are reported apart, as "not collected in this
run" (marked ?), and neither they nor its changed objects match a removed or
changed rule.`,
		examples: []string{
			"$PROG diff yesterday/.j1-integration .j1-integration",
			"$PROG diff old new --format json > changes.json",
			"$PROG diff old new --fail-on 'okta_user:added,okta_user_assigned_role:*' || notify-security",
		},
		setup: func(a *App[C], fs *flagSet) func(context.Context, []string) int {
			format := fs.String("format", "text", "output format: text or json")
			failOn := fs.String("fail-on", "", "exit 1 when a change matches: comma separated type:change rules (change: added, removed, changed, *)")
			limit := fs.Int("limit", 100, "objects listed per type and change kind (0 = all); counts are always exact")
			raw := fs.Bool("raw-data", false, "also compare _rawData")
			return func(ctx context.Context, args []string) int {
				if len(args) != 2 {
					a.errorf("diff: want two collection folders OLD NEW, got %d arguments", len(args))
					return ExitUsage
				}
				if *format != "text" && *format != "json" {
					a.errorf("diff: --format %q: want text or json", *format)
					return ExitUsage
				}
				rules, err := graphdiff.ParseRules(*failOn)
				if err != nil {
					a.errorf("diff: --fail-on: %v", err)
					return ExitUsage
				}
				oldDir, err := store.OpenDir(args[0])
				if err != nil {
					a.errorf("diff: OLD %s: %v", args[0], err)
					return ExitUsage
				}
				newDir, err := store.OpenDir(args[1])
				if err != nil {
					a.errorf("diff: NEW %s: %v", args[1], err)
					return ExitUsage
				}
				rep, err := graphdiff.Diff(ctx, oldDir, newDir, graphdiff.Options{Limit: *limit, IncludeRawData: *raw})
				if err != nil {
					return a.reportError(ctx, "diff", err, nil)
				}
				matched := rep.Match(rules)
				if *format == "json" {
					enc := json.NewEncoder(a.stdout())
					enc.SetIndent("", "  ")
					err = enc.Encode(diffOutput{rep, matched})
				} else {
					err = graphdiff.WriteText(a.stdout(), rep)
				}
				if err != nil {
					a.errorf("diff: write: %v", err)
					return ExitFailure
				}
				if len(matched) > 0 {
					a.errorf("diff: changes match --fail-on: %s", strings.Join(matched, ", "))
					return ExitFailure
				}
				return ExitOK
			}
		},
	}
}

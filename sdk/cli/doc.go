// Package cli is the reusable command line every integration's binary
// mounts: collect, validate, document, visualize and diff.
//
// An integration's main is a few lines (see the App example, which the
// tests compile and run):
//
//	app := &cli.App[teamdir.Config]{
//		Integration: teamdir.New(teamdir.Options{}),
//		Sinks:       []cli.Sink{pgsink.Sink()}, // optional: collect --sink, push
//	}
//	os.Exit(app.Main(context.Background(), os.Args[1:]))
//
// App.Prepare (a hook before the configuration is loaded, e.g. to serve a
// demo org), App.Builtins and App.Commands (the command set) are optional
// too.
//
// or, without options, os.Exit(cli.Main(ctx, integ, os.Args[1:])).
//
// Conventions shared by the commands (docs/cli.md has the user guide):
//
//   - Configuration: one flag per field of the config type C, named after
//     its `config` tag, generated from integration.Fields; values come from
//     flags, then the environment, then the --env-file (default .env), then
//     tag defaults, all through integration.LoadConfig so the precedence
//     and parsing rules live in one place.
//   - Output: --output (alias --data-dir) is the .j1-integration root.
//   - Logs: log/slog to stderr, --log-format text|json, --log-level, always
//     wrapped in the SDK's masking handler (sdk/internal/redact) with the config's secrets.
//     Results (summary tables, diffs) go to stdout.
//   - Errors: one line, "<program>: error: <command>: <message> [CODE]",
//     naming the field, endpoint or step, with secrets redacted.
//   - Exit codes: the Exit* constants.
//
// Design choices:
//
//   - Commands are values (Command): every built-in one is exported
//     (App.CollectCommand, App.DiffCommand, ..., App.BuiltinCommands), so
//     a binary mounts the ones it wants (App.Builtins), wrapped or
//     renamed, next to its own (App.Commands). Main only dispatches by
//     name; each command parses its own flags.
//   - Sources come from the integration's declaration
//     (integration.Source, Step.Source): --disable-source hands the names
//     to the runtime (runtime.Options.DisableSources), which disables
//     their steps and dependents with a reason in summary.json, and
//     validate checks the configuration's declared values and source
//     settings (integration.Integration.CheckConfig) before the
//     integration's Validate, then runs the declared probes of the enabled
//     sources (runtime.Probe), showing each source's ProbeEndpoint (or its
//     Get's path) or ProbeDetail. Required sources are probed but never
//     offered to --disable-source.
//     App.Sources and App.Probe still override both for integrations
//     without a declaration.
//   - Sinks are registered by the binary (App.Sinks), so this package
//     links no database driver.
//   - Progress ETA: steps report expected totals as progress counters
//     named TotalPrefix+"<name>" (see TotalPrefix).
//   - The HTTP statistics hook is a plain func returning FamilyStats so
//     this package does not depend on sdk/httpclient.
//   - The commands are thin adapters from flags to library packages:
//     diff calls sdk/graphdiff (which streams one type at a time, see
//     graphdiff.Diff for the memory bound), document calls sdk/modeldoc
//     (JupiterOne's `j1-integration document` output byte for byte),
//     visualize calls sdk/graphview.
//   - visualize's page is one HTML file that needs no network; a
//     database-backed graph comes through App.OpenGraph, so this package
//     imports no database driver for it.
package cli

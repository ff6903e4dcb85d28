package cli

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/stepgraph/stepgraph/sdk/modeldoc"
)

func documentCommand[C any]() command[C] {
	return command[C]{
		name:    "document",
		summary: "regenerate the Data Model section of the integration's documentation",
		long: `Regenerates the Data Model section (entities, relationships, mapped
relationships) of the documentation file between the
<!-- {J1_DOCUMENTATION_MARKER_START} --> and <!-- {J1_DOCUMENTATION_MARKER_END} -->
markers from the steps' declarations, in the format of JupiterOne's
"j1-integration document". A file without markers gets the section appended.

With --check nothing is written: the command exits 1 when the file is stale,
for CI.`,
		examples: []string{
			"$PROG document",
			"$PROG document --file docs/okta.md",
			"$PROG document --check   # in CI: fails when someone forgot to regenerate",
		},
		setup: func(a *App[C], fs *flagSet) func(context.Context, []string) int {
			def := a.DocFile
			if def == "" {
				def = filepath.Join("docs", a.Integration.Name+".md")
			}
			file := fs.String("file", def, "documentation file to update")
			check := fs.Bool("check", false, "do not write; exit 1 when the file's generated section is out of date")
			return func(ctx context.Context, args []string) int {
				if len(args) > 0 {
					a.errorf("document: unexpected argument %q", args[0])
					return ExitUsage
				}
				return a.document(*file, *check)
			}
		},
	}
}

func (a *App[C]) document(file string, check bool) int {
	steps := a.Integration.Steps
	if !modeldoc.Declares(steps) {
		fmt.Fprintln(a.stdout(), "No entities or relationships declared: nothing to document.")
		return ExitOK
	}
	block := modeldoc.Section(steps)
	if check {
		var stale *modeldoc.StaleError
		switch err := modeldoc.CheckFile(file, block); {
		case errors.As(err, &stale):
			a.errorf("document: %v; run '%s document --file %s'", err, a.program(), file)
			return ExitFailure
		case err != nil:
			a.errorf("document: %v", err)
			return ExitFailure
		}
		fmt.Fprintf(a.stdout(), "%s is up to date.\n", file)
		return ExitOK
	}
	changed, err := modeldoc.UpdateFile(file, block)
	if err != nil {
		a.errorf("document: %v", err)
		return ExitFailure
	}
	if !changed {
		fmt.Fprintf(a.stdout(), "%s is up to date.\n", file)
		return ExitOK
	}
	fmt.Fprintf(a.stdout(), "Updated the Data Model section of %s.\n", file)
	return ExitOK
}

package cli

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"

	"github.com/stepgraph/stepgraph/sdk/graphview"
	"github.com/stepgraph/stepgraph/sdk/integration"
	"github.com/stepgraph/stepgraph/sdk/internal/atomicfile"
	"github.com/stepgraph/stepgraph/sdk/runtime"
	"github.com/stepgraph/stepgraph/sdk/store"
)

// GraphOpener opens a graph kept outside a collection folder, for
// `visualize --from`: from is the flag's value (e.g. a postgres:// URL) and
// instance the --instance value. close is called when the page is written.
// A binary supplies one (App.OpenGraph) so that sdk/cli imports no
// database driver.
type GraphOpener func(ctx context.Context, from, instance string) (src graphview.Source, close func(), err error)

// declaredTypes lists the entity types the steps declare, for the type view.
func declaredTypes[C any](steps []integration.Step[C]) []graphview.DeclaredType {
	var out []graphview.DeclaredType
	seen := map[string]bool{}
	for _, s := range runtime.StepsInOrder(steps) {
		for _, e := range s.Entities {
			if !seen[e.Type] {
				seen[e.Type] = true
				out = append(out, graphview.DeclaredType{Type: e.Type, Resource: e.Resource, Class: e.Class})
			}
		}
	}
	return out
}

func visualizeCommand[C any]() command[C] {
	return command[C]{
		name:    "visualize",
		summary: "draw the collected graph as a self-contained HTML page (or Graphviz DOT)",
		long: `Reads the collection in --output (or, with --from, a graph the binary knows
how to open, such as a PostgreSQL instance) and writes one HTML file that opens
offline (cytoscape.js and the data are embedded). The page starts with the
type-level graph (one node per _type with counts, one edge per relationship
type with counts); clicking a type lists its objects. Search by key, name or
email focuses on one object: its neighbourhood (1 or 2 hops) grouped by
relationship type, large groups collapsed into a counted node that expands.
"Paths" answers how a user reaches an application or role (directly or through
which groups) and who has an object. Beside the picture: the selected object's
properties and a sortable, filterable table of its neighbours.
--format dot writes the type-level graph as Graphviz (dot -Tsvg graph.dot).`,
		examples: []string{
			"$PROG visualize && xdg-open .j1-integration/graph.html",
			"$PROG visualize --output /tmp/out --file /tmp/okta.html",
			"$PROG visualize --from postgres://user@localhost:5432/graph --instance acme --file acme.html",
			"$PROG visualize --format dot --file - | dot -Tsvg > types.svg",
		},
		setup: func(a *App[C], fs *flagSet) func(context.Context, []string) int {
			output := addOutputFlag(fs, "collection folder to draw")
			file := fs.String("file", "", "file to write (\"-\" for stdout; default <output>/graph.html or graph.dot)")
			format := fs.String("format", "html", "html or dot")
			from := fs.String("from", "", "draw this graph instead of the --output folder (e.g. a postgres:// URL, when the binary supports it)")
			inst := fs.String("instance", "default", "with --from: the integration instance to draw")
			titleFlag := fs.String("title", "", "title of the page (default: the integration and the folder or instance)")
			return func(ctx context.Context, args []string) int {
				if len(args) > 0 {
					a.errorf("visualize: unexpected argument %q", args[0])
					return ExitUsage
				}
				if *format != "html" && *format != "dot" {
					a.errorf("visualize: --format %q: want html or dot", *format)
					return ExitUsage
				}
				var src graphview.Source
				title := a.Integration.Name + " — " + filepath.Clean(*output)
				if *from != "" {
					if a.OpenGraph == nil {
						a.errorf("visualize: --from: %s cannot open graphs other than collection folders", a.program())
						return ExitUsage
					}
					if *file == "" {
						a.errorf("visualize: --from needs --file")
						return ExitUsage
					}
					s, closeFn, err := a.OpenGraph(ctx, *from, *inst)
					if err != nil {
						return a.reportError(ctx, "visualize", err, nil)
					}
					defer closeFn()
					src = s
					title = a.Integration.Name + " — instance " + *inst
				} else {
					dir, err := store.OpenDir(*output)
					if err != nil {
						a.errorf("visualize: %v (run '%s collect' first or pass --output)", err, a.program())
						return ExitUsage
					}
					src = dir
				}
				if *titleFlag != "" {
					title = *titleFlag
				}
				page, err := graphview.Build(ctx, src, graphview.Options{Title: title, Declared: declaredTypes(a.Integration.Steps)})
				if err != nil {
					return a.reportError(ctx, "visualize", err, nil)
				}
				dest := *file
				if dest == "" {
					dest = filepath.Join(*output, "graph."+*format)
				}
				write := page.WriteHTML
				if *format == "dot" {
					write = page.WriteDOT
				}
				var b bytes.Buffer
				if dest == "-" {
					err = write(a.stdout())
				} else if err = write(&b); err == nil {
					err = atomicfile.Write(dest, b.Bytes())
				}
				if err != nil {
					a.errorf("visualize: write %s: %v", dest, err)
					return ExitFailure
				}
				if dest != "-" {
					st := page.Stats()
					fmt.Fprintf(a.stdout(), "Wrote %s (%s): %d entities of %d types, %d relationships of %d types.\n",
						dest, byteSize(b.Len()), st.Entities-st.Placeholders, st.EntityTypes, st.Relationships, st.RelationshipTypes)
					if st.Placeholders > 0 {
						fmt.Fprintf(a.stdout(), "  %d targets of mapped relationships are drawn as placeholders.\n", st.Placeholders)
					}
				}
				if st := page.Stats(); st.Dangling > 0 {
					fmt.Fprintf(a.stderr(), "visualize: %d relationships left out: an endpoint is not in the graph\n", st.Dangling)
				}
				return ExitOK
			}
		},
	}
}

// byteSize formats n bytes for people.
func byteSize(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

package cli

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"html"
	"io"
	"path/filepath"
	"sort"
	"strings"

	"github.com/stepgraph/stepgraph/sdk/graph"
	"github.com/stepgraph/stepgraph/sdk/integration"
	"github.com/stepgraph/stepgraph/sdk/store"
)

// CytoscapeVersion is the version of the embedded cytoscape.js (npm
// package cytoscape, MIT licence; see assets/README.md).
const CytoscapeVersion = "3.35.0"

//go:embed assets/cytoscape.min.js
var cytoscapeJS string

//go:embed assets/visualize.html
var visualizeTemplate string

// DefaultMaxNodes is the default node cap of visualize.
const DefaultMaxNodes = 2000

// VisualizeOptions tune BuildVisualization.
type VisualizeOptions struct {
	// Title is shown in the page (default: the folder name).
	Title string
	// MaxNodes caps the entity and placeholder nodes drawn (default
	// DefaultMaxNodes). When the collection is larger, every type keeps a
	// share proportional to its size (at least one node) and the page
	// says it is truncated.
	MaxNodes int
	// MaxEdges caps the relationships drawn (default 5 × MaxNodes).
	MaxEdges int
}

// Visualization is the data a visualize page or DOT file is drawn from.
type Visualization struct {
	Title string `json:"title"`
	// Note explains a truncation; empty when everything is drawn.
	Note      string    `json:"note"`
	Truncated bool      `json:"truncated"`
	Instances vizGraph  `json:"instances"`
	Legend    []vizType `json:"legend"`
	// Model is the type-level view of the declared model.
	Model       vizGraph  `json:"model"`
	ModelLegend []vizType `json:"modelLegend"`
	// TotalEntities and TotalRelationships count the whole collection.
	TotalEntities      int `json:"totalEntities"`
	TotalRelationships int `json:"totalRelationships"`
}

type vizGraph struct {
	Nodes []vizNode `json:"nodes"`
	Edges []vizEdge `json:"edges"`
}

type vizNode struct {
	ID     string         `json:"id"`
	Label  string         `json:"label"`
	Type   string         `json:"type"`
	Class  string         `json:"class,omitempty"`
	Color  string         `json:"color"`
	Mapped bool           `json:"mapped,omitempty"`
	Rank   int            `json:"rank"`
	Props  map[string]any `json:"props,omitempty"`
}

type vizEdge struct {
	ID     string `json:"id"`
	Source string `json:"source"`
	Target string `json:"target"`
	Label  string `json:"label"`
	Type   string `json:"type"`
	Mapped bool   `json:"mapped,omitempty"`
}

type vizType struct {
	Type   string `json:"type"`
	Color  string `json:"color"`
	Mapped bool   `json:"mapped,omitempty"`
	Count  *int   `json:"count,omitempty"`
	Shown  *int   `json:"shown,omitempty"`
}

// palette holds distinguishable colours; types beyond it get a hashed hue.
var palette = []string{
	"#4263eb", "#e8590c", "#2f9e44", "#c2255c", "#7048e8", "#0c8599", "#f59f00",
	"#862e9c", "#66a80f", "#e03131", "#1098ad", "#a61e4d", "#5c940d", "#d9480f",
	"#364fc7", "#099268", "#ae3ec9", "#f08c00", "#1971c2", "#6741d9",
}

func colorFor(i int, typ string) string {
	if i >= 0 && i < len(palette) {
		return palette[i]
	}
	h := fnv.New32a()
	h.Write([]byte(typ))
	return fmt.Sprintf("hsl(%d, 60%%, 45%%)", h.Sum32()%360)
}

const mappedColor = "#868e96"

// BuildVisualization reads a collection and the integration's declared
// steps into a Visualization. Memory is bounded by the caps: objects are
// streamed type by type and only drawn nodes are kept.
func BuildVisualization[C any](ctx context.Context, dir *store.Dir, steps []integration.Step[C], opts VisualizeOptions) (*Visualization, error) {
	if opts.MaxNodes <= 0 {
		opts.MaxNodes = DefaultMaxNodes
	}
	if opts.MaxEdges <= 0 {
		opts.MaxEdges = 5 * opts.MaxNodes
	}
	v := &Visualization{Title: opts.Title}
	if v.Title == "" {
		v.Title = filepath.Base(filepath.Clean(dir.Root()))
	}
	// Colours: collected and declared entity types share one assignment.
	var all []string
	all = append(all, dir.EntityTypes()...)
	for _, s := range steps {
		for _, e := range s.Entities {
			all = append(all, e.Type)
		}
	}
	all = union(all, nil)
	colors := map[string]string{}
	rank := map[string]int{}
	for i, t := range all {
		colors[t] = colorFor(i, t)
		rank[t] = len(all) - i
	}

	// Quotas per entity type.
	etypes := dir.EntityTypes()
	counts := map[string]int{}
	total := 0
	for _, t := range etypes {
		counts[t] = dir.Count(t)
		total += counts[t]
	}
	v.TotalEntities = total
	for _, t := range dir.RelationshipTypes() {
		v.TotalRelationships += dir.Count(t)
	}
	quota := quotas(etypes, counts, total, opts.MaxNodes)
	included := map[string]bool{}
	shown := map[string]int{}
	for _, t := range etypes {
		q := quota[t]
		if q == 0 {
			continue
		}
		err := dir.IterateEntities(ctx, t, func(e *graph.Entity) error {
			if shown[t] >= q {
				return errStop
			}
			if included[e.Key] {
				return nil
			}
			included[e.Key] = true
			shown[t]++
			label := e.DisplayName
			if label == "" {
				label = e.Key
			}
			n := vizNode{ID: e.Key, Label: label, Type: e.Type, Class: strings.Join(e.Class, ","), Color: colors[e.Type], Rank: rank[e.Type], Props: displayProps(e.Properties)}
			v.Instances.Nodes = append(v.Instances.Nodes, n)
			return nil
		})
		if err != nil && err != errStop {
			return nil, fmt.Errorf("read %s: %w", t, err)
		}
	}
	nodes := len(v.Instances.Nodes)
	droppedEdges := 0
	placeholders := map[string]bool{}
	for _, t := range dir.RelationshipTypes() {
		err := dir.IterateRelationships(ctx, t, func(r *graph.Relationship) error {
			if len(v.Instances.Edges) >= opts.MaxEdges {
				droppedEdges++
				return nil
			}
			if r.Mapping == nil {
				if !included[r.FromKey] || !included[r.ToKey] {
					droppedEdges++
					return nil
				}
				v.Instances.Edges = append(v.Instances.Edges, vizEdge{ID: r.Key, Source: r.FromKey, Target: r.ToKey, Label: r.Class, Type: r.Type})
				return nil
			}
			m := r.Mapping
			if !included[m.SourceEntityKey] {
				droppedEdges++
				return nil
			}
			pid, ptype, plabel := placeholderOf(m)
			if !placeholders[pid] {
				if nodes >= opts.MaxNodes {
					droppedEdges++
					return nil
				}
				placeholders[pid] = true
				nodes++
				v.Instances.Nodes = append(v.Instances.Nodes, vizNode{ID: pid, Label: plabel, Type: ptype, Color: mappedColor, Mapped: true, Props: displayProps(m.TargetEntity)})
			}
			src, dst := m.SourceEntityKey, pid
			if m.Direction == graph.Reverse {
				src, dst = dst, src
			}
			v.Instances.Edges = append(v.Instances.Edges, vizEdge{ID: r.Key, Source: src, Target: dst, Label: r.Class, Type: r.Type, Mapped: true})
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", t, err)
		}
	}
	shownEntities := len(included)
	if shownEntities < total || (droppedEdges > 0 && len(v.Instances.Edges) >= opts.MaxEdges) {
		v.Truncated = true
		v.Note = fmt.Sprintf("Truncated: showing %d of %d entities (each type keeps a proportional share; raise --max-nodes to see more) and %d of %d relationships.",
			shownEntities, total, len(v.Instances.Edges), v.TotalRelationships)
	}
	for _, t := range etypes {
		c, s := counts[t], shown[t]
		v.Legend = append(v.Legend, vizType{Type: t, Color: colors[t], Count: &c, Shown: &s})
	}
	if len(placeholders) > 0 {
		v.Legend = append(v.Legend, vizType{Type: "mapped target (other integration)", Color: mappedColor, Mapped: true})
	}
	v.Model, v.ModelLegend = modelGraph(steps, colors, rank)
	return v, nil
}

var errStop = fmt.Errorf("stop")

// quotas shares max nodes between types in proportion to their counts,
// at least one each while the cap allows.
func quotas(types []string, counts map[string]int, total, max int) map[string]int {
	q := map[string]int{}
	if total <= max {
		for _, t := range types {
			q[t] = counts[t]
		}
		return q
	}
	used := 0
	for _, t := range types {
		n := counts[t] * max / total
		if n == 0 && counts[t] > 0 {
			n = 1
		}
		q[t] = n
		used += n
	}
	// Hand out what rounding left, largest types first; take back from
	// them when the minimums overshot.
	order := append([]string(nil), types...)
	sort.SliceStable(order, func(i, j int) bool { return counts[order[i]] > counts[order[j]] })
	for i := 0; used < max && i < len(order)*4; i++ {
		t := order[i%len(order)]
		if q[t] < counts[t] {
			q[t]++
			used++
		}
	}
	for i := 0; used > max && i < len(order)*max; i++ {
		t := order[i%len(order)]
		if q[t] > 1 {
			q[t]--
			used--
		}
	}
	return q
}

// displayProps keeps scalar properties, truncating long strings, for the
// details panel.
func displayProps(p map[string]any) map[string]any {
	out := make(map[string]any, len(p))
	for k, v := range p {
		if s, ok := v.(string); ok && len(s) > 200 {
			v = s[:200] + "…"
		}
		out[k] = v
	}
	return out
}

// placeholderOf returns a stable id, _type and label for a mapped target.
func placeholderOf(m *graph.Mapping) (id, typ, label string) {
	typ, _ = m.TargetEntity["_type"].(string)
	if typ == "" {
		typ = "mapped target"
	}
	key, _ := m.TargetEntity["_key"].(string)
	if key == "" {
		var parts []string
		keys := []string{}
		if len(m.TargetFilterKeys) > 0 {
			keys = m.TargetFilterKeys[0]
		}
		for _, k := range keys {
			if k == "_type" {
				continue
			}
			parts = append(parts, fmt.Sprint(m.TargetEntity[k]))
		}
		key = strings.Join(parts, "|")
	}
	label = key
	for _, k := range []string{"displayName", "name", "email", "_key"} {
		if s, ok := m.TargetEntity[k].(string); ok && s != "" {
			label = s
			break
		}
	}
	return "mapped:" + typ + ":" + key, typ, label
}

// modelGraph is the type-level view of the declarations.
func modelGraph[C any](steps []integration.Step[C], colors map[string]string, rank map[string]int) (vizGraph, []vizType) {
	var g vizGraph
	var legend []vizType
	nodes := map[string]bool{}
	addNode := func(t, label string, mapped bool) {
		if nodes[t] {
			return
		}
		nodes[t] = true
		c := colors[t]
		if mapped || c == "" {
			c = mappedColor
		}
		g.Nodes = append(g.Nodes, vizNode{ID: t, Label: label, Type: t, Color: c, Mapped: mapped, Rank: rank[t]})
		legend = append(legend, vizType{Type: t, Color: c, Mapped: mapped})
	}
	ordered := stepsInOrder(steps)
	for _, s := range ordered {
		for _, e := range s.Entities {
			addNode(e.Type, e.Type+"\n"+e.Resource, false)
		}
	}
	edges := map[string]bool{}
	for _, s := range ordered {
		for _, r := range s.Relationships {
			addNode(r.Source, r.Source, false)
			addNode(r.Target, r.Target, false)
			id := r.Type + "|" + r.Source + "|" + r.Target
			if !edges[id] {
				edges[id] = true
				g.Edges = append(g.Edges, vizEdge{ID: id, Source: r.Source, Target: r.Target, Label: r.Class, Type: r.Type})
			}
		}
		for _, r := range s.MappedRelationships {
			addNode(r.Source, r.Source, false)
			tid := "mapped:" + r.Target
			addNode(tid, r.Target+" (mapped)", true)
			src, dst := r.Source, tid
			if r.Direction == graph.Reverse {
				src, dst = dst, src
			}
			id := r.Type + "|" + src + "|" + dst
			if !edges[id] {
				edges[id] = true
				g.Edges = append(g.Edges, vizEdge{ID: id, Source: src, Target: dst, Label: r.Class, Type: r.Type, Mapped: true})
			}
		}
	}
	if g.Nodes == nil {
		g.Nodes = []vizNode{}
	}
	if g.Edges == nil {
		g.Edges = []vizEdge{}
	}
	return g, legend
}

// WriteHTML writes the visualization as one self-contained HTML page:
// the data as a JSON block and cytoscape.js inline, so it opens without
// network access.
func (v *Visualization) WriteHTML(w io.Writer) error {
	if v.Instances.Nodes == nil {
		v.Instances.Nodes = []vizNode{}
	}
	if v.Instances.Edges == nil {
		v.Instances.Edges = []vizEdge{}
	}
	// encoding/json escapes <, > and & inside strings, so the data can
	// never close its <script> element.
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	r := strings.NewReplacer(
		"{{TITLE}}", html.EscapeString(v.Title+" — stepgraph visualize"),
		"{{DATA}}", string(data),
		"{{CYTOSCAPE_VERSION}}", CytoscapeVersion,
		"{{CYTOSCAPE}}", cytoscapeJS,
	)
	_, err = r.WriteString(w, visualizeTemplate)
	return err
}

// WriteDOT writes the collected graph in Graphviz DOT.
func (v *Visualization) WriteDOT(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "digraph %s {\n", dotQuote(v.Title))
	if v.Note != "" {
		fmt.Fprintf(&b, "  // %s\n", strings.ReplaceAll(v.Note, "\n", " "))
	}
	b.WriteString("  graph [rankdir=LR, overlap=false];\n  node [shape=ellipse, style=filled, fontname=\"Helvetica\", fontsize=10];\n  edge [fontname=\"Helvetica\", fontsize=8];\n")
	for _, n := range v.Instances.Nodes {
		attrs := fmt.Sprintf("label=%s, fillcolor=%s, tooltip=%s", dotQuote(n.Label+"\n"+n.Type), dotQuote(dotColor(n.Color)), dotQuote(n.ID))
		if n.Mapped {
			attrs = fmt.Sprintf("label=%s, shape=box, style=dashed, tooltip=%s", dotQuote(n.Label+"\n"+n.Type), dotQuote(n.ID))
		} else {
			attrs += ", fontcolor=\"white\""
		}
		fmt.Fprintf(&b, "  %s [%s];\n", dotQuote(n.ID), attrs)
	}
	for _, e := range v.Instances.Edges {
		style := ""
		if e.Mapped {
			style = ", style=dashed"
		}
		fmt.Fprintf(&b, "  %s -> %s [label=%s%s];\n", dotQuote(e.Source), dotQuote(e.Target), dotQuote(e.Label), style)
	}
	b.WriteString("}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// dotColor turns hsl() colours (which Graphviz does not read) into a
// neutral hex.
func dotColor(c string) string {
	if strings.HasPrefix(c, "#") {
		return c
	}
	return "#5b6475"
}

func dotQuote(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	s = strings.ReplaceAll(s, `"`, `\"`)
	s = strings.ReplaceAll(s, "\n", `\n`)
	return `"` + s + `"`
}

func visualizeCommand[C any]() command[C] {
	return command[C]{
		name:    "visualize",
		summary: "draw the collected graph as a self-contained HTML page (or Graphviz DOT)",
		long: `Reads the collection in --output and writes one HTML file that opens offline
(cytoscape.js is embedded): entities coloured by _type, relationships labelled by
class, targets of mapped relationships drawn as dashed placeholder nodes, search
by key or name, and a "Declared model" view of the types the steps declare.
Large collections are capped at --max-nodes with a note saying so.
--format dot writes Graphviz instead (render with: dot -Tsvg graph.dot).`,
		examples: []string{
			"$PROG visualize && xdg-open .j1-integration/graph.html",
			"$PROG visualize --output /tmp/out --file /tmp/okta.html --max-nodes 500",
			"$PROG visualize --format dot --file - | dot -Tsvg > graph.svg",
		},
		setup: func(a *App[C], fs *flagSet) func(context.Context, []string) int {
			output := addOutputFlag(fs, "collection folder to draw")
			file := fs.String("file", "", "file to write (\"-\" for stdout; default <output>/graph.html or graph.dot)")
			format := fs.String("format", "html", "html or dot")
			maxNodes := fs.Int("max-nodes", DefaultMaxNodes, "maximum nodes drawn")
			return func(ctx context.Context, args []string) int {
				if len(args) > 0 {
					a.errorf("visualize: unexpected argument %q", args[0])
					return ExitUsage
				}
				if *format != "html" && *format != "dot" {
					a.errorf("visualize: --format %q: want html or dot", *format)
					return ExitUsage
				}
				if *maxNodes <= 0 {
					a.errorf("visualize: --max-nodes must be positive")
					return ExitUsage
				}
				dir, err := store.OpenDir(*output)
				if err != nil {
					a.errorf("visualize: %v (run '%s collect' first or pass --output)", err, a.program())
					return ExitUsage
				}
				v, err := BuildVisualization(ctx, dir, a.Integration.Steps, VisualizeOptions{
					Title: a.Integration.Name + " — " + filepath.Clean(*output), MaxNodes: *maxNodes,
				})
				if err != nil {
					return a.reportError(ctx, "visualize", err, nil)
				}
				dest := *file
				if dest == "" {
					dest = filepath.Join(*output, "graph."+*format)
				}
				write := v.WriteHTML
				if *format == "dot" {
					write = v.WriteDOT
				}
				if dest == "-" {
					err = write(a.stdout())
				} else {
					var b strings.Builder
					if err = write(&b); err == nil {
						err = writeFileAtomic(dest, []byte(b.String()))
					}
				}
				if err != nil {
					a.errorf("visualize: write %s: %v", dest, err)
					return ExitFailure
				}
				if dest != "-" {
					fmt.Fprintf(a.stdout(), "Wrote %s: %d nodes, %d relationships.\n", dest, len(v.Instances.Nodes), len(v.Instances.Edges))
				}
				if v.Truncated {
					fmt.Fprintln(a.stderr(), v.Note)
				}
				return ExitOK
			}
		},
	}
}

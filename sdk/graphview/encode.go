package graphview

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"html"
	"io"
	"slices"
	"strconv"
	"strings"
)

// The page embeds the graph in script elements of type application/json:
//
//   - graph-data (parsed when the page opens): the types, every entity's
//     key, display name and search text as three string arrays indexed by
//     entity number (entities are numbered type by type), every
//     relationship type's pairs as two integer arrays (from as deltas of
//     the sorted from numbers, to as entity numbers), and the type-level
//     edges with counts;
//   - props-e<N> / props-r<N> (parsed the first time an object of that
//     type is selected): the properties of entity type N or relationship
//     type N as columns; a column whose values repeat is stored as a
//     dictionary and indexes into it.
//
// encoding/json escapes <, > and & inside strings, so no value can close
// its script element.

// WriteHTML writes the page: one self-contained HTML file (cytoscape.js
// and the data inline) that opens without network access.
func (p *Page) WriteHTML(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 256<<10)
	err := expand(bw, pageTemplate, func(name string) error {
		switch name {
		case "TITLE":
			_, err := bw.WriteString(html.EscapeString(p.title + " — stepgraph visualize"))
			return err
		case "DATA":
			return p.writeData(bw)
		case "PROPS":
			return p.writeProps(bw)
		case "CYTOSCAPE_VERSION":
			_, err := bw.WriteString(CytoscapeVersion)
			return err
		case "CYTOSCAPE":
			_, err := bw.WriteString(cytoscapeJS)
			return err
		}
		return fmt.Errorf("graphview: unknown template field %s", name)
	})
	if err != nil {
		return err
	}
	return bw.Flush()
}

// expand copies tmpl to w, calling field for each {{NAME}}.
func expand(w io.Writer, tmpl string, field func(string) error) error {
	for {
		i := strings.Index(tmpl, "{{")
		if i < 0 {
			_, err := io.WriteString(w, tmpl)
			return err
		}
		j := strings.Index(tmpl[i:], "}}")
		if j < 0 {
			return fmt.Errorf("graphview: unterminated template field")
		}
		if _, err := io.WriteString(w, tmpl[:i]); err != nil {
			return err
		}
		if err := field(tmpl[i+2 : i+j]); err != nil {
			return err
		}
		tmpl = tmpl[i+j+2:]
	}
}

type pageRelData struct {
	*pageRelType
	From []int32 `json:"from"`
	To   []int32 `json:"to"`
}

func (p *Page) writeData(w io.Writer) error {
	rels := make([]pageRelData, len(p.relTypes))
	for i, rt := range p.relTypes {
		d := pageRelData{pageRelType: rt, From: make([]int32, len(rt.pairs)), To: make([]int32, len(rt.pairs))}
		prev := int32(0)
		for j, pr := range rt.pairs {
			d.From[j] = pr.from - prev
			prev = pr.from
			d.To[j] = pr.to
		}
		rels[i] = d
	}
	edges := p.edges
	if edges == nil {
		edges = []typeEdge{}
	}
	data := struct {
		Version int           `json:"v"`
		Title   string        `json:"title"`
		Stats   Stats         `json:"stats"`
		Types   []*pageType   `json:"types"`
		Rels    []pageRelData `json:"rels"`
		Edges   []typeEdge    `json:"edges"`
		Keys    []string      `json:"keys"`
		Names   []string      `json:"names"`
		Extra   []string      `json:"extra"`
	}{1, p.title, p.stats, p.types, rels, edges, nonNil(p.keys), nonNil(p.names), nonNil(p.extra)}
	return json.NewEncoder(w).Encode(data)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// writeProps writes one script element per type that has properties.
func (p *Page) writeProps(w *bufio.Writer) error {
	for i, t := range p.types {
		if len(t.props) == 0 {
			continue
		}
		refs := map[string][]string{"self": p.keys[t.Start : t.Start+t.Count], "name": p.names[t.Start : t.Start+t.Count]}
		if err := writeTable(w, "props-e"+strconv.Itoa(i), t.props, refs); err != nil {
			return fmt.Errorf("graphview: properties of %s: %w", t.Name, err)
		}
	}
	for i, rt := range p.relTypes {
		if len(rt.props) == 0 {
			continue
		}
		from, to := make([]string, len(rt.pairs)), make([]string, len(rt.pairs))
		for j, pr := range rt.pairs {
			from[j], to[j] = p.keys[pr.from], p.keys[pr.to]
		}
		if err := writeTable(w, "props-r"+strconv.Itoa(i), rt.props, map[string][]string{"from": from, "to": to}); err != nil {
			return fmt.Errorf("graphview: properties of %s: %w", rt.Name, err)
		}
	}
	return nil
}

// writeTable writes rows as columns, {"n":rows,"cols":[...]}, each column
// one of
//
//	{"name":..,"v":[values]}             one value per row (null: absent)
//	{"name":..,"d":[dictionary],"i":[..]} repeating values, stored once
//	{"name":..,"same":"other column"}    every row equals another column
//	{"name":..,"key":"self|name|from|to"} every row is the _key (or the
//	                                     displayName) of the object, or
//	                                     the _key of the relationship's
//	                                     from or to entity (refs)
//
// so that properties that repeat the key (id, userId), the display name
// (email) or each other (created and createdOn) cost nothing.
func writeTable(w *bufio.Writer, id string, rows []map[string]any, refs map[string][]string) error {
	var names []string
	seen := map[string]bool{}
	for _, r := range rows {
		for k := range r {
			if !seen[k] {
				seen[k] = true
				names = append(names, k)
			}
		}
	}
	slices.Sort(names)
	refNames := make([]string, 0, len(refs))
	for k := range refs {
		refNames = append(refNames, k)
	}
	slices.Sort(refNames)
	fmt.Fprintf(w, `<script type="application/json" id="%s">{"n":%d,"cols":[`, id, len(rows))
	var done []column
	for ci, name := range names {
		vals := make([][]byte, len(rows))
		h := fnv.New64a()
		for ri, r := range rows {
			v, ok := r[name]
			if !ok {
				v = nil
			}
			b, err := json.Marshal(v)
			if err != nil {
				return fmt.Errorf("column %s: %w", name, err)
			}
			vals[ri] = b
			h.Write(b)
			h.Write([]byte{0})
		}
		if ci > 0 {
			w.WriteByte(',')
		}
		nb, _ := json.Marshal(name)
		w.WriteString(`{"name":`)
		w.Write(nb)
		sum := h.Sum64()
		if ref := refColumn(rows, name, refs, refNames); ref != "" {
			w.WriteString(`,"key":"` + ref + `"}`)
			continue
		}
		if same := sameColumn(done, sum, vals); same != "" {
			sb, _ := json.Marshal(same)
			w.WriteString(`,"same":`)
			w.Write(sb)
			w.WriteString("}")
			continue
		}
		done = append(done, column{name, sum, vals})
		writeValues(w, vals)
		w.WriteString("}")
	}
	_, err := w.WriteString("]}</script>\n")
	return err
}

// refColumn names the reference every row of column name equals, if any.
func refColumn(rows []map[string]any, name string, refs map[string][]string, order []string) string {
next:
	for _, ref := range order {
		keys := refs[ref]
		for ri, r := range rows {
			if s, ok := r[name].(string); !ok || s != keys[ri] {
				continue next
			}
		}
		return ref
	}
	return ""
}

// column is a written column: its values and their hash.
type column struct {
	name string
	hash uint64
	vals [][]byte
}

// sameColumn names an earlier column with the same values, if any.
func sameColumn(done []column, hash uint64, vals [][]byte) string {
	for _, c := range done {
		if c.hash != hash {
			continue
		}
		equal := true
		for i := range vals {
			if !bytes.Equal(vals[i], c.vals[i]) {
				equal = false
				break
			}
		}
		if equal {
			return c.name
		}
	}
	return ""
}

// writeValues writes a column's values, as a dictionary when few repeat.
func writeValues(w *bufio.Writer, vals [][]byte) {
	dict := map[string]int{}
	var order [][]byte
	for _, b := range vals {
		if len(order) > len(vals)/3 {
			break
		}
		if _, ok := dict[string(b)]; !ok {
			dict[string(b)] = len(order)
			order = append(order, b)
		}
	}
	if len(vals) >= 4 && len(order) <= len(vals)/3 {
		w.WriteString(`,"d":[`)
		for i, b := range order {
			if i > 0 {
				w.WriteByte(',')
			}
			w.Write(b)
		}
		w.WriteString(`],"i":[`)
		for ri, b := range vals {
			if ri > 0 {
				w.WriteByte(',')
			}
			w.WriteString(strconv.Itoa(dict[string(b)]))
		}
		w.WriteString("]")
		return
	}
	w.WriteString(`,"v":[`)
	for ri, b := range vals {
		if ri > 0 {
			w.WriteByte(',')
		}
		w.Write(b)
	}
	w.WriteString("]")
}

// WriteDOT writes the type-level graph in Graphviz DOT: one node per
// _type with its count, one edge per relationship _type and pair of
// endpoint types with its count.
func (p *Page) WriteDOT(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "digraph %s {\n", dotQuote(p.title))
	b.WriteString("  graph [rankdir=LR, overlap=false];\n  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=10, fontcolor=\"white\"];\n  edge [fontname=\"Helvetica\", fontsize=8];\n")
	for _, t := range p.types {
		attrs := fmt.Sprintf("label=%s, fillcolor=%s", dotQuote(fmt.Sprintf("%s\n%d", t.Name, t.Count)), dotQuote(dotColor(t.Color)))
		if t.Mapped {
			attrs = fmt.Sprintf("label=%s, style=dashed, fontcolor=\"black\"", dotQuote(fmt.Sprintf("%s (mapped)\n%d", t.Name, t.Count)))
		}
		fmt.Fprintf(&b, "  %s [%s];\n", dotQuote(t.Name), attrs)
	}
	for _, e := range p.edges {
		rt := p.relTypes[e.Rel]
		style := ""
		if rt.Mapped {
			style = ", style=dashed"
		}
		fmt.Fprintf(&b, "  %s -> %s [label=%s, tooltip=%s%s];\n", dotQuote(p.types[e.From].Name), dotQuote(p.types[e.To].Name),
			dotQuote(fmt.Sprintf("%s %d", rt.Class, e.Count)), dotQuote(rt.Name), style)
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

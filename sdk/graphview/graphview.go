package graphview

import (
	"cmp"
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"sort"
	"strings"

	"github.com/stepgraph/stepgraph/sdk/graph"
)

// Source is a collected graph read type by type. *store.Dir (a
// .j1-integration folder) satisfies it, and so does the PostgreSQL graph
// reader of sdk/store/postgres.
type Source interface {
	// EntityTypes and RelationshipTypes list the _types present.
	EntityTypes() []string
	RelationshipTypes() []string
	// IterateEntities and IterateRelationships call fn for each object of
	// a type.
	IterateEntities(ctx context.Context, typ string, fn func(*graph.Entity) error) error
	IterateRelationships(ctx context.Context, typ string, fn func(*graph.Relationship) error) error
}

// DeclaredType is an entity type an integration declares, drawn in the
// type view even when the collection holds none of it.
type DeclaredType struct {
	Type     string
	Resource string
	Class    []string
}

// Options tune Build.
type Options struct {
	// Title is shown at the top of the page.
	Title string
	// Declared lists the entity types the integration declares (optional);
	// collected types need not be listed.
	Declared []DeclaredType
}

// Stats counts what a Page holds.
type Stats struct {
	// Entities counts the collected entities plus the placeholder nodes
	// drawn for targets of mapped relationships (Placeholders).
	Entities, Placeholders int
	// Relationships counts the relationships drawn; Dangling counts those
	// left out because an endpoint is not in the collection.
	Relationships, Dangling int
	// EntityTypes and RelationshipTypes count the types.
	EntityTypes, RelationshipTypes int
}

// Page is a collected graph prepared for drawing: every entity's key,
// name and type, every relationship as a pair of entity numbers, and the
// entities' properties as one columnar table per type.
type Page struct {
	title    string
	types    []*pageType
	relTypes []*pageRelType
	keys     []string
	names    []string
	extra    []string
	typeOf   []int32 // entity -> index in types
	edges    []typeEdge
	stats    Stats
}

// pageType is one entity _type; its entities are numbered start..start+count-1.
type pageType struct {
	Name     string   `json:"name"`
	Resource string   `json:"resource,omitempty"`
	Class    []string `json:"class"`
	Color    string   `json:"color"`
	Mapped   bool     `json:"mapped,omitempty"`
	Start    int      `json:"start"`
	Count    int      `json:"count"`
	props    []map[string]any
}

// pageRelType is one relationship _type with its pairs sorted.
type pageRelType struct {
	Name   string `json:"name"`
	Class  string `json:"class"`
	Mapped bool   `json:"mapped,omitempty"`
	Count  int    `json:"count"`
	pairs  []pair
	props  []map[string]any
}

type pair struct {
	from, to int32
	props    map[string]any
}

// typeEdge is one edge of the type view: relationships of one _type
// between two entity types.
type typeEdge struct {
	Rel   int `json:"rel"`
	From  int `json:"from"`
	To    int `json:"to"`
	Count int `json:"count"`
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

// mappedColor draws placeholders of other integrations' entities.
const mappedColor = "#868e96"

// Build reads every entity and relationship of src into a Page. Memory is
// proportional to the collection (the page embeds all of it); _rawData is
// not kept.
func Build(ctx context.Context, src Source, opts Options) (*Page, error) {
	p := &Page{title: opts.Title}
	keyIndex := map[string]int32{}
	declared := map[string]DeclaredType{}
	for _, d := range opts.Declared {
		declared[d.Type] = d
	}
	collected := src.EntityTypes()
	for _, t := range collected {
		pt := &pageType{Name: t, Start: len(p.keys), Resource: declared[t].Resource, Class: declared[t].Class}
		ti := int32(len(p.types))
		err := src.IterateEntities(ctx, t, func(e *graph.Entity) error {
			if _, dup := keyIndex[e.Key]; dup {
				return nil
			}
			keyIndex[e.Key] = int32(len(p.keys))
			p.keys = append(p.keys, e.Key)
			p.names = append(p.names, e.DisplayName)
			p.extra = append(p.extra, searchExtra(e.DisplayName, e.Properties))
			p.typeOf = append(p.typeOf, ti)
			props := make(map[string]any, len(e.Properties)+2)
			for k, v := range e.Properties {
				props[k] = v
			}
			if len(e.Class) > 0 {
				props["_class"] = strings.Join(e.Class, ",")
			}
			pt.props = append(pt.props, props)
			if pt.Class == nil {
				pt.Class = e.Class
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("graphview: read %s: %w", t, err)
		}
		pt.Count = len(p.keys) - pt.Start
		p.types = append(p.types, pt)
	}

	// Relationships. Placeholders for mapped targets are numbered after
	// the collected entities once all are known; until then an endpoint
	// -1-i stands for placeholder i.
	type placeholder struct {
		key, typ, label string
		props           map[string]any
	}
	var holders []placeholder
	holderIndex := map[string]int32{}
	for _, t := range src.RelationshipTypes() {
		rt := &pageRelType{Name: t}
		err := src.IterateRelationships(ctx, t, func(r *graph.Relationship) error {
			if rt.Class == "" {
				rt.Class = r.Class
			}
			var props map[string]any
			if len(r.Properties) > 0 {
				props = r.Properties
			}
			if r.Mapping == nil {
				from, ok1 := keyIndex[r.FromKey]
				to, ok2 := keyIndex[r.ToKey]
				if !ok1 || !ok2 {
					p.stats.Dangling++
					return nil
				}
				rt.pairs = append(rt.pairs, pair{from, to, props})
				return nil
			}
			rt.Mapped = true
			m := r.Mapping
			source, ok := keyIndex[m.SourceEntityKey]
			if !ok {
				p.stats.Dangling++
				return nil
			}
			id, typ, label := placeholderOf(m)
			target, ok := keyIndex[id]
			if !ok {
				h, seen := holderIndex["mapped:"+typ+":"+id]
				if !seen {
					h = int32(-1 - len(holders))
					holderIndex["mapped:"+typ+":"+id] = h
					hp := make(map[string]any, len(m.TargetEntity))
					for k, v := range m.TargetEntity {
						if k != "_key" && k != "_type" && k != "displayName" {
							hp[k] = v
						}
					}
					holders = append(holders, placeholder{id, typ, label, hp})
				}
				target = h
			}
			from, to := source, target
			if m.Direction == graph.Reverse {
				from, to = to, from
			}
			rt.pairs = append(rt.pairs, pair{from, to, props})
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("graphview: read %s: %w", t, err)
		}
		p.relTypes = append(p.relTypes, rt)
	}

	// Number the placeholders by type after the collected entities.
	order := make([]int, len(holders))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return holders[order[a]].typ < holders[order[b]].typ })
	final := make([]int32, len(holders))
	var cur *pageType
	for _, i := range order {
		h := holders[i]
		if cur == nil || cur.Name != h.typ {
			cur = &pageType{Name: h.typ, Start: len(p.keys), Mapped: true}
			if c, ok := h.props["_class"]; ok {
				cur.Class = stringList(c)
			}
			p.types = append(p.types, cur)
		}
		final[i] = int32(len(p.keys))
		p.keys = append(p.keys, h.key)
		p.names = append(p.names, h.label)
		p.extra = append(p.extra, searchExtra(h.label, h.props))
		p.typeOf = append(p.typeOf, int32(len(p.types)-1))
		cur.props = append(cur.props, h.props)
		cur.Count++
	}
	p.stats.Placeholders = len(holders)
	p.stats.Entities = len(p.keys)
	resolve := func(x int32) int32 {
		if x < 0 {
			return final[-1-x]
		}
		return x
	}

	// Declared types not collected get an empty node in the type view.
	present := map[string]bool{}
	for _, t := range p.types {
		present[t.Name] = true
	}
	for _, d := range opts.Declared {
		if !present[d.Type] {
			present[d.Type] = true
			p.types = append(p.types, &pageType{Name: d.Type, Resource: d.Resource, Class: d.Class, Start: len(p.keys)})
		}
	}
	for i, t := range p.types {
		t.Color = colorFor(i, t.Name)
		if t.Mapped {
			t.Color = mappedColor
		}
		if t.Class == nil {
			t.Class = []string{}
		}
	}

	// Sort each relationship type's pairs (the page stores the from side
	// as deltas) and count the type-level edges.
	edgeIndex := map[[3]int]int{}
	for ri, rt := range p.relTypes {
		for i := range rt.pairs {
			rt.pairs[i].from = resolve(rt.pairs[i].from)
			rt.pairs[i].to = resolve(rt.pairs[i].to)
		}
		slices.SortFunc(rt.pairs, func(a, b pair) int {
			return cmp.Or(cmp.Compare(a.from, b.from), cmp.Compare(a.to, b.to))
		})
		rt.Count = len(rt.pairs)
		p.stats.Relationships += rt.Count
		hasProps := false
		for _, pr := range rt.pairs {
			k := [3]int{ri, int(p.typeOf[pr.from]), int(p.typeOf[pr.to])}
			e, ok := edgeIndex[k]
			if !ok {
				e = len(p.edges)
				edgeIndex[k] = e
				p.edges = append(p.edges, typeEdge{Rel: ri, From: k[1], To: k[2]})
			}
			p.edges[e].Count++
			hasProps = hasProps || pr.props != nil
		}
		if hasProps {
			rt.props = make([]map[string]any, len(rt.pairs))
			for i, pr := range rt.pairs {
				rt.props[i] = pr.props
			}
		}
	}
	p.stats.EntityTypes = len(p.types)
	p.stats.RelationshipTypes = len(p.relTypes)
	return p, nil
}

// Stats returns what the page holds.
func (p *Page) Stats() Stats { return p.stats }

// searchExtra is what search matches besides the key and display name:
// name, email and login when they differ from the display name.
func searchExtra(display string, props map[string]any) string {
	var parts []string
	for _, k := range []string{"name", "email", "login", "username"} {
		s, _ := props[k].(string)
		if s == "" || s == display || slices.Contains(parts, s) {
			continue
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

func stringList(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []string:
		return x
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// placeholderOf returns a stable key, _type and label for a mapped target.
func placeholderOf(m *graph.Mapping) (key, typ, label string) {
	typ, _ = m.TargetEntity["_type"].(string)
	if typ == "" {
		typ = "mapped target"
	}
	key, _ = m.TargetEntity["_key"].(string)
	if key == "" {
		var parts []string
		var keys []string
		if len(m.TargetFilterKeys) > 0 {
			keys = m.TargetFilterKeys[0]
		}
		for _, k := range keys {
			if k == "_type" {
				continue
			}
			parts = append(parts, fmt.Sprint(m.TargetEntity[k]))
		}
		key = typ + ":" + strings.Join(parts, "|")
	}
	label = key
	for _, k := range []string{"displayName", "name", "email", "_key"} {
		if s, ok := m.TargetEntity[k].(string); ok && s != "" {
			label = s
			break
		}
	}
	return key, typ, label
}

package graph_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/stepgraph/stepgraph/sdk/graph"
	"github.com/stepgraph/stepgraph/sdk/sdktest/datamodel"
)

// jsonSchema is the part of JSON Schema the data model's files use.
type jsonSchema struct {
	Ref               string                 `json:"$ref"`
	Type              any                    `json:"type"`
	AllOf             []jsonSchema           `json:"allOf"`
	AnyOf             []jsonSchema           `json:"anyOf"`
	OneOf             []jsonSchema           `json:"oneOf"`
	Properties        map[string]jsonSchema  `json:"properties"`
	Required          []string               `json:"required"`
	Items             *jsonSchema            `json:"items"`
	Enum              []any                  `json:"enum"`
	Const             any                    `json:"const"`
	Format            string                 `json:"format"`
	Pattern           string                 `json:"pattern"`
	Minimum           *float64               `json:"minimum"`
	Maximum           *float64               `json:"maximum"`
	MinLength         *int                   `json:"minLength"`
	MinItems          *int                   `json:"minItems"`
	UniqueItems       bool                   `json:"uniqueItems"`
	PropertyNames     *jsonSchema            `json:"propertyNames"`
	PatternProperties map[string]*jsonSchema `json:"patternProperties"`
}

var formats = map[string]graph.Format{
	"": graph.FormatNone, "email": graph.FormatEmail, "uri": graph.FormatURI, "date-time": graph.FormatDateTime,
	"hostname": graph.FormatHostname, "ip": graph.FormatIP, "ipv4": graph.FormatIPv4, "ipv6": graph.FormatIPv6,
}

// rule converts one property's JSON Schema into the PropertyRule it means.
func rule(name string, s jsonSchema) (graph.PropertyRule, error) {
	r := graph.PropertyRule{Name: name}
	if s.Const != nil {
		return r, fmt.Errorf("const is not supported")
	}
	strs := func(vs []any) ([]string, error) {
		var out []string
		for _, v := range vs {
			str, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("non-string enum value %v", v)
			}
			out = append(out, str)
		}
		return out, nil
	}
	if alt := append(s.AnyOf, s.OneOf...); len(alt) > 0 {
		// A string or an array of strings (with the same enum and format).
		var str, arr *jsonSchema
		for i := range alt {
			switch alt[i].Type {
			case "string":
				str = &alt[i]
			case "array":
				arr = &alt[i]
			default:
				return r, fmt.Errorf("alternative of type %v", alt[i].Type)
			}
		}
		switch {
		case str != nil && arr != nil && len(alt) == 2 && arr.Items != nil && arr.Items.Type == "string":
			r.Kind = graph.KindStringOrArray
			if !slices.Equal(str.Enum, arr.Items.Enum) && arr.Items.Enum != nil || str.Format != arr.Items.Format {
				return r, fmt.Errorf("string and array alternatives differ")
			}
			r.UniqueItems = arr.UniqueItems
			s = *str
		case str == nil && arr != nil && len(alt) == 1 && arr.Items != nil && arr.Items.Type == "string":
			r.Kind = graph.KindStringArray
			s = *arr.Items
		default:
			return r, fmt.Errorf("unsupported alternatives")
		}
	} else {
		t := s.Type
		if ts, ok := t.([]any); ok {
			if len(ts) != 2 || ts[1] != "null" {
				return r, fmt.Errorf("type %v", ts)
			}
			r.Nullable, t = true, ts[0]
		}
		switch t {
		case "string":
			r.Kind = graph.KindString
		case "number":
			r.Kind = graph.KindNumber
		case "integer":
			r.Kind = graph.KindInteger
		case "boolean":
			r.Kind = graph.KindBool
		case "array":
			r.UniqueItems = s.UniqueItems
			if s.Items == nil {
				r.Kind = graph.KindArray
				break
			}
			if s.Items.Type != "string" {
				return r, fmt.Errorf("array items of type %v", s.Items.Type)
			}
			r.Kind = graph.KindStringArray
			s = *s.Items
		default:
			return r, fmt.Errorf("type %v", t)
		}
		r.Minimum, r.Maximum = s.Minimum, s.Maximum
	}
	var err error
	if r.Enum, err = strs(s.Enum); err != nil {
		return r, err
	}
	f, ok := formats[s.Format]
	if !ok {
		return r, fmt.Errorf("format %q", s.Format)
	}
	r.Format, r.Pattern = f, s.Pattern
	if s.Pattern != "" {
		if _, err := regexp.Compile(s.Pattern); err != nil {
			return r, fmt.Errorf("pattern: %v", err)
		}
	}
	return r, nil
}

// classFromFile reads one class's schema file into the ClassSchema it means.
func classFromFile(dir, name string) (graph.ClassSchema, error) {
	c := graph.ClassSchema{Name: name}
	b, err := os.ReadFile(filepath.Join(dir, name+".json"))
	if err != nil {
		return c, err
	}
	var s jsonSchema
	if err := json.Unmarshal(b, &s); err != nil {
		return c, err
	}
	var own []jsonSchema
	for _, part := range s.AllOf {
		if part.Ref != "" {
			if ref := strings.TrimPrefix(part.Ref, "#"); ref != "GraphObject" {
				c.Extends = ref
			}
			continue
		}
		own = append(own, part)
	}
	if len(own) != 1 {
		return c, fmt.Errorf("%d own parts", len(own))
	}
	for pname, ps := range own[0].Properties {
		r, err := rule(pname, ps)
		if err != nil {
			return c, fmt.Errorf("property %s: %w", pname, err)
		}
		if slices.Contains(own[0].Required, pname) {
			c.Required = append(c.Required, r)
		} else {
			c.Properties = append(c.Properties, r)
		}
	}
	for _, req := range own[0].Required {
		if _, ok := own[0].Properties[req]; !ok {
			c.Required = append(c.Required, graph.PropertyRule{Name: req, Kind: graph.KindAny})
		}
	}
	return c, nil
}

// TestClassesMatchDataModel compares every class of DefaultSchemas with the
// schema file of the pinned @jupiterone/data-model: parent, required
// properties and each property's kind, nullability, enum, format, pattern
// and range.
func TestClassesMatchDataModel(t *testing.T) {
	p := datamodel.Load(t)
	byName := cmpopts.SortSlices(func(a, b graph.PropertyRule) bool { return a.Name < b.Name })
	s := graph.DefaultSchemas()
	names := make([]string, 0, len(s))
	for n := range s {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		want, err := classFromFile(p.SchemaDir(), n)
		if err != nil {
			t.Errorf("%s: %v", n, err)
			continue
		}
		if d := cmp.Diff(want, s[n], byName, cmpopts.IgnoreUnexported(graph.ClassSchema{}), cmpopts.EquateEmpty()); d != "" {
			t.Errorf("class %s differs from %s@%s (-data model +sdk/graph):\n%s", n, datamodel.Name, p.Version, d)
		}
	}
	t.Logf("%d classes match %s@%s", len(names), datamodel.Name, p.Version)

	// GraphObject: the base rules ValidateEntity applies to every entity.
	b, err := os.ReadFile(filepath.Join(p.SchemaDir(), "GraphObject.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g jsonSchema
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	if g.PropertyNames == nil || g.PropertyNames.Pattern != graph.PropertyNamePattern {
		t.Errorf("propertyNames %+v, sdk/graph checks %s", g.PropertyNames, graph.PropertyNamePattern)
	}
	minLen := func(s jsonSchema) int {
		if s.MinLength == nil {
			return 0
		}
		return *s.MinLength
	}
	if k := g.Properties["_key"]; minLen(k) != graph.MinKeyLength {
		t.Errorf("_key minLength %d, sdk/graph %d", minLen(k), graph.MinKeyLength)
	}
	if k := g.Properties["_type"]; minLen(k) != graph.MinTypeLength {
		t.Errorf("_type minLength %d, sdk/graph %d", minLen(k), graph.MinTypeLength)
	}
	for _, alt := range g.Properties["_class"].OneOf {
		l := minLen(alt)
		if alt.Items != nil {
			l = minLen(*alt.Items)
		}
		if l != graph.MinClassLength {
			t.Errorf("_class minLength %d, sdk/graph %d", l, graph.MinClassLength)
		}
	}
	if tag := g.PatternProperties[`^tag\.`]; tag == nil || len(tag.AnyOf) != 3 {
		t.Errorf("tag.* values are no longer string, number or boolean: %+v", tag)
	}
	if !slices.Equal(g.Required, []string{"_key", "_class", "_type"}) {
		t.Errorf("GraphObject requires %v", g.Required)
	}
}

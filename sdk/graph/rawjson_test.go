package graph_test

import (
	"encoding/json"
	"reflect"
	"testing"

	fastjson "github.com/segmentio/encoding/json"

	"github.com/stepgraph/stepgraph/sdk/graph"
)

func TestDefaultRawData(t *testing.T) {
	raw := json.RawMessage(`{"id":"x"}`)
	if got := graph.DefaultRawData(raw); len(got) != 1 || got[0].Name != "default" || !reflect.DeepEqual(got[0].Data, raw) {
		t.Errorf("DefaultRawData = %#v", got)
	}
}

func TestWithoutFields(t *testing.T) {
	got, err := graph.WithoutFields(json.RawMessage(`{"id":"a","credentials":{"secret":"s"},"z":1,"_embedded":[]}`), "credentials", "_embedded", "absent")
	if err != nil || string(got) != `{"id":"a","z":1}` {
		t.Errorf("WithoutFields = %s, %v", got, err)
	}
	if _, err := graph.WithoutFields(json.RawMessage(`[1]`), "x"); err == nil {
		t.Error("a non-object: no error")
	}
}

func TestCompactJSON(t *testing.T) {
	for in, want := range map[string]string{
		` { "a" : [1, 2] } `: `{"a":[1,2]}`,
		`"s"`:                `"s"`,
		` null `:             "",
		``:                   "",
		` {broken `:          `{broken`,
	} {
		if got := graph.CompactJSON(json.RawMessage(in)); got != want {
			t.Errorf("CompactJSON(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSetTimes(t *testing.T) {
	e := &graph.Entity{}
	s := "2021-02-03T04:05:06.789Z"
	if err := e.SetTimes(&s, "created", "createdOn"); err != nil {
		t.Fatal(err)
	}
	if e.Properties["created"] != int64(1612325106789) || e.Properties["createdOn"] != int64(1612325106789) {
		t.Errorf("properties = %v", e.Properties)
	}
	var none *string
	empty := ""
	for _, v := range []any{none, &empty, nil} {
		if err := e.SetTimes(v, "other"); err != nil || e.Prop("other") != nil {
			t.Errorf("%#v: set %v, err %v", v, e.Prop("other"), err)
		}
	}
	if err := e.SetTimes("yesterday", "bad"); err == nil || e.Prop("bad") != nil {
		t.Errorf("unparsable: err %v, bad = %v", err, e.Prop("bad"))
	}
}

func TestJSONText(t *testing.T) {
	for raw, want := range map[string]any{
		`"admin"`: "admin", ` "a\"b" `: `a"b`, `{ "a" : [1, 2] }`: `{"a":[1,2]}`, `["x", "y"]`: `["x","y"]`,
		`5`: "5", `null`: nil, ``: nil, ` `: nil,
	} {
		if got := graph.JSONText(json.RawMessage(raw)); got != want {
			t.Errorf("JSONText(%q) = %#v, want %#v", raw, got, want)
		}
	}
}

// TestOneOrManyDecodes: an object or an array decodes to a slice, through
// both JSON decoders; null, absent and values of another shape to none,
// without failing the enclosing object.
func TestOneOrManyDecodes(t *testing.T) {
	type link struct {
		Name string `json:"name"`
		Href string `json:"href"`
	}
	type obj struct {
		ID    string                `json:"id"`
		Links graph.OneOrMany[link] `json:"links"`
	}
	for raw, want := range map[string][]link{
		`{"id":"a","links":{"name":"logo","href":"h"}}`:                 {{"logo", "h"}},
		`{"id":"a","links":[{"href":"1"},{"name":"login","href":"2"}]}`: {{"", "1"}, {"login", "2"}},
		`{"id":"a","links":[]}`:                                         {},
		`{"id":"a","links":null}`:                                       nil,
		`{"id":"a"}`:                                                    nil,
		`{"id":"a","links":"x"}`:                                        nil,
		`{"id":"a","links":[{"href":5}]}`:                               nil,
	} {
		for name, unmarshal := range map[string]func([]byte, any) error{"encoding/json": json.Unmarshal, "segmentio": fastjson.Unmarshal} {
			var o obj
			if err := unmarshal([]byte(raw), &o); err != nil || o.ID != "a" {
				t.Errorf("%s %s: %v (id %q)", name, raw, err, o.ID)
				continue
			}
			if len(o.Links) != len(want) || (want != nil && !reflect.DeepEqual([]link(o.Links), want)) {
				t.Errorf("%s %s: links %#v, want %#v", name, raw, o.Links, want)
			}
		}
	}
}

// TestLinksHref: the named link's href, else the first link's, through
// one object or an array.
func TestLinksHref(t *testing.T) {
	var o struct {
		One  graph.Links `json:"one"`
		Many graph.Links `json:"many"`
		None graph.Links `json:"none"`
	}
	raw := `{"one":{"name":"logo","href":"L"},"many":[{"name":"a","href":"A"},{"name":"login","href":"B"},{"name":"login","href":"C"}],"none":"x"}`
	if err := fastjson.Unmarshal([]byte(raw), &o); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		links      graph.Links
		name, want string
	}{
		{o.One, "", "L"}, {o.One, "login", "L"}, {o.Many, "login", "B"}, {o.Many, "", "A"}, {o.Many, "b", "A"},
		{o.None, "", ""}, {nil, "login", ""},
	} {
		if got := c.links.Href(c.name); got != c.want {
			t.Errorf("%v.Href(%q) = %q, want %q", c.links, c.name, got, c.want)
		}
	}
}

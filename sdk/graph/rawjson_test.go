package graph_test

import (
	"encoding/json"
	"reflect"
	"testing"

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

package graph_test

import (
	"encoding/json"
	"reflect"
	"testing"

	fastjson "github.com/segmentio/encoding/json"

	"github.com/stepgraph/stepgraph/sdk/graph"
)

const attrsJSON = `{"first_name":"A","firstName":"B","Cost Center":"cc","score":12.5,"admin":true,
	"tags":["a",1,false],"mixed":["a",null],"deep":[["x"]],"address":{"city":"Oslo"},"manager":null,
	"_private":"p","displayName":"D","":"empty","caf\u00e9":"\u00e9"}`

// TestAttributesDecode: every member is kept in order with its camelCase
// name; flat values as encoding/json gives them, others not kept; both JSON
// decoders and a shared-names table give the same result.
func TestAttributesDecode(t *testing.T) {
	want := []graph.Attribute{
		{Key: "first_name", Name: "firstName", Value: "A", Flat: true},
		{Key: "firstName", Name: "firstName", Value: "B", Flat: true},
		{Key: "Cost Center", Name: "costCenter", Value: "cc", Flat: true},
		{Key: "score", Name: "score", Value: 12.5, Flat: true},
		{Key: "admin", Name: "admin", Value: true, Flat: true},
		{Key: "tags", Name: "tags", Value: []any{"a", 1.0, false}, Flat: true},
		{Key: "mixed", Name: "mixed"},
		{Key: "deep", Name: "deep"},
		{Key: "address", Name: "address"},
		{Key: "manager", Name: "manager"},
		{Key: "_private", Name: "private", Value: "p", Flat: true},
		{Key: "displayName", Name: "displayName", Value: "D", Flat: true},
		{Key: "", Name: "", Value: "empty", Flat: true},
		{Key: "café", Name: "café", Value: "é", Flat: true},
	}
	var s struct {
		P graph.Attributes `json:"p"`
	}
	for name, unmarshal := range map[string]func([]byte, any) error{"encoding/json": json.Unmarshal, "segmentio": fastjson.Unmarshal} {
		if err := unmarshal([]byte(`{"p":`+attrsJSON+`}`), &s); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(s.P.All(), want) {
			t.Errorf("%s:\n got %#v\nwant %#v", name, s.P.All(), want)
		}
	}
	var shared graph.Attributes
	if err := shared.Decode([]byte(attrsJSON), graph.NewAttributeNames("firstName", "Cost Center")); err != nil || !reflect.DeepEqual(shared.All(), want) {
		t.Errorf("with shared names: %v %#v", err, shared.All())
	}
	if s.P.String("first_name") != "A" || s.P.Get("score") != 12.5 || s.P.Get("address") != nil || s.P.String("score") != "" || s.P.Len() != len(want) {
		t.Error("Get/String/Len")
	}
	if !s.P.HasProperty("address") || !s.P.HasProperty("costCenter") || s.P.HasProperty("Cost Center") {
		t.Error("HasProperty")
	}
	var null graph.Attributes
	if err := null.UnmarshalJSON([]byte(`null`)); err != nil || null.Len() != 0 {
		t.Errorf("null: %v, %d attributes", err, null.Len())
	}
}

func TestAttributesRejectMalformedJSON(t *testing.T) {
	for _, raw := range []string{`"x"`, `[1]`, `{"a":}`, `{"a":[1,}`, `{"a"`, `{"a":{"b":1}`, `{"a":1e999x}`} {
		var a graph.Attributes
		if err := a.UnmarshalJSON([]byte(raw)); err == nil {
			t.Errorf("%s: no error", raw)
		}
	}
}

// TestAttributesCopyToAndDropInvalid: flat attributes become properties
// (later keys win, empty and excluded names left out), and only those
// copied from the attributes are dropped when they break a class's rule.
func TestAttributesCopyToAndDropInvalid(t *testing.T) {
	var a graph.Attributes
	if err := a.UnmarshalJSON([]byte(attrsJSON)); err != nil {
		t.Fatal(err)
	}
	e := &graph.Entity{Key: "u1", Type: "acme_user", Class: []string{"User"}, DisplayName: "u1", Properties: map[string]any{}}
	a.CopyTo(e, "displayName")
	want := map[string]any{"firstName": "B", "costCenter": "cc", "private": "p", "score": 12.5, "admin": true, "tags": []any{"a", 1.0, false}, "café": "é"}
	if !reflect.DeepEqual(e.Properties, want) {
		t.Fatalf("CopyTo: %v", e.Properties)
	}
	// "active" must be a boolean in the data model: copied from the
	// attributes it is dropped; computed by the integration it is not.
	var bad graph.Attributes
	if err := bad.UnmarshalJSON([]byte(`{"active":"yes","email":"x@y.z"}`)); err != nil {
		t.Fatal(err)
	}
	e = &graph.Entity{Key: "u2", Type: "acme_user", Class: []string{"User"}, DisplayName: "u2", Properties: map[string]any{}}
	bad.CopyTo(e)
	e.Set("name", "n").Set("username", "u").Set("mfaEnabled", "no")
	if got := bad.DropInvalid(graph.DefaultSchemas(), e); !reflect.DeepEqual(got, []string{"active"}) {
		t.Errorf("dropped %v, want [active]", got)
	}
	if _, ok := e.Properties["active"]; ok {
		t.Error("active kept")
	}
	if e.Properties["mfaEnabled"] != "no" || e.Properties["email"] != "x@y.z" {
		t.Errorf("computed or valid properties lost: %v", e.Properties)
	}
}

func TestFlatValue(t *testing.T) {
	for _, tc := range []struct {
		v    any
		flat bool
	}{
		{"s", true}, {1.5, true}, {true, true}, {[]any{"a", 2.0}, true}, {[]any{}, true},
		{nil, false}, {map[string]any{}, false}, {[]any{"a", nil}, false}, {[]any{[]any{"x"}}, false}, {3, false},
	} {
		if _, ok := graph.FlatValue(tc.v); ok != tc.flat {
			t.Errorf("FlatValue(%#v) flat = %v, want %v", tc.v, ok, tc.flat)
		}
	}
}

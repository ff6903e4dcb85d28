package postgres

import (
	"encoding/json"
	"reflect"
	"testing"
)

// The raw walk agrees with encoding/json on objects with escapes, nesting,
// whitespace and every kind of value, and rejects broken input.
func TestRawJSONWalk(t *testing.T) {
	file := []byte(` { "entities" : [
		{"_key":"k\"1","_type":"t","_class":["A","B"],"displayName":"d \u00e9","n":1.5e3,"b":true,"z":null,
		 "arr":[1,"x",{"y":[2]}],"_rawData":[{"name":"default","rawData":{"a":"]}\\\\"}}]},
		{"_type":"t2", "_key":"k2", "_class":"C", "s":"{[\"]}"},
		{"x":1}
	] , "other": {"a":[1,2]} }`)
	var want struct {
		Entities []map[string]json.RawMessage `json:"entities"`
	}
	if err := json.Unmarshal(file, &want); err != nil {
		t.Fatal(err)
	}
	var objs [][]byte
	if err := eachObject(file, "entities", func(obj []byte) error {
		objs = append(objs, obj)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(objs) != len(want.Entities) {
		t.Fatalf("%d objects, want %d", len(objs), len(want.Entities))
	}
	for i, obj := range objs {
		var got map[string]json.RawMessage
		if err := json.Unmarshal(obj, &got); err != nil {
			t.Fatalf("object %d is not the JSON it was cut from: %v\n%s", i, err, obj)
		}
		if !reflect.DeepEqual(got, want.Entities[i]) {
			t.Fatalf("object %d differs:\n%s", i, obj)
		}
		var kt struct {
			Key  string `json:"_key"`
			Type string `json:"_type"`
		}
		_ = json.Unmarshal(obj, &kt)
		key, typ, err := keyAndType(obj)
		if err != nil || key != kt.Key || typ != kt.Type {
			t.Fatalf("object %d: key %q type %q (%v), want %q %q", i, key, typ, err, kt.Key, kt.Type)
		}
	}
	row, err := entityRow(objs[0], "k\"1", "t", docHash{})
	if err != nil {
		t.Fatal(err)
	}
	var props map[string]any
	if err := json.Unmarshal(row[5].([]byte), &props); err != nil {
		t.Fatalf("properties %s: %v", row[5], err)
	}
	wantProps := map[string]any{"n": 1500.0, "b": true, "z": nil, "arr": []any{1.0, "x", map[string]any{"y": []any{2.0}}}}
	if !reflect.DeepEqual(props, wantProps) || !reflect.DeepEqual(row[3], []string{"A", "B"}) || *row[4].(*string) != "d é" {
		t.Fatalf("row %v / props %v", row, props)
	}
	if string(row[6].([]byte)) != `[{"name":"default","rawData":{"a":"]}\\\\"}}]` {
		t.Fatalf("raw data %s", row[6])
	}
	for _, bad := range []string{`{"entities":[{"_key":"a"`, `{"entities":[{"_key" "a"}]}`, `{"entities":{}}`, `[1]`, `{"entities":[{"a":"x}]}`} {
		if err := eachObject([]byte(bad), "entities", func(obj []byte) error {
			_, _, err := keyAndType(obj)
			return err
		}); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

// skipString finds the end of strings with escaped quotes and backslash
// runs, and rejects unterminated ones.
func TestSkipString(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int // index after the string, -1: error
	}{
		{`"" x`, 2},
		{`"abc",`, 5},
		{`"a\"b"`, 6},
		{`"a\\"b"`, 5},
		{`"a\\\"b"`, 8},
		{`"\\"`, 4},
		{`"\""`, 4},
		{`"\\\\"x`, 6},
		{`"é\u0022"`, 10},
		{`"abc`, -1},
		{`"abc\"`, -1},
		{`"`, -1},
	} {
		got, err := skipString([]byte(c.in), 0)
		if c.want < 0 {
			if err == nil {
				t.Errorf("%s: accepted (end %d)", c.in, got)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s: end %d (%v), want %d", c.in, got, err, c.want)
		}
	}
}

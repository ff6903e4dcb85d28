package graph

import (
	"encoding/json"
	"fmt"
)

// MinKeyLength is the shortest _key a graph object may have.
const MinKeyLength = 10

// RawData is one named piece of provider source data kept with an entity.
// Data may be any JSON-encodable value; a json.RawMessage (the bytes the
// provider sent) is written as is, without re-encoding or compaction, and is
// the fastest choice. A RawMessage must hold valid JSON, as every
// RawMessage produced by encoding/json decoding does.
type RawData struct {
	Name string `json:"name"`
	Data any    `json:"rawData"`
}

// Entity is a node of the graph.
type Entity struct {
	// Key is the _key: unique across the whole collection, at least
	// MinKeyLength characters.
	Key string
	// Type is the _type, by convention <integration>_<thing>.
	Type string
	// Class holds the data-model classes (the _class), at least one.
	Class []string
	// DisplayName is the human readable name shown in graphs.
	DisplayName string
	// RawData keeps source objects, each under a unique name (usually "default").
	RawData []RawData
	// Properties are the flat properties. Reserved names (those starting
	// with "_" and "displayName") are not allowed here.
	Properties map[string]any
}

// Prop returns the property named name, or nil.
func (e *Entity) Prop(name string) any {
	if e == nil || e.Properties == nil {
		return nil
	}
	return e.Properties[name]
}

// Set sets a property and returns the entity, creating the map when needed.
// A nil value is stored as JSON null; use SetIfPresent to skip empty values.
func (e *Entity) Set(name string, v any) *Entity {
	if e.Properties == nil {
		e.Properties = make(map[string]any, 8)
	}
	e.Properties[name] = v
	return e
}

// SetIfPresent sets a property unless v is nil or an empty string.
func (e *Entity) SetIfPresent(name string, v any) *Entity {
	switch x := v.(type) {
	case nil:
		return e
	case string:
		if x == "" {
			return e
		}
	case *string:
		if x == nil || *x == "" {
			return e
		}
		v = *x
	}
	return e.Set(name, v)
}

// HasClass reports whether the entity carries class c.
func (e *Entity) HasClass(c string) bool {
	for _, x := range e.Class {
		if x == c {
			return true
		}
	}
	return false
}

// MarshalJSON encodes the entity in the JupiterOne wire format.
func (e *Entity) MarshalJSON() ([]byte, error) {
	return e.AppendJSON(nil)
}

// AppendJSON appends the JSON encoding of e to buf. Reserved fields come
// first, then the properties in sorted key order.
func (e *Entity) AppendJSON(buf []byte) ([]byte, error) {
	buf = append(buf, `{"_key":`...)
	buf = appendString(buf, e.Key)
	buf = append(buf, `,"_type":`...)
	buf = appendString(buf, e.Type)
	buf = append(buf, `,"_class":[`...)
	for i, c := range e.Class {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendString(buf, c)
	}
	buf = append(buf, ']')
	if e.DisplayName != "" {
		buf = append(buf, `,"displayName":`...)
		buf = appendString(buf, e.DisplayName)
	}
	var err error
	if len(e.RawData) > 0 {
		buf = append(buf, `,"_rawData":[`...)
		for i, r := range e.RawData {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = append(buf, `{"name":`...)
			buf = appendString(buf, r.Name)
			buf = append(buf, `,"rawData":`...)
			if buf, err = appendAny(buf, r.Data); err != nil {
				return nil, fmt.Errorf("entity %q: _rawData %q: %w", e.Key, r.Name, err)
			}
			buf = append(buf, '}')
		}
		buf = append(buf, ']')
	}
	if buf, err = appendProperties(buf, e.Properties); err != nil {
		return nil, fmt.Errorf("entity %q: %w", e.Key, err)
	}
	return append(buf, '}'), nil
}

// UnmarshalJSON decodes the JupiterOne wire format written by AppendJSON.
// Numbers in properties decode as float64, arrays as []any.
func (e *Entity) UnmarshalJSON(data []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	*e = Entity{}
	for k, v := range m {
		var err error
		switch k {
		case "_key":
			err = json.Unmarshal(v, &e.Key)
		case "_type":
			err = json.Unmarshal(v, &e.Type)
		case "_class":
			err = unmarshalClass(v, &e.Class)
		case "displayName":
			err = json.Unmarshal(v, &e.DisplayName)
		case "_rawData":
			var raws []struct {
				Name string          `json:"name"`
				Data json.RawMessage `json:"rawData"`
			}
			err = json.Unmarshal(v, &raws)
			for _, r := range raws {
				e.RawData = append(e.RawData, RawData{Name: r.Name, Data: r.Data})
			}
		default:
			var x any
			err = json.Unmarshal(v, &x)
			e.Set(k, x)
		}
		if err != nil {
			return fmt.Errorf("decode entity field %q: %w", k, err)
		}
	}
	return nil
}

func unmarshalClass(v json.RawMessage, dst *[]string) error {
	if len(v) > 0 && v[0] == '"' {
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return err
		}
		*dst = []string{s}
		return nil
	}
	return json.Unmarshal(v, dst)
}

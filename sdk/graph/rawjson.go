package graph

import (
	"bytes"
	"encoding/json"
	"strings"
)

// DefaultRawData is the _rawData of an entity built from one source
// object: raw under the name "default".
func DefaultRawData(raw json.RawMessage) []RawData {
	return []RawData{{Name: "default", Data: raw}}
}

// WithoutFields returns the JSON object raw with the named top-level
// fields removed, for keeping secrets or bulky embedded objects out of
// _rawData. The result's members are in sorted order (encoding/json's
// order for a map); raw that is not an object is an error.
func WithoutFields(raw json.RawMessage, fields ...string) (json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	for _, f := range fields {
		delete(m, f)
	}
	return json.Marshal(m)
}

// CompactJSON returns raw compacted (insignificant whitespace removed), the
// form in which a nested value is kept as a string property; "" for an
// absent value or null. Invalid JSON is returned trimmed, as it is.
func CompactJSON(raw json.RawMessage) string {
	s := strings.TrimSpace(string(raw))
	if s == "" || s == "null" {
		return ""
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return s
	}
	return buf.String()
}

// SetTimes is SetTime for several properties holding the same time (such
// as created and createdOn): v is parsed once and each name set to its
// epoch milliseconds (one boxed value shared by all). When v holds no time
// or does not parse, no property is set; the parse error is returned.
func (e *Entity) SetTimes(v any, names ...string) error {
	ms, ok, err := ParseTime(v)
	if err != nil || !ok {
		return err
	}
	val := any(ms) // boxed once for every name
	for _, n := range names {
		e.Set(n, val)
	}
	return nil
}

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

// JSONText returns a nested JSON value as a property value: the text of a
// JSON string, anything else as compact JSON text (CompactJSON), and nil
// when raw is absent or null.
func JSONText(raw json.RawMessage) any {
	s := CompactJSON(raw)
	if s == "" {
		return nil
	}
	var str string
	if s[0] == '"' && json.Unmarshal(raw, &str) == nil {
		return str
	}
	return s
}

// OneOrMany is a JSON member that providers send either as one object or
// as an array of them (a HAL link such as Okta's _links.logo): it decodes
// both into a slice. Absent, null, and anything that decodes as neither
// (a string, a number, an element of the wrong shape) give no elements
// rather than an error: such a member is an extra of the object it is
// in, not a reason to lose the object.
type OneOrMany[T any] []T

// UnmarshalJSON decodes an array of T, or one T.
func (o *OneOrMany[T]) UnmarshalJSON(b []byte) error {
	var many []T
	if json.Unmarshal(b, &many) == nil {
		*o = many
		return nil
	}
	var one T
	if json.Unmarshal(b, &one) == nil {
		*o = OneOrMany[T]{one}
		return nil
	}
	*o = nil
	return nil
}

// Link is a HAL link object: {"name": ..., "href": ...}.
type Link struct {
	Name string `json:"name"`
	Href string `json:"href"`
}

// Links is a HAL link relation, which providers send as one link object
// or an array of them; it decodes both, as OneOrMany does.
type Links []Link

// UnmarshalJSON decodes one link object or an array of them.
func (l *Links) UnmarshalJSON(b []byte) error { return (*OneOrMany[Link])(l).UnmarshalJSON(b) }

// Href returns the href of the first link named name, else of the first
// link (so Href("") is the first link's); "" when there is no link.
func (l Links) Href(name string) string {
	if len(l) == 0 {
		return ""
	}
	for _, x := range l {
		if name != "" && x.Name == name {
			return x.Href
		}
	}
	return l[0].Href
}

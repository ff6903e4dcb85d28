package graph

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	fastjson "github.com/segmentio/encoding/json"
)

// Attributes is a JSON object of free-form attributes — a provider's user
// profile with its custom attributes, say — decoded for use as entity
// properties: every member, in the order sent, each with the camelCase
// property name it becomes (CamelCase of its key) and its value when the
// value is flat. It replaces a map[string]any, which costs a map, a boxed
// value and a key string per attribute per object: members are decoded
// straight from the JSON into one slice, and keys listed in an
// AttributeNames share their strings and property names.
//
// The zero value is empty; Attributes implements json.Unmarshaler (also
// for github.com/segmentio/encoding/json), and a JSON null decodes to no
// attributes.
type Attributes struct {
	list []Attribute
}

// Attribute is one member of an Attributes object.
type Attribute struct {
	Key  string // as sent
	Name string // the entity property it becomes: CamelCase(Key)
	// Value is the value when Flat (a string, float64, bool, or []any of
	// those), as encoding/json decodes it into an any. Flat is false for
	// null, nested objects and arrays holding them, whose values are not
	// kept (Value is nil).
	Value any
	Flat  bool
}

// AttributeNames are the keys expected in most objects of a kind (a
// provider's base profile): decoding shares their strings and property
// names instead of allocating them for every object. It is read-only once
// built and safe for concurrent use.
type AttributeNames struct {
	m map[string][2]string
}

// NewAttributeNames returns the AttributeNames of keys.
func NewAttributeNames(keys ...string) *AttributeNames {
	n := &AttributeNames{m: make(map[string][2]string, len(keys))}
	for _, k := range keys {
		n.m[k] = [2]string{k, CamelCase(k)}
	}
	return n
}

// UnmarshalJSON decodes a JSON object (or null); see Decode.
func (a *Attributes) UnmarshalJSON(b []byte) error { return a.Decode(b, nil) }

// Decode decodes the JSON object b (or null), sharing the strings of keys
// in known (which may be nil). Values are converted as encoding/json
// converts them into an any (strings unescaped, numbers as float64); a
// value that is not flat is skipped (its key is kept, Flat false).
// Anything but an object or null is an error.
func (a *Attributes) Decode(b []byte, known *AttributeNames) error {
	// Room for a base profile and a few custom attributes in one
	// allocation (growing from empty took five).
	a.list = make([]Attribute, 0, 16)
	t := fastjson.NewTokenizer(b)
	if !t.Next() {
		return attrError(t)
	}
	if t.Delim == 0 && len(t.Value) > 0 && t.Value[0] == 'n' { // null
		return nil
	}
	if t.Delim != '{' {
		return errors.New("graph: attributes are not a JSON object")
	}
	for t.Next() {
		switch {
		case t.Delim == '}' && t.Depth == 0:
			return nil
		case t.Delim == ',' || t.Delim == ':':
			continue
		case !t.IsKey:
			return errors.New("graph: malformed attributes object")
		}
		kb := t.String()
		var at Attribute
		if names, ok := known.lookup(kb); ok {
			at.Key, at.Name = names[0], names[1]
		} else {
			at.Key = string(kb)
			at.Name = CamelCase(at.Key)
		}
		if !t.Next() || t.Delim != ':' || !t.Next() {
			return attrError(t)
		}
		var err error
		if at.Value, at.Flat, err = attrValue(t); err != nil {
			return err
		}
		a.list = append(a.list, at)
	}
	return attrError(t)
}

func (n *AttributeNames) lookup(k []byte) ([2]string, bool) {
	if n == nil {
		return [2]string{}, false
	}
	names, ok := n.m[string(k)]
	return names, ok
}

func attrError(t *fastjson.Tokenizer) error {
	if t.Err != nil {
		return fmt.Errorf("graph: decoding attributes: %w", t.Err)
	}
	return errors.New("graph: decoding attributes: unexpected end")
}

// attrValue decodes the value t is on, leaving t on its last token.
func attrValue(t *fastjson.Tokenizer) (v any, flat bool, err error) {
	switch t.Delim {
	case 0:
		return scalarToken(t)
	case '{':
		return nil, false, skipNested(t)
	case '[':
		depth := t.Depth
		var arr []any
		flat = true
		for t.Next() {
			switch {
			case t.Delim == ']' && t.Depth == depth:
				if arr == nil {
					arr = []any{}
				}
				if !flat {
					return nil, false, nil
				}
				return arr, true, nil
			case t.Delim == ',':
				continue
			case t.Delim == '{' || t.Delim == '[':
				flat = false
				if err := skipNested(t); err != nil {
					return nil, false, err
				}
			default:
				x, ok, err := scalarToken(t)
				if err != nil {
					return nil, false, err
				}
				if !ok {
					flat = false // null in an array
				}
				if flat {
					arr = append(arr, x)
				}
			}
		}
		return nil, false, attrError(t)
	}
	return nil, false, errors.New("graph: malformed attributes object")
}

// scalarToken converts the scalar t is on; ok is false for null.
func scalarToken(t *fastjson.Tokenizer) (any, bool, error) {
	v := t.Value
	if len(v) == 0 {
		return nil, false, errors.New("graph: malformed attributes object")
	}
	switch v[0] {
	case '"':
		return string(t.String()), true, nil
	case 't':
		return true, true, nil
	case 'f':
		return false, true, nil
	case 'n':
		return nil, false, nil
	}
	f, err := strconv.ParseFloat(string(v), 64)
	if err != nil {
		return nil, false, fmt.Errorf("graph: decoding attributes: %w", err)
	}
	return f, true, nil
}

// skipNested moves t past the object or array it is at the start of.
func skipNested(t *fastjson.Tokenizer) error {
	depth := t.Depth
	for t.Next() {
		if (t.Delim == '}' || t.Delim == ']') && t.Depth == depth {
			return nil
		}
	}
	return attrError(t)
}

// All returns the attributes in the order sent. The slice is a's own.
func (a *Attributes) All() []Attribute { return a.list }

// Len returns the number of attributes.
func (a *Attributes) Len() int { return len(a.list) }

// Get returns the value of the attribute with key k (nil when absent or not
// flat); with several k, the last (as a map would keep).
func (a *Attributes) Get(k string) any {
	for i := len(a.list) - 1; i >= 0; i-- {
		if a.list[i].Key == k {
			return a.list[i].Value
		}
	}
	return nil
}

// String returns the string value of the attribute with key k ("" when
// absent or not a string).
func (a *Attributes) String(k string) string {
	s, _ := a.Get(k).(string)
	return s
}

// HasProperty reports whether some attribute, flat or not, becomes the
// property name.
func (a *Attributes) HasProperty(name string) bool {
	for _, at := range a.list {
		if at.Name == name {
			return true
		}
	}
	return false
}

// CopyTo sets each flat attribute on e under its property name, in the
// order sent (so of two keys with the same property name, first_name and
// firstName, the later one wins, every time). Names that are empty or
// start with "_" (keys without letters or digits, which CamelCase leaves
// as they are) and names listed in except are left out.
func (a *Attributes) CopyTo(e *Entity, except ...string) {
	for _, at := range a.list {
		if !at.Flat || at.Name == "" || strings.HasPrefix(at.Name, "_") || slices.Contains(except, at.Name) {
			continue
		}
		e.Set(at.Name, at.Value)
	}
}

// DropInvalid removes from e each property copied from a that breaks a
// rule of e's classes in s (a custom attribute named like a typed
// data-model property, such as a string "emailDomain" where the data model
// wants a list), and returns their names. Without it one such attribute
// would fail the whole step when the entity is added; with it the entity
// is stored without that attribute and the step can name it. Violations of
// properties the integration computes, and missing required properties,
// are left for the runtime to report.
func (a *Attributes) DropInvalid(s Schemas, e *Entity) []string {
	var ve *ValidationError
	if !errors.As(s.ValidateEntity(e), &ve) {
		return nil
	}
	var dropped []string
	for _, v := range ve.Violations {
		if v.Err == ErrMissingProperty || slices.Contains(dropped, v.Property) || !a.HasProperty(v.Property) {
			continue
		}
		delete(e.Properties, v.Property)
		dropped = append(dropped, v.Property)
	}
	return dropped
}

// FlatValue returns v if it is a flat property value as encoding/json
// decodes one into an any (a string, bool or float64, or a []any of those),
// and false for null, nested objects and arrays holding them.
func FlatValue(v any) (any, bool) {
	switch x := v.(type) {
	case nil:
		return nil, false
	case string, bool, float64:
		return x, true
	case []any:
		for _, el := range x {
			switch el.(type) {
			case string, bool, float64:
			default:
				return nil, false
			}
		}
		return x, true
	}
	return nil, false
}

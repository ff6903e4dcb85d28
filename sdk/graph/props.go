package graph

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"
)

// PropertyMap sets entity properties from a provider object, as the field
// tags of the object's struct type T declare them: the struct an
// integration decodes a provider's JSON into doubles as its data-model
// table, and only what a tag cannot say (display names with fallbacks, web
// links, values computed from several fields) stays code.
//
// A field becomes properties through its prop tag:
//
//	prop:"<name> [<name>...][,<option>...]"
//
// The value is set under each name (one boxed value shared by all, as
// JupiterOne's created/createdOn pairs want). A field without a prop tag
// is not a property; when it is an exported or embedded struct, or a
// pointer to one, its own fields' tags apply (a nil pointer means all of
// them are absent), as encoding/json walks them. The options:
//
//   - omitempty: an empty string (also behind a pointer) leaves the
//     property unset.
//   - null: an absent value (a nil pointer, slice or any, a missing
//     parent struct) sets the property to null; without it the property is
//     left unset. The data model allows null where it requires a property
//     the provider may not know (a Device's make, model, serial).
//   - lower: a string is lower-cased.
//   - text: a json.RawMessage holding a JSON string is set as the
//     string's text (JSONText) rather than as JSON text.
//   - time: a timestamp (a string as ParseTime reads it, or a time.Time) set
//     as epoch milliseconds; an empty or unparseable one leaves the
//     property unset, since a bad timestamp is no reason to lose the
//     object. Numbers are refused: their unit must be said (EpochMillis).
//   - <flag>=<VALUE>: also sets the bool property flag to whether the string
//     as sent equals VALUE (a VALUE ending in * matches a prefix); flag is
//     set false when the value is absent. status,lower,active=ACTIVE is
//     the common status pair: status lower-cased and active true when the
//     provider said ACTIVE.
//
// Field types are strings, bools and numbers, pointers to them, slices of
// them ([]string, ...), json.RawMessage (kept as compact JSON text, as
// CompactJSON: an absent or null value is absent), any (set when FlatValue
// accepts what was decoded) and time.Time with the time option.
//
// The plan is computed once per type, from T's type: by NewPropertyMap,
// or on first use by PropertiesOf and SetProperties, which cache it.
// Setting properties then reads each field through its precomputed index,
// with no per-field allocation beyond boxing the value into the property
// map (as Entity.Set would). A PropertyMap is read-only and safe for
// concurrent use.
type PropertyMap[T any] struct {
	fields []propField
	names  int // property names it may set, to size a new property map
}

// propKind is how a field's value is read.
type propKind uint8

const (
	kindString propKind = iota
	kindBool
	kindNumber // any int, uint or float kind, boxed as its own type
	kindSlice  // a slice of scalars, boxed as is
	kindAny    // an interface value, set when flat
	kindJSON   // json.RawMessage, as compact JSON text
	kindTime   // a string or time.Time with the time option
)

// propField is the plan of one tagged field.
type propField struct {
	index     []int // field indexes from T down to the field
	names     []string
	kind      propKind
	ptr       bool // the field is a pointer to its kind
	omitEmpty bool
	null      bool
	lower     bool
	text      bool
	flags     []propFlag
}

// propFlag is a <flag>=<VALUE> option.
type propFlag struct {
	name, value string
	prefix      bool
}

func (f propFlag) of(s string) bool {
	if f.prefix {
		return strings.HasPrefix(s, f.value)
	}
	return s == f.value
}

var (
	rawMessageType = reflect.TypeFor[json.RawMessage]()
	timeType       = reflect.TypeFor[time.Time]()
)

// NewPropertyMap returns the PropertyMap of struct type T, or an error
// naming the field whose prop tag is malformed or whose type the tag
// cannot map.
func NewPropertyMap[T any]() (*PropertyMap[T], error) {
	t := reflect.TypeFor[T]()
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("graph: PropertyMap of %v: not a struct type", t)
	}
	m := &PropertyMap[T]{}
	if err := m.plan(t, nil, "", map[reflect.Type]bool{}); err != nil {
		return nil, fmt.Errorf("graph: PropertyMap of %v: %w", t, err)
	}
	seen := map[string]bool{}
	for _, f := range m.fields {
		for _, n := range f.names {
			seen[n] = true
		}
		for _, fl := range f.flags {
			seen[fl.name] = true
		}
	}
	m.names = len(seen)
	return m, nil
}

// MustPropertyMap is NewPropertyMap for package-level declarations: it
// panics on a malformed tag, a programming error that the first test
// loading the package reports.
func MustPropertyMap[T any]() *PropertyMap[T] {
	m, err := NewPropertyMap[T]()
	if err != nil {
		panic(err)
	}
	return m
}

// plans caches the PropertyMap of each type PropertiesOf was asked for
// (reflect.Type -> *PropertyMap[T]), as encoding/json caches its field
// lists: plans are derived from types alone, so the cache only ever
// memoises.
var plans sync.Map

// PropertiesOf returns T's PropertyMap, built on first use and cached. It
// panics on a malformed tag, as MustPropertyMap does.
func PropertiesOf[T any]() *PropertyMap[T] {
	t := reflect.TypeFor[T]()
	if m, ok := plans.Load(t); ok {
		return m.(*PropertyMap[T])
	}
	m, _ := plans.LoadOrStore(t, MustPropertyMap[T]())
	return m.(*PropertyMap[T])
}

// SetProperties sets the properties of v on e as T's prop tags declare,
// through T's cached PropertyMap (PropertiesOf[T]().Set), and returns e.
func SetProperties[T any](e *Entity, v *T) *Entity { return PropertiesOf[T]().Set(e, v) }

// plan adds the tagged fields of struct type t, reached through index.
// onPath guards against recursive types.
func (m *PropertyMap[T]) plan(t reflect.Type, index []int, path string, onPath map[reflect.Type]bool) error {
	onPath[t] = true
	defer delete(onPath, t)
	for i := range t.NumField() {
		sf := t.Field(i)
		idx := append(index[:len(index):len(index)], i)
		tag, tagged := sf.Tag.Lookup("prop")
		if !tagged {
			st := sf.Type
			if st.Kind() == reflect.Pointer {
				st = st.Elem()
			}
			// Unexported fields are not walked (as encoding/json ignores
			// them), unless embedded: their exported fields are promoted.
			if st.Kind() == reflect.Struct && st != timeType && !onPath[st] && (sf.IsExported() || sf.Anonymous) {
				if err := m.plan(st, idx, path+sf.Name+".", onPath); err != nil {
					return err
				}
			}
			continue
		}
		if !sf.IsExported() {
			return fmt.Errorf("field %s%s: a prop tag on an unexported field", path, sf.Name)
		}
		f, err := planField(sf.Type, tag)
		if err != nil {
			return fmt.Errorf("field %s%s: %w", path, sf.Name, err)
		}
		f.index = idx
		m.fields = append(m.fields, f)
	}
	return nil
}

// planField parses one prop tag for a field of type t.
func planField(t reflect.Type, tag string) (propField, error) {
	var f propField
	names, opts, _ := strings.Cut(tag, ",")
	f.names = strings.Fields(names)
	if len(f.names) == 0 {
		return f, fmt.Errorf("prop tag %q names no property", tag)
	}
	isTime := false
	if opts != "" {
		for _, o := range strings.Split(opts, ",") {
			switch o {
			case "omitempty":
				f.omitEmpty = true
			case "null":
				f.null = true
			case "lower":
				f.lower = true
			case "text":
				f.text = true
			case "time":
				isTime = true
			default:
				name, value, ok := strings.Cut(o, "=")
				if !ok || name == "" || value == "" {
					return f, fmt.Errorf("prop tag %q: unknown option %q", tag, o)
				}
				fl := propFlag{name: name, value: value}
				if v, ok := strings.CutSuffix(value, "*"); ok {
					fl.value, fl.prefix = v, true
				}
				f.flags = append(f.flags, fl)
			}
		}
	}
	if t.Kind() == reflect.Pointer {
		f.ptr, t = true, t.Elem()
	}
	switch {
	case isTime && (t.Kind() == reflect.String || t == timeType):
		f.kind = kindTime
	case isTime:
		return f, fmt.Errorf("the time option needs a string or time.Time, not %v (give a numeric timestamp's unit with EpochMillis)", t)
	case t == rawMessageType && !f.ptr:
		f.kind = kindJSON
	case t.Kind() == reflect.String:
		f.kind = kindString
	case t.Kind() == reflect.Bool:
		f.kind = kindBool
	case isNumberKind(t.Kind()):
		f.kind = kindNumber
	case t.Kind() == reflect.Slice && !f.ptr && isScalarKind(t.Elem().Kind()):
		f.kind = kindSlice
	case t.Kind() == reflect.Interface && t.NumMethod() == 0 && !f.ptr:
		f.kind = kindAny
	default:
		return f, fmt.Errorf("type %v is not a flat property value", t)
	}
	if (f.lower || len(f.flags) > 0) && f.kind != kindString {
		return f, fmt.Errorf("prop tag %q: lower and <flag>=<VALUE> need a string", tag)
	}
	if f.text && f.kind != kindJSON {
		return f, fmt.Errorf("prop tag %q: text needs a json.RawMessage", tag)
	}
	if f.omitEmpty && f.kind != kindString && f.kind != kindTime {
		return f, fmt.Errorf("prop tag %q: omitempty needs a string", tag)
	}
	return f, nil
}

func isNumberKind(k reflect.Kind) bool {
	return (k >= reflect.Int && k <= reflect.Uint64) || k == reflect.Float32 || k == reflect.Float64
}

func isScalarKind(k reflect.Kind) bool {
	return k == reflect.String || k == reflect.Bool || isNumberKind(k)
}

// Len returns how many property names m may set (its flags included).
func (m *PropertyMap[T]) Len() int { return m.names }

// Set sets the properties of v on e as T's tags declare and returns e.
// A property already on e with the same name is replaced; others are
// left alone, so an integration may set its own before or after. When e
// has no property map yet, one is made with room for every property m
// may set and a few more.
func (m *PropertyMap[T]) Set(e *Entity, v *T) *Entity {
	if e.Properties == nil {
		e.Properties = make(map[string]any, m.names+4)
	}
	m.SetMap(e.Properties, v)
	return e
}

// SetMap is Set for a property map of another kind of object: a
// relationship's properties, a mapped relationship's target entity. A nil
// v sets nothing.
func (m *PropertyMap[T]) SetMap(props map[string]any, v *T) {
	if v == nil {
		return
	}
	root := reflect.ValueOf(v).Elem()
	for i := range m.fields {
		m.fields[i].set(props, root)
	}
}

// set sets the properties of field f of root.
func (f *propField) set(props map[string]any, root reflect.Value) {
	v, ok := root, true
	for i, x := range f.index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				ok = false
				break
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	if ok && f.ptr {
		if ok = !v.IsNil(); ok {
			v = v.Elem()
		}
	}
	if !ok { // absent
		for _, fl := range f.flags {
			props[fl.name] = false
		}
		if f.null {
			f.put(props, nil)
		}
		return
	}
	switch f.kind {
	case kindString:
		s := v.String()
		for _, fl := range f.flags {
			props[fl.name] = fl.of(s)
		}
		if s == "" && f.omitEmpty {
			return
		}
		if f.lower {
			s = strings.ToLower(s)
		}
		f.put(props, s)
	case kindTime:
		var ms int64
		if v.Kind() == reflect.String {
			ms, ok, _ = parseTimeString(v.String())
		} else if t := v.Addr().Interface().(*time.Time); !t.IsZero() {
			ms = t.UnixMilli()
		} else {
			ok = false
		}
		if ok {
			f.put(props, ms)
		}
	case kindJSON:
		if f.text {
			if x := JSONText(v.Bytes()); x != nil {
				f.put(props, x)
			} else if f.null {
				f.put(props, nil)
			}
		} else if s := CompactJSON(v.Bytes()); s != "" {
			f.put(props, s)
		} else if f.null {
			f.put(props, nil)
		}
	case kindAny:
		if x, flat := FlatValue(v.Interface()); flat {
			f.put(props, x)
		} else if f.null {
			f.put(props, nil)
		}
	case kindSlice:
		if !v.IsNil() {
			f.put(props, v.Interface())
		} else if f.null {
			f.put(props, nil)
		}
	case kindBool:
		f.put(props, v.Bool())
	default: // kindNumber
		f.put(props, v.Interface())
	}
}

// put sets every name of f to val, boxed once.
func (f *propField) put(props map[string]any, val any) {
	for _, n := range f.names {
		props[n] = val
	}
}

package graph

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Kind is the JSON type a property value must have.
type Kind uint8

// Property kinds. They map to the JSON Schema types of the data model:
// string, number, integer, boolean and arrays of strings.
const (
	KindString Kind = iota + 1
	KindNumber
	KindBool
	KindStringArray
	// KindStringOrArray accepts a string or an array of strings.
	KindStringOrArray
	// KindInteger is a number without a fractional part (JSON Schema
	// "integer").
	KindInteger
	// KindArray is an array of any flat values.
	KindArray
	// KindAny accepts any flat value: a required property whose type the
	// class leaves open.
	KindAny
)

// String implements fmt.Stringer.
func (k Kind) String() string {
	switch k {
	case KindString:
		return "string"
	case KindNumber:
		return "number"
	case KindBool:
		return "boolean"
	case KindStringArray:
		return "array of strings"
	case KindStringOrArray:
		return "string or array of strings"
	case KindInteger:
		return "integer"
	case KindArray:
		return "array"
	case KindAny:
		return "any value"
	}
	return "unknown"
}

// Format is a JSON Schema string format. Like JSON Schema, a format applies
// to string values only (and to each string of an array): the data model's
// timestamps are numbers (epoch milliseconds) marked date-time, and a number
// is checked as a number.
type Format uint8

// String formats of the data model, checked as ajv-formats ("full" mode)
// checks them, which is what the data model's own validator uses.
const (
	FormatNone Format = iota
	// FormatEmail is an email address (RFC 5321 local part, DNS domain).
	FormatEmail
	// FormatURI is an absolute URI (RFC 3986), e.g. https://acme.okta.com/x.
	FormatURI
	// FormatDateTime is an RFC 3339 date-time with a time zone.
	FormatDateTime
	// FormatHostname is a DNS host name (RFC 1123).
	FormatHostname
	// FormatIP is an IPv4 or IPv6 address.
	FormatIP
	// FormatIPv4 is a dotted-quad IPv4 address.
	FormatIPv4
	// FormatIPv6 is an IPv6 address.
	FormatIPv6
)

// String implements fmt.Stringer with the JSON Schema format name.
func (f Format) String() string {
	switch f {
	case FormatNone:
		return ""
	case FormatEmail:
		return "email"
	case FormatURI:
		return "uri"
	case FormatDateTime:
		return "date-time"
	case FormatHostname:
		return "hostname"
	case FormatIP:
		return "ip"
	case FormatIPv4:
		return "ipv4"
	case FormatIPv6:
		return "ipv6"
	}
	return "unknown"
}

// PropertyRule is the data model's rule for one property: its kind and,
// optionally, the values, format, pattern or range it must have. In a
// ClassSchema's Required list the property must be present; in Properties it
// is checked only when present.
type PropertyRule struct {
	Name string
	Kind Kind
	// Nullable allows an explicit null.
	Nullable bool
	// Enum, when set, lists the allowed values of a string (or of each
	// string of an array).
	Enum []string
	// Format is the format of a string (or of each string of an array).
	Format Format
	// Pattern is a regular expression (RE2 syntax) a string must match.
	Pattern string
	// Minimum and Maximum, when set, bound a number (inclusive).
	Minimum, Maximum *float64
	// UniqueItems forbids duplicate strings in an array value.
	UniqueItems bool
}

// ClassSchema is the data-model schema of one class: the properties an
// entity of that class must have and the rules of the optional ones it
// defines. A class inherits the rules of the class it extends (most data
// model classes extend Entity, whose rules every entity then meets: a name,
// a displayName, a uri webLink, number timestamps, ...).
type ClassSchema struct {
	Name string
	// Extends names the parent class ("" for none).
	Extends string
	// Required are the properties an entity of the class must have.
	Required []PropertyRule
	// Properties are the optional properties the class defines; each is
	// checked when present.
	Properties []PropertyRule

	idx *classIndex // built by DefaultSchemas and With
}

// classIndex is what validation precomputes for one class.
type classIndex struct {
	optional map[string]int // Properties by name
	req, opt []ruleIndex    // parallel to Required and Properties
	flat     *flatIndex     // with the inherited rules (see link)
}

// ruleIndex is what validation precomputes for one rule.
type ruleIndex struct {
	enum  map[string]struct{} // for long enums
	re    *regexp.Regexp
	match func(string) bool // a hand-written matcher of a known Pattern
	err   error             // the Pattern does not compile
}

// Schemas is a set of class schemas by name. Build it with DefaultSchemas
// and With, which precompute what validation needs; a map built by hand
// works too, validated more slowly.
type Schemas map[string]ClassSchema

// builtin returns the compiled built-in schemas (built once; never mutated).
var builtin = sync.OnceValue(func() Schemas {
	out := make(Schemas, len(builtinSchemas))
	for _, c := range builtinSchemas {
		out[c.Name] = compileClass(c)
	}
	link(out)
	return out
})

// DefaultSchemas returns a fresh copy of the built-in class schemas: the
// data model's rules (@jupiterone/data-model, the version in
// DataModelVersion) for the classes it lists. Callers may add their own
// classes to the returned map with With.
func DefaultSchemas() Schemas {
	b := builtin()
	s := make(Schemas, len(b))
	for n, c := range b {
		s[n] = c
	}
	return s
}

// With returns a copy of s with extra schemas added (replacing same names).
func (s Schemas) With(extra ...ClassSchema) Schemas {
	out := make(Schemas, len(s)+len(extra))
	for k, v := range s {
		out[k] = v
	}
	for _, c := range extra {
		out[c.Name] = compileClass(c)
	}
	link(out)
	return out
}

// enumMapAt is the enum length from which a set is faster than a scan.
const enumMapAt = 8

func compileClass(c ClassSchema) ClassSchema {
	idx := &classIndex{
		optional: make(map[string]int, len(c.Properties)),
		req:      compileRules(c.Required),
		opt:      compileRules(c.Properties),
	}
	for i, r := range c.Properties {
		idx.optional[r.Name] = i
	}
	c.idx = idx
	return c
}

func compileRules(rules []PropertyRule) []ruleIndex {
	out := make([]ruleIndex, len(rules))
	for i, r := range rules {
		if len(r.Enum) >= enumMapAt {
			out[i].enum = make(map[string]struct{}, len(r.Enum))
			for _, v := range r.Enum {
				out[i].enum[v] = struct{}{}
			}
		}
		if r.Pattern != "" {
			out[i].re, out[i].err = regexp.Compile(r.Pattern)
			out[i].match = knownPatterns[r.Pattern]
		}
	}
	return out
}

// index returns the class's precomputed index, building one when the
// schema was not made by DefaultSchemas or With.
func (c *ClassSchema) index() *classIndex {
	if c.idx == nil {
		return compileClass(*c).idx
	}
	return c.idx
}

// ValidationError lists everything wrong with one graph object.
type ValidationError struct {
	Key      string
	Type     string
	Problems []string
	// Violations are the property problems among Problems, typed.
	Violations []*PropertyError
}

// Error implements the error interface.
func (e *ValidationError) Error() string {
	return fmt.Sprintf("invalid %s %q: %s", e.Type, e.Key, strings.Join(e.Problems, "; "))
}

// Unwrap returns the violations, so errors.As finds a *PropertyError and
// errors.Is a reason such as ErrNotInEnum.
func (e *ValidationError) Unwrap() []error {
	out := make([]error, len(e.Violations))
	for i, v := range e.Violations {
		out[i] = v
	}
	return out
}

// ErrNotFlat is wrapped by problems about nested property values.
var ErrNotFlat = errors.New("property is not flat")

// Reasons a property breaks its class's rule, wrapped by PropertyError.
var (
	ErrMissingProperty = errors.New("required property is missing")
	ErrWrongKind       = errors.New("property has the wrong type")
	ErrNotInEnum       = errors.New("value is not one of the allowed values")
	ErrBadFormat       = errors.New("value does not have the format")
	ErrNoPatternMatch  = errors.New("value does not match the pattern")
	ErrOutOfRange      = errors.New("value is out of range")
	ErrNotUnique       = errors.New("array has duplicate items")
)

// PropertyError is one property of an entity that breaks a rule of one of
// its classes. Class is the entity's class (from _class) whose rules, its
// own or inherited, the property breaks.
type PropertyError struct {
	Class    string
	Property string
	// Value is the offending value (the item, for an array); nil when the
	// property is missing.
	Value any
	// Allowed lists the allowed values (ErrNotInEnum).
	Allowed []string
	// Rule is the broken rule.
	Rule PropertyRule
	// Err is the reason: ErrMissingProperty, ErrWrongKind, ErrNotInEnum,
	// ErrBadFormat, ErrNoPatternMatch, ErrOutOfRange or ErrNotUnique.
	Err error
}

// Error implements the error interface.
func (e *PropertyError) Error() string {
	switch e.Err {
	case ErrMissingProperty:
		return fmt.Sprintf("class %s requires property %q", e.Class, e.Property)
	case ErrWrongKind:
		got := "null"
		if e.Value != nil {
			got = fmt.Sprintf("%T", e.Value)
		}
		return fmt.Sprintf("class %s: property %q must be a %s, got %s", e.Class, e.Property, e.Rule.Kind, got)
	case ErrNotInEnum:
		return fmt.Sprintf("class %s: property %q: value %q is not one of the allowed values %s", e.Class, e.Property, e.Value, strings.Join(e.Allowed, ", "))
	case ErrBadFormat:
		return fmt.Sprintf("class %s: property %q: value %q is not a valid %s", e.Class, e.Property, e.Value, e.Rule.Format)
	case ErrNoPatternMatch:
		return fmt.Sprintf("class %s: property %q: value %q does not match the pattern %s", e.Class, e.Property, e.Value, e.Rule.Pattern)
	case ErrOutOfRange:
		return fmt.Sprintf("class %s: property %q: value %v is out of range [%s, %s]", e.Class, e.Property, e.Value, bound(e.Rule.Minimum), bound(e.Rule.Maximum))
	case ErrNotUnique:
		return fmt.Sprintf("class %s: property %q: item %q is not unique", e.Class, e.Property, e.Value)
	}
	return fmt.Sprintf("class %s: property %q: %v", e.Class, e.Property, e.Err)
}

// Unwrap returns the reason.
func (e *PropertyError) Unwrap() error { return e.Err }

func bound(p *float64) string {
	if p == nil {
		return "-"
	}
	return strconv.FormatFloat(*p, 'g', -1, 64)
}

// MinTypeLength and MinClassLength are the data model's shortest _type and
// _class names.
const (
	MinTypeLength  = 3
	MinClassLength = 2
)

// maxExtends bounds the Extends chain (a cycle is reported, not followed).
const maxExtends = 16

// ValidateEntity checks e against the base rules and each of its classes
// with the classes they extend: _key length, _type and _class present and
// long enough, classes known, property names the data model allows,
// properties flat, _rawData names unique, and each class's rules — required
// properties present, and every property the class defines of the right
// kind, in its enum, format, pattern and range. It returns a
// *ValidationError or nil.
func (s Schemas) ValidateEntity(e *Entity) error {
	var probs []string
	var viol []*PropertyError
	if len(e.Key) < MinKeyLength {
		probs = append(probs, fmt.Sprintf("_key %q is shorter than %d characters", e.Key, MinKeyLength))
	}
	if e.Type == "" {
		probs = append(probs, "_type is empty")
	} else if len(e.Type) < MinTypeLength {
		probs = append(probs, fmt.Sprintf("_type %q is shorter than %d characters", e.Type, MinTypeLength))
	}
	if len(e.Class) == 0 {
		probs = append(probs, "_class is empty")
	}
	var seenBuf [4]string
	seen := seenBuf[:0]
	var usesBuf [4]flatUse
	uses := usesBuf[:0]
	for _, c := range e.Class {
		if len(c) < MinClassLength {
			probs = append(probs, fmt.Sprintf("_class %q is shorter than %d characters", c, MinClassLength))
		}
		cs, ok := s[c]
		if !ok {
			probs = append(probs, fmt.Sprintf("unknown class %q", c))
			continue
		}
		if f := cs.flatIn(s); f != nil {
			var u flatUse
			u, seen = useFlat(f, c, seen)
			uses = append(uses, u)
			continue
		}
		for depth := 0; ; depth++ {
			if slices.Contains(seen, cs.Name) {
				break
			}
			seen = append(seen, cs.Name)
			viol = checkClass(viol, c, &cs, e)
			if cs.Extends == "" {
				break
			}
			parent, ok := s[cs.Extends]
			if !ok {
				probs = append(probs, fmt.Sprintf("class %s extends unknown class %q", cs.Name, cs.Extends))
				break
			}
			if depth == maxExtends {
				probs = append(probs, fmt.Sprintf("class %s: Extends chain is longer than %d (a cycle?)", c, maxExtends))
				break
			}
			cs = parent
		}
	}
	var names []string // problems with property names and values
	for k, v := range e.Properties {
		if isReserved(k) {
			names = append(names, fmt.Sprintf("property name %q is reserved", k))
			continue
		}
		if !validPropertyName(k) {
			names = append(names, fmt.Sprintf("property name %q has characters the data model does not allow (letters, digits, '.', '-' and space)", k))
		}
		if !isFlat(v) {
			names = append(names, fmt.Sprintf("property %q: %v (%T)", k, ErrNotFlat, v))
		} else if strings.HasPrefix(k, "tag.") && !isTagValue(v) {
			names = append(names, fmt.Sprintf("tag property %q must be a string, number or boolean, got %T", k, v))
		} else if n := propertySize(v); n > MaxPropertyBytes {
			names = append(names, fmt.Sprintf("property %q is %d bytes, over the %d-byte cap on one property", k, n, MaxPropertyBytes))
		}
		for i := range uses {
			viol = uses[i].property(viol, k, v)
		}
	}
	for i := range uses {
		viol = uses[i].finish(viol, e)
	}
	if len(viol) > 1 {
		// Sorted by property, and a property that breaks the same kind of
		// rule of a class and of its parent (User's and Entity's "active")
		// is reported once.
		slices.SortStableFunc(viol, func(a, b *PropertyError) int { return strings.Compare(a.Property, b.Property) })
		viol = slices.CompactFunc(viol, func(a, b *PropertyError) bool {
			return a.Property == b.Property && a.Err == b.Err && a.Class == b.Class
		})
	}
	for _, v := range viol {
		probs = append(probs, v.Error())
	}
	probs = append(probs, names...)
	if len(e.RawData) > 1 {
		seen := make(map[string]bool, len(e.RawData))
		for _, r := range e.RawData {
			if seen[r.Name] {
				probs = append(probs, fmt.Sprintf("_rawData name %q is not unique", r.Name))
			}
			seen[r.Name] = true
		}
	}
	if probs == nil {
		return nil
	}
	return &ValidationError{Key: e.Key, Type: e.Type, Problems: probs, Violations: viol}
}

// checkClass appends the violations of cs's own rules by e, reported as
// class c (the entity's class that brought cs in).
func checkClass(viol []*PropertyError, c string, cs *ClassSchema, e *Entity) []*PropertyError {
	idx := cs.index()
	for i := range cs.Required {
		r := &cs.Required[i]
		v, ok, check := e.ruleValue(r)
		if !ok {
			viol = append(viol, &PropertyError{Class: c, Property: r.Name, Rule: *r, Err: ErrMissingProperty})
			continue
		}
		if !check {
			continue
		}
		if pe := checkValue(c, r, &idx.req[i], v); pe != nil {
			viol = append(viol, pe)
		}
	}
	if len(cs.Properties) == 0 {
		return viol
	}
	// Walk whichever is shorter: the class's optional rules or the
	// entity's properties.
	if len(cs.Properties) <= len(e.Properties) {
		for i := range cs.Properties {
			r := &cs.Properties[i]
			if v, _, check := e.ruleValue(r); check {
				if pe := checkValue(c, r, &idx.opt[i], v); pe != nil {
					viol = append(viol, pe)
				}
			}
		}
		return viol
	}
	for k, v := range e.Properties {
		if i, ok := idx.optional[k]; ok {
			if pe := checkValue(c, &cs.Properties[i], &idx.opt[i], v); pe != nil {
				viol = append(viol, pe)
			}
		}
	}
	for _, name := range [...]string{"displayName", "_type"} { // not in Properties
		if i, ok := idx.optional[name]; ok {
			if v, _, check := e.ruleValue(&cs.Properties[i]); check {
				if pe := checkValue(c, &cs.Properties[i], &idx.opt[i], v); pe != nil {
					viol = append(viol, pe)
				}
			}
		}
	}
	return viol
}

// ruleValue returns the value of r's property as the wire format has it —
// the reserved fields by name, displayName only when set (it is omitted
// when empty), else from Properties — and whether it is present. check
// says whether the value needs checking: displayName, always a string, is
// not boxed when r cannot reject a string.
func (e *Entity) ruleValue(r *PropertyRule) (v any, present, check bool) {
	switch r.Name {
	case "displayName":
		if e.DisplayName == "" {
			return nil, false, false
		}
		if r.Enum == nil && r.Format == FormatNone && r.Pattern == "" && (r.Kind == KindString || r.Kind == KindStringOrArray || r.Kind == KindAny) {
			return nil, true, false
		}
		return e.DisplayName, true, true
	case "_key":
		return e.Key, true, true
	case "_type":
		return e.Type, true, true
	}
	v, ok := e.Properties[r.Name]
	return v, ok, ok
}

// checkValue checks one present value against its rule.
func checkValue(c string, r *PropertyRule, ri *ruleIndex, v any) *PropertyError {
	fail := func(val any, err error) *PropertyError {
		pe := &PropertyError{Class: c, Property: r.Name, Value: val, Rule: *r, Err: err}
		if err == ErrNotInEnum {
			pe.Allowed = r.Enum
		}
		return pe
	}
	if v == nil {
		if r.Nullable || r.Kind == KindAny {
			return nil
		}
		return fail(nil, ErrWrongKind)
	}
	switch r.Kind {
	case KindString:
		s, ok := v.(string)
		if !ok {
			return fail(v, ErrWrongKind)
		}
		return checkString(r, ri, s, fail)
	case KindNumber, KindInteger:
		f, ok := toFloat(v)
		if !ok || (r.Kind == KindInteger && f != math.Trunc(f)) {
			return fail(v, ErrWrongKind)
		}
		if (r.Minimum != nil && f < *r.Minimum) || (r.Maximum != nil && f > *r.Maximum) {
			return fail(v, ErrOutOfRange)
		}
	case KindBool:
		if _, ok := v.(bool); !ok {
			return fail(v, ErrWrongKind)
		}
	case KindStringOrArray:
		if s, ok := v.(string); ok {
			return checkString(r, ri, s, fail)
		}
		return checkStrings(r, ri, v, fail)
	case KindStringArray:
		return checkStrings(r, ri, v, fail)
	case KindArray:
		switch v.(type) {
		case []any, []string, []int, []int64, []float64, []bool:
		default:
			return fail(v, ErrWrongKind)
		}
	case KindAny:
	default:
		return fail(v, ErrWrongKind)
	}
	return nil
}

// checkStrings checks an array of strings item by item.
func checkStrings(r *PropertyRule, ri *ruleIndex, v any, fail func(any, error) *PropertyError) *PropertyError {
	var items []string
	switch x := v.(type) {
	case []string:
		items = x
	case []any:
		items = make([]string, len(x))
		for i, it := range x {
			s, ok := it.(string)
			if !ok {
				return fail(v, ErrWrongKind)
			}
			items[i] = s
		}
	default:
		return fail(v, ErrWrongKind)
	}
	for i, s := range items {
		if pe := checkString(r, ri, s, fail); pe != nil {
			return pe
		}
		if r.UniqueItems && slices.Contains(items[:i], s) {
			return fail(s, ErrNotUnique)
		}
	}
	return nil
}

// checkString checks a string's enum, format and pattern.
func checkString(r *PropertyRule, ri *ruleIndex, s string, fail func(any, error) *PropertyError) *PropertyError {
	if len(r.Enum) > 0 {
		var in bool
		if ri.enum != nil {
			_, in = ri.enum[s]
		} else {
			in = slices.Contains(r.Enum, s)
		}
		if !in {
			return fail(s, ErrNotInEnum)
		}
	}
	if r.Format != FormatNone && !r.Format.Valid(s) {
		return fail(s, ErrBadFormat)
	}
	if r.Pattern != "" {
		if ri.err != nil {
			return fail(s, fmt.Errorf("%w: the pattern does not compile: %v", ErrNoPatternMatch, ri.err))
		}
		if ri.match != nil && !ri.match(s) || ri.match == nil && !ri.re.MatchString(s) {
			return fail(s, ErrNoPatternMatch)
		}
	}
	return nil
}

// PropertyNamePattern is the data model's rule for property names
// (GraphObject's propertyNames). Reserved names aside (they start with "_"),
// a name is letters, digits, '.', '-' and spaces; "tag." names hold the
// entity's named tags, whose values are strings, numbers or booleans.
const PropertyNamePattern = `^(_|tag\.)?[A-Za-z0-9. -]+$`

// validPropertyName reports whether a (non-reserved) property name matches
// PropertyNamePattern.
func validPropertyName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == ' ') {
			return false
		}
	}
	return true
}

// isTagValue reports whether v is a valid tag.* value: a string, number or
// boolean.
func isTagValue(v any) bool {
	switch v.(type) {
	case string, bool:
		return true
	}
	return isNumber(v)
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int8:
		return float64(x), true
	case int16:
		return float64(x), true
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint:
		return float64(x), true
	case uint8:
		return float64(x), true
	case uint16:
		return float64(x), true
	case uint32:
		return float64(x), true
	case uint64:
		return float64(x), true
	case float32:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

// ValidateRelationship checks the base rules of a relationship: _key
// length, _type, a known class, endpoints (direct) or a complete mapping
// (mapped), and flat properties.
func ValidateRelationship(r *Relationship) error {
	var probs []string
	if len(r.Key) < MinKeyLength {
		probs = append(probs, fmt.Sprintf("_key %q is shorter than %d characters", r.Key, MinKeyLength))
	}
	if r.Type == "" {
		probs = append(probs, "_type is empty")
	}
	if !IsRelationshipClass(r.Class) {
		probs = append(probs, fmt.Sprintf("unknown relationship class %q", r.Class))
	}
	if r.Mapping == nil {
		if r.FromKey == "" || r.ToKey == "" {
			probs = append(probs, "direct relationship needs _fromEntityKey and _toEntityKey")
		}
	} else {
		m := r.Mapping
		if m.SourceEntityKey == "" {
			probs = append(probs, "mapping has no sourceEntityKey")
		}
		if m.Direction != Forward && m.Direction != Reverse {
			probs = append(probs, fmt.Sprintf("mapping direction %q is not FORWARD or REVERSE", m.Direction))
		}
		if len(m.TargetFilterKeys) == 0 {
			probs = append(probs, "mapping has no targetFilterKeys")
		}
		for _, set := range m.TargetFilterKeys {
			for _, f := range set {
				if _, ok := m.TargetEntity[f]; !ok {
					probs = append(probs, fmt.Sprintf("mapping filter key %q is missing from targetEntity", f))
				}
			}
		}
		for k, v := range m.TargetEntity {
			if !isFlat(v) {
				probs = append(probs, fmt.Sprintf("targetEntity property %q: %v", k, ErrNotFlat))
			}
		}
	}
	for k, v := range r.Properties {
		if isReserved(k) {
			probs = append(probs, fmt.Sprintf("property name %q is reserved", k))
			continue
		}
		if !isFlat(v) {
			probs = append(probs, fmt.Sprintf("property %q: %v (%T)", k, ErrNotFlat, v))
		} else if n := propertySize(v); n > MaxPropertyBytes {
			probs = append(probs, fmt.Sprintf("property %q is %d bytes, over the %d-byte cap on one property", k, n, MaxPropertyBytes))
		}
	}
	if probs == nil {
		return nil
	}
	return &ValidationError{Key: r.Key, Type: r.Type, Problems: probs}
}

func isNumber(v any) bool {
	switch v.(type) {
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
		return true
	}
	return false
}

func isScalar(v any) bool {
	switch v.(type) {
	case nil, string, bool:
		return true
	}
	return isNumber(v)
}

func isFlat(v any) bool {
	if isScalar(v) {
		return true
	}
	switch x := v.(type) {
	case []string, []int, []int64, []float64, []bool:
		return true
	case []any:
		for _, e := range x {
			if !isScalar(e) {
				return false
			}
		}
		return true
	}
	return false
}

// MaxPropertyBytes caps the size of one property value (a string, or the
// strings of an array together): a provider that sends a huge value (a
// hostile or broken API) fails validation instead of landing in the graph.
// Raw provider data (_rawData) is not a property and is not capped here.
const MaxPropertyBytes = 1 << 20

// propertySize returns the bytes of the strings in a flat value.
func propertySize(v any) int {
	switch x := v.(type) {
	case string:
		return len(x)
	case []string:
		n := 0
		for _, s := range x {
			n += len(s)
		}
		return n
	case []any:
		n := 0
		for _, e := range x {
			if s, ok := e.(string); ok {
				n += len(s)
			}
		}
		return n
	}
	return 0
}

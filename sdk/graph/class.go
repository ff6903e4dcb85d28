package graph

import (
	"errors"
	"fmt"
	"strings"
)

// Kind is the JSON kind a property must have.
type Kind uint8

// Property kinds.
const (
	KindString Kind = iota + 1
	KindNumber
	KindBool
	KindStringArray
	// KindStringOrArray accepts a string or an array of strings.
	KindStringOrArray
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
	}
	return "unknown"
}

// PropertyRule says a property is required and of which kind.
type PropertyRule struct {
	Name string
	Kind Kind
	// Nullable allows an explicit null (the property must still be present).
	Nullable bool
}

// ClassSchema is the data-model schema of one class: the properties an
// entity of that class must have.
type ClassSchema struct {
	Name     string
	Required []PropertyRule
}

// Schemas is a set of class schemas by name.
type Schemas map[string]ClassSchema

var builtinSchemas = []ClassSchema{
	{Name: "Account"},
	{Name: "User", Required: []PropertyRule{
		{Name: "username", Kind: KindString},
		{Name: "email", Kind: KindString, Nullable: true},
		{Name: "active", Kind: KindBool},
	}},
	{Name: "UserGroup"},
	{Name: "Application"},
	{Name: "Key"},
	{Name: "AccessKey"},
	{Name: "Device", Required: []PropertyRule{
		{Name: "category", Kind: KindString, Nullable: true},
		{Name: "make", Kind: KindString, Nullable: true},
		{Name: "model", Kind: KindString, Nullable: true},
		{Name: "serial", Kind: KindString, Nullable: true},
	}},
	{Name: "AccessRole"},
	{Name: "AccessPolicy"},
	{Name: "Configuration"},
	{Name: "Service", Required: []PropertyRule{
		{Name: "category", Kind: KindStringArray},
		{Name: "function", Kind: KindStringOrArray},
	}},
	{Name: "Control", Required: []PropertyRule{
		{Name: "function", Kind: KindStringOrArray},
	}},
	{Name: "Person", Required: []PropertyRule{
		{Name: "email", Kind: KindStringOrArray},
	}},
	{Name: "Network", Required: []PropertyRule{
		{Name: "CIDR", Kind: KindString, Nullable: true},
		{Name: "public", Kind: KindBool},
		{Name: "internal", Kind: KindBool},
	}},
	{Name: "Host"},
	{Name: "Team"},
	{Name: "Organization"},
	{Name: "Record"},
	{Name: "Resource"},
	{Name: "Group"},
}

// DefaultSchemas returns a fresh copy of the built-in class schemas. Callers
// may add their own classes to the returned map.
func DefaultSchemas() Schemas {
	s := make(Schemas, len(builtinSchemas))
	for _, c := range builtinSchemas {
		s[c.Name] = c
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
		out[c.Name] = c
	}
	return out
}

// ValidationError lists everything wrong with one graph object.
type ValidationError struct {
	Key      string
	Type     string
	Problems []string
}

// Error implements the error interface.
func (e *ValidationError) Error() string {
	return fmt.Sprintf("invalid %s %q: %s", e.Type, e.Key, strings.Join(e.Problems, "; "))
}

// ErrNotFlat is wrapped by problems about nested property values.
var ErrNotFlat = errors.New("property is not flat")

// ValidateEntity checks e against the base rules and each of its classes:
// _key length, _type and _class present, classes known, required
// properties present with the right kind, properties flat, _rawData names
// unique. It returns a *ValidationError or nil.
func (s Schemas) ValidateEntity(e *Entity) error {
	var probs []string
	if len(e.Key) < MinKeyLength {
		probs = append(probs, fmt.Sprintf("_key %q is shorter than %d characters", e.Key, MinKeyLength))
	}
	if e.Type == "" {
		probs = append(probs, "_type is empty")
	}
	if len(e.Class) == 0 {
		probs = append(probs, "_class is empty")
	}
	for _, c := range e.Class {
		cs, ok := s[c]
		if !ok {
			probs = append(probs, fmt.Sprintf("unknown class %q", c))
			continue
		}
		for _, rule := range cs.Required {
			v, present := e.Properties[rule.Name]
			if !present {
				probs = append(probs, fmt.Sprintf("class %s requires property %q", c, rule.Name))
				continue
			}
			if v == nil {
				if !rule.Nullable {
					probs = append(probs, fmt.Sprintf("class %s requires property %q to be a %s, got null", c, rule.Name, rule.Kind))
				}
				continue
			}
			if !kindMatches(rule.Kind, v) {
				probs = append(probs, fmt.Sprintf("class %s requires property %q to be a %s, got %T", c, rule.Name, rule.Kind, v))
			}
		}
	}
	for k, v := range e.Properties {
		if isReserved(k) {
			probs = append(probs, fmt.Sprintf("property name %q is reserved", k))
			continue
		}
		if !isFlat(v) {
			probs = append(probs, fmt.Sprintf("property %q: %v (%T)", k, ErrNotFlat, v))
		}
	}
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
	return &ValidationError{Key: e.Key, Type: e.Type, Problems: probs}
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
		}
	}
	if probs == nil {
		return nil
	}
	return &ValidationError{Key: r.Key, Type: r.Type, Problems: probs}
}

func kindMatches(k Kind, v any) bool {
	switch k {
	case KindString:
		_, ok := v.(string)
		return ok
	case KindNumber:
		return isNumber(v)
	case KindBool:
		_, ok := v.(bool)
		return ok
	case KindStringArray:
		return isStringArray(v)
	case KindStringOrArray:
		if _, ok := v.(string); ok {
			return true
		}
		return isStringArray(v)
	}
	return false
}

func isStringArray(v any) bool {
	switch x := v.(type) {
	case []string:
		return true
	case []any:
		for _, e := range x {
			if _, ok := e.(string); !ok {
				return false
			}
		}
		return true
	}
	return false
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

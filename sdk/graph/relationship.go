package graph

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Relationship classes from the closed set the data model allows.
const (
	HAS        = "HAS"
	IS         = "IS"
	ASSIGNED   = "ASSIGNED"
	CREATED    = "CREATED"
	MANAGES    = "MANAGES"
	USES       = "USES"
	CONTAINS   = "CONTAINS"
	OWNS       = "OWNS"
	ALLOWS     = "ALLOWS"
	TRUSTS     = "TRUSTS"
	CONNECTS   = "CONNECTS"
	PROTECTS   = "PROTECTS"
	MONITORS   = "MONITORS"
	PROVIDES   = "PROVIDES"
	IMPLEMENTS = "IMPLEMENTS"
	EXPLOITS   = "EXPLOITS"
	DENIES     = "DENIES"
	GENERATED  = "GENERATED"
	HOSTS      = "HOSTS"
	IDENTIFIED = "IDENTIFIED"
	PERFORMED  = "PERFORMED"
	TRIGGERED  = "TRIGGERED"
	VERIFIES   = "VERIFIES"
	EXTENDS    = "EXTENDS"
	OPENED     = "OPENED"
	REVIEWED   = "REVIEWED"
	APPROVED   = "APPROVED"
	EVALUATES  = "EVALUATES"
	ENFORCES   = "ENFORCES"
	DEPLOYED   = "DEPLOYED"
)

var relationshipClasses = map[string]bool{
	HAS: true, IS: true, ASSIGNED: true, CREATED: true, MANAGES: true, USES: true,
	CONTAINS: true, OWNS: true, ALLOWS: true, TRUSTS: true, CONNECTS: true,
	PROTECTS: true, MONITORS: true, PROVIDES: true, IMPLEMENTS: true, EXPLOITS: true,
	DENIES: true, GENERATED: true, HOSTS: true, IDENTIFIED: true, PERFORMED: true,
	TRIGGERED: true, VERIFIES: true, EXTENDS: true, OPENED: true, REVIEWED: true,
	APPROVED: true, EVALUATES: true, ENFORCES: true, DEPLOYED: true,
}

// IsRelationshipClass reports whether c is one of the allowed relationship classes.
func IsRelationshipClass(c string) bool { return relationshipClasses[c] }

// Direction says which way a mapped relationship points relative to its source entity.
type Direction string

const (
	// Forward: source entity -> target entity.
	Forward Direction = "FORWARD"
	// Reverse: target entity -> source entity.
	Reverse Direction = "REVERSE"
)

// Mapping describes the far end of a mapped relationship: an entity owned by
// another integration, found by filter keys.
type Mapping struct {
	// Direction of the relationship relative to SourceEntityKey.
	Direction Direction `json:"relationshipDirection"`
	// SourceEntityKey is the _key of the entity this integration owns.
	SourceEntityKey string `json:"sourceEntityKey"`
	// TargetFilterKeys lists alternative sets of TargetEntity property names
	// that identify the target, e.g. [["_type","_key"]].
	TargetFilterKeys [][]string `json:"targetFilterKeys"`
	// TargetEntity holds the target's identifying (and, when it is created,
	// initial) properties, flat.
	TargetEntity map[string]any `json:"targetEntity"`
	// SkipTargetCreation prevents a consumer from creating the target when
	// no entity matches.
	SkipTargetCreation bool `json:"skipTargetCreation,omitempty"`
}

// Relationship is an edge of the graph: direct (FromKey/ToKey) or mapped (Mapping set).
type Relationship struct {
	// Key is the _key, unique in the collection's key space.
	Key string
	// Type is the _type.
	Type string
	// Class is the relationship class, e.g. HAS.
	Class string
	// DisplayName defaults to Class.
	DisplayName string
	// FromKey and ToKey are the endpoints of a direct relationship.
	FromKey, ToKey string
	// Mapping is set for mapped relationships (FromKey/ToKey are then empty).
	Mapping *Mapping
	// Properties are flat extra properties.
	Properties map[string]any
}

// IsMapped reports whether r is a mapped relationship.
func (r *Relationship) IsMapped() bool { return r.Mapping != nil }

// Set sets a property and returns r.
func (r *Relationship) Set(name string, v any) *Relationship {
	if r.Properties == nil {
		r.Properties = make(map[string]any, 4)
	}
	r.Properties[name] = v
	return r
}

// RelationshipKey returns the conventional direct relationship _key:
// <fromKey>|<class lowercase>|<toKey>.
func RelationshipKey(fromKey, class, toKey string) string {
	return fromKey + "|" + strings.ToLower(class) + "|" + toKey
}

// RelationshipType returns the conventional relationship _type:
// <fromType>_<class lowercase>_<toType without the provider prefix it shares
// with fromType>, e.g. okta_account + HAS + okta_user -> okta_account_has_user.
func RelationshipType(fromType, class, toType string) string {
	to := toType
	if p, _, ok := strings.Cut(fromType, "_"); ok {
		if rest, found := strings.CutPrefix(toType, p+"_"); found && rest != "" {
			to = rest
		}
	}
	return fromType + "_" + strings.ToLower(class) + "_" + to
}

// DirectOption customises a relationship built by Direct or Mapped.
type DirectOption func(*Relationship)

// WithType overrides the conventional _type.
func WithType(t string) DirectOption { return func(r *Relationship) { r.Type = t } }

// WithKey overrides the conventional _key.
func WithKey(k string) DirectOption { return func(r *Relationship) { r.Key = k } }

// WithProperties merges props into the relationship's properties. A
// relationship without properties yet takes props itself as its property
// map, without copying it (collections build hundreds of thousands of
// relationships, each with a map literal): pass a map that is not used for
// anything else afterwards.
func WithProperties(props map[string]any) DirectOption {
	return func(r *Relationship) {
		if r.Properties == nil && props != nil {
			r.Properties = props
			return
		}
		for k, v := range props {
			r.Set(k, v)
		}
	}
}

// Direct builds a direct relationship from two entities and a class using
// the key, type and displayName conventions.
func Direct(from *Entity, class string, to *Entity, opts ...DirectOption) *Relationship {
	return DirectByKey(from.Key, from.Type, class, to.Key, to.Type, opts...)
}

// DirectByKey is Direct for callers that hold only keys and types (for
// example when the far entity was collected by another step).
func DirectByKey(fromKey, fromType, class, toKey, toType string, opts ...DirectOption) *Relationship {
	r := &Relationship{
		Key:         RelationshipKey(fromKey, class, toKey),
		Type:        RelationshipType(fromType, class, toType),
		Class:       class,
		DisplayName: class,
		FromKey:     fromKey,
		ToKey:       toKey,
	}
	for _, o := range opts {
		o(r)
	}
	return r
}

// MappedTarget describes the target of a mapped relationship.
type MappedTarget struct {
	// Entity holds the target's properties, including _type and, when
	// known, _key, _class.
	Entity map[string]any
	// FilterKeys lists the property sets that identify the target.
	FilterKeys [][]string
	// SkipTargetCreation prevents creating a missing target.
	SkipTargetCreation bool
}

// Mapped builds a mapped relationship from a source entity to a target owned
// by another integration. Its _key defaults to
// <sourceKey>|<class lowercase>|<target _key, or the filter values joined by |>
// and its _type to the conventional type towards the target's _type.
func Mapped(source *Entity, class string, dir Direction, target MappedTarget, opts ...DirectOption) *Relationship {
	targetType, _ := target.Entity["_type"].(string)
	tk, _ := target.Entity["_key"].(string)
	if tk == "" && len(target.FilterKeys) > 0 {
		var parts []string
		for _, f := range target.FilterKeys[0] {
			if f == "_type" {
				continue
			}
			parts = append(parts, fmt.Sprint(target.Entity[f]))
		}
		tk = strings.Join(parts, "|")
	}
	r := &Relationship{
		Key:         RelationshipKey(source.Key, class, tk),
		Type:        RelationshipType(source.Type, class, targetType),
		Class:       class,
		DisplayName: class,
		Mapping: &Mapping{
			Direction:          dir,
			SourceEntityKey:    source.Key,
			TargetFilterKeys:   target.FilterKeys,
			TargetEntity:       target.Entity,
			SkipTargetCreation: target.SkipTargetCreation,
		},
	}
	for _, o := range opts {
		o(r)
	}
	return r
}

// MarshalJSON encodes the relationship in the JupiterOne wire format.
func (r *Relationship) MarshalJSON() ([]byte, error) { return r.AppendJSON(nil) }

// AppendJSON appends the JSON encoding of r to buf.
func (r *Relationship) AppendJSON(buf []byte) ([]byte, error) {
	buf = append(buf, `{"_key":`...)
	buf = appendString(buf, r.Key)
	buf = append(buf, `,"_type":`...)
	buf = appendString(buf, r.Type)
	buf = append(buf, `,"_class":`...)
	buf = appendString(buf, r.Class)
	dn := r.DisplayName
	if dn == "" {
		dn = r.Class
	}
	buf = append(buf, `,"displayName":`...)
	buf = appendString(buf, dn)
	if r.Mapping != nil {
		m, err := json.Marshal(r.Mapping)
		if err != nil {
			return nil, fmt.Errorf("relationship %q: _mapping: %w", r.Key, err)
		}
		buf = append(buf, `,"_mapping":`...)
		buf = append(buf, m...)
	} else {
		buf = append(buf, `,"_fromEntityKey":`...)
		buf = appendString(buf, r.FromKey)
		buf = append(buf, `,"_toEntityKey":`...)
		buf = appendString(buf, r.ToKey)
	}
	var err error
	if buf, err = appendProperties(buf, r.Properties); err != nil {
		return nil, fmt.Errorf("relationship %q: %w", r.Key, err)
	}
	return append(buf, '}'), nil
}

// UnmarshalJSON decodes the format written by AppendJSON.
func (r *Relationship) UnmarshalJSON(data []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	*r = Relationship{}
	for k, v := range m {
		var err error
		switch k {
		case "_key":
			err = json.Unmarshal(v, &r.Key)
		case "_type":
			err = json.Unmarshal(v, &r.Type)
		case "_class":
			err = json.Unmarshal(v, &r.Class)
		case "displayName":
			err = json.Unmarshal(v, &r.DisplayName)
		case "_fromEntityKey":
			err = json.Unmarshal(v, &r.FromKey)
		case "_toEntityKey":
			err = json.Unmarshal(v, &r.ToKey)
		case "_mapping":
			r.Mapping = &Mapping{}
			err = json.Unmarshal(v, r.Mapping)
		default:
			var x any
			err = json.Unmarshal(v, &x)
			r.Set(k, x)
		}
		if err != nil {
			return fmt.Errorf("decode relationship field %q: %w", k, err)
		}
	}
	return nil
}

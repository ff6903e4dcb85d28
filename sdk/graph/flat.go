package graph

import "slices"

// flatIndex is a class's rules together with those it inherits, for one
// Schemas set: validation then walks an entity's properties once per class
// instead of once per class of the Extends chain, and learns which
// required properties are present from the same walk.
type flatIndex struct {
	// names and chain are the class and its ancestors, in order, and their
	// indexes in the set the flat index was built for: a class copied into
	// another set is only used with it while its ancestors are the same.
	names []string
	chain []*classIndex
	// byName holds the rules of each (non-reserved) property name, in
	// buckets by a cheap hash of the name (see bucketOf): a lookup costs a
	// string comparison or two instead of a map access.
	byName [flatBuckets][]namedRules
	// required are the required rules; reserved the optional ones on
	// displayName, _key or _type (not in Properties).
	required []flatRule
	reserved []flatRule
}

// flatBuckets is the number of name buckets of a flat index.
const flatBuckets = 256

// namedRules are the rules of one property name.
type namedRules struct {
	name  string
	rules []flatRule
}

// bucketOf hashes a property name from its length and first and last
// bytes, which tell the names of one class's chain apart well enough.
func bucketOf(name string) int {
	if name == "" {
		return 0
	}
	return (len(name)*31 + int(name[0])*7 + int(name[len(name)-1])) & (flatBuckets - 1)
}

// rulesOf returns the rules of property name (nil when none).
func (f *flatIndex) rulesOf(name string) []flatRule {
	for _, nr := range f.byName[bucketOf(name)] {
		if nr.name == name {
			return nr.rules
		}
	}
	return nil
}

// add appends a rule of property name.
func (f *flatIndex) add(name string, fr flatRule) {
	b := &f.byName[bucketOf(name)]
	for i := range *b {
		if (*b)[i].name == name {
			(*b)[i].rules = append((*b)[i].rules, fr)
			return
		}
	}
	*b = append(*b, namedRules{name: name, rules: []flatRule{fr}})
}

// flatRule is one rule of a flat index.
type flatRule struct {
	rule   *PropertyRule
	ri     *ruleIndex
	origin uint8 // position in the chain of the class that defines it
	req    int8  // bit of a required rule in a presence mask, -1 if optional
}

// maxFlatRequired is the most required rules a flat index tracks (one bit
// each); a class with more is validated by walking its chain.
const maxFlatRequired = 64

func isReservedName(n string) bool { return n == "displayName" || n == "_key" || n == "_type" }

// link gives every class of s its own copy of its index with a flat index
// built against s. Indexes shared with other sets are not modified.
func link(s Schemas) {
	for n, cs := range s {
		var ni classIndex
		if cs.idx != nil {
			ni = *cs.idx
		} else {
			ni = *compileClass(cs).idx
		}
		ni.flat = nil
		cs.idx = &ni
		s[n] = cs
	}
	for n, cs := range s {
		cs.idx.flat = buildFlat(s, cs)
		s[n] = cs
	}
}

// buildFlat returns the flat index of cs in s, or nil when its chain does
// not resolve (an unknown parent, a cycle) or has too many required rules:
// validation then walks the chain and reports what is wrong.
func buildFlat(s Schemas, cs ClassSchema) *flatIndex {
	f := &flatIndex{}
	for c := cs; ; {
		if slices.Contains(f.names, c.Name) || len(f.names) > maxExtends {
			return nil
		}
		origin := uint8(len(f.names))
		f.names = append(f.names, c.Name)
		f.chain = append(f.chain, c.idx)
		for i := range c.Required {
			if len(f.required) == maxFlatRequired {
				return nil
			}
			fr := flatRule{rule: &c.Required[i], ri: &c.idx.req[i], origin: origin, req: int8(len(f.required))}
			f.required = append(f.required, fr)
			if !isReservedName(fr.rule.Name) {
				f.add(fr.rule.Name, fr)
			}
		}
		for i := range c.Properties {
			fr := flatRule{rule: &c.Properties[i], ri: &c.idx.opt[i], origin: origin, req: -1}
			if isReservedName(fr.rule.Name) {
				f.reserved = append(f.reserved, fr)
			} else {
				f.add(fr.rule.Name, fr)
			}
		}
		if c.Extends == "" {
			return f
		}
		p, ok := s[c.Extends]
		if !ok || p.idx == nil {
			return nil
		}
		c = p
	}
}

// flatIn returns cs's flat index when it was built for s's classes.
func (c *ClassSchema) flatIn(s Schemas) *flatIndex {
	if c.idx == nil || c.idx.flat == nil {
		return nil
	}
	f := c.idx.flat
	if f.chain[0] != c.idx {
		return nil
	}
	for j := 1; j < len(f.names); j++ {
		if p, ok := s[f.names[j]]; !ok || p.idx != f.chain[j] {
			return nil
		}
	}
	return f
}

// flatUse is one class of an entity validated through its flat index.
type flatUse struct {
	f    *flatIndex
	c    string // the entity's class
	skip uint64 // chain positions checked already for another class
	got  uint64 // required rules whose property is present
}

// useFlat starts checking class c of an entity through f, skipping the
// classes of its chain already in seen, and returns seen with the chain
// added.
func useFlat(f *flatIndex, c string, seen []string) (flatUse, []string) {
	u := flatUse{f: f, c: c}
	for j, n := range f.names {
		if slices.Contains(seen, n) {
			u.skip |= 1 << j
		} else {
			seen = append(seen, n)
		}
	}
	return u, seen
}

// property appends the violations of property k = v.
func (u *flatUse) property(viol []*PropertyError, k string, v any) []*PropertyError {
	for _, fr := range u.f.rulesOf(k) {
		if u.skip&(1<<fr.origin) != 0 {
			continue
		}
		if fr.req >= 0 {
			u.got |= 1 << fr.req
		}
		if pe := checkValue(u.c, fr.rule, fr.ri, v); pe != nil {
			viol = append(viol, pe)
		}
	}
	return viol
}

// finish appends the violations of the required properties not seen by
// property, and of the rules on reserved names.
func (u *flatUse) finish(viol []*PropertyError, e *Entity) []*PropertyError {
	for _, fr := range u.f.required {
		if u.skip&(1<<fr.origin) != 0 {
			continue
		}
		if isReservedName(fr.rule.Name) {
			v, ok, check := e.ruleValue(fr.rule)
			if !ok {
				viol = append(viol, &PropertyError{Class: u.c, Property: fr.rule.Name, Rule: *fr.rule, Err: ErrMissingProperty})
			} else if check {
				if pe := checkValue(u.c, fr.rule, fr.ri, v); pe != nil {
					viol = append(viol, pe)
				}
			}
			continue
		}
		if u.got&(1<<fr.req) == 0 {
			viol = append(viol, &PropertyError{Class: u.c, Property: fr.rule.Name, Rule: *fr.rule, Err: ErrMissingProperty})
		}
	}
	for _, fr := range u.f.reserved {
		if u.skip&(1<<fr.origin) != 0 {
			continue
		}
		if v, _, check := e.ruleValue(fr.rule); check {
			if pe := checkValue(u.c, fr.rule, fr.ri, v); pe != nil {
				viol = append(viol, pe)
			}
		}
	}
	return viol
}

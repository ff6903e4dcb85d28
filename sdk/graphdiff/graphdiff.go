// Package graphdiff compares two collections (.j1-integration folders) and
// reports what changed: the entities and relationships added, removed and
// changed, property by property, per _type. It is made for alerting: the
// report's counts are exact, its listings bounded (Options.Limit), and a
// Rule set ("okta_user:added", "okta_*:*") tells whether a change matters.
//
// Memory stays bounded whatever the collections' size: Diff streams one
// type at a time (see Diff). A type the new collection lists as a partial
// dataset (summary.json's metadata.partialDatasets) was not collected in
// full: its old objects the new collection lacks are counted as
// NotCollected, never Removed, and Report.Match never matches its removed
// or changed objects, so an alert never fires on what a failed step did
// not fetch. The mirror case is treated the same way: a type the old
// collection lists as partial may have held, before, objects that run did
// not fetch, so its new objects the old collection lacks are counted as
// NotCollectedBefore, never Added, and Report.Match never matches its
// added or changed objects.
//
// The diff command of sdk/cli is a thin adapter over this package.
package graphdiff

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/stepgraph/stepgraph/sdk/graph"
	"github.com/stepgraph/stepgraph/sdk/runtime"
	"github.com/stepgraph/stepgraph/sdk/store"
)

// Options tune Diff.
type Options struct {
	// Limit bounds how many objects are listed per type and change kind
	// (counts are always exact); 0 lists all of them, which costs memory
	// proportional to the number of changes.
	Limit int
	// IncludeRawData also compares the entities' _rawData (off by default:
	// provider payloads change with every fetch while the graph does not).
	IncludeRawData bool
}

// Report is what changed between two collections.
type Report struct {
	Old string `json:"old"`
	New string `json:"new"`
	// Types lists the types with at least one change, sorted by kind
	// (entities first) then _type.
	Types []TypeDiff `json:"types"`
	// TypesCompared counts every type present on either side.
	TypesCompared int   `json:"typesCompared"`
	Added         int64 `json:"added"`
	Removed       int64 `json:"removed"`
	Changed       int64 `json:"changed"`
	// NotCollected counts old objects of types partial in the new
	// collection that it does not hold: maybe removed, maybe just not
	// collected by that run. They are never counted as removed.
	NotCollected int64 `json:"notCollected"`
	// NotCollectedBefore counts new objects of types partial in the old
	// collection that it does not hold: maybe added, maybe just not
	// collected by that run. They are never counted as added.
	NotCollectedBefore int64 `json:"notCollectedBefore"`
}

// TypeDiff is the change of one _type.
type TypeDiff struct {
	Type string `json:"type"`
	// Kind is "entity" or "relationship".
	Kind    string `json:"kind"`
	Added   int64  `json:"added"`
	Removed int64  `json:"removed"`
	Changed int64  `json:"changed"`
	// PartialInNew is set when the new collection lists the type as a
	// partial dataset. Its old objects missing from the new collection are
	// then counted as NotCollected, not Removed, and neither they nor its
	// Changed objects (which may differ only for lack of data) match a
	// removed or changed Rule.
	PartialInNew bool `json:"partialInNew,omitempty"`
	// PartialInOld is set when the old collection lists the type as a
	// partial dataset. Its new objects missing from the old collection are
	// then counted as NotCollectedBefore, not Added, and neither they nor
	// its Changed objects (which may differ only for lack of data before)
	// match an added or changed Rule.
	PartialInOld bool `json:"partialInOld,omitempty"`
	// NotCollected counts old objects missing from a new collection that
	// lists the type as partial ("not collected in this run").
	NotCollected int64 `json:"notCollected,omitempty"`
	// NotCollectedBefore counts new objects missing from an old collection
	// that lists the type as partial ("not collected in the previous
	// run"): unknown before, not necessarily added.
	NotCollectedBefore int64 `json:"notCollectedBefore,omitempty"`
	// AddedObjects, RemovedObjects and ChangedObjects list the objects
	// (at most Options.Limit of each), sorted by key.
	AddedObjects              []ObjectRef    `json:"addedObjects,omitempty"`
	RemovedObjects            []ObjectRef    `json:"removedObjects,omitempty"`
	NotCollectedObjects       []ObjectRef    `json:"notCollectedObjects,omitempty"`
	NotCollectedBeforeObjects []ObjectRef    `json:"notCollectedBeforeObjects,omitempty"`
	ChangedObjects            []ObjectChange `json:"changedObjects,omitempty"`
	// Truncated is set when some objects were not listed.
	Truncated bool `json:"truncated,omitempty"`
}

// ObjectRef names one object.
type ObjectRef struct {
	Key         string `json:"key"`
	DisplayName string `json:"displayName,omitempty"`
}

// ObjectChange is one changed object and its changed properties.
type ObjectChange struct {
	ObjectRef
	Properties []PropertyChange `json:"properties"`
}

// PropertyChange is one property's change. Relationship endpoints and
// mapping fields appear as "_fromEntityKey", "_toEntityKey" and
// "_mapping.<field>" ("_mapping.targetEntity.<property>"); raw data as
// "_rawData.<name>".
type PropertyChange struct {
	Name string `json:"name"`
	// Change is Added, Removed or Changed.
	Change string `json:"change"`
	Old    any    `json:"old,omitempty"`
	New    any    `json:"new,omitempty"`
}

// Diff compares two collections type by type with bounded memory: for one
// type at a time it holds a map from a 64-bit hash of each old object's
// _key to a 64-bit hash of its canonical JSON (about 37 bytes per object
// of that type in a Go map), streams the new side against it, spills the
// new version of changed objects to a temporary file (with a second map
// of their offsets), then streams the old side once more to find removed
// objects and diff the changed ones property by property. Peak memory is
// set by the largest type (about 40 MB for a million objects of one type,
// up to about 75 MB when all of them changed) plus one graph file being
// decoded and the listed objects (Options.Limit), never by the whole
// graphs. Two different keys
// colliding on 64 bits (about 1 in 10^7 for a million keys) would hide a
// change of one of them.
func Diff(ctx context.Context, oldDir, newDir *store.Dir, opts Options) (*Report, error) {
	rep := &Report{Old: oldDir.Root(), New: newDir.Root()}
	partialOld, partialNew := partialTypes(oldDir), partialTypes(newDir)
	d := &differ{opts: opts, seed: maphash.MakeSeed()}
	defer d.close()
	for _, kind := range []string{"entity", "relationship"} {
		var types []string
		if kind == "entity" {
			types = union(oldDir.EntityTypes(), newDir.EntityTypes())
		} else {
			types = union(oldDir.RelationshipTypes(), newDir.RelationshipTypes())
		}
		for _, t := range types {
			rep.TypesCompared++
			td, err := d.diffType(ctx, oldDir, newDir, kind, t, partialOld[t], partialNew[t])
			if err != nil {
				return nil, fmt.Errorf("diff %s: %w", t, err)
			}
			if td.Added+td.Removed+td.Changed+td.NotCollected+td.NotCollectedBefore == 0 {
				continue
			}
			rep.Added += td.Added
			rep.Removed += td.Removed
			rep.Changed += td.Changed
			rep.NotCollected += td.NotCollected
			rep.NotCollectedBefore += td.NotCollectedBefore
			rep.Types = append(rep.Types, *td)
		}
	}
	return rep, nil
}

// partialTypes returns the types dir's summary lists as partial datasets
// (none when it has no summary).
func partialTypes(dir *store.Dir) map[string]bool {
	partial := map[string]bool{}
	if s, err := runtime.ReadSummary(dir); err == nil && s != nil {
		for _, t := range s.Metadata.PartialDatasets.Types {
			partial[t] = true
		}
	}
	return partial
}

func union(a, b []string) []string {
	m := map[string]bool{}
	for _, x := range a {
		m[x] = true
	}
	for _, x := range b {
		m[x] = true
	}
	out := make([]string, 0, len(m))
	for x := range m {
		out = append(out, x)
	}
	sort.Strings(out)
	return out
}

type differ struct {
	opts  Options
	seed  maphash.Seed
	spill *os.File
	buf   []byte
}

func (d *differ) close() {
	if d.spill != nil {
		d.spill.Close()
		os.Remove(d.spill.Name())
	}
}

// flat is an object reduced to its compared fields.
type flat struct {
	key, name string
	fields    map[string]any
}

func (d *differ) flatEntity(e *graph.Entity) flat {
	f := map[string]any{"_class": e.Class, "displayName": e.DisplayName}
	for k, v := range e.Properties {
		f[k] = v
	}
	if d.opts.IncludeRawData {
		for _, r := range e.RawData {
			b, _ := json.Marshal(r.Data)
			f["_rawData."+r.Name] = string(b)
		}
	}
	return flat{key: e.Key, name: e.DisplayName, fields: f}
}

func flatRelationship(r *graph.Relationship) flat {
	f := map[string]any{"_class": r.Class, "displayName": r.DisplayName}
	if r.Mapping != nil {
		m := r.Mapping
		f["_mapping.relationshipDirection"] = string(m.Direction)
		f["_mapping.sourceEntityKey"] = m.SourceEntityKey
		f["_mapping.targetFilterKeys"] = m.TargetFilterKeys
		f["_mapping.skipTargetCreation"] = m.SkipTargetCreation
		for k, v := range m.TargetEntity {
			f["_mapping.targetEntity."+k] = v
		}
	} else {
		f["_fromEntityKey"] = r.FromKey
		f["_toEntityKey"] = r.ToKey
	}
	for k, v := range r.Properties {
		f[k] = v
	}
	// A relationship's displayName is its class: not worth listing.
	return flat{key: r.Key, fields: f}
}

// canonical returns the canonical JSON of f (sorted keys).
func canonical(f flat) ([]byte, error) { return json.Marshal(f.fields) }

// iterate streams one side's objects of a type as flats.
func (d *differ) iterate(ctx context.Context, dir *store.Dir, kind, typ string, fn func(flat) error) error {
	if kind == "entity" {
		return dir.IterateEntities(ctx, typ, func(e *graph.Entity) error { return fn(d.flatEntity(e)) })
	}
	return dir.IterateRelationships(ctx, typ, func(r *graph.Relationship) error { return fn(flatRelationship(r)) })
}

func (d *differ) diffType(ctx context.Context, oldDir, newDir *store.Dir, kind, typ string, partialInOld, partialInNew bool) (*TypeDiff, error) {
	td := &TypeDiff{Type: typ, Kind: kind, PartialInOld: partialInOld, PartialInNew: partialInNew}
	limit := d.opts.Limit
	room := func(n int) bool {
		if limit > 0 && n >= limit {
			td.Truncated = true
			return false
		}
		return true
	}
	// Pass 1: old side -> key hash -> content hash.
	old := map[uint64]uint64{}
	err := d.iterate(ctx, oldDir, kind, typ, func(f flat) error {
		b, err := canonical(f)
		if err != nil {
			return err
		}
		old[maphash.String(d.seed, f.key)] = maphash.Bytes(d.seed, b)
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Pass 2: new side. Matched keys leave `old`, so what remains there
	// afterwards was removed. Changed objects are spilled.
	changed := map[uint64]int64{}
	if d.spill != nil {
		if err := d.spill.Truncate(0); err != nil {
			return nil, err
		}
		if _, err := d.spill.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
	}
	var spillAt int64
	var w *bufio.Writer
	came, cameObjects := &td.Added, &td.AddedObjects
	if partialInOld {
		// The old run did not collect this type in full: what it lacks
		// was not necessarily added since.
		came, cameObjects = &td.NotCollectedBefore, &td.NotCollectedBeforeObjects
	}
	err = d.iterate(ctx, newDir, kind, typ, func(f flat) error {
		b, err := canonical(f)
		if err != nil {
			return err
		}
		kh := maphash.String(d.seed, f.key)
		ch, ok := old[kh]
		if !ok {
			*came++
			if room(len(*cameObjects)) {
				*cameObjects = append(*cameObjects, ObjectRef{f.key, f.name})
			}
			return nil
		}
		delete(old, kh)
		if ch == maphash.Bytes(d.seed, b) {
			return nil
		}
		td.Changed++
		if w == nil {
			if d.spill == nil {
				if d.spill, err = os.CreateTemp("", "stepgraph-diff-*"); err != nil {
					return err
				}
			}
			w = bufio.NewWriter(d.spill)
		}
		changed[kh] = spillAt
		var n [binary.MaxVarintLen64]byte
		k := binary.PutUvarint(n[:], uint64(len(b)))
		if _, err := w.Write(n[:k]); err != nil {
			return err
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
		spillAt += int64(k + len(b))
		return nil
	})
	if err != nil {
		return nil, err
	}
	if w != nil {
		if err := w.Flush(); err != nil {
			return nil, err
		}
	}
	gone := &td.Removed
	goneObjects := &td.RemovedObjects
	if partialInNew {
		// The new run did not collect this type in full: what it lacks
		// was not necessarily removed.
		gone, goneObjects = &td.NotCollected, &td.NotCollectedObjects
	}
	*gone = int64(len(old))
	if len(old) == 0 && len(changed) == 0 {
		sortRefs(*cameObjects)
		return td, nil
	}
	// Pass 3: old side again for removed objects and property diffs.
	listedChanges := 0
	err = d.iterate(ctx, oldDir, kind, typ, func(f flat) error {
		kh := maphash.String(d.seed, f.key)
		if _, missing := old[kh]; missing {
			if room(len(*goneObjects)) {
				*goneObjects = append(*goneObjects, ObjectRef{f.key, f.name})
			}
			return nil
		}
		at, ok := changed[kh]
		if !ok || !room(listedChanges) {
			return nil
		}
		listedChanges++
		newJSON, err := d.readSpill(at)
		if err != nil {
			return err
		}
		oldJSON, err := canonical(f)
		if err != nil {
			return err
		}
		props, err := propertyChanges(oldJSON, newJSON)
		if err != nil {
			return err
		}
		name := f.name
		if dn, ok := props.newDisplayName(); ok {
			name = dn
		}
		td.ChangedObjects = append(td.ChangedObjects, ObjectChange{ObjectRef{f.key, name}, props})
		return nil
	})
	if err != nil {
		return nil, err
	}
	sortRefs(*cameObjects)
	sortRefs(*goneObjects)
	sort.Slice(td.ChangedObjects, func(i, j int) bool { return td.ChangedObjects[i].Key < td.ChangedObjects[j].Key })
	return td, nil
}

func sortRefs(r []ObjectRef) {
	sort.Slice(r, func(i, j int) bool { return r[i].Key < r[j].Key })
}

func (d *differ) readSpill(at int64) ([]byte, error) {
	var hdr [binary.MaxVarintLen64]byte
	n, err := d.spill.ReadAt(hdr[:], at)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	size, k := binary.Uvarint(hdr[:n])
	if k <= 0 {
		return nil, errors.New("corrupt diff spill file")
	}
	if cap(d.buf) < int(size) {
		d.buf = make([]byte, size)
	}
	b := d.buf[:size]
	if _, err := d.spill.ReadAt(b, at+int64(k)); err != nil {
		return nil, err
	}
	return b, nil
}

type propChanges []PropertyChange

func (p propChanges) newDisplayName() (string, bool) {
	for _, c := range p {
		if c.Name == "displayName" {
			s, ok := c.New.(string)
			return s, ok
		}
	}
	return "", false
}

// propertyChanges compares two canonical JSON objects field by field.
func propertyChanges(oldJSON, newJSON []byte) (propChanges, error) {
	var o, n map[string]json.RawMessage
	if err := json.Unmarshal(oldJSON, &o); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(newJSON, &n); err != nil {
		return nil, err
	}
	names := map[string]bool{}
	for k := range o {
		names[k] = true
	}
	for k := range n {
		names[k] = true
	}
	keys := make([]string, 0, len(names))
	for k := range names {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out propChanges
	decode := func(r json.RawMessage) any {
		var v any
		_ = json.Unmarshal(r, &v)
		return v
	}
	for _, k := range keys {
		ov, inOld := o[k]
		nv, inNew := n[k]
		switch {
		case inOld && !inNew:
			out = append(out, PropertyChange{Name: k, Change: Removed, Old: decode(ov)})
		case !inOld && inNew:
			out = append(out, PropertyChange{Name: k, Change: Added, New: decode(nv)})
		case string(ov) != string(nv):
			out = append(out, PropertyChange{Name: k, Change: Changed, Old: decode(ov), New: decode(nv)})
		}
	}
	return out, nil
}

// Change kinds of a Rule and of PropertyChange.Change.
const (
	Added   = "added"
	Removed = "removed"
	Changed = "changed"
	// Any matches every change kind in a Rule.
	Any = "*"
)

// Rule selects changes that matter, for alerting: changes of kind Change
// (Added, Removed, Changed or Any) to objects whose _type matches Type, a
// _type or a glob in path.Match syntax ("okta_*").
type Rule struct {
	Type   string
	Change string
}

// String returns the rule as ParseRules reads it, "type:change".
func (r Rule) String() string { return r.Type + ":" + r.Change }

// ParseRules parses a comma-separated list of "type:change" rules, as the
// diff command's --fail-on takes them. A bare type means type:*; empty
// items are skipped. An unknown change kind or a malformed glob is an
// error naming the item.
func ParseRules(s string) ([]Rule, error) {
	var out []Rule
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		typ, change, ok := strings.Cut(item, ":")
		if !ok {
			change = Any
		}
		switch change {
		case Added, Removed, Changed, Any:
		default:
			return nil, fmt.Errorf("rule %q: change must be added, removed, changed or *", item)
		}
		if _, err := path.Match(typ, ""); err != nil || typ == "" {
			return nil, fmt.Errorf("rule %q: bad type pattern", item)
		}
		out = append(out, Rule{Type: typ, Change: change})
	}
	return out, nil
}

// Match returns the changes of r that rules select, as "type:change"
// pairs (change is added, removed or changed), each once, in the report's
// type order. A type partial in the new collection never matches removed
// or changed, one partial in the old collection never matches added or
// changed: its missing, extra or different objects may only reflect what
// was not collected.
func (r *Report) Match(rules []Rule) []string {
	var out []string
	seen := map[string]bool{}
	for _, td := range r.Types {
		counts := map[string]int64{Added: td.Added, Removed: td.Removed, Changed: td.Changed}
		if td.PartialInNew {
			counts[Removed], counts[Changed] = 0, 0
		}
		if td.PartialInOld {
			counts[Added], counts[Changed] = 0, 0
		}
		for _, rule := range rules {
			if ok, _ := path.Match(rule.Type, td.Type); !ok {
				continue
			}
			for _, c := range []string{Added, Removed, Changed} {
				if (rule.Change == Any || rule.Change == c) && counts[c] > 0 {
					m := td.Type + ":" + c
					if !seen[m] {
						seen[m] = true
						out = append(out, m)
					}
				}
			}
		}
	}
	return out
}

// WriteText writes rep for people: per changed type a line of counts,
// then one line per listed object (+ added, - removed, ? not collected in
// this run, ?+ not collected in the previous run, ~ changed, followed by
// its property changes), then the totals.
func WriteText(w io.Writer, rep *Report) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "Comparing %s (old) with %s (new)\n", rep.Old, rep.New)
	for _, td := range rep.Types {
		var parts []string
		if td.Added > 0 {
			parts = append(parts, fmt.Sprintf("%d added", td.Added))
		}
		if td.Removed > 0 {
			parts = append(parts, fmt.Sprintf("%d removed", td.Removed))
		}
		if td.Changed > 0 {
			parts = append(parts, fmt.Sprintf("%d changed", td.Changed))
		}
		if td.NotCollected > 0 {
			parts = append(parts, fmt.Sprintf("%d not collected in this run", td.NotCollected))
		}
		if td.NotCollectedBefore > 0 {
			parts = append(parts, fmt.Sprintf("%d not collected in the previous run", td.NotCollectedBefore))
		}
		fmt.Fprintf(bw, "\n%s (%s): %s", td.Type, td.Kind, strings.Join(parts, ", "))
		if td.PartialInNew {
			fmt.Fprint(bw, "  [partial dataset in new: missing objects are reported as not collected; removed/changed never match a rule]")
		}
		if td.PartialInOld {
			fmt.Fprint(bw, "  [partial dataset in old: new objects are reported as not collected in the previous run; added/changed never match a rule]")
		}
		fmt.Fprintln(bw)
		ref := func(sign string, r ObjectRef) {
			if r.DisplayName != "" && r.DisplayName != r.Key {
				fmt.Fprintf(bw, "  %s %s  %q\n", sign, r.Key, r.DisplayName)
			} else {
				fmt.Fprintf(bw, "  %s %s\n", sign, r.Key)
			}
		}
		for _, r := range td.AddedObjects {
			ref("+", r)
		}
		for _, r := range td.RemovedObjects {
			ref("-", r)
		}
		for _, r := range td.NotCollectedObjects {
			ref("?", r)
		}
		for _, r := range td.NotCollectedBeforeObjects {
			ref("?+", r)
		}
		for _, c := range td.ChangedObjects {
			ref("~", c.ObjectRef)
			for _, p := range c.Properties {
				switch p.Change {
				case Added:
					fmt.Fprintf(bw, "      %s: (unset) -> %s\n", p.Name, showValue(p.New))
				case Removed:
					fmt.Fprintf(bw, "      %s: %s -> (unset)\n", p.Name, showValue(p.Old))
				default:
					fmt.Fprintf(bw, "      %s: %s -> %s\n", p.Name, showValue(p.Old), showValue(p.New))
				}
			}
		}
		if td.Truncated {
			fmt.Fprintf(bw, "  ... (more not listed; raise the limit)\n")
		}
	}
	if len(rep.Types) == 0 {
		fmt.Fprintf(bw, "\nNo changes in %d types.\n", rep.TypesCompared)
	} else {
		fmt.Fprintf(bw, "\nTotal: %d added, %d removed, %d changed", rep.Added, rep.Removed, rep.Changed)
		if rep.NotCollected > 0 {
			fmt.Fprintf(bw, ", %d not collected in this run", rep.NotCollected)
		}
		if rep.NotCollectedBefore > 0 {
			fmt.Fprintf(bw, ", %d not collected in the previous run", rep.NotCollectedBefore)
		}
		fmt.Fprintf(bw, " in %d of %d types.\n", len(rep.Types), rep.TypesCompared)
	}
	return bw.Flush()
}

func showValue(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	const maxLen = 120
	if len(b) > maxLen {
		return string(b[:maxLen]) + "…"
	}
	return string(b)
}

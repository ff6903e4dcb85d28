package sdktest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/stepgraph/stepgraph/sdk/graph"
	"github.com/stepgraph/stepgraph/sdk/runtime"
)

// maxReported caps the problems one assertion prints.
const maxReported = 25

func report(t testing.TB, what string, probs []string) {
	t.Helper()
	for i, p := range probs {
		if i == maxReported {
			t.Errorf("sdktest: %s: ... and %d more", what, len(probs)-maxReported)
			return
		}
		t.Errorf("sdktest: %s: %s", what, p)
	}
}

// AssertAll runs AssertTypes (with allowNotEmitted), AssertValidObjects,
// AssertRelationshipEndpoints and AssertNoDuplicateKeys.
func AssertAll(t testing.TB, c *Collection, allowNotEmitted ...string) {
	t.Helper()
	AssertTypes(t, c, allowNotEmitted...)
	AssertValidObjects(t, c)
	AssertRelationshipEndpoints(t, c)
	AssertNoDuplicateKeys(t, c)
}

// AssertTypes checks emitted types against declared types for every step
// of c that ran: each object's _type must be declared by the step that
// emitted it (the runtime already refuses anything else; this catches a
// bypassed runtime), and each declared type must have been emitted unless
// it is declared Partial, was marked partial during the run, is listed in
// allowNotEmitted, or the step did not succeed.
func AssertTypes(t testing.TB, c *Collection, allowNotEmitted ...string) {
	t.Helper()
	report(t, "types", typeProblems(c, allowNotEmitted))
}

func typeProblems(c *Collection, allow []string) []string {
	var probs []string
	emitted := map[string]map[string]bool{} // step -> types
	note := func(key, typ string) {
		step := c.run.Store.StepOf(key)
		if emitted[step] == nil {
			emitted[step] = map[string]bool{}
		}
		emitted[step][typ] = true
	}
	for _, e := range c.Entities {
		note(e.Key, e.Type)
	}
	for _, r := range c.Relationships {
		note(r.Key, r.Type)
	}
	byID := map[string]stepInfo{}
	for _, s := range c.steps {
		byID[s.id] = s
	}
	for _, step := range sortedKeys(emitted) {
		s, ok := byID[step]
		if !ok {
			// An object of a step outside this view cannot be here; one
			// with no step was not added through the runtime.
			probs = append(probs, fmt.Sprintf("objects of types %v come from unknown step %q", sortedKeys(emitted[step]), step))
			continue
		}
		for _, typ := range sortedKeys(emitted[step]) {
			if _, declared := s.declared[typ]; !declared {
				probs = append(probs, fmt.Sprintf("step %s emitted undeclared type %s", step, typ))
			}
		}
	}
	for _, s := range c.steps {
		if s.status != runtime.StatusSuccess && s.status != runtime.StatusPartialDependencyFailure {
			continue
		}
		for _, typ := range sortedKeys(s.declared) {
			if s.declared[typ] || emitted[s.id][typ] || slices.Contains(allow, typ) {
				continue
			}
			probs = append(probs, fmt.Sprintf("step %s declares %s but emitted none (declare it Partial, or allow it in AssertTypes)", s.id, typ))
		}
	}
	return probs
}

// AssertValidObjects checks every entity against its classes
// (Collection.Schemas, i.e. graph.DefaultSchemas plus the integration's
// classes) and every relationship against the relationship rules.
func AssertValidObjects(t testing.TB, c *Collection) {
	t.Helper()
	var probs []string
	for _, e := range c.Entities {
		if err := c.Schemas.ValidateEntity(e); err != nil {
			probs = append(probs, err.Error())
		}
	}
	for _, r := range c.Relationships {
		if err := graph.ValidateRelationship(r); err != nil {
			probs = append(probs, err.Error())
		}
	}
	report(t, "invalid object", probs)
}

// AssertRelationshipEndpoints checks that both ends of every direct
// relationship in c are entities collected by the run (mapped
// relationships point outside the integration and are skipped).
func AssertRelationshipEndpoints(t testing.TB, c *Collection) {
	t.Helper()
	keys := make(map[string]bool, len(c.run.Entities))
	for _, e := range c.run.Entities {
		keys[e.Key] = true
	}
	var probs []string
	for _, r := range c.Relationships {
		if r.IsMapped() {
			continue
		}
		if !keys[r.FromKey] {
			probs = append(probs, fmt.Sprintf("%s %q: _fromEntityKey %q was not collected", r.Type, r.Key, r.FromKey))
		}
		if !keys[r.ToKey] {
			probs = append(probs, fmt.Sprintf("%s %q: _toEntityKey %q was not collected", r.Type, r.Key, r.ToKey))
		}
	}
	report(t, "dangling relationship", probs)
}

// AssertNoDuplicateKeys checks that no two objects of c (entities and
// relationships share one key space) have the same _key.
func AssertNoDuplicateKeys(t testing.TB, c *Collection) {
	t.Helper()
	seen := make(map[string]string, len(c.Entities)+len(c.Relationships))
	var probs []string
	add := func(key, typ string) {
		if first, dup := seen[key]; dup {
			probs = append(probs, fmt.Sprintf("_key %q is used by %s and %s", key, first, typ))
			return
		}
		seen[key] = typ
	}
	for _, e := range c.Entities {
		add(e.Key, e.Type)
	}
	for _, r := range c.Relationships {
		add(r.Key, r.Type)
	}
	report(t, "duplicate key", probs)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Package runtime runs an integration: it builds the step dependency graph,
// rejects bad graphs (duplicate ids, unknown dependencies, cycles), runs
// ready steps in parallel under a bound, gives each step a job state over a
// store, and records the run's summary.
//
// Failure semantics: a step whose Run returns an error ends "failure"; its
// dependents still run and, if they succeed, end
// "partial_success_due_to_dependency_failure". A disabled step's dependents
// are disabled with a reason. A fatal error (provider authentication)
// cancels the run through its context. The types declared by failed,
// partial, cancelled or dependency-failed steps, and types a step marked
// partial, are listed as partial datasets so consumers never delete on
// incomplete data.
//
// The run's summary (Summary, StepSummary and the Status constants) is the
// runtime's type: a store keeps it as an opaque JSON document
// (summary.json, store.Store.Commit) and ReadSummary decodes it from a
// committed output.
package runtime

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/stepgraph/stepgraph/sdk/integration"
)

// Plan is a validated step graph with a deterministic execution order.
type Plan[C any] struct {
	steps      []*integration.Step[C]
	byID       map[string]int
	order      []int   // topological order, ties broken by declaration order
	dependents [][]int // index -> indexes of steps depending on it
	deps       [][]int
	dataOwner  map[string]int // SetData key -> index of the step declaring it
}

// GraphError reports a bad step graph; Steps names the steps involved.
type GraphError struct {
	Reason string
	Steps  []string
}

// Error implements the error interface.
func (e *GraphError) Error() string {
	return fmt.Sprintf("invalid step graph: %s: %s", e.Reason, strings.Join(e.Steps, ", "))
}

// NewPlan validates the integration's steps and orders them.
func NewPlan[C any](steps []integration.Step[C]) (*Plan[C], error) {
	p := &Plan[C]{byID: make(map[string]int, len(steps))}
	for i := range steps {
		s := &steps[i]
		if s.ID == "" {
			return nil, &GraphError{Reason: "step without id", Steps: []string{fmt.Sprintf("#%d %q", i, s.Name)}}
		}
		if _, dup := p.byID[s.ID]; dup {
			return nil, &GraphError{Reason: "duplicate step id", Steps: []string{s.ID}}
		}
		if s.Run == nil {
			return nil, &GraphError{Reason: "step has no Run function", Steps: []string{s.ID}}
		}
		p.byID[s.ID] = i
		p.steps = append(p.steps, s)
	}
	p.deps = make([][]int, len(steps))
	p.dependents = make([][]int, len(steps))
	for i, s := range p.steps {
		for _, d := range s.DependsOn {
			j, ok := p.byID[d]
			if !ok {
				return nil, &GraphError{Reason: fmt.Sprintf("step %s depends on unknown step %q", s.ID, d), Steps: []string{s.ID, d}}
			}
			if slices.Contains(p.deps[i], j) {
				continue
			}
			p.deps[i] = append(p.deps[i], j)
			p.dependents[j] = append(p.dependents[j], i)
		}
	}
	if err := p.checkTypes(); err != nil {
		return nil, err
	}
	if err := p.checkData(); err != nil {
		return nil, err
	}
	// Kahn's algorithm, always taking the lowest declaration index.
	indeg := make([]int, len(p.steps))
	for i := range p.steps {
		indeg[i] = len(p.deps[i])
	}
	var ready []int
	for i, d := range indeg {
		if d == 0 {
			ready = append(ready, i)
		}
	}
	for len(ready) > 0 {
		sort.Ints(ready)
		i := ready[0]
		ready = ready[1:]
		p.order = append(p.order, i)
		for _, j := range p.dependents[i] {
			if indeg[j]--; indeg[j] == 0 {
				ready = append(ready, j)
			}
		}
	}
	if len(p.order) != len(p.steps) {
		return nil, &GraphError{Reason: "dependency cycle", Steps: p.cycle(indeg)}
	}
	return p, nil
}

// StepsInOrder returns pointers to the steps in the order a run would
// start them when they form a valid plan, else in declaration order, for
// tools that describe an integration (its data-model document, its type
// view) whether or not its step graph is valid.
func StepsInOrder[C any](steps []integration.Step[C]) []*integration.Step[C] {
	out := make([]*integration.Step[C], 0, len(steps))
	if plan, err := NewPlan(steps); err == nil {
		for _, i := range plan.order {
			out = append(out, &steps[i])
		}
		return out
	}
	for i := range steps {
		out = append(out, &steps[i])
	}
	return out
}

// checkTypes rejects a step declaring the same type twice and declarations
// that are incomplete.
func (p *Plan[C]) checkTypes() error {
	for _, s := range p.steps {
		seen := map[string]bool{}
		for _, e := range s.Entities {
			if e.Type == "" || len(e.Class) == 0 {
				return &GraphError{Reason: "entity type declared without _type or _class", Steps: []string{s.ID}}
			}
			if seen[e.Type] {
				return &GraphError{Reason: fmt.Sprintf("type %s declared twice", e.Type), Steps: []string{s.ID}}
			}
			seen[e.Type] = true
		}
		for _, r := range s.Relationships {
			if r.Type == "" || r.Class == "" {
				return &GraphError{Reason: "relationship type declared without _type or _class", Steps: []string{s.ID}}
			}
			seen[r.Type] = true
		}
		for _, r := range s.MappedRelationships {
			if r.Type == "" || r.Class == "" {
				return &GraphError{Reason: "mapped relationship type declared without _type or _class", Steps: []string{s.ID}}
			}
			seen[r.Type] = true
		}
	}
	return nil
}

// checkData rejects a data key declared twice and a NeedsData key that no
// step this one depends on (directly or not) declares.
func (p *Plan[C]) checkData() error {
	p.dataOwner = map[string]int{}
	for i, s := range p.steps {
		for _, d := range s.Data {
			if d.Key == "" {
				return &GraphError{Reason: "data declared without a key", Steps: []string{s.ID}}
			}
			if j, dup := p.dataOwner[d.Key]; dup {
				return &GraphError{Reason: fmt.Sprintf("data key %q declared by two steps", d.Key), Steps: []string{p.steps[j].ID, s.ID}}
			}
			p.dataOwner[d.Key] = i
		}
	}
	for i, s := range p.steps {
		for _, k := range s.NeedsData {
			j, ok := p.dataOwner[k]
			if !ok {
				return &GraphError{Reason: fmt.Sprintf("step %s needs data %q that no step declares", s.ID, k), Steps: []string{s.ID}}
			}
			if !p.dependsOn(i, j) {
				return &GraphError{Reason: fmt.Sprintf("step %s needs data %q of step %s without depending on it", s.ID, k, p.steps[j].ID), Steps: []string{s.ID, p.steps[j].ID}}
			}
		}
	}
	return nil
}

// dependsOn reports whether step i depends on step j, directly or not.
func (p *Plan[C]) dependsOn(i, j int) bool {
	seen := make([]bool, len(p.steps))
	stack := slices.Clone(p.deps[i])
	for len(stack) > 0 {
		k := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if k == j {
			return true
		}
		if !seen[k] {
			seen[k] = true
			stack = append(stack, p.deps[k]...)
		}
	}
	return false
}

// cycle finds the steps on one cycle among those left with indegree > 0.
func (p *Plan[C]) cycle(indeg []int) []string {
	// Walk dependencies from a remaining step until a step repeats.
	start := -1
	for i, d := range indeg {
		if d > 0 {
			start = i
			break
		}
	}
	pos := map[int]int{}
	var path []int
	for i := start; ; {
		if at, ok := pos[i]; ok {
			var names []string
			for _, j := range path[at:] {
				names = append(names, p.steps[j].ID)
			}
			return append(names, p.steps[i].ID)
		}
		pos[i] = len(path)
		path = append(path, i)
		next := -1
		for _, d := range p.deps[i] {
			if indeg[d] > 0 {
				next = d
				break
			}
		}
		if next < 0 {
			var names []string
			for _, j := range path {
				names = append(names, p.steps[j].ID)
			}
			return names
		}
		i = next
	}
}

// Order returns step ids in execution order.
func (p *Plan[C]) Order() []string {
	out := make([]string, len(p.order))
	for k, i := range p.order {
		out[k] = p.steps[i].ID
	}
	return out
}

// Closure returns the given step ids plus all their transitive dependencies.
func (p *Plan[C]) Closure(ids []string) (map[string]bool, error) {
	out := map[string]bool{}
	var visit func(i int)
	visit = func(i int) {
		if out[p.steps[i].ID] {
			return
		}
		out[p.steps[i].ID] = true
		for _, d := range p.deps[i] {
			visit(d)
		}
	}
	for _, id := range ids {
		i, ok := p.byID[id]
		if !ok {
			return nil, &GraphError{Reason: "unknown step", Steps: []string{id}}
		}
		visit(i)
	}
	return out, nil
}

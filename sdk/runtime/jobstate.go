package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/stepgraph/stepgraph/sdk/graph"
	"github.com/stepgraph/stepgraph/sdk/integration"

	"log/slog"
)

// jobState is the integration.JobState a step gets.
type jobState[C any] struct {
	r    *run[C]
	step *stepRun
	id   string
	log  *slog.Logger
}

var _ integration.JobState = (*jobState[struct{}])(nil)

// AddEntities implements integration.JobState.
func (j *jobState[C]) AddEntities(ctx context.Context, es ...*graph.Entity) error {
	if len(es) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, e := range es {
		d, ok := j.step.declared[e.Type]
		if !ok || d.kind != 'e' {
			return &integration.UndeclaredTypeError{StepID: j.id, Type: e.Type, Kind: "entity"}
		}
		if !sameClasses(d.class, e.Class) {
			return &integration.InvalidObjectError{StepID: j.id, Err: &graph.ValidationError{
				Key: e.Key, Type: e.Type,
				Problems: []string{fmt.Sprintf("_class %v differs from the declared %v", e.Class, d.class)},
			}}
		}
		if err := j.r.schemas.ValidateEntity(e); err != nil {
			return &integration.InvalidObjectError{StepID: j.id, Err: err}
		}
	}
	r := j.r
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, e := range es {
		if _, dup := r.index.Insert(r.index.Hash(e.Key), 0); dup {
			if err := j.duplicateEntity(ctx, e, es[:k]); err != nil {
				return err
			}
		}
	}
	if err := r.store.AddEntities(ctx, j.id, es); err != nil {
		return fmt.Errorf("step %s: store entities: %w", j.id, err)
	}
	j.step.mu.Lock()
	for _, e := range es {
		j.step.counts[e.Type]++
	}
	j.step.mu.Unlock()
	if r.opts.OnEvent != nil {
		r.emit(Event{Kind: EventObjectsAdded, StepID: j.id, Name: es[0].Type, Delta: int64(len(es))})
	}
	return nil
}

// duplicateEntity confirms a hash hit. It returns a DuplicateKeyError when an
// object with the same key really exists (in the store or earlier in the
// batch) and nil on a hash collision between different keys.
func (j *jobState[C]) duplicateEntity(ctx context.Context, e *graph.Entity, earlier []*graph.Entity) error {
	for _, o := range earlier {
		if o.Key == e.Key {
			return j.dupError(e.Key, e.Type, o.Type, o, e)
		}
	}
	if first, err := j.r.store.FindEntity(ctx, e.Key); err == nil && first != nil {
		return j.dupError(e.Key, e.Type, first.Type, first, e)
	}
	if first, err := j.r.store.FindRelationship(ctx, e.Key); err == nil && first != nil {
		return j.dupError(e.Key, e.Type, first.Type, first, e)
	}
	return nil
}

func (j *jobState[C]) dupError(key, typ, firstType string, first, second any) error {
	return &integration.DuplicateKeyError{
		Key: key, StepID: j.id, Type: typ, FirstType: firstType,
		Diff: objectDiff(first, second),
	}
}

// objectDiff renders how two graph objects differ, property by property,
// as "name: -first +second" lines in name order. It is hand-written so
// production binaries do not link a test library (go-cmp).
func objectDiff(a, b any) string {
	toMap := func(v any) map[string]json.RawMessage {
		raw, err := json.Marshal(v)
		if err != nil {
			return map[string]json.RawMessage{"error": json.RawMessage(strconv.Quote(err.Error()))}
		}
		var m map[string]json.RawMessage
		_ = json.Unmarshal(raw, &m)
		return m
	}
	ma, mb := toMap(a), toMap(b)
	names := make([]string, 0, len(ma)+len(mb))
	for k := range ma {
		names = append(names, k)
	}
	for k := range mb {
		if _, ok := ma[k]; !ok {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	var sb strings.Builder
	for _, k := range names {
		va, okA := ma[k]
		vb, okB := mb[k]
		if okA && okB && bytes.Equal(va, vb) {
			continue
		}
		if sb.Len() > 0 {
			sb.WriteString("; ")
		}
		sb.WriteString(k + ":")
		if okA {
			sb.WriteString(" -" + string(va))
		}
		if okB {
			sb.WriteString(" +" + string(vb))
		}
	}
	return sb.String()
}

func sameClasses(decl, got []string) bool {
	if len(decl) != len(got) {
		return false
	}
	for _, c := range got {
		if !slices.Contains(decl, c) {
			return false
		}
	}
	return true
}

// AddRelationships implements integration.JobState.
func (j *jobState[C]) AddRelationships(ctx context.Context, rs ...*graph.Relationship) error {
	if len(rs) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, rel := range rs {
		d, ok := j.step.declared[rel.Type]
		wantKind := byte('r')
		if rel.Mapping != nil {
			wantKind = 'm'
		}
		if !ok || d.kind != wantKind {
			kind := "relationship"
			if wantKind == 'm' {
				kind = "mapped relationship"
			}
			return &integration.UndeclaredTypeError{StepID: j.id, Type: rel.Type, Kind: kind}
		}
		if d.rclass != rel.Class {
			return &integration.InvalidObjectError{StepID: j.id, Err: &graph.ValidationError{
				Key: rel.Key, Type: rel.Type,
				Problems: []string{fmt.Sprintf("_class %q differs from the declared %q", rel.Class, d.rclass)},
			}}
		}
		if err := graph.ValidateRelationship(rel); err != nil {
			return &integration.InvalidObjectError{StepID: j.id, Err: err}
		}
	}
	r := j.r
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, rel := range rs {
		if _, dup := r.index.Insert(r.index.Hash(rel.Key), 0); dup {
			if err := j.duplicateRelationship(ctx, rel, rs[:k]); err != nil {
				return err
			}
		}
	}
	if err := r.store.AddRelationships(ctx, j.id, rs); err != nil {
		return fmt.Errorf("step %s: store relationships: %w", j.id, err)
	}
	j.step.mu.Lock()
	for _, rel := range rs {
		j.step.counts[rel.Type]++
	}
	j.step.mu.Unlock()
	if r.opts.OnEvent != nil {
		r.emit(Event{Kind: EventObjectsAdded, StepID: j.id, Name: rs[0].Type, Delta: int64(len(rs))})
	}
	return nil
}

func (j *jobState[C]) duplicateRelationship(ctx context.Context, rel *graph.Relationship, earlier []*graph.Relationship) error {
	for _, o := range earlier {
		if o.Key == rel.Key {
			return j.dupError(rel.Key, rel.Type, o.Type, o, rel)
		}
	}
	if first, err := j.r.store.FindRelationship(ctx, rel.Key); err == nil && first != nil {
		return j.dupError(rel.Key, rel.Type, first.Type, first, rel)
	}
	if first, err := j.r.store.FindEntity(ctx, rel.Key); err == nil && first != nil {
		return j.dupError(rel.Key, rel.Type, first.Type, first, rel)
	}
	return nil
}

// Emit implements integration.JobState.
func (j *jobState[C]) Emit(ctx context.Context, es []*graph.Entity, rs []*graph.Relationship) error {
	j.step.emitMu.Lock()
	defer j.step.emitMu.Unlock()
	if err := j.AddEntities(ctx, fresh(j.r, es, func(x *graph.Entity) string { return x.Key })...); err != nil {
		return err
	}
	return j.AddRelationships(ctx, fresh(j.r, rs, func(x *graph.Relationship) string { return x.Key })...)
}

// fresh returns the objects whose key is neither collected nor earlier in
// xs.
func fresh[C, T any](r *run[C], xs []T, key func(T) string) []T {
	seen := make(map[string]bool, len(xs))
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.DeleteFunc(slices.Clone(xs), func(x T) bool {
		k := key(x)
		if _, dup := r.index.Get(r.index.Hash(k)); dup || seen[k] {
			return true
		}
		seen[k] = true
		return false
	})
}

// Skip implements integration.JobState.
func (j *jobState[C]) Skip(reason string, n int64) {
	j.step.mu.Lock()
	defer j.step.mu.Unlock()
	if j.step.skips == nil {
		j.step.skips = map[string]int64{}
	}
	j.step.skips[reason] += n
}

// skipWarnings records one warning per Skip reason, in reason order.
func (j *jobState[C]) skipWarnings(ctx context.Context) {
	j.step.mu.Lock()
	skips := j.step.skips
	j.step.mu.Unlock()
	for _, reason := range slices.Sorted(maps.Keys(skips)) {
		if n := skips[reason]; n > 0 {
			j.Warn(ctx, "skipped: "+reason, "count", n)
		}
	}
}

// HasKey implements integration.JobState. It answers from the compact hash
// index, so a 64-bit hash collision (about n²/2⁶⁵ for n keys) can make it
// report a key that was never added.
func (j *jobState[C]) HasKey(key string) bool {
	j.r.mu.Lock()
	defer j.r.mu.Unlock()
	_, ok := j.r.index.Get(j.r.index.Hash(key))
	return ok
}

// FindEntity implements integration.JobState.
func (j *jobState[C]) FindEntity(ctx context.Context, key string) (*graph.Entity, error) {
	return j.r.store.FindEntity(ctx, key)
}

// IterateEntities implements integration.JobState.
func (j *jobState[C]) IterateEntities(ctx context.Context, typ string, fn func(*graph.Entity) error) error {
	return j.r.store.IterateEntities(ctx, typ, fn)
}

// IterateRelationships implements integration.JobState.
func (j *jobState[C]) IterateRelationships(ctx context.Context, typ string, fn func(*graph.Relationship) error) error {
	return j.r.store.IterateRelationships(ctx, typ, fn)
}

// SetData implements integration.JobState. A key the step does not declare
// in Step.Data is not stored and fails the step when it ends.
func (j *jobState[C]) SetData(key string, v any) {
	if owner, ok := j.r.plan.dataOwner[key]; !ok || owner != j.step.idx {
		j.step.mu.Lock()
		if j.step.dataErr == nil {
			j.step.dataErr = fmt.Errorf("step %s set data %q that it does not declare in Step.Data", j.id, key)
		}
		j.step.mu.Unlock()
		return
	}
	j.r.data.Store(key, v)
}

// GetData implements integration.JobState.
func (j *jobState[C]) GetData(key string) (any, bool) { return j.r.data.Load(key) }

// ScratchDir implements integration.JobState.
func (j *jobState[C]) ScratchDir() (string, error) { return j.r.scratchDir() }

// OnEnd registers fn to run when the run ends, however it ends: scratch
// stores close themselves through it (integration.NewScratch).
func (j *jobState[C]) OnEnd(fn func()) { j.r.addOnEnd(fn) }

// Warn implements integration.JobState.
func (j *jobState[C]) Warn(ctx context.Context, msg string, args ...any) {
	j.log.Warn(msg, args...)
	line := msg
	for i := 0; i+1 < len(args); i += 2 {
		line += fmt.Sprintf(" %v=%v", args[i], args[i+1])
	}
	line = j.r.redact.Redact(line)
	j.step.mu.Lock()
	j.step.warnings = append(j.step.warnings, line)
	j.step.mu.Unlock()
	j.r.emit(Event{Kind: EventWarning, StepID: j.id, Message: line})
}

// MarkPartial implements integration.JobState.
func (j *jobState[C]) MarkPartial(reason string, types ...string) {
	j.step.mu.Lock()
	for _, t := range types {
		if !slices.Contains(j.step.partial, t) {
			j.step.partial = append(j.step.partial, t)
		}
	}
	j.step.mu.Unlock()
	j.Warn(context.Background(), "types marked partial: "+reason, "types", types)
}

// Progress implements integration.JobState.
func (j *jobState[C]) Progress(name string, delta int64) {
	j.r.emit(Event{Kind: EventProgress, StepID: j.id, Name: name, Delta: delta})
}

// SourceEnabled implements integration.JobState.
func (j *jobState[C]) SourceEnabled(source string) bool {
	_, off := j.r.sourcesOff[source]
	return !off && slices.ContainsFunc(j.r.integ.Sources, func(s integration.Source[C]) bool { return s.Name == source })
}

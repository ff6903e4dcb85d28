package store

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/stepgraph/stepgraph/sdk/graph"
)

// Memory keeps every object in RAM. It suits tests and small runs; objects
// are returned in insertion order per type.
type Memory struct {
	mu        sync.RWMutex
	entities  map[string]*graph.Entity
	rels      map[string]*graph.Relationship
	byType    map[string][]*graph.Entity
	relByType map[string][]*graph.Relationship
	steps     map[string]string // key -> step id
	summary   json.RawMessage
	committed bool
	stepData  map[string]map[string]json.RawMessage
}

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory {
	return &Memory{
		entities:  map[string]*graph.Entity{},
		rels:      map[string]*graph.Relationship{},
		byType:    map[string][]*graph.Entity{},
		relByType: map[string][]*graph.Relationship{},
		steps:     map[string]string{},
	}
}

// AddEntities implements Store.
func (m *Memory) AddEntities(_ context.Context, stepID string, es []*graph.Entity) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range es {
		m.entities[e.Key] = e
		m.byType[e.Type] = append(m.byType[e.Type], e)
		m.steps[e.Key] = stepID
	}
	return nil
}

// AddRelationships implements Store.
func (m *Memory) AddRelationships(_ context.Context, stepID string, rs []*graph.Relationship) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range rs {
		m.rels[r.Key] = r
		m.relByType[r.Type] = append(m.relByType[r.Type], r)
		m.steps[r.Key] = stepID
	}
	return nil
}

// FindEntity implements Store.
func (m *Memory) FindEntity(_ context.Context, key string) (*graph.Entity, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.entities[key], nil
}

// FindRelationship implements Store.
func (m *Memory) FindRelationship(_ context.Context, key string) (*graph.Relationship, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.rels[key], nil
}

// IterateEntities implements Store.
func (m *Memory) IterateEntities(ctx context.Context, typ string, fn func(*graph.Entity) error) error {
	m.mu.RLock()
	list := m.byType[typ]
	m.mu.RUnlock()
	for _, e := range list {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

// IterateRelationships implements Store.
func (m *Memory) IterateRelationships(ctx context.Context, typ string, fn func(*graph.Relationship) error) error {
	m.mu.RLock()
	list := m.relByType[typ]
	m.mu.RUnlock()
	for _, r := range list {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

// Flush implements Store; it has nothing to do.
func (m *Memory) Flush(context.Context) error { return nil }

// Commit implements Store, keeping the summary.
func (m *Memory) Commit(_ context.Context, s json.RawMessage) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.summary = append(json.RawMessage(nil), s...)
	m.committed = true
	return nil
}

// Abort implements Store.
func (m *Memory) Abort() error { return nil }

// WriteStepData implements StepDataWriter.
func (m *Memory) WriteStepData(_ context.Context, stepID string, data map[string]json.RawMessage) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stepData == nil {
		m.stepData = map[string]map[string]json.RawMessage{}
	}
	m.stepData[stepID] = data
	return nil
}

// StepData returns the values step stepID handed over (see StepDataWriter),
// or nil.
func (m *Memory) StepData(stepID string) map[string]json.RawMessage {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.stepData[stepID]
}

// SummaryJSON returns the committed summary (see Store.Commit), or nil.
func (m *Memory) SummaryJSON() json.RawMessage {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.summary
}

// EntityTypes returns the entity types stored, unsorted.
func (m *Memory) EntityTypes() []string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]string, 0, len(m.byType))
	for t := range m.byType {
		out = append(out, t)
	}
	return out
}

// RelationshipTypes returns the relationship types stored, unsorted.
func (m *Memory) RelationshipTypes() []string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]string, 0, len(m.relByType))
	for t := range m.relByType {
		out = append(out, t)
	}
	return out
}

// StepOf returns the step that added the object with key.
func (m *Memory) StepOf(key string) string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.steps[key]
}

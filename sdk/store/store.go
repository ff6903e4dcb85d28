// Package store persists the graph objects a run collects.
//
// A Store receives batches of already validated, deduplicated objects from
// the runtime (the runtime owns deduplication; the store owns bytes), can
// find an entity by key and iterate objects by _type for later steps, and
// makes the run's output visible only when the run commits.
//
// Two stores ship here: Memory, for tests and small runs, and Filesystem,
// the default, which writes JupiterOne's .j1-integration layout with flat
// memory: objects are encoded on arrival and flushed to bounded files; the
// only per-object state kept in RAM is a compact hash index.
package store

import (
	"context"
	"encoding/json"

	"github.com/stepgraph/stepgraph/sdk/graph"
)

// Store is where a run's objects go. Implementations are safe for
// concurrent use.
type Store interface {
	// AddEntities stores entities emitted by step stepID.
	AddEntities(ctx context.Context, stepID string, entities []*graph.Entity) error
	// AddRelationships stores relationships emitted by step stepID.
	AddRelationships(ctx context.Context, stepID string, relationships []*graph.Relationship) error
	// FindEntity returns the entity with key, or nil when there is none.
	FindEntity(ctx context.Context, key string) (*graph.Entity, error)
	// FindRelationship returns the relationship with key, or nil.
	FindRelationship(ctx context.Context, key string) (*graph.Relationship, error)
	// IterateEntities calls fn for each stored entity of type typ.
	IterateEntities(ctx context.Context, typ string, fn func(*graph.Entity) error) error
	// IterateRelationships calls fn for each stored relationship of type typ.
	IterateRelationships(ctx context.Context, typ string, fn func(*graph.Relationship) error) error
	// Flush writes buffered objects out.
	Flush(ctx context.Context) error
	// Commit ends the run: buffered objects are flushed, the run's
	// summary is recorded and the output replaces the previous run's.
	// The summary is the runtime's record of the run (runtime.Summary),
	// opaque to the store: a JSON document kept as summary.json
	// (SummaryFile) and returned by Dir.SummaryJSON. nil records none.
	Commit(ctx context.Context, summary json.RawMessage) error
	// Abort ends the run without publishing its output; the previous
	// run's output, if any, is left untouched.
	Abort() error
}

// StepDataWriter is implemented by stores that keep, with the run's output,
// the values each step handed to later steps (integration.JobState.SetData),
// so a later run that reuses the step gets them back (Dir.StepData). The
// runtime calls it once per step before Commit.
type StepDataWriter interface {
	WriteStepData(ctx context.Context, stepID string, data map[string]json.RawMessage) error
}

// StepDataDir is the folder of a committed output holding one
// <stepId>.json per step that handed values over: {"key": value, ...}.
const StepDataDir = "stepdata"

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
	"time"

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
	// Commit ends the run: buffered objects are flushed, the summary is
	// recorded and the output replaces the previous run's.
	Commit(ctx context.Context, summary *Summary) error
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

// Step statuses in a Summary.
const (
	StatusSuccess                  = "success"
	StatusFailure                  = "failure"
	StatusPartialDependencyFailure = "partial_success_due_to_dependency_failure"
	StatusDisabled                 = "disabled"
	StatusCancelled                = "cancelled"
)

// Summary is the record of one run, written as summary.json.
type Summary struct {
	// Integration is the integration's name.
	Integration string `json:"integration,omitempty"`
	// StartedOn and EndedOn bound the run (epoch ms).
	StartedOn int64 `json:"startedOn"`
	EndedOn   int64 `json:"endedOn"`
	// Steps holds one entry per declared step, in execution order.
	Steps []StepSummary `json:"integrationStepResults"`
	// Metadata carries the partial datasets.
	Metadata SummaryMetadata `json:"metadata"`
}

// NoneSucceeded reports whether the run had enabled steps and none of them
// succeeded, not even partly: a run that collected nothing it was asked to.
func (s *Summary) NoneSucceeded() bool {
	enabled := 0
	for _, st := range s.Steps {
		switch st.Status {
		case StatusDisabled:
			continue
		case StatusSuccess, StatusPartialDependencyFailure:
			return false
		}
		enabled++
	}
	return enabled > 0
}

// SummaryMetadata is the metadata block of summary.json.
type SummaryMetadata struct {
	PartialDatasets PartialDatasets `json:"partialDatasets"`
	// Details are facts about how the run was configured, from
	// integration.Integration.Describe (e.g. the authentication method).
	Details map[string]string `json:"details,omitempty"`
}

// PartialDatasets lists the _types a consumer must treat as incomplete.
type PartialDatasets struct {
	Types []string `json:"types"`
}

// StepSummary describes one step's result.
type StepSummary struct {
	ID                       string           `json:"id"`
	Name                     string           `json:"name"`
	DependsOn                []string         `json:"dependsOn"`
	DeclaredTypes            []string         `json:"declaredTypes"`
	PartialTypes             []string         `json:"partialTypes"`
	EncounteredTypes         []string         `json:"encounteredTypes"`
	EncounteredTypeCounts    map[string]int64 `json:"encounteredTypeCounts"`
	Status                   string           `json:"status"`
	Reason                   string           `json:"reason,omitempty"`
	Error                    string           `json:"error,omitempty"`
	ErrorCode                string           `json:"errorCode,omitempty"`
	Warnings                 []string         `json:"warnings,omitempty"`
	StartedOn                int64            `json:"startedOn,omitempty"`
	EndedOn                  int64            `json:"endedOn,omitempty"`
	Duration                 int64            `json:"duration"`
	DependencyFailureStepIDs []string         `json:"dependencyFailureStepIds,omitempty"`
}

// Millis converts t to epoch milliseconds (0 for the zero time).
func Millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

package runtime

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/stepgraph/stepgraph/sdk/store"
)

// Step statuses in a Summary (StepSummary.Status, Result.StepStatus and
// Event.Status).
const (
	StatusSuccess                  = "success"
	StatusFailure                  = "failure"
	StatusPartialDependencyFailure = "partial_success_due_to_dependency_failure"
	StatusDisabled                 = "disabled"
	StatusCancelled                = "cancelled"
)

// Summary is the record of one run, written as summary.json in the
// format of JupiterOne's integration SDK. The runtime builds it; a store
// keeps it as an opaque JSON document (store.Store.Commit) that
// ReadSummary decodes again.
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
	ID                    string           `json:"id"`
	Name                  string           `json:"name"`
	DependsOn             []string         `json:"dependsOn"`
	DeclaredTypes         []string         `json:"declaredTypes"`
	PartialTypes          []string         `json:"partialTypes"`
	EncounteredTypes      []string         `json:"encounteredTypes"`
	EncounteredTypeCounts map[string]int64 `json:"encounteredTypeCounts"`
	// Status is one of the Status constants.
	Status    string   `json:"status"`
	Reason    string   `json:"reason,omitempty"`
	Error     string   `json:"error,omitempty"`
	ErrorCode string   `json:"errorCode,omitempty"`
	Warnings  []string `json:"warnings,omitempty"`
	// StartedOn and EndedOn bound the step (epoch ms); Duration is in ms.
	StartedOn                int64    `json:"startedOn,omitempty"`
	EndedOn                  int64    `json:"endedOn,omitempty"`
	Duration                 int64    `json:"duration"`
	DependencyFailureStepIDs []string `json:"dependencyFailureStepIds,omitempty"`
}

// ReadSummary decodes the summary of the committed output d, or returns
// nil when d has none (store.SummaryFile).
func ReadSummary(d *store.Dir) (*Summary, error) {
	b, err := d.SummaryJSON()
	if err != nil || b == nil {
		return nil, err
	}
	var s Summary
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", store.SummaryFile, err)
	}
	return &s, nil
}

// millis converts t to epoch milliseconds (0 for the zero time).
func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

package postgres

import (
	"encoding/json"
	"fmt"

	"github.com/stepgraph/stepgraph/sdk/store"
)

// Step statuses of summary.json that loading tells apart (the runtime's
// runtime.StatusSuccess and runtime.StatusDisabled); any other status
// means the step's types are not complete.
const (
	statusSuccess  = "success"
	statusDisabled = "disabled"
)

// runSummary is what a load reads of a collection's summary.json. The
// runtime owns the summary's type (runtime.Summary) and a store does not
// import the runtime (sdk/runtime -> sdk/store), so the loader decodes the
// fields it needs from the document's JSON format (JupiterOne's, which
// the runtime keeps stable) and keeps the document itself, as written,
// for the sync_run row.
type runSummary struct {
	Integration string        `json:"integration"`
	StartedOn   int64         `json:"startedOn"`
	EndedOn     int64         `json:"endedOn"`
	Steps       []stepSummary `json:"integrationStepResults"`
	Metadata    struct {
		PartialDatasets struct {
			Types []string `json:"types"`
		} `json:"partialDatasets"`
	} `json:"metadata"`

	// doc is summary.json as the run committed it.
	doc json.RawMessage
}

// stepSummary is one step's entry of summary.json (runtime.StepSummary).
type stepSummary struct {
	ID                    string           `json:"id"`
	Name                  string           `json:"name"`
	DeclaredTypes         []string         `json:"declaredTypes"`
	PartialTypes          []string         `json:"partialTypes"`
	EncounteredTypeCounts map[string]int64 `json:"encounteredTypeCounts"`
	Status                string           `json:"status"`
	Reason                string           `json:"reason"`
	Error                 string           `json:"error"`
	ErrorCode             string           `json:"errorCode"`
	StartedOn             int64            `json:"startedOn"`
	EndedOn               int64            `json:"endedOn"`
}

// readSummary decodes dir's summary.json, or returns nil when it has none.
func readSummary(dir *store.Dir) (*runSummary, error) {
	doc, err := dir.SummaryJSON()
	if err != nil || doc == nil {
		return nil, err
	}
	return decodeSummary(doc)
}

func decodeSummary(doc json.RawMessage) (*runSummary, error) {
	var s runSummary
	if err := json.Unmarshal(doc, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", store.SummaryFile, err)
	}
	s.doc = doc
	return &s, nil
}

package postgres

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/stepgraph/stepgraph/sdk/runtime"
)

// TestSummaryDecodesTheRuntimesDocument: the loader reads summary.json by
// its JSON format, not by the runtime's type; this pins the two together
// (a renamed field or status on either side fails here).
func TestSummaryDecodesTheRuntimesDocument(t *testing.T) {
	in := runtime.Summary{Integration: "okta", StartedOn: 1000, EndedOn: 2000,
		Steps: []runtime.StepSummary{{
			ID: "fetch-users", Name: "Users", DependsOn: []string{"fetch-account"},
			DeclaredTypes: []string{"okta_user"}, PartialTypes: []string{"okta_user"},
			EncounteredTypes: []string{"okta_user"}, EncounteredTypeCounts: map[string]int64{"okta_user": 3},
			Status: runtime.StatusFailure, Reason: "why", Error: "boom", ErrorCode: "PROVIDER_API_ERROR",
			Warnings: []string{"w"}, StartedOn: 1100, EndedOn: 1900, Duration: 800,
		}, {ID: "fetch-groups", Status: runtime.StatusSuccess}, {ID: "fetch-apps", Status: runtime.StatusDisabled}},
	}
	in.Metadata.PartialDatasets.Types = []string{"okta_user"}
	doc, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeSummary(doc)
	if err != nil {
		t.Fatal(err)
	}
	if string(got.doc) != string(doc) {
		t.Errorf("document not kept as written")
	}
	if got.Integration != "okta" || got.StartedOn != 1000 || got.EndedOn != 2000 ||
		!reflect.DeepEqual(got.Metadata.PartialDatasets.Types, []string{"okta_user"}) || len(got.Steps) != 3 {
		t.Fatalf("decoded %+v", got)
	}
	want := stepSummary{ID: "fetch-users", Name: "Users", DeclaredTypes: []string{"okta_user"},
		PartialTypes: []string{"okta_user"}, EncounteredTypeCounts: map[string]int64{"okta_user": 3},
		Status: runtime.StatusFailure, Reason: "why", Error: "boom", ErrorCode: "PROVIDER_API_ERROR",
		StartedOn: 1100, EndedOn: 1900}
	if !reflect.DeepEqual(got.Steps[0], want) {
		t.Errorf("step %+v\nwant %+v", got.Steps[0], want)
	}
	if got.Steps[1].Status != statusSuccess || got.Steps[2].Status != statusDisabled {
		t.Errorf("statuses %q %q, want the runtime's %q %q", got.Steps[1].Status, got.Steps[2].Status, statusSuccess, statusDisabled)
	}
	if _, err := decodeSummary(json.RawMessage(`{"integrationStepResults":{}}`)); err == nil {
		t.Error("a malformed summary decoded")
	}
}

package runtime_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/stepgraph/stepgraph/sdk/graph"
	"github.com/stepgraph/stepgraph/sdk/integration"
	"github.com/stepgraph/stepgraph/sdk/runtime"
)

// TestAddRejectsDataModelViolations checks that AddEntities applies the
// data model's rules — an out-of-enum value of a shipped class and of a
// class the integration registers — with a typed error naming the class,
// property, value and allowed values.
func TestAddRejectsDataModelViolations(t *testing.T) {
	deviceType := integration.EntityType{Resource: "Device", Type: "t_device", Class: []string{"Device"}}
	shipType := integration.EntityType{Resource: "Ship", Type: "t_ship", Class: []string{"Spaceship"}}
	device := func(platform string) *graph.Entity {
		return (&graph.Entity{Key: "t_device_0001", Type: "t_device", Class: []string{"Device"}, DisplayName: "Mac"}).
			Set("name", "Mac").Set("category", nil).Set("make", "Apple").Set("model", nil).Set("serial", nil).
			Set("deviceId", "d1").Set("platform", platform)
	}
	ship := func(engine string) *graph.Entity {
		return (&graph.Entity{Key: "t_ship_00001", Type: "t_ship", Class: []string{"Spaceship"}, DisplayName: "NCC"}).
			Set("name", "NCC").Set("engine", engine)
	}
	tests := []struct {
		name    string
		e       *graph.Entity
		class   string
		prop    string
		value   string
		allowed []string
	}{
		{"shipped class", device("macos"), "Device", "platform", "macos", []string{"darwin", "linux", "unix", "windows", "android", "ios", "embedded", "other"}},
		{"registered class", ship("sail"), "Spaceship", "engine", "sail", []string{"ion", "warp"}},
		{"valid", device("darwin"), "", "", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var addErr error
			integ := &integration.Integration[cfg]{Name: "t",
				Classes: []graph.ClassSchema{{Name: "Spaceship", Extends: "Entity",
					Properties: []graph.PropertyRule{{Name: "engine", Kind: graph.KindString, Enum: []string{"ion", "warp"}}}}},
				Steps: []integration.Step[cfg]{{
					ID: "s", Name: "S", Entities: []integration.EntityType{deviceType, shipType},
					Run: func(ctx context.Context, sc *integration.StepContext[cfg]) error {
						addErr = sc.AddEntities(ctx, tt.e)
						return addErr
					},
				}}}
			res, err := runtime.Run(context.Background(), integ, &cfg{}, runtime.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if tt.class == "" {
				if addErr != nil || res.StepStatus("s") != runtime.StatusSuccess {
					t.Fatalf("valid entity: %v", addErr)
				}
				return
			}
			var ioe *integration.InvalidObjectError
			var pe *graph.PropertyError
			if !errors.As(addErr, &ioe) || !errors.As(addErr, &pe) || !errors.Is(addErr, graph.ErrNotInEnum) {
				t.Fatalf("error %v (%T) is not an InvalidObjectError with a PropertyError", addErr, addErr)
			}
			if pe.Class != tt.class || pe.Property != tt.prop || pe.Value != tt.value || !slices.Equal(pe.Allowed, tt.allowed) {
				t.Errorf("PropertyError %+v", pe)
			}
			if res.StepStatus("s") != runtime.StatusFailure {
				t.Errorf("step %s", res.StepStatus("s"))
			}
		})
	}
}

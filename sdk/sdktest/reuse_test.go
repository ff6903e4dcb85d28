package sdktest

import (
	"context"
	"testing"

	"github.com/stepgraph/stepgraph/sdk/graph"
	"github.com/stepgraph/stepgraph/sdk/integration"
)

// handover is an integration whose second step builds its groups from the
// ids the first hands over. data says how the ids are declared.
func handover(data integration.DataKey) *integration.Integration[demoConfig] {
	return &integration.Integration[demoConfig]{
		Name: "demo",
		Steps: []integration.Step[demoConfig]{
			{
				ID: "users", Name: "Users",
				Entities: []integration.EntityType{{Resource: "User", Type: userType, Class: []string{"User"}}},
				Data:     []integration.DataKey{data},
				Run: func(ctx context.Context, sc *integration.StepContext[demoConfig]) error {
					var ids []string
					for i := range 3 {
						u := demoUser(i)
						ids = append(ids, u.Key)
						if err := sc.AddEntities(ctx, u); err != nil {
							return err
						}
					}
					sc.SetData("ids", ids)
					return nil
				},
			},
			{
				ID: "groups", Name: "Groups", DependsOn: []string{"users"},
				Entities: []integration.EntityType{{Resource: "Group", Type: groupType, Class: []string{"UserGroup"}}},
				Run: func(ctx context.Context, sc *integration.StepContext[demoConfig]) error {
					v, _ := sc.GetData("ids")
					ids, _ := v.([]string) // a missing value quietly yields no groups
					for _, id := range ids {
						g := (&graph.Entity{Key: "demo_group:" + id, Type: groupType, Class: []string{"UserGroup"}, DisplayName: id}).Set("name", id)
						if err := sc.AddEntities(ctx, g); err != nil {
							return err
						}
					}
					return nil
				},
			},
		},
	}
}

// TestCheckReuseCatchesLostHandOver is issue #10 item 2's test kit half: a
// step that silently depends on run-local data of a reused producer emits
// less than in a full run, and the reuse mode says so.
func TestCheckReuseCatchesLostHandOver(t *testing.T) {
	s := capture(t, func(tb testing.TB) {
		CheckReuse(tb, handover(integration.RunLocalData("ids")), &demoConfig{}, RunOptions{})
	})
	wantFailure(t, s, "step groups with reused dependencies", "missing 3", "demo_group:demo_user:a-0000")

	s = capture(t, func(tb testing.TB) {
		CheckReuse(tb, handover(integration.PersistedData[[]string]("ids")), &demoConfig{}, RunOptions{})
	})
	if s.Failed() {
		t.Errorf("persisted hand-over failed the reuse mode:\n%s", s.messages())
	}
}

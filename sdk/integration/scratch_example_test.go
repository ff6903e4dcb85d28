package integration_test

import (
	"context"
	"fmt"
	"slices"

	"github.com/stepgraph/stepgraph/sdk/integration"
	"github.com/stepgraph/stepgraph/sdk/runtime"
)

// exMembersKey hands the members one step pages to the step that emits
// them: a run-local key, since the store's file lives only in its run.
var exMembersKey = integration.NewLocalKey[*integration.Scratch[[]string]]("example.members")

// One step pages every team's members into a typed, disk-backed scratch
// store from its fan-out; a later step reads them grouped by team.
func ExampleScratch() {
	integ := &integration.Integration[exConfig]{
		Name: "example",
		Steps: []integration.Step[exConfig]{
			{ID: "fetch-members", Name: "Fetch Members", Data: []integration.DataKey{exMembersKey.Data()},
				Run: func(ctx context.Context, sc *integration.StepContext[exConfig]) error {
					s, err := integration.NewScratch[[]string](sc, "team members")
					if err != nil {
						return err
					}
					integration.Put(sc, exMembersKey, s)
					return integration.ForEach(ctx, sc, slices.Values([]string{"red", "blue"}), func(ctx context.Context, team string) error {
						for page := range 2 { // one Add per listed page
							if err := s.Add(team, []string{fmt.Sprintf("%s-%d", team, page)}); err != nil {
								return err
							}
						}
						return nil
					})
				}},
			{ID: "build-memberships", Name: "Build Memberships", DependsOn: []string{"fetch-members"},
				NeedsData: []string{exMembersKey.Name()},
				Run: func(ctx context.Context, sc *integration.StepContext[exConfig]) error {
					s, err := integration.Need(sc, exMembersKey)
					if err != nil {
						return err
					}
					defer s.Close()
					n := map[string]int{}
					err = s.Each(ctx, func(team string, ids []string) error {
						n[team] += len(ids)
						return nil
					})
					fmt.Println(s.Len(), "pages:", n["red"], "red,", n["blue"], "blue")
					return err
				}},
		},
	}
	if _, err := runtime.Run(context.Background(), integ, &exConfig{}, runtime.Options{}); err != nil {
		fmt.Println(err)
	}
	// Output:
	// 4 pages: 2 red, 2 blue
}

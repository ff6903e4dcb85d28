package integration_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"

	"github.com/stepgraph/stepgraph/sdk/graph"
	"github.com/stepgraph/stepgraph/sdk/integration"
	"github.com/stepgraph/stepgraph/sdk/runtime"
)

type exConfig struct{}

// exClient stands for the API client an integration's Setup builds.
type exClient struct{ requests atomic.Int64 }

var errGone = errors.New("404: deleted since it was listed")

func (c *exClient) members(team string) ([]string, error) {
	c.requests.Add(1)
	if team == "gone" {
		return nil, errGone
	}
	return []string{team + "-alice", team + "-bob"}, nil
}

var (
	exClientKey = integration.NewLocalKey[*exClient]("example.client")
	exTeamsKey  = integration.NewKey[[]string]("example.teams")
)

// Setup builds the client once per run; a step hands typed data to a
// later one; the later step fans out per team on the run's worker budget;
// the error policy, declared once, skips a team deleted since it was
// listed.
func Example() {
	var client *exClient
	userType := integration.EntityType{Resource: "User", Type: "ex_user", Class: []string{"User"}}
	integ := &integration.Integration[exConfig]{
		Name: "example",
		Setup: func(ctx context.Context, rc *integration.RunContext[exConfig]) error {
			client = &exClient{}
			integration.Put(rc, exClientKey, client)
			return nil
		},
		Classify: func(err error) (integration.Action, string) {
			if errors.Is(err, errGone) {
				return integration.Skip, "deleted since it was listed"
			}
			return integration.Fail, ""
		},
		Steps: []integration.Step[exConfig]{
			{ID: "fetch-teams", Name: "Fetch Teams", Data: []integration.DataKey{exTeamsKey.Data()},
				Run: func(ctx context.Context, sc *integration.StepContext[exConfig]) error {
					integration.Put(sc, exTeamsKey, []string{"red", "gone", "blue"})
					return nil
				}},
			{ID: "fetch-members", Name: "Fetch Members", DependsOn: []string{"fetch-teams"},
				NeedsData: []string{exTeamsKey.Name()}, Entities: []integration.EntityType{userType},
				Run: func(ctx context.Context, sc *integration.StepContext[exConfig]) error {
					c := integration.MustGet(sc, exClientKey)
					teams := integration.MustGet(sc, exTeamsKey)
					return integration.ForEach(ctx, sc, slices.Values(teams), func(ctx context.Context, team string) error {
						ids, err := c.members(team)
						if err != nil {
							return fmt.Errorf("members of %s: %w", team, err)
						}
						for _, id := range ids {
							u := (&graph.Entity{Key: "ex_user:" + id, Type: "ex_user", Class: []string{"User"}, DisplayName: id}).
								Set("name", id).Set("username", id).Set("email", id+"@example.com").Set("active", true)
							if err := sc.AddEntities(ctx, u); err != nil {
								return err
							}
						}
						return nil
					})
				}},
		},
	}
	res, err := runtime.Run(context.Background(), integ, &exConfig{}, runtime.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	s := res.Summary.Steps[1]
	fmt.Println(s.Status, s.EncounteredTypeCounts["ex_user"], "users,", client.requests.Load(), "requests")
	fmt.Println(len(s.Warnings), "warning:", s.Warnings[0][:36])
	// Output:
	// success 4 users, 3 requests
	// 1 warning: skipped: deleted since it was listed
}

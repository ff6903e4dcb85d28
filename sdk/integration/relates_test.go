package integration_test

import (
	"testing"

	"github.com/stepgraph/stepgraph/sdk/graph"
	"github.com/stepgraph/stepgraph/sdk/integration"
)

// TestRelatesDeclaresTheTypeRelationshipsGet: a relationship type
// declared with Relates or MapsTo has the _type graph.DirectByKey and
// graph.Mapped give the relationships a step builds, so an integration
// declares no type-name constants of its own; Named overrides it (#12).
func TestRelatesDeclaresTheTypeRelationshipsGet(t *testing.T) {
	d := integration.Relates("okta_account", graph.HAS, "okta_user")
	r := graph.DirectByKey("okta_account:x", "okta_account", graph.HAS, "okta_user:y", "okta_user")
	if d.Type != r.Type || d.Type != "okta_account_has_user" || d.Class != graph.HAS || d.Source != "okta_account" || d.Target != "okta_user" {
		t.Errorf("Relates: %+v, relationship type %q", d, r.Type)
	}
	if n := d.Named("okta_account_has_member"); n.Type != "okta_account_has_member" || n.Class != d.Class || d.Type != "okta_account_has_user" {
		t.Errorf("Named: %+v (declaration changed to %+v)", n, d)
	}
	m := integration.MapsTo("okta_user", graph.ASSIGNED, "aws_iam_role", graph.Reverse)
	user := &graph.Entity{Key: "okta_user:y", Type: "okta_user"}
	mr := graph.Mapped(user, graph.ASSIGNED, graph.Reverse, graph.MappedTarget{Entity: map[string]any{"_type": "aws_iam_role", "_key": "arn:aws:iam::1:role/x"}})
	if m.Type != mr.Type || m.Type != "okta_user_assigned_aws_iam_role" || m.Direction != graph.Reverse || m.Target != "aws_iam_role" {
		t.Errorf("MapsTo: %+v, relationship type %q", m, mr.Type)
	}
}

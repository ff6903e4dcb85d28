package integration_test

import (
	"reflect"
	"testing"

	"github.com/stepgraph/stepgraph/sdk/integration"
)

func TestNeeds(t *testing.T) {
	a, b := integration.NewKey[int]("a.count"), integration.NewLocalKey[[]string]("b.ids")
	if got := integration.Needs(a, b); !reflect.DeepEqual(got, []string{"a.count", "b.ids"}) {
		t.Errorf("Needs = %v", got)
	}
	if got := integration.Needs(); len(got) != 0 {
		t.Errorf("Needs() = %v", got)
	}
}

package datamodel_test

import (
	"strings"
	"testing"

	"github.com/stepgraph/stepgraph/sdk/graph"
	"github.com/stepgraph/stepgraph/sdk/sdktest/datamodel"
)

func TestValidateAcceptsAndRejects(t *testing.T) {
	p := datamodel.Load(t)
	device := func(key, platform string) *graph.Entity {
		return (&graph.Entity{Key: key, Type: "okta_device", Class: []string{"Device"}, DisplayName: "Jo's Mac"}).
			Set("name", "Jo's Mac").Set("category", "UDDevice").Set("make", "Apple").Set("model", nil).
			Set("serial", "C02X").Set("deviceId", key).Set("platform", platform)
	}
	user := (&graph.Entity{Key: "00u1234567890", Type: "okta_user", Class: []string{"User"}, DisplayName: "jo"}).
		Set("name", "Jo").Set("email", "not-an-email")
	fails := p.Validate(t, []*graph.Entity{device("guo0000000001", "darwin"), device("guo0000000002", "macos"), user})
	if len(fails) != 2 || fails[0].Key != "guo0000000002" || fails[1].Key != "00u1234567890" {
		t.Fatalf("failures %v", fails)
	}
	if !strings.Contains(fails[0].Message, "Device") || !strings.Contains(fails[0].Message, "allowedValues") {
		t.Errorf("message %q", fails[0].Message)
	}
	if !strings.Contains(fails[1].Message, `"format"`) {
		t.Errorf("message %q", fails[1].Message)
	}
	if p.Version != graph.DataModelVersion {
		t.Errorf("version %s", p.Version)
	}
}

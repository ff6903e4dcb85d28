package modeldoc_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/stepgraph/stepgraph/sdk/graph"
	"github.com/stepgraph/stepgraph/sdk/integration"
	"github.com/stepgraph/stepgraph/sdk/modeldoc"
)

// The Data Model section of a document is generated from the steps'
// declarations; Replace keeps everything outside the markers.
func Example() {
	steps := []integration.Step[struct{}]{{
		ID: "fetch-users", Name: "Fetch Users",
		Entities: []integration.EntityType{
			{Resource: "Account", Type: "acme_account", Class: []string{"Account"}},
			{Resource: "User", Type: "acme_user", Class: []string{"User"}},
		},
		Relationships: []integration.RelationshipType{
			{Type: "acme_account_has_user", Class: graph.HAS, Source: "acme_account", Target: "acme_user"},
		},
		Run: func(context.Context, *integration.StepContext[struct{}]) error { return nil },
	}}
	doc := "# Acme\n\nHow to set it up.\n\n" + modeldoc.MarkerStart + "\n(stale)\n" + modeldoc.MarkerEnd + "\n"
	doc, err := modeldoc.Replace(doc, modeldoc.Section(steps))
	if err != nil {
		panic(err)
	}
	// Print the tables (the section also holds JupiterOne's notice).
	for _, line := range strings.Split(doc, "\n") {
		if strings.HasPrefix(line, "#") || strings.HasPrefix(line, "|") {
			fmt.Println(line)
		}
	}
	// Output:
	// # Acme
	// ## Data Model
	// ### Entities
	// | Resources | Entity `_type` | Entity `_class` |
	// | --------- | -------------- | --------------- |
	// | Account   | `acme_account` | `Account`       |
	// | User      | `acme_user`    | `User`          |
	// ### Relationships
	// | Source Entity `_type` | Relationship `_class` | Target Entity `_type` |
	// | --------------------- | --------------------- | --------------------- |
	// | `acme_account`        | **HAS**               | `acme_user`           |
}

package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stepgraph/stepgraph/sdk/graph"
	"github.com/stepgraph/stepgraph/sdk/integration"
)

// seedOktaDataModel is the generated block of JupiterOne's Okta
// integration documentation: the format DataModel must reproduce.
var seedOktaDataModel = `<!-- {J1_DOCUMENTATION_MARKER_START} -->
<!--
********************************************************************************
NOTE: ALL OF THE FOLLOWING DOCUMENTATION IS GENERATED USING THE
"j1-integration document" COMMAND. DO NOT EDIT BY HAND! PLEASE SEE THE DEVELOPER
DOCUMENTATION FOR USAGE INFORMATION:

https://github.com/JupiterOne/sdk/blob/master/docs/integrations/development.md
********************************************************************************
-->

## Data Model

### Entities

The following entities are created:

| Resources          | Entity ` + "`" + `_type` + "`" + `        | Entity ` + "`" + `_class` + "`" + ` |
| ------------------ | --------------------- | --------------- |
| Okta Account       | ` + "`" + `okta_account` + "`" + `        | ` + "`" + `Account` + "`" + `       |
| Okta App UserGroup | ` + "`" + `okta_app_user_group` + "`" + ` | ` + "`" + `UserGroup` + "`" + `     |
| Okta Application   | ` + "`" + `okta_application` + "`" + `    | ` + "`" + `Application` + "`" + `   |
| Okta Factor Device | ` + "`" + `mfa_device` + "`" + `          | ` + "`" + `Key` + "`" + `           |
| Okta User          | ` + "`" + `okta_user` + "`" + `           | ` + "`" + `User` + "`" + `          |
| Okta UserGroup     | ` + "`" + `okta_user_group` + "`" + `     | ` + "`" + `UserGroup` + "`" + `     |

### Relationships

The following relationships are created/mapped:

| Source Entity ` + "`" + `_type` + "`" + ` | Relationship ` + "`" + `_class` + "`" + ` | Target Entity ` + "`" + `_type` + "`" + ` |
| --------------------- | --------------------- | --------------------- |
| ` + "`" + `okta_account` + "`" + `        | **HAS**               | ` + "`" + `okta_app_user_group` + "`" + ` |
| ` + "`" + `okta_account` + "`" + `        | **HAS**               | ` + "`" + `okta_application` + "`" + `    |
| ` + "`" + `okta_account` + "`" + `        | **HAS**               | ` + "`" + `okta_user` + "`" + `           |
| ` + "`" + `okta_account` + "`" + `        | **HAS**               | ` + "`" + `okta_user_group` + "`" + `     |
| ` + "`" + `okta_app_user_group` + "`" + ` | **HAS**               | ` + "`" + `okta_user` + "`" + `           |
| ` + "`" + `okta_user` + "`" + `           | **ASSIGNED**          | ` + "`" + `okta_application` + "`" + `    |
| ` + "`" + `okta_user` + "`" + `           | **ASSIGNED**          | ` + "`" + `mfa_device` + "`" + `          |
| ` + "`" + `okta_user_group` + "`" + `     | **ASSIGNED**          | ` + "`" + `okta_application` + "`" + `    |
| ` + "`" + `okta_user_group` + "`" + `     | **HAS**               | ` + "`" + `okta_user` + "`" + `           |

<!--
********************************************************************************
END OF GENERATED DOCUMENTATION AFTER BELOW MARKER
********************************************************************************
-->
<!-- {J1_DOCUMENTATION_MARKER_END} -->`

func noRun(context.Context, *integration.StepContext[struct{}]) error { return nil }

// oktaLikeSteps declares the seed's model in a scrambled order.
func oktaLikeSteps() []integration.Step[struct{}] {
	rel := func(src, class, dst string) integration.RelationshipType {
		return integration.RelationshipType{Type: graph.RelationshipType(src, class, dst), Class: class, Source: src, Target: dst}
	}
	return []integration.Step[struct{}]{
		{ID: "fetch-users", Name: "Users", DependsOn: []string{"fetch-account"}, Run: noRun,
			Entities: []integration.EntityType{
				{Resource: "Okta User", Type: "okta_user", Class: []string{"User"}},
				{Resource: "Okta Factor Device", Type: "mfa_device", Class: []string{"Key"}},
			},
			Relationships: []integration.RelationshipType{
				rel("okta_user", graph.ASSIGNED, "mfa_device"),
				rel("okta_account", graph.HAS, "okta_user"),
			}},
		{ID: "fetch-account", Name: "Account", Run: noRun,
			Entities: []integration.EntityType{{Resource: "Okta Account", Type: "okta_account", Class: []string{"Account"}}}},
		{ID: "fetch-groups", Name: "Groups", DependsOn: []string{"fetch-users"}, Run: noRun,
			Entities: []integration.EntityType{
				{Resource: "Okta UserGroup", Type: "okta_user_group", Class: []string{"UserGroup"}},
				{Resource: "Okta App UserGroup", Type: "okta_app_user_group", Class: []string{"UserGroup"}},
			},
			Relationships: []integration.RelationshipType{
				rel("okta_user_group", graph.HAS, "okta_user"),
				rel("okta_app_user_group", graph.HAS, "okta_user"),
				rel("okta_account", graph.HAS, "okta_user_group"),
				rel("okta_account", graph.HAS, "okta_app_user_group"),
			}},
		{ID: "fetch-apps", Name: "Apps", DependsOn: []string{"fetch-groups"}, Run: noRun,
			Entities: []integration.EntityType{
				{Resource: "Okta Application", Type: "okta_application", Class: []string{"Application"}},
				// Declared again by a later step: deduplicated.
				{Resource: "Okta User (again)", Type: "okta_user", Class: []string{"User"}},
			},
			Relationships: []integration.RelationshipType{
				rel("okta_user_group", graph.ASSIGNED, "okta_application"),
				rel("okta_user", graph.ASSIGNED, "okta_application"),
				rel("okta_account", graph.HAS, "okta_application"),
				rel("okta_account", graph.HAS, "okta_user"), // duplicate
			}},
	}
}

func TestDataModelMatchesJupiterOneFormat(t *testing.T) {
	got := DataModel(oktaLikeSteps())
	if got != seedOktaDataModel {
		t.Fatalf("generated block differs from the seed (line %d)\n--- got\n%s\n--- want\n%s", firstDiffLine(got, seedOktaDataModel), got, seedOktaDataModel)
	}
}

func TestDataModelMappedAndMultiClass(t *testing.T) {
	steps := []integration.Step[struct{}]{{
		ID: "s", Name: "S", Run: noRun,
		Entities: []integration.EntityType{{Resource: "Device", Type: "x_device", Class: []string{"Host", "Device"}}},
		MappedRelationships: []integration.MappedRelationshipType{
			{Type: "x_device_has_user", Class: graph.HAS, Source: "x_device", Target: "user_endpoint", Direction: graph.Reverse},
			{Type: "x_device_is_person", Class: graph.IS, Source: "x_device", Target: "aws_instance", Direction: graph.Forward},
		},
	}}
	got := DataModel(steps)
	want := []string{
		"| Device    | `x_device`     | `Host`, `Device` |",
		"### Mapped Relationships\n\nThe following mapped relationships are created:\n\n" +
			"| Source Entity `_type` | Relationship `_class` | Target Entity `_type` | Direction |\n" +
			"| --------------------- | --------------------- | --------------------- | --------- |\n" +
			"| `x_device`            | **HAS**               | `*user_endpoint*`     | REVERSE   |\n" +
			"| `x_device`            | **IS**                | `*aws_instance*`      | FORWARD   |\n",
	}
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("missing:\n%s\nin:\n%s", w, got)
		}
	}
	if strings.Contains(got, "### Relationships") {
		t.Errorf("empty relationships table rendered:\n%s", got)
	}
}

func TestReplaceDataModel(t *testing.T) {
	block := DocMarkerStart + "\nX\n" + DocMarkerEnd
	tests := []struct {
		name, doc, want string
		err             bool
	}{
		{"replaces between markers", "# T\n\n" + DocMarkerStart + "\nold\n" + DocMarkerEnd + "\ntail\n", "# T\n\n" + block + "\ntail\n", false},
		{"appends without markers", "# T\n", "# T\n\n\n" + block, false},
		{"start without end", "# T\n" + DocMarkerStart + "\n", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReplaceDataModel(tt.doc, block)
			if (err != nil) != tt.err || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestDocumentCommand(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "docs", "test.md")
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	stale := "# Test\n\nIntro.\n\n" + DocMarkerStart + "\nold stuff\n" + DocMarkerEnd + "\n\nFooter.\n"
	if err := os.WriteFile(file, []byte(stale), 0o644); err != nil {
		t.Fatal(err)
	}
	a, out, errb := testApp(nil, nil)
	steps := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"document", "--file", file, "--check"}, ExitFailure, "is out of date (first difference at line 6)"},
		{[]string{"document", "--file", file}, ExitOK, "Updated the Data Model section"},
		{[]string{"document", "--file", file, "--check"}, ExitOK, "is up to date"},
		{[]string{"document", "--file", filepath.Join(dir, "missing.md")}, ExitFailure, "no such file"},
	}
	for _, s := range steps {
		r := runApp(t, context.Background(), a, out, errb, s.args...)
		if r.code != s.code || !strings.Contains(r.combinedOut, s.want) {
			t.Fatalf("%v: exit %d (want %d), output lacks %q:\n%s", s.args, r.code, s.code, s.want, r.combinedOut)
		}
	}
	b, _ := os.ReadFile(file)
	doc := string(b)
	for _, w := range []string{"# Test\n\nIntro.\n\n" + DocMarkerStart, "| Test User    | `test_user`    | `User`          |",
		"| `test_account`        | **HAS**               | `test_user`           |", "`*person*`", DocMarkerEnd + "\n\nFooter.\n"} {
		if !strings.Contains(doc, w) {
			t.Errorf("doc lacks %q:\n%s", w, doc)
		}
	}
}

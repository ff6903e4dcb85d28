package modeldoc

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stepgraph/stepgraph/sdk/graph"
	"github.com/stepgraph/stepgraph/sdk/integration"
)

// seedOktaDataModel is the generated block of JupiterOne's Okta
// integration documentation: the format Section must reproduce.
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

func TestSectionMatchesJupiterOneFormat(t *testing.T) {
	got := Section(oktaLikeSteps())
	if got != seedOktaDataModel {
		t.Fatalf("generated block differs from the seed (line %d)\n--- got\n%s\n--- want\n%s", firstDiffLine(got, seedOktaDataModel), got, seedOktaDataModel)
	}
}

func TestSectionMappedAndMultiClass(t *testing.T) {
	steps := []integration.Step[struct{}]{{
		ID: "s", Name: "S", Run: noRun,
		Entities: []integration.EntityType{{Resource: "Device", Type: "x_device", Class: []string{"Host", "Device"}}},
		MappedRelationships: []integration.MappedRelationshipType{
			{Type: "x_device_has_user", Class: graph.HAS, Source: "x_device", Target: "user_endpoint", Direction: graph.Reverse},
			{Type: "x_device_is_person", Class: graph.IS, Source: "x_device", Target: "aws_instance", Direction: graph.Forward},
		},
	}}
	got := Section(steps)
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

func TestReplace(t *testing.T) {
	block := MarkerStart + "\nX\n" + MarkerEnd
	tests := []struct {
		name, doc, want string
		err             bool
	}{
		{"replaces between markers", "# T\n\n" + MarkerStart + "\nold\n" + MarkerEnd + "\ntail\n", "# T\n\n" + block + "\ntail\n", false},
		{"appends without markers", "# T\n", "# T\n\n\n" + block, false},
		{"start without end", "# T\n" + MarkerStart + "\n", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Replace(tt.doc, block)
			if (err != nil) != tt.err || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestCheckAndUpdateFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "okta.md")
	stale := "# Okta\n\nIntro.\n\n" + MarkerStart + "\nold stuff\n" + MarkerEnd + "\n\nFooter.\n"
	if err := os.WriteFile(file, []byte(stale), 0o600); err != nil {
		t.Fatal(err)
	}
	block := Section(oktaLikeSteps())
	var se *StaleError
	if err := CheckFile(file, block); !errors.As(err, &se) || se.Line != 6 || se.File != file ||
		err.Error() != file+" is out of date (first difference at line 6)" {
		t.Fatalf("CheckFile on a stale file: %v", err)
	}
	if b, _ := os.ReadFile(file); string(b) != stale {
		t.Fatal("CheckFile wrote the file")
	}
	if changed, err := UpdateFile(file, block); err != nil || !changed {
		t.Fatalf("UpdateFile: %v, %v", changed, err)
	}
	b, _ := os.ReadFile(file)
	if want := "# Okta\n\nIntro.\n\n" + seedOktaDataModel + "\n\nFooter.\n"; string(b) != want {
		t.Fatalf("updated file:\n%s", b)
	}
	if st, _ := os.Stat(file); st.Mode().Perm() != 0o600 {
		t.Errorf("permissions %v not kept", st.Mode())
	}
	if err := CheckFile(file, block); err != nil {
		t.Errorf("CheckFile after update: %v", err)
	}
	if changed, err := UpdateFile(file, block); err != nil || changed {
		t.Errorf("second UpdateFile: %v, %v", changed, err)
	}
	if err := os.WriteFile(file, []byte("# T\n"+MarkerStart+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := CheckFile(file, block); err == nil || errors.As(err, &se) || !strings.Contains(err.Error(), "no end marker") {
		t.Errorf("start marker without end: %v", err)
	}
	if _, err := UpdateFile(filepath.Join(dir, "missing.md"), block); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestDeclares(t *testing.T) {
	if Declares([]integration.Step[struct{}]{{ID: "a", Run: noRun}}) {
		t.Error("steps without types declare something")
	}
	if !Declares(oktaLikeSteps()) {
		t.Error("okta-like steps declare nothing")
	}
}

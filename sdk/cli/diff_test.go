package cli

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stepgraph/stepgraph/sdk/graphdiff"
	"github.com/stepgraph/stepgraph/sdk/internal/collectiontest"
)

func TestDiffCommand(t *testing.T) {
	oldRoot, newRoot := collectiontest.DiffPair(t)
	tests := []struct {
		name  string
		args  []string
		code  int
		want  []string
		check func(t *testing.T, stdout string)
	}{
		{name: "text", code: ExitOK, want: []string{
			"test_user (entity): 1 added, 1 removed, 1 changed",
			"  + test-user-0020  \"User 20\"",
			"  + test-group-a|has|test-user-0020\n",
			"  - test-user-0000  \"User 0\"",
			"  ~ test-user-0001  \"User 1\"",
			"      lastLogin: (unset) -> 1700000000000",
			"      status: \"ACTIVE\" -> \"SUSPENDED\"",
			"test_group_has_user (relationship): 1 added, 1 not collected in this run  [partial dataset in new",
			"      _mapping.targetEntity.email: \"old@example.com\" -> \"new@example.com\"",
			"Total: 2 added, 1 removed, 2 changed, 1 not collected in this run in 3 of 4 types.",
		}},
		{name: "fail-on matches", args: []string{"--fail-on", "test_user:added,test_user_is_person:*"}, code: ExitFailure,
			want: []string{"changes match --fail-on: test_user:added, test_user_is_person:changed"}},
		{name: "fail-on glob", args: []string{"--fail-on", "test_user*:removed"}, code: ExitFailure,
			want: []string{"test_user:removed"}},
		// Issue #10 item 3: a type partial in NEW never matches removed or
		// changed; its added objects still do.
		{name: "partial type never removed", args: []string{"--fail-on", "test_group*:removed,*:changed"}, code: ExitFailure,
			want: []string{"changes match --fail-on: test_user:changed, test_user_is_person:changed\n", "  ? test-group-a|has|test-user-0002"}},
		{name: "partial type removed alone", args: []string{"--fail-on", "*_has_*:removed,*_has_*:changed"}, code: ExitOK},
		{name: "partial type added", args: []string{"--fail-on", "test_group_has_user:added"}, code: ExitFailure,
			want: []string{"test_group_has_user:added"}},
		{name: "fail-on no match", args: []string{"--fail-on", "test_group:*,test_user:nothing"}, code: ExitUsage,
			want: []string{"change must be added, removed, changed or *"}},
		{name: "fail-on unchanged type", args: []string{"--fail-on", "test_group"}, code: ExitOK},
		{name: "limit truncates listing", args: []string{"--limit", "1", "--fail-on", "test_user:changed"}, code: ExitFailure},
		{name: "json", args: []string{"--format", "json", "--fail-on", "test_user:removed"}, code: ExitFailure,
			check: func(t *testing.T, stdout string) {
				var rep struct {
					graphdiff.Report
					FailOnMatched []string
				}
				if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
					t.Fatalf("json: %v\n%s", err, stdout)
				}
				if rep.Added != 2 || len(rep.Types) != 3 || strings.Join(rep.FailOnMatched, ",") != "test_user:removed" {
					t.Fatalf("report %+v", rep)
				}
				if rep.Types[0].ChangedObjects[0].Properties[1].New != "SUSPENDED" {
					t.Fatalf("changed %+v", rep.Types[0].ChangedObjects)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, out, errb := testApp(nil, nil)
			args := append([]string{"diff", oldRoot, newRoot}, tt.args...)
			r := runApp(t, context.Background(), a, out, errb, args...)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d\n%s", r.code, tt.code, r.combinedOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.combinedOut, w) {
					t.Errorf("output lacks %q:\n%s", w, r.combinedOut)
				}
			}
			if tt.check != nil {
				tt.check(t, r.stdout)
			}
		})
	}
	a, out, errb := testApp(nil, nil)
	if r := runApp(t, context.Background(), a, out, errb, "diff", oldRoot); r.code != ExitUsage {
		t.Errorf("one argument: exit %d", r.code)
	}
	if r := runApp(t, context.Background(), a, out, errb, "diff", oldRoot, filepath.Join(oldRoot, "nope")); r.code != ExitUsage || !strings.Contains(r.stderr, "NEW") {
		t.Errorf("missing folder: exit %d %s", r.code, r.stderr)
	}
	if r := runApp(t, context.Background(), a, out, errb, "diff", oldRoot, oldRoot); r.code != ExitOK || !strings.Contains(r.stdout, "No changes in 4 types.") {
		t.Errorf("same folder: exit %d %s", r.code, r.stdout)
	}
}

package graphdiff_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stepgraph/stepgraph/sdk/graph"
	"github.com/stepgraph/stepgraph/sdk/graphdiff"
	"github.com/stepgraph/stepgraph/sdk/internal/collectiontest"
	"github.com/stepgraph/stepgraph/sdk/store"
)

func TestDiff(t *testing.T) {
	oldRoot, newRoot := collectiontest.DiffPair(t)
	rep := diffRoots(t, oldRoot, newRoot, graphdiff.Options{})
	type counts struct{ a, r, c, n int64 }
	want := map[string]counts{
		"test_user":           {1, 1, 1, 0},
		"test_group_has_user": {1, 0, 0, 1}, // partial in new: not collected, not removed
		"test_user_is_person": {0, 0, 1, 0},
	}
	if len(rep.Types) != len(want) || rep.TypesCompared != 4 {
		t.Fatalf("types %+v (compared %d)", rep.Types, rep.TypesCompared)
	}
	for _, td := range rep.Types {
		w, ok := want[td.Type]
		if !ok || (counts{td.Added, td.Removed, td.Changed, td.NotCollected}) != w {
			t.Errorf("%s: got +%d -%d ~%d ?%d, want %+v", td.Type, td.Added, td.Removed, td.Changed, td.NotCollected, w)
		}
	}
	u := rep.Types[0]
	if u.Type != "test_user" || u.Kind != "entity" || u.AddedObjects[0].Key != "test-user-0020" || u.RemovedObjects[0].Key != "test-user-0000" {
		t.Fatalf("test_user diff: %+v", u)
	}
	props := u.ChangedObjects[0].Properties
	if len(props) != 2 || props[0].Name != "lastLogin" || props[0].Change != "added" || props[1].Name != "status" ||
		props[1].Old != "ACTIVE" || props[1].New != "SUSPENDED" {
		t.Fatalf("property changes: %+v", props)
	}
	for _, td := range rep.Types {
		if td.Type == "test_user_is_person" {
			p := td.ChangedObjects[0].Properties
			if len(p) != 1 || p[0].Name != "_mapping.targetEntity.email" {
				t.Errorf("mapped change: %+v", p)
			}
		}
		if td.Type == "test_group_has_user" && !td.PartialInNew {
			t.Errorf("partial dataset not flagged")
		}
	}
	if rep.Added != 2 || rep.Removed != 1 || rep.Changed != 2 || rep.NotCollected != 1 {
		t.Errorf("totals +%d -%d ~%d ?%d", rep.Added, rep.Removed, rep.Changed, rep.NotCollected)
	}
}

// diffFixtureReport diffs the fixture's collections.
func diffFixtureReport(t *testing.T, opts graphdiff.Options) *graphdiff.Report {
	t.Helper()
	oldRoot, newRoot := collectiontest.DiffPair(t)
	return diffRoots(t, oldRoot, newRoot, opts)
}

// diffRoots diffs the committed collections at oldRoot and newRoot.
func diffRoots(t *testing.T, oldRoot, newRoot string, opts graphdiff.Options) *graphdiff.Report {
	t.Helper()
	od, err := store.OpenDir(oldRoot)
	if err != nil {
		t.Fatal(err)
	}
	nd, err := store.OpenDir(newRoot)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := graphdiff.Diff(context.Background(), od, nd, opts)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestWriteText(t *testing.T) {
	var b strings.Builder
	if err := graphdiff.WriteText(&b, diffFixtureReport(t, graphdiff.Options{})); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{
		"test_user (entity): 1 added, 1 removed, 1 changed",
		"  + test-user-0020  \"User 20\"",
		"  + test-group-a|has|test-user-0020\n",
		"  - test-user-0000  \"User 0\"",
		"  ~ test-user-0001  \"User 1\"",
		"      lastLogin: (unset) -> 1700000000000",
		"      status: \"ACTIVE\" -> \"SUSPENDED\"",
		"test_group_has_user (relationship): 1 added, 1 not collected in this run  [partial dataset in new",
		"  ? test-group-a|has|test-user-0002",
		"      _mapping.targetEntity.email: \"old@example.com\" -> \"new@example.com\"",
		"Total: 2 added, 1 removed, 2 changed, 1 not collected in this run in 3 of 4 types.",
	} {
		if !strings.Contains(b.String(), w) {
			t.Errorf("text lacks %q:\n%s", w, b.String())
		}
	}
}

// TestRules: what an alert rule set matches. A type partial in NEW never
// matches removed or changed (issue #10 item 3); its added objects still do.
func TestRules(t *testing.T) {
	rep := diffFixtureReport(t, graphdiff.Options{})
	tests := []struct {
		rules string
		want  string
		err   string
	}{
		{rules: "test_user:added,test_user_is_person:*", want: "test_user:added,test_user_is_person:changed"},
		{rules: "test_user*:removed", want: "test_user:removed"},
		{rules: "test_group*:removed,*:changed", want: "test_user:changed,test_user_is_person:changed"},
		{rules: "*_has_*:removed,*_has_*:changed", want: ""},
		{rules: "test_group_has_user:added", want: "test_group_has_user:added"},
		{rules: "test_group", want: ""},
		{rules: " test_user , ,test_user:changed", want: "test_user:added,test_user:removed,test_user:changed"},
		{rules: "", want: ""},
		{rules: "test_group:*,test_user:nothing", err: `rule "test_user:nothing": change must be added, removed, changed or *`},
		{rules: "[:added", err: `rule "[:added": bad type pattern`},
		{rules: ":added", err: "bad type pattern"},
	}
	for _, tt := range tests {
		rules, err := graphdiff.ParseRules(tt.rules)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseRules(%q) = %v, %v; want error %q", tt.rules, rules, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseRules(%q): %v", tt.rules, err)
			continue
		}
		if got := strings.Join(rep.Match(rules), ","); got != tt.want {
			t.Errorf("Match(%q) = %q, want %q", tt.rules, got, tt.want)
		}
	}
	if r := (graphdiff.Rule{Type: "okta_*", Change: graphdiff.Any}); r.String() != "okta_*:*" {
		t.Errorf("Rule.String = %q", r)
	}
}

func TestDiffManyObjectsStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	dir := t.TempDir()
	var oldE, newE []*graph.Entity
	const n = 5000
	for i := range n {
		oldE = append(oldE, collectiontest.User(i, "ACTIVE"))
		if i%1000 == 0 {
			newE = append(newE, collectiontest.User(i, "SUSPENDED"))
		} else if i%1000 != 1 {
			newE = append(newE, collectiontest.User(i, "ACTIVE"))
		}
	}
	collectiontest.Write(t, filepath.Join(dir, "a"), oldE, nil)
	collectiontest.Write(t, filepath.Join(dir, "b"), newE, nil)
	od, _ := store.OpenDir(filepath.Join(dir, "a"))
	nd, _ := store.OpenDir(filepath.Join(dir, "b"))
	rep, err := graphdiff.Diff(context.Background(), od, nd, graphdiff.Options{Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	td := rep.Types[0]
	if td.Changed != n/1000 || td.Removed != n/1000 || td.Added != 0 || len(td.ChangedObjects) != 3 || !td.Truncated {
		t.Fatalf("%+v", td)
	}
	var b strings.Builder
	if err := graphdiff.WriteText(&b, rep); err != nil {
		t.Fatal(err)
	}
	if strings.Count(b.String(), "\n  ~ ") != 3 || !strings.Contains(b.String(), "  ... (more not listed; raise the limit)\n") {
		t.Errorf("truncated listing:\n%s", b.String())
	}
}

// TestDiffPartialInOld is the mirror of the partial-in-new case (issue #10):
// a type the OLD collection lists as partial was not collected in full
// then, so its objects the old collection lacks are reported as "not
// collected in the previous run", never as added, and neither they nor its
// changed objects match an added or changed rule. A type complete on both
// sides still reports (and matches) its added objects.
func TestDiffPartialInOld(t *testing.T) {
	dir := t.TempDir()
	oldRoot, newRoot := filepath.Join(dir, "old"), filepath.Join(dir, "new")
	var oldE, newE []*graph.Entity
	for i := range 5 {
		oldE = append(oldE, collectiontest.User(i, "ACTIVE"))
	}
	for i := range 7 {
		status := "ACTIVE"
		if i == 1 {
			status = "SUSPENDED"
		}
		newE = append(newE, collectiontest.User(i, status))
	}
	oldE = append(oldE, collectiontest.Group("test-group-a"))
	newE = append(newE, collectiontest.Group("test-group-a"), collectiontest.Group("test-group-b"))
	collectiontest.Write(t, oldRoot, oldE, nil, "test_user")
	collectiontest.Write(t, newRoot, newE, nil)
	rep := diffRoots(t, oldRoot, newRoot, graphdiff.Options{})
	if len(rep.Types) != 2 || rep.Types[0].Type != "test_group" || rep.Types[1].Type != "test_user" {
		t.Fatalf("types %+v", rep.Types)
	}
	g, u := rep.Types[0], rep.Types[1]
	if g.Added != 1 || g.PartialInOld || g.NotCollectedBefore != 0 {
		t.Errorf("test_group (complete on both sides): %+v", g)
	}
	if !u.PartialInOld || u.PartialInNew || u.Added != 0 || u.Removed != 0 || u.Changed != 1 || u.NotCollectedBefore != 2 ||
		len(u.AddedObjects) != 0 || len(u.NotCollectedBeforeObjects) != 2 ||
		u.NotCollectedBeforeObjects[0].Key != "test-user-0005" || u.NotCollectedBeforeObjects[1].Key != "test-user-0006" {
		t.Errorf("test_user (partial in old): %+v", u)
	}
	if rep.Added != 1 || rep.Removed != 0 || rep.Changed != 1 || rep.NotCollected != 0 || rep.NotCollectedBefore != 2 {
		t.Errorf("totals +%d -%d ~%d ?%d ?+%d", rep.Added, rep.Removed, rep.Changed, rep.NotCollected, rep.NotCollectedBefore)
	}

	for rules, want := range map[string]string{
		"test_user:added":    "",
		"test_user:changed":  "",
		"test_user:*":        "",
		"test_user:removed":  "",
		"*:added":            "test_group:added",
		"test_group:*,*:*":   "test_group:added",
		"test_*:added,*:*":   "test_group:added",
		"test_group:removed": "",
	} {
		rs, err := graphdiff.ParseRules(rules)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(rep.Match(rs), ","); got != want {
			t.Errorf("Match(%q) = %q, want %q", rules, got, want)
		}
	}

	var b strings.Builder
	if err := graphdiff.WriteText(&b, rep); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{
		"test_group (entity): 1 added\n",
		"test_user (entity): 1 changed, 2 not collected in the previous run  [partial dataset in old",
		"  ?+ test-user-0005  \"User 5\"\n",
		"  ?+ test-user-0006  \"User 6\"\n",
		"Total: 1 added, 0 removed, 1 changed, 2 not collected in the previous run in 2 of 2 types.",
	} {
		if !strings.Contains(b.String(), w) {
			t.Errorf("text lacks %q:\n%s", w, b.String())
		}
	}
	if strings.Contains(b.String(), "  + test-user-") {
		t.Errorf("text lists a user of the partial-in-old type as added:\n%s", b.String())
	}

	js, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		NotCollectedBefore int64 `json:"notCollectedBefore"`
		Types              []struct {
			Type                      string                `json:"type"`
			PartialInOld              bool                  `json:"partialInOld"`
			NotCollectedBefore        int64                 `json:"notCollectedBefore"`
			NotCollectedBeforeObjects []graphdiff.ObjectRef `json:"notCollectedBeforeObjects"`
			AddedObjects              []graphdiff.ObjectRef `json:"addedObjects"`
		} `json:"types"`
	}
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	if back.NotCollectedBefore != 2 || !back.Types[1].PartialInOld || back.Types[1].NotCollectedBefore != 2 ||
		len(back.Types[1].NotCollectedBeforeObjects) != 2 || len(back.Types[1].AddedObjects) != 0 {
		t.Errorf("JSON: %s", js)
	}
}

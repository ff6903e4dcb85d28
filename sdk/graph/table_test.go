package graph_test

import (
	"strings"
	"testing"

	"github.com/stepgraph/stepgraph/sdk/graph"
)

// TestMatchTableFirstMatchWins: rows are tried in order; unanchored
// expressions match substrings, anchored ones whole names or prefixes.
func TestMatchTableFirstMatchWins(t *testing.T) {
	tab := graph.MustMatchTable([][2]string{
		{"jira|bitbucket", "Atlassian"},
		{"google|^gcp$", "Google"},
		{"aws", "Amazon Web Services"},
		{"amazon", "Amazon.com"},
		{"^j1dev", "JupiterOne"},
	})
	for name, want := range map[string]string{
		"atlassianjira": "Atlassian", "mygoogleapps": "Google", "gcp": "Google",
		"amazonaws": "Amazon Web Services", "amazonbusiness": "Amazon.com", "j1devfoo": "JupiterOne",
	} {
		if got, ok := tab.Lookup(name); !ok || got != want {
			t.Errorf("Lookup(%q) = %q, %v; want %q", name, got, ok, want)
		}
	}
	for _, name := range []string{"gcpx", "xj1dev", "", "slack"} {
		if got, ok := tab.Lookup(name); ok {
			t.Errorf("Lookup(%q) = %q, want no match", name, got)
		}
	}
}

func TestMatchTableRejectsInvalidExpressions(t *testing.T) {
	_, err := graph.NewMatchTable([][2]string{{"ok", "A"}, {"(", "B"}})
	if err == nil || !strings.Contains(err.Error(), `row 2 ("B")`) {
		t.Errorf("error = %v, want one naming row 2", err)
	}
}

func TestMatchTableLookupOr(t *testing.T) {
	tab := graph.MustMatchTable([][2]string{{"^meraki$", "cisco_meraki_account"}})
	if got := tab.LookupOr("meraki", "x"); got != "cisco_meraki_account" {
		t.Errorf("LookupOr(meraki) = %q", got)
	}
	if got := tab.LookupOr("merakix", "merakix_account"); got != "merakix_account" {
		t.Errorf("LookupOr(merakix) = %q, want the fallback", got)
	}
}

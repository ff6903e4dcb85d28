package graph_test

import (
	"testing"

	"github.com/stepgraph/stepgraph/sdk/graph"
)

func TestCamelCase(t *testing.T) {
	for in, want := range map[string]string{
		"User_County":    "userCounty",
		"first_name":     "firstName",
		"firstName":      "firstName",
		"SAMAccountName": "samAccountName",
		"Cost Center":    "costCenter",
		"employee2Id":    "employee2Id",
		"_links":         "links",
		"__":             "__",
		"":               "",
	} {
		if got := graph.CamelCase(in); got != want {
			t.Errorf("CamelCase(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStartCase(t *testing.T) {
	for in, want := range map[string]string{
		"okta_browser_plugin": "Okta Browser Plugin",
		"office365":           "Office 365",
		"SAMLApp":             "SAML App",
		"gitHub":              "Git Hub",
		"":                    "",
	} {
		if got := graph.StartCase(in); got != want {
			t.Errorf("StartCase(%q) = %q, want %q", in, got, want)
		}
	}
}

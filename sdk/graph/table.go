package graph

import (
	"fmt"
	"regexp"
)

// MatchTable maps a name to a value through rows of {expression, value}:
// the value of the first row whose regular expression matches. It is the
// form of the lookup tables integrations keep next to their data model,
// such as an application's vendor from its name. An expression matches
// anywhere in the name, as regexp.MatchString does: "jira|bitbucket"
// matches names containing either, "^gcp$" only gcp, "^j1dev" a prefix.
// A MatchTable is read-only and safe for concurrent use.
type MatchTable struct {
	rows []matchRow
}

type matchRow struct {
	re    *regexp.Regexp
	value string
}

// NewMatchTable compiles rows, in order; an invalid expression is an
// error naming its row.
func NewMatchTable(rows [][2]string) (*MatchTable, error) {
	t := &MatchTable{rows: make([]matchRow, len(rows))}
	for i, r := range rows {
		re, err := regexp.Compile(r[0])
		if err != nil {
			return nil, fmt.Errorf("graph: match table row %d (%q): %w", i+1, r[1], err)
		}
		t.rows[i] = matchRow{re: re, value: r[1]}
	}
	return t, nil
}

// MustMatchTable is NewMatchTable for package-level tables: it panics on
// an invalid expression.
func MustMatchTable(rows [][2]string) *MatchTable {
	t, err := NewMatchTable(rows)
	if err != nil {
		panic(err)
	}
	return t
}

// Lookup returns the value of the first row matching name; ok is false
// when no row matches.
func (t *MatchTable) Lookup(name string) (value string, ok bool) {
	for _, r := range t.rows {
		if r.re.MatchString(name) {
			return r.value, true
		}
	}
	return "", false
}

// LookupOr returns the value of the first row matching name, or fallback
// when no row matches.
func (t *MatchTable) LookupOr(name, fallback string) string {
	if v, ok := t.Lookup(name); ok {
		return v
	}
	return fallback
}

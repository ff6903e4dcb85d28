package postgres

import (
	"embed"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

//go:embed queries/*.sql
var queryFS embed.FS

// Query is one of the ready-made questions of docs/postgres.md. The SQL is
// written for psql: parameters are psql variables (:'app'), tables are
// unqualified (set search_path to the sink's schema first).
type Query struct {
	// Name is the file name without .sql, e.g. "who-can-reach-application".
	Name string
	// SQL is the file's text, as docs/postgres.md shows it.
	SQL string
	// Params are the psql variables it uses, in order of first use.
	Params []string
}

var psqlVar = regexp.MustCompile(`:'([A-Za-z_][A-Za-z0-9_]*)'`)

// Positional returns the SQL with each psql variable replaced by $1, $2,
// ... in the order of Params, for use with a driver.
func (q Query) Positional() string {
	return psqlVar.ReplaceAllStringFunc(q.SQL, func(m string) string {
		name := psqlVar.FindStringSubmatch(m)[1]
		for i, p := range q.Params {
			if p == name {
				return "$" + strconv.Itoa(i+1)
			}
		}
		return m
	})
}

// Queries returns the documented queries, sorted by name.
func Queries() []Query {
	entries, err := queryFS.ReadDir("queries")
	if err != nil {
		panic(err) // embedded: cannot happen
	}
	var out []Query
	for _, e := range entries {
		b, err := queryFS.ReadFile("queries/" + e.Name())
		if err != nil {
			panic(err)
		}
		q := Query{Name: strings.TrimSuffix(e.Name(), ".sql"), SQL: string(b)}
		seen := map[string]bool{}
		for _, m := range psqlVar.FindAllStringSubmatch(q.SQL, -1) {
			if !seen[m[1]] {
				seen[m[1]] = true
				q.Params = append(q.Params, m[1])
			}
		}
		out = append(out, q)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// QueryByName returns the documented query name.
func QueryByName(name string) (Query, error) {
	for _, q := range Queries() {
		if q.Name == name {
			return q, nil
		}
	}
	return Query{}, fmt.Errorf("postgres: no documented query %q", name)
}

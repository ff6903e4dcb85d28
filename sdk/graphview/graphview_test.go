package graphview

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/stepgraph/stepgraph/sdk/graph"
)

// memSource is a Source over slices.
type memSource struct {
	ents map[string][]*graph.Entity
	rels map[string][]*graph.Relationship
}

func (m *memSource) add(typ, key, name string, class []string, props map[string]any) {
	if m.ents == nil {
		m.ents = map[string][]*graph.Entity{}
	}
	m.ents[typ] = append(m.ents[typ], &graph.Entity{Key: key, Type: typ, Class: class, DisplayName: name, Properties: props})
}

func (m *memSource) rel(typ, class, from, to string, props map[string]any) {
	if m.rels == nil {
		m.rels = map[string][]*graph.Relationship{}
	}
	m.rels[typ] = append(m.rels[typ], &graph.Relationship{Key: from + "|" + class + "|" + to, Type: typ, Class: class, FromKey: from, ToKey: to, Properties: props})
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	// sorted, as store.Dir returns them
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func (m *memSource) EntityTypes() []string       { return keys(m.ents) }
func (m *memSource) RelationshipTypes() []string { return keys(m.rels) }
func (m *memSource) IterateEntities(ctx context.Context, typ string, fn func(*graph.Entity) error) error {
	for _, e := range m.ents[typ] {
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}
func (m *memSource) IterateRelationships(ctx context.Context, typ string, fn func(*graph.Relationship) error) error {
	for _, r := range m.rels[typ] {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

// sample is a small directory: an account, users u0..u5, groups eng (u0,
// u1, and the nested group ops) and ops (u2), an application app that u0
// holds directly and eng and ops hold, a role held by u3 and by ops, and
// a person each user maps to.
func sample() *memSource {
	m := &memSource{}
	m.add("x_account", "acct-000001", "acme", []string{"Account"}, map[string]any{"name": "acme"})
	for i := 0; i < 6; i++ {
		k := fmt.Sprintf("user-%06d", i)
		m.add("x_user", k, fmt.Sprintf("u%d@example.com", i), []string{"User"}, map[string]any{
			"email": fmt.Sprintf("u%d@example.com", i), "name": fmt.Sprintf("User %d", i), "department": "IT", "active": true,
			"created": float64(1770958855000 + i), "createdOn": float64(1770958855000 + i), "id": k, "bio": "</script><script>alert(1)</script>",
		})
		m.rel("x_account_has_user", "HAS", "acct-000001", k, nil)
	}
	m.add("x_group", "group-eng01", "eng", []string{"UserGroup"}, nil)
	m.add("x_group", "group-ops01", "ops", []string{"UserGroup"}, nil)
	m.add("x_application", "app-0000001", "app", []string{"Application"}, map[string]any{"tags": []any{"a", "b"}})
	m.add("x_role", "role-000001", "admin", []string{"AccessRole"}, nil)
	m.rel("x_group_has_user", "HAS", "group-eng01", "user-000000", map[string]any{"since": "2020", "userId": "user-000000"})
	m.rel("x_group_has_user", "HAS", "group-eng01", "user-000001", map[string]any{"since": "2021", "userId": "user-000001"})
	m.rel("x_group_has_user", "HAS", "group-ops01", "user-000002", map[string]any{"userId": "user-000002"})
	m.rel("x_group_has_group", "HAS", "group-eng01", "group-ops01", nil)
	m.rel("x_user_assigned_application", "ASSIGNED", "user-000000", "app-0000001", nil)
	m.rel("x_group_assigned_application", "ASSIGNED", "group-eng01", "app-0000001", nil)
	m.rel("x_group_assigned_application", "ASSIGNED", "group-ops01", "app-0000001", nil)
	m.rel("x_user_assigned_role", "ASSIGNED", "user-000003", "role-000001", nil)
	m.rel("x_group_assigned_role", "ASSIGNED", "group-ops01", "role-000001", nil)
	m.rel("x_user_assigned_role", "ASSIGNED", "user-000004", "role-missing", nil) // dangling
	for i := 0; i < 6; i++ {
		k := fmt.Sprintf("user-%06d", i)
		m.rels["x_user_is_person"] = append(m.rels["x_user_is_person"], &graph.Relationship{
			Key: k + "|is|person", Type: "x_user_is_person", Class: "IS",
			Mapping: &graph.Mapping{Direction: graph.Forward, SourceEntityKey: k, TargetFilterKeys: [][]string{{"_type", "email"}},
				TargetEntity: map[string]any{"_type": "person", "_class": "Person", "email": fmt.Sprintf("u%d@example.com", i)}},
		})
	}
	return m
}

type decoded struct {
	Stats Stats `json:"stats"`
	Types []struct {
		Name   string   `json:"name"`
		Class  []string `json:"class"`
		Mapped bool     `json:"mapped"`
		Start  int      `json:"start"`
		Count  int      `json:"count"`
	} `json:"types"`
	Rels []struct {
		Name  string  `json:"name"`
		Class string  `json:"class"`
		Count int     `json:"count"`
		From  []int32 `json:"from"`
		To    []int32 `json:"to"`
	} `json:"rels"`
	Edges []typeEdge `json:"edges"`
	Keys  []string   `json:"keys"`
	Names []string   `json:"names"`
	Extra []string   `json:"extra"`
}

func scriptBlock(t *testing.T, page, id string) string {
	t.Helper()
	open := `<script type="application/json" id="` + id + `">`
	i := strings.Index(page, open)
	if i < 0 {
		t.Fatalf("no %s block", id)
	}
	rest := page[i+len(open):]
	return rest[:strings.Index(rest, "</script>")]
}

func build(t *testing.T, src Source, opts Options) (*Page, string) {
	t.Helper()
	p, err := Build(context.Background(), src, opts)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := p.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	return p, b.String()
}

func TestBuildEncodesGraph(t *testing.T) {
	p, page := build(t, sample(), Options{Title: "sample", Declared: []DeclaredType{{Type: "x_device", Resource: "Device", Class: []string{"Device"}}}})
	st := p.Stats()
	if st.Entities != 11+6 || st.Placeholders != 6 || st.Relationships != 6+3+1+3+1+1+6 || st.Dangling != 1 || st.EntityTypes != 7 {
		t.Fatalf("stats %+v", st)
	}
	var d decoded
	if err := json.Unmarshal([]byte(scriptBlock(t, page, "graph-data")), &d); err != nil {
		t.Fatal(err)
	}
	// Entities are numbered type by type; the person placeholders follow
	// the collected ones and the declared, uncollected type is empty.
	byName := map[string]int{}
	for i, ty := range d.Types {
		byName[ty.Name] = i
		for k := ty.Start; k < ty.Start+ty.Count; k++ {
			if ty.Name == "person" && !strings.HasPrefix(d.Keys[k], "person:") {
				t.Errorf("placeholder key %q", d.Keys[k])
			}
		}
	}
	if pt := d.Types[byName["person"]]; !pt.Mapped || pt.Count != 6 || pt.Start != 11 {
		t.Errorf("person type %+v", pt)
	}
	if dt := d.Types[byName["x_device"]]; dt.Count != 0 || dt.Class[0] != "Device" {
		t.Errorf("declared type %+v", dt)
	}
	// Relationship pairs decode back to the source's pairs.
	src := sample()
	for _, r := range d.Rels {
		var got []string
		f := int32(0)
		for i := range r.From {
			f += r.From[i]
			got = append(got, d.Keys[f]+">"+d.Keys[r.To[i]])
		}
		want := map[string]bool{}
		for _, sr := range src.rels[r.Name] {
			if sr.Mapping != nil {
				want[sr.Mapping.SourceEntityKey+">person:"+sr.Mapping.TargetEntity["email"].(string)] = true
			} else if sr.ToKey != "role-missing" {
				want[sr.FromKey+">"+sr.ToKey] = true
			}
		}
		if len(got) != len(want) || len(got) != r.Count {
			t.Errorf("%s: %d pairs %v, want %v", r.Name, len(got), got, want)
		}
		for _, g := range got {
			if !want[g] {
				t.Errorf("%s: unexpected pair %s", r.Name, g)
			}
		}
	}
	// Type-level edges carry counts.
	edges := map[string]int{}
	for _, e := range d.Edges {
		edges[d.Types[e.From].Name+" "+d.Rels[e.Rel].Class+" "+d.Types[e.To].Name] = e.Count
	}
	if edges["x_account HAS x_user"] != 6 || edges["x_group HAS x_user"] != 3 || edges["x_user IS person"] != 6 || edges["x_group HAS x_group"] != 1 {
		t.Errorf("type edges %v", edges)
	}
	// Search text: name besides the display name (email = display name).
	u0 := -1
	for i, k := range d.Keys {
		if k == "user-000000" {
			u0 = i
		}
	}
	if d.Extra[u0] != "User 0" || d.Names[u0] != "u0@example.com" {
		t.Errorf("user 0: name %q extra %q", d.Names[u0], d.Extra[u0])
	}

	// Properties: columnar, repeated values as a dictionary.
	var tab struct {
		N    int `json:"n"`
		Cols []struct {
			Name string            `json:"name"`
			Same string            `json:"same"`
			Key  string            `json:"key"`
			V    []json.RawMessage `json:"v"`
			D    []json.RawMessage `json:"d"`
			I    []int             `json:"i"`
		} `json:"cols"`
	}
	if err := json.Unmarshal([]byte(scriptBlock(t, page, fmt.Sprintf("props-e%d", byName["x_user"]))), &tab); err != nil {
		t.Fatal(err)
	}
	cols := map[string]int{}
	for i, c := range tab.Cols {
		cols[c.Name] = i
	}
	dep := tab.Cols[cols["department"]]
	if tab.N != 6 || len(dep.D) != 1 || len(dep.I) != 6 || string(dep.D[0]) != `"IT"` {
		t.Errorf("department column %+v", dep)
	}
	created := tab.Cols[cols["created"]]
	if len(created.V) != 6 || string(created.V[5]) != "1770958855005" {
		t.Errorf("created column %+v", created)
	}
	// Columns that repeat another column or the key are references.
	if c := tab.Cols[cols["createdOn"]]; c.Same != "created" || c.V != nil {
		t.Errorf("createdOn column %+v", c)
	}
	if c := tab.Cols[cols["id"]]; c.Key != "self" || c.V != nil {
		t.Errorf("id column %+v", c)
	}
	if c := tab.Cols[cols["email"]]; c.Key != "name" || c.V != nil {
		t.Errorf("email column %+v", c)
	}
	if c := tab.Cols[cols["name"]]; c.Same != "" || c.Key != "" || len(c.V) != 6 {
		t.Errorf("name column %+v", c)
	}
	if _, ok := cols["_class"]; !ok {
		t.Error("no _class column")
	}
	if _, err := json.Marshal(tab); err != nil {
		t.Fatal(err)
	}
	var rtab struct {
		Cols []struct {
			Name string `json:"name"`
			Key  string `json:"key"`
		} `json:"cols"`
	}
	if err := json.Unmarshal([]byte(scriptBlock(t, page, fmt.Sprintf("props-r%d", relIndex(d, "x_group_has_user")))), &rtab); err != nil {
		t.Fatal(err)
	}
	if len(rtab.Cols) != 2 || rtab.Cols[1].Name != "userId" || rtab.Cols[1].Key != "to" || rtab.Cols[0].Key != "" {
		t.Errorf("x_group_has_user columns %+v", rtab.Cols)
	}
	// Relationship properties, only for the types that have any.
	if !strings.Contains(page, fmt.Sprintf(`id="props-r%d"`, relIndex(d, "x_group_has_user"))) || strings.Contains(page, fmt.Sprintf(`id="props-r%d"`, relIndex(d, "x_account_has_user"))) {
		t.Error("relationship property tables")
	}
	// No value can end a script element early.
	if strings.Contains(page, "<script>alert") {
		t.Error("a property value closed the script element")
	}
	if n := strings.Count(page, "</script>"); n != strings.Count(page, "<script") {
		t.Errorf("%d script elements closed, %d opened", n, strings.Count(page, "<script"))
	}
}

func relIndex(d decoded, name string) int {
	for i, r := range d.Rels {
		if r.Name == name {
			return i
		}
	}
	return -1
}

func TestWriteDOT(t *testing.T) {
	p, err := Build(context.Background(), sample(), Options{Title: "sample"})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := p.WriteDOT(&b); err != nil {
		t.Fatal(err)
	}
	s := b.String()
	for _, want := range []string{`digraph "sample" {`, `"x_user" [label="x_user\n6"`, `"x_group" -> "x_user" [label="HAS 3", tooltip="x_group_has_user"];`,
		`"x_user" -> "person" [label="IS 6", tooltip="x_user_is_person", style=dashed];`} {
		if !strings.Contains(s, want) {
			t.Errorf("dot lacks %s:\n%s", want, s)
		}
	}
}

func TestEmbeddedLibraryCannotCloseScript(t *testing.T) {
	for _, s := range []string{"</script", "<!--", "<script"} {
		if strings.Contains(strings.ToLower(cytoscapeJS), s) {
			t.Errorf("embedded cytoscape.js contains %q", s)
		}
	}
}

// TestPageViewsInChromium opens each view of the sample's page in
// headless Chromium (by its URL fragment) and reads what the page wrote
// on <body>: no script errors, and the answers of the path and "who has"
// views, which include a route through a nested group.
func TestPageViewsInChromium(t *testing.T) {
	chromium := "/usr/bin/chromium"
	if _, err := os.Stat(chromium); err != nil {
		t.Skip("chromium not installed (.ci/run installs it)")
	}
	if testing.Short() {
		t.Skip("short")
	}
	_, page := build(t, sample(), Options{Title: "sample"})
	file := filepath.Join(t.TempDir(), "graph.html")
	if err := os.WriteFile(file, []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	ctx, cancelB := chromedp.NewContext(actx)
	defer cancelB()
	ctx, cancelC := context.WithTimeout(ctx, 2*time.Minute)
	defer cancelC()
	cases := []struct {
		fragment string
		want     map[string]string
		props    []string // rows of the properties table, "name value"
	}{
		{"", map[string]string{"data-view": "types", "data-graph-nodes": "6", "data-list-rows": "6"}, nil},
		{"#type=x_user", map[string]string{"data-view": "types", "data-list-rows": "6"}, nil},
		// u0: account, person, eng, app.
		{"#focus=user-000000", map[string]string{"data-view": "focus", "data-selected": "user-000000", "data-list-rows": "4", "data-graph-nodes": "5"},
			[]string{"id user-000000", "createdOn 1770958855000  (2026-02-13T05:00:55Z)", "email u0@example.com", "department IT", "active true"}},
		// The account's 6 users are drawn (groups of more than 8 collapse).
		{"#focus=acct-000001", map[string]string{"data-view": "focus", "data-graph-nodes": "7"}, nil},
		// u0 reaches app directly and via eng; u2 via ops and via eng → ops.
		{"#path=user-000000&to=app-0000001", map[string]string{"data-view": "path", "data-paths": "2"}, nil},
		{"#path=user-000002&to=app-0000001", map[string]string{"data-view": "path", "data-paths": "2"}, nil},
		{"#path=user-000005&to=app-0000001", map[string]string{"data-view": "path", "data-paths": "0"}, nil},
		// The role: u3 directly, u2 via ops.
		{"#who=role-000001", map[string]string{"data-view": "who", "data-holders": "2", "data-list-rows": "2"}, nil},
		// The app: u0 directly and via eng, u1 via eng, u2 via ops and eng → ops.
		{"#who=app-0000001", map[string]string{"data-view": "who", "data-holders": "3"}, nil},
	}
	for _, c := range cases {
		t.Run(strings.TrimPrefix(c.fragment, "#"), func(t *testing.T) {
			err := chromedp.Do(ctx, chromedp.Navigate("about:blank"), chromedp.Navigate("file://"+file+c.fragment),
				chromedp.WaitVisible(chromedp.CSS(`body[data-ready="1"]`)))
			if err != nil {
				t.Fatal(err)
			}
			bodyTag, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.outerHTML.slice(0, document.body.outerHTML.indexOf(">") + 1)`))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(bodyTag, `data-errors="0"`) {
				errs, _ := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS("#errors")))
				t.Fatalf("page errors: %s %s", bodyTag, errs)
			}
			for k, v := range c.want {
				if !strings.Contains(bodyTag, k+`="`+v+`"`) {
					t.Errorf("want %s=%q in %s", k, v, bodyTag)
				}
			}
			if len(c.props) > 0 {
				rows, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.prototype.map.call(document.querySelectorAll("#props tr"), function (tr) { return tr.cells[0].textContent + " " + tr.cells[1].textContent; })`))
				if err != nil {
					t.Fatal(err)
				}
				for _, want := range c.props {
					if !slices.Contains(rows, want) {
						t.Errorf("properties lack %q: %q", want, rows)
					}
				}
			}
		})
	}
}

// TestEmptyGraph: a collection with nothing in it still makes a page, with
// the declared types in the type view.
func TestEmptyGraph(t *testing.T) {
	p, page := build(t, &memSource{}, Options{Title: "empty", Declared: []DeclaredType{{Type: "x_user", Class: []string{"User"}}}})
	if st := p.Stats(); st.Entities != 0 || st.Relationships != 0 || st.EntityTypes != 1 {
		t.Fatalf("stats %+v", st)
	}
	var d decoded
	if err := json.Unmarshal([]byte(scriptBlock(t, page, "graph-data")), &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Types) != 1 || d.Types[0].Count != 0 || d.Keys == nil || d.Edges == nil || d.Rels == nil {
		t.Fatalf("data %+v", d)
	}
}

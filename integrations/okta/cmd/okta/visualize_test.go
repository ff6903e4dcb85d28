package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/stepgraph/stepgraph/integrations/okta"
	"github.com/stepgraph/stepgraph/integrations/okta/oktafake"
	"github.com/stepgraph/stepgraph/sdk/cli"
	"github.com/stepgraph/stepgraph/sdk/graph"
	"github.com/stepgraph/stepgraph/sdk/store"
)

// collectFake collects an oktafake org of the given size into a fresh
// folder and returns it. Rate limits are sized so high that the client's
// pacer stands aside: the test is about the output, not pacing.
func collectFake(t testing.TB, users int) string {
	t.Helper()
	org := oktafake.NewOrg(oktafake.OrgSpec{Users: users, Seed: 1, Now: oktafake.DefaultNow})
	srv, err := oktafake.Start(org, oktafake.ServerOptions{
		DisableRateLimits: true, LimitScale: 1 << 20, Window: time.Second, ObjectBaseURL: fakeOrgURL,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	out := filepath.Join(t.TempDir(), "collection")
	col := okta.NewCollector(okta.Options{BaseURL: srv.URL})
	var stderr bytes.Buffer
	off := false
	app := &cli.App[okta.Config]{
		Integration: col.Integration(),
		Program:     "okta",
		LookupEnv: func(k string) (string, bool) {
			switch k {
			case "OKTA_ORG_URL":
				return fakeOrgURL, true
			case "OKTA_API_KEY":
				return oktafake.DefaultToken, true
			}
			return "", false
		},
		Stdout: io.Discard, Stderr: &stderr, Terminal: &off, NoSignals: true,
	}
	if code := app.Main(context.Background(), []string{"collect", "--output", out, "--progress", "off", "--env-file", ""}); code != cli.ExitOK {
		t.Fatalf("collect %d users: exit %d\n%s", users, code, stderr.String())
	}
	return out
}

// collectDemo collects the bundled 200-user fake, as `okta collect` does
// with no org configured.
func collectDemo(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "demo")
	var stderr bytes.Buffer
	t.Chdir(t.TempDir()) // no .env here
	if code := run(context.Background(), []string{"collect", "--output", out, "--progress", "off", "--env-file", ""}, noEnv, io.Discard, &stderr); code != cli.ExitOK {
		t.Fatalf("collect: exit %d: %s", code, stderr.String())
	}
	return out
}

// truth is what the collection says, computed from its files, to compare
// the page's answers with.
type truth struct {
	types      map[string]int      // entity _type -> count
	typeOf     map[string]string   // key -> _type
	names      map[string]string   // key -> displayName
	members    map[string][]string // group key -> user keys
	userGroups map[string][]string // user key -> group keys
	userApps   map[[2]string]bool  // (user, app) direct assignments
	groupApps  map[[2]string]bool  // (group, app)
	userRoles  map[string][]string // role key -> user keys
	groupRoles map[string][]string // role key -> group keys
	degree     map[string]int
}

func readTruth(t *testing.T, root string) *truth {
	t.Helper()
	dir, err := store.OpenDir(root)
	if err != nil {
		t.Fatal(err)
	}
	tr := &truth{types: map[string]int{}, typeOf: map[string]string{}, names: map[string]string{}, members: map[string][]string{}, userGroups: map[string][]string{},
		userApps: map[[2]string]bool{}, groupApps: map[[2]string]bool{}, userRoles: map[string][]string{}, groupRoles: map[string][]string{}, degree: map[string]int{}}
	ctx := context.Background()
	for _, typ := range dir.EntityTypes() {
		if err := dir.IterateEntities(ctx, typ, func(e *graph.Entity) error {
			tr.types[typ]++
			tr.names[e.Key] = e.DisplayName
			tr.typeOf[e.Key] = typ
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	for _, typ := range dir.RelationshipTypes() {
		if err := dir.IterateRelationships(ctx, typ, func(r *graph.Relationship) error {
			if r.Mapping != nil {
				tr.degree[r.Mapping.SourceEntityKey]++
				return nil
			}
			tr.degree[r.FromKey]++
			tr.degree[r.ToKey]++
			switch typ {
			case "okta_group_has_user":
				tr.members[r.FromKey] = append(tr.members[r.FromKey], r.ToKey)
				tr.userGroups[r.ToKey] = append(tr.userGroups[r.ToKey], r.FromKey)
			case "okta_user_assigned_application":
				tr.userApps[[2]string{r.FromKey, r.ToKey}] = true
			case "okta_group_assigned_application":
				tr.groupApps[[2]string{r.FromKey, r.ToKey}] = true
			case "okta_user_assigned_role":
				tr.userRoles[r.ToKey] = append(tr.userRoles[r.ToKey], r.FromKey)
			case "okta_user_group_assigned_role":
				tr.groupRoles[r.ToKey] = append(tr.groupRoles[r.ToKey], r.FromKey)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	return tr
}

// paths returns how user reaches app: "direct" and/or the groups.
func (tr *truth) paths(user, app string) (direct bool, groups []string) {
	direct = tr.userApps[[2]string{user, app}]
	for _, g := range tr.userGroups[user] {
		if tr.groupApps[[2]string{g, app}] {
			groups = append(groups, g)
		}
	}
	return direct, groups
}

// pickUserApp finds a user reaching an application both directly and
// through a group when the org has one, else through the most groups.
func (tr *truth) pickUserApp() (user, app string) {
	best := -1
	for u, gs := range tr.userGroups {
		seen := map[string]bool{}
		for _, g := range gs {
			for ga := range tr.groupApps {
				if ga[0] != g || seen[ga[1]] {
					continue
				}
				seen[ga[1]] = true
				d, via := tr.paths(u, ga[1])
				score := len(via)
				if d {
					score += 100
				}
				if score > best || score == best && u+ga[1] < user+app {
					best, user, app = score, u, ga[1]
				}
			}
		}
	}
	return user, app
}

// holders returns the users that hold a role, directly or through a group.
func (tr *truth) holders(role string) map[string]bool {
	out := map[string]bool{}
	for _, u := range tr.userRoles[role] {
		out[u] = true
	}
	for _, g := range tr.groupRoles[role] {
		for _, u := range tr.members[g] {
			out[u] = true
		}
	}
	return out
}

func (tr *truth) pickRole() string {
	best, role := -1, ""
	for r := range tr.groupRoles {
		if n := len(tr.holders(r)); n > best || n == best && r < role {
			best, role = n, r
		}
	}
	return role
}

func chromiumPath(t *testing.T) string {
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Skip("chromium not installed (.ci/run installs it)")
	return ""
}

// browser starts headless Chromium with the flags this machine needs
// (no sandbox as root, no background networking on a closed network).
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1500, 900))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx)
	ctx, cancelC := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() { cancelC(); cancelB(); cancelA() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// attr reads an attribute of <body>.
func attr(t *testing.T, ctx context.Context, name string) string {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS("body"), name))
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return v.Value
}

func attrInt(t *testing.T, ctx context.Context, name string) int {
	t.Helper()
	n, err := strconv.Atoi(attr(t, ctx, name))
	if err != nil {
		t.Fatalf("body[%s]: %v", name, err)
	}
	return n
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// clickNode clicks the rendered position of a cytoscape node with the
// mouse, as a person would.
func clickNode(t *testing.T, ctx context.Context, id string) {
	t.Helper()
	pos := eval[[]float64](t, ctx, fmt.Sprintf(`(function(){
		var n = graphview.cy.getElementById(%q); if (!n.length) { return []; }
		var r = document.getElementById("cy").getBoundingClientRect(), p = n.renderedPosition();
		return [r.left + p.x, r.top + p.y]; })()`, id))
	if len(pos) != 2 {
		t.Fatalf("no node %s in the picture", id)
	}
	if err := chromedp.Do(ctx, chromedp.MouseClickXY(pos[0], pos[1])); err != nil {
		t.Fatal(err)
	}
}

// choose picks the object key in the results of the picker input id, as
// a mouse press on its row does. The rows are rebuilt after every keystroke
// (and, for large graphs, after a pause), so a row found by one query can
// be gone when the next action reaches it: finding the row and pressing it
// happen in one evaluation, repeated until the picker holds the key.
func choose(t *testing.T, ctx context.Context, id, key string) {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	expr := fmt.Sprintf(`(function(){
		var input = document.getElementById(%q);
		var li = document.querySelector("#" + %q + "-results li[data-key=\"" + %q + "\"]");
		if (li && input.getAttribute("data-key") !== %q) {
			li.dispatchEvent(new MouseEvent("mousedown", {bubbles: true, cancelable: true}));
		}
		return input.getAttribute("data-key") === %q; })()`, id, id, key, key, key)
	if _, err := chromedp.Run(wctx, chromedp.Poll[bool](expr)); err != nil {
		t.Fatalf("choose %s in #%s: %v", key, id, err)
	}
}

// waitFor waits until a CSS selector matches.
func waitFor(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(wctx, chromedp.WaitVisible(chromedp.CSS(sel))); err != nil {
		t.Fatalf("wait for %s: %v (view %q, selected %q, list rows %q, crumb %q)", sel, err, attr(t, ctx, "data-view"), attr(t, ctx, "data-selected"),
			attr(t, ctx, "data-list-rows"), eval[string](t, ctx, `document.getElementById("crumb").textContent`))
	}
}

func noErrors(t *testing.T, ctx context.Context) {
	t.Helper()
	if n := attr(t, ctx, "data-errors"); n != "0" {
		text, _ := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS("#errors")))
		t.Fatalf("page errors: %s\n%s", n, text)
	}
}

// screenshot saves the viewport as docs/images/<name>.png when
// STEPGRAPH_SCREENSHOTS names a folder.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("STEPGRAPH_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestVisualizeInBrowser drives the visualize page of the 200-user demo and
// of a 10,000-user oktafake collection in headless Chromium: type view,
// a click on a type, search, a neighbourhood (1 and 2 hops, a collapsed
// group expanded), a user-to-application path and who holds a role,
// each answer checked against the collection's files. It logs the page's
// size and load time (a measurement, not an assertion).
func TestVisualizeInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	chromiumPath(t)
	for _, tc := range []struct {
		name  string
		users int
	}{{"demo200", 200}, {"users10000", 10000}} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.users > 1000 && raceEnabled {
				t.Skip("under -race the collection takes minutes; .ci/run runs this case without -race")
			}
			var root string
			if tc.users == 200 {
				root = collectDemo(t)
			} else {
				root = collectFake(t, tc.users)
			}
			file := filepath.Join(t.TempDir(), "graph.html")
			var stdout, stderr bytes.Buffer
			title := fmt.Sprintf("okta — oktafake org, %s users", fmtThousands(tc.users))
			if code := run(context.Background(), []string{"visualize", "--output", root, "--file", file, "--title", title}, noEnv, &stdout, &stderr); code != cli.ExitOK {
				t.Fatalf("visualize: exit %d: %s", code, stderr.String())
			}
			st, err := os.Stat(file)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d users: page %d bytes (%.1f MiB); %s", tc.users, st.Size(), float64(st.Size())/(1<<20), strings.TrimSpace(stdout.String()))
			checkPage(t, browser(t), "file://"+file, readTruth(t, root), tc.users)
		})
	}
}

func checkPage(t *testing.T, ctx context.Context, url string, tr *truth, users int) {
	// Every view of the demo, the first view and a neighbourhood at 10,000.
	shot := func(name string) {
		switch {
		case users == 200:
			screenshot(t, ctx, name)
		case name == "visualize-types" || name == "visualize-focus-2hops":
			screenshot(t, ctx, strings.Replace(name, "visualize-", "visualize-10k-", 1))
		}
	}
	// Load.
	start := time.Now()
	if err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS(`body[data-ready="1"]`))); err != nil {
		t.Fatalf("load: %v", err)
	}
	wall := time.Since(start)
	t.Logf("%d users: loaded in %d ms by the page's clock (navigation start to first view drawn), %d ms navigate-to-ready seen by the test (machine shared)",
		users, attrInt(t, ctx, "data-load-ms"), wall.Milliseconds())
	noErrors(t, ctx)

	// Type view: one node per type; the okta_user node counts the users.
	if v := attr(t, ctx, "data-view"); v != "types" {
		t.Fatalf("first view %q, want types", v)
	}
	nTypes := eval[int](t, ctx, `graphview.cy.nodes().length`)
	if nTypes < len(tr.types) || nTypes > len(tr.types)+3 {
		t.Errorf("type view: %d nodes for %d collected types", nTypes, len(tr.types))
	}
	label := eval[string](t, ctx, `graphview.cy.nodes().filter(function(n){return n.data("label").indexOf("okta_user\n")===0;}).data("label")`)
	if want := "okta_user\n" + fmtThousands(tr.types["okta_user"]); label != want {
		t.Errorf("okta_user type node label %q, want %q", label, want)
	}
	edgeLabels := eval[[]string](t, ctx, `graphview.cy.edges().map(function(e){return e.source().data("label").split("\n")[0]+" "+e.data("label")+" "+e.target().data("label").split("\n")[0];})`)
	groupHasUser := 0
	for g, us := range tr.members {
		if tr.typeOf[g] == "okta_user_group" {
			groupHasUser += len(us)
		}
	}
	wantEdge := "okta_user_group HAS " + fmtThousands(groupHasUser) + " okta_user"
	if !contains(edgeLabels, wantEdge) {
		t.Errorf("type edges %q lack %q", edgeLabels, wantEdge)
	}
	shot("visualize-types")

	// A click on the okta_user type lists every user.
	clickNode(t, ctx, "t"+strconv.Itoa(eval[int](t, ctx, `(function(){var i=-1;graphview.cy.nodes().forEach(function(n){if(n.data("label").indexOf("okta_user\n")===0){i=n.data("typeIdx");}});return i;})()`)))
	waitFor(t, ctx, `body[data-list-rows="`+strconv.Itoa(tr.types["okta_user"])+`"]`)
	shot("visualize-type-list")

	// Search by email: the user's focus view opens with its neighbours.
	user, app := tr.pickUserApp()
	if user == "" {
		t.Fatal("the org has no user reaching an application through a group")
	}
	email := tr.names[user]
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#search")), chromedp.SendKeys(chromedp.CSS("#search"), email)); err != nil {
		t.Fatal(err)
	}
	// Enter takes the highlighted row: wait until that is the user (an
	// earlier keystroke's rows may list the user further down).
	waitFor(t, ctx, `#search-results li.hi[data-key="`+user+`"]`)
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#search"), "\r")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `body[data-view="focus"][data-selected="`+user+`"]`)
	if got, want := attrInt(t, ctx, "data-list-rows"), tr.degree[user]; got != want {
		t.Errorf("neighbour table of %s: %d rows, want %d", email, got, want)
	}
	oneHop := attrInt(t, ctx, "data-graph-nodes")
	timings := []string{fmt.Sprintf("focus (1 hop, %d nodes) %s ms", oneHop, attr(t, ctx, "data-render-ms"))}
	shot("visualize-focus")

	// Two hops: more nodes, the big groups collapsed into counted nodes.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#hops-2"))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `#hops-2.active`)
	twoHops := attrInt(t, ctx, "data-graph-nodes")
	timings = append(timings, fmt.Sprintf("2 hops (%d nodes) %s ms", twoHops, attr(t, ctx, "data-render-ms")))
	if twoHops <= oneHop {
		t.Errorf("2 hops drew %d nodes, 1 hop %d", twoHops, oneHop)
	}
	// Expand the collapsed members of one of the user's groups.
	g := tr.userGroups[user][0]
	for _, cand := range tr.userGroups[user] {
		if n := len(tr.members[cand]); n > 8 && n < len(tr.members[g]) || len(tr.members[g]) <= 8 {
			g = cand
		}
	}
	grp := eval[string](t, ctx, fmt.Sprintf(`(function(){var id="";graphview.cy.nodes(".group").forEach(function(n){if(n.id().indexOf("g2:"+%q.replace("e","")+":okta_group_has_user>")===0){id=n.id();}});return id;})()`, "e"+eval[string](t, ctx, fmt.Sprintf(`String(graphview.cy.nodes().filter(function(n){return n.data("key")===%q;}).data("ent"))`, g))))
	if grp == "" {
		t.Fatalf("no collapsed member group for %s (%d members)", g, len(tr.members[g]))
	}
	shot("visualize-focus-2hops")
	clickNode(t, ctx, grp)
	waitFor(t, ctx, "#act-expand")
	// The collapsed node lists the group's members that are not drawn yet.
	listed := eval[[]string](t, ctx, `Array.prototype.map.call(document.querySelectorAll("#list tbody tr td:nth-child(4)"), function(td){return td.textContent;})`)
	drawn := eval[[]string](t, ctx, `graphview.cy.nodes().map(function(n){return n.data("key")||"";})`)
	union := map[string]bool{}
	for _, k := range append(listed, drawn...) {
		union[k] = true
	}
	for _, m := range tr.members[g] {
		if !union[m] {
			t.Errorf("member %s of %s is neither drawn nor listed", m, tr.names[g])
		}
	}
	isMember := map[string]bool{}
	for _, m := range tr.members[g] {
		isMember[m] = true
	}
	for _, k := range listed {
		if !isMember[k] {
			t.Errorf("%s listed as a member of %s", k, tr.names[g])
		}
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#act-expand"))); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](fmt.Sprintf(`+document.body.getAttribute("data-graph-nodes") > %d`, twoHops))); err != nil {
		t.Fatalf("expanding %s: %v", grp, err)
	}
	noErrors(t, ctx)

	// Path: back to one hop, click the application, ask how the user reaches it.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#hops-1"))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `#hops-1.active`)
	appNode := eval[string](t, ctx, fmt.Sprintf(`graphview.cy.nodes().filter(function(n){return n.data("key")===%q;}).id()`, app))
	if appNode == "" {
		// Reached only through groups: the application is two hops away.
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#hops-2"))); err != nil {
			t.Fatal(err)
		}
		waitFor(t, ctx, `#hops-2.active`)
		appNode = eval[string](t, ctx, fmt.Sprintf(`graphview.cy.nodes().filter(function(n){return n.data("key")===%q;}).id()`, app))
	}
	clickNode(t, ctx, appNode)
	waitFor(t, ctx, `body[data-selected="`+app+`"]`)
	waitFor(t, ctx, "#act-reach")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#act-reach"))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `body[data-view="path"]`)
	direct, via := tr.paths(user, app)
	want := len(via)
	if direct {
		want++
	}
	if got := attrInt(t, ctx, "data-paths"); got != want {
		t.Errorf("paths %s -> %s: page shows %d, collection has %d (direct %v, groups %d)", email, tr.names[app], got, want, direct, len(via))
	}
	rows, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS("#list tbody")))
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range via {
		if !strings.Contains(rows, "via "+tr.names[g]) {
			t.Errorf("path table lacks the route via %s:\n%s", tr.names[g], rows)
		}
	}
	if direct != strings.Contains(rows, "direct") {
		t.Errorf("path table direct=%v:\n%s", direct, rows)
	}
	timings = append(timings, fmt.Sprintf("path %s ms", attr(t, ctx, "data-render-ms")))
	shot("visualize-path")

	// Who has a role (held directly and through groups), via the path bar.
	role := tr.pickRole()
	if role == "" {
		t.Fatal("no group-assigned role in the org")
	}
	eval[string](t, ctx, `document.getElementById("path-to").value = ""`)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#path-to")),
		chromedp.SendKeys(chromedp.CSS("#path-to"), tr.names[role])); err != nil {
		t.Fatal(err)
	}
	choose(t, ctx, "path-to", role)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#who-go"))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `body[data-view="who"]`)
	if got, want := attrInt(t, ctx, "data-holders"), len(tr.holders(role)); got != want {
		t.Errorf("who has %s: page says %d users, collection %d", tr.names[role], got, want)
	}
	timings = append(timings, fmt.Sprintf("who has (%d holders) %s ms", len(tr.holders(role)), attr(t, ctx, "data-render-ms")))
	shot("visualize-who")
	noErrors(t, ctx)
	t.Logf("%d users: views drawn in (page's clock, view and lists): %s", users, strings.Join(timings, ", "))
}

func contains(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

// fmtThousands formats n as the page does (en-US grouping).
func fmtThousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

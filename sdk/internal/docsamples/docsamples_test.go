package docsamples

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/doc/comment"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// sample is one code block of the documentation.
type sample struct {
	where   string // file:line of the block's first code line
	file    string // the document, relative to the module root
	line    int    // line of the first code line in file
	code    string
	marker  string // "excerpt", "fragment", "declare" or ""
	arg     string // the marker's argument (path, reason, declarations)
	pkgDocs bool   // from a package doc comment
}

// stdNames are the standard packages a sample may use without importing.
var stdNames = map[string]string{
	"bytes": "bytes", "context": "context", "errors": "errors", "fmt": "fmt", "io": "io", "iter": "iter",
	"log": "log", "maps": "maps", "os": "os", "slices": "slices", "sort": "sort", "strconv": "strconv",
	"strings": "strings", "sync": "sync", "testing": "testing", "time": "time",
	"http": "net/http", "url": "net/url", "slog": "log/slog", "json": "encoding/json",
	"filepath": "path/filepath", "signal": "os/signal",
}

// TestDocSamplesCompile type-checks every Go sample of README.md,
// docs/*.md and the package docs (see the package doc for the rules).
func TestDocSamplesCompile(t *testing.T) {
	root := moduleRoot(t)
	samples := markdownSamples(t, root)
	samples = append(samples, packageDocSamples(t, root)...)
	var checked, excerpts, fragments int
	for _, s := range samples {
		switch s.marker {
		case "fragment":
			fragments++
		case "excerpt":
			excerpts++
		default:
			checked++
		}
	}
	// A guard against the extraction silently finding nothing.
	if checked < 10 || excerpts < 8 {
		t.Fatalf("found %d samples to compile and %d excerpts; the extraction is broken", checked, excerpts)
	}
	t.Logf("%d samples type-checked, %d excerpts, %d fragments", checked, excerpts, fragments)

	env := loadEnv(t, root)
	for _, s := range samples {
		switch s.marker {
		case "fragment":
			if strings.TrimSpace(s.arg) == "" {
				t.Errorf("%s: a fragment marker needs a reason: <!-- fragment: why it does not compile -->", s.where)
			}
		case "excerpt":
			checkExcerpt(t, root, s)
		default:
			if err := env.check(s); err != nil {
				t.Errorf("%s: the sample does not compile:\n%v\n--- sample:\n%s", s.where, err, s.code)
			}
		}
	}
}

// TestCheckRejectsBrokenSamples: the checker is not a rubber stamp.
func TestCheckRejectsBrokenSamples(t *testing.T) {
	env := loadEnv(t, moduleRoot(t))
	for _, tt := range []struct {
		name, code, declare string
		ok                  bool
	}{
		{name: "statements", code: "st := store.NewMemory()\nfmt.Println(st.EntityTypes())", ok: true},
		{name: "unused variable in statements", code: "db, err := os.Open(\"x\")\n_ = db", ok: true},
		{name: "declarations", code: "var fetch = integration.Step[struct{}]{ID: \"fetch\"}", ok: true},
		{name: "declared names", code: "c := sdktest.Run(t, integ, cfg, sdktest.RunOptions{})\n_ = c",
			declare: "var integ *integration.Integration[teamdir.Config]\nvar cfg *teamdir.Config", ok: true},
		{name: "whole file", code: "package main\n\nfunc main() { fmt.Println(runtime.StatusSuccess) }", ok: true},
		{name: "removed API", code: "var s store.Summary", ok: false},
		{name: "wrong field", code: "_ = cli.App[struct{}]{Nope: 1}", ok: false},
		{name: "undeclared name", code: "c := sdktest.Run(t, integ, cfg, sdktest.RunOptions{})\n_ = c", ok: false},
		{name: "wrong arguments", code: "graphdiff.Diff(ctx, nil)", ok: false},
		{name: "not Go", code: "var x = ", ok: false},
	} {
		err := env.check(sample{where: tt.name, code: tt.code, arg: tt.declare, marker: map[bool]string{true: "declare"}[tt.declare != ""]})
		if (err == nil) != tt.ok {
			t.Errorf("%s: check = %v, want ok %v", tt.name, err, tt.ok)
		}
	}
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}

var (
	fenceRe  = regexp.MustCompile("^\\s*```")
	markerRe = regexp.MustCompile(`(?s)<!--\s*(excerpt|fragment|declare):(.*?)-->\s*$`)
)

// markdownSamples returns the ```go blocks of README.md and docs/*.md with
// the marker comment right above each.
func markdownSamples(t *testing.T, root string) []sample {
	files := []string{"README.md"}
	docs, _ := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	for _, d := range docs {
		rel, _ := filepath.Rel(root, d)
		files = append(files, rel)
	}
	var out []sample
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(b), "\n")
		for i := 0; i < len(lines); i++ {
			if !fenceRe.MatchString(lines[i]) {
				continue
			}
			lang := strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(lines[i]), "`"))
			indent := lines[i][:len(lines[i])-len(strings.TrimLeft(lines[i], " \t"))]
			start := i + 1
			j := start
			for j < len(lines) && !fenceRe.MatchString(lines[j]) {
				j++
			}
			if lang == "go" {
				var code []string
				for _, l := range lines[start:j] {
					code = append(code, strings.TrimPrefix(l, indent))
				}
				s := sample{where: fmt.Sprintf("%s:%d", f, start+1), file: f, line: start + 1, code: strings.Join(code, "\n")}
				// The marker is the HTML comment ending on the line above.
				above := strings.Join(lines[max(0, i-20):i], "\n")
				if k := strings.LastIndex(above, "<!--"); k >= 0 {
					if m := markerRe.FindStringSubmatch(above[k:]); m != nil {
						s.marker, s.arg = m[1], strings.TrimSpace(m[2])
					}
				}
				out = append(out, s)
			}
			i = j
		}
	}
	return out
}

// packageDocSamples returns the code blocks of every package doc comment
// that parse as Go; a block that does not but looks like Go is an error.
func packageDocSamples(t *testing.T, root string) []sample {
	var out []sample
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ParseComments|parser.PackageClauseOnly)
		if err != nil || f.Doc == nil {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		var p comment.Parser
		for _, blk := range p.Parse(f.Doc.Text()).Content {
			code, ok := blk.(*comment.Code)
			if !ok {
				continue
			}
			s := sample{where: rel + " (package doc)", file: rel, code: code.Text, pkgDocs: true}
			if _, _, _, perr := parseSample(s); perr != nil {
				if looksLikeGo(code.Text) {
					t.Errorf("%s: this code block looks like Go but does not parse: %v\n%s", s.where, perr, code.Text)
				}
				continue
			}
			out = append(out, s)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func looksLikeGo(s string) bool {
	for _, w := range []string{":=", "func(", "func ", "&", "package "} {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// checkExcerpt: the block's lines, trimmed and without blank lines, appear
// in that order, contiguously, in the file it names.
func checkExcerpt(t *testing.T, root string, s sample) {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(root, s.arg))
	if err != nil {
		t.Errorf("%s: excerpt of %s: %v", s.where, s.arg, err)
		return
	}
	norm := func(s string) string {
		var out []string
		for _, l := range strings.Split(s, "\n") {
			if l = strings.TrimSpace(l); l != "" {
				out = append(out, l)
			}
		}
		return "\n" + strings.Join(out, "\n") + "\n"
	}
	if !strings.Contains(norm(string(src)), norm(s.code)) {
		t.Errorf("%s: this excerpt is not in %s:\n%s", s.where, s.arg, s.code)
	}
}

// env type-checks samples against export data of the module's packages.
type env struct {
	names   map[string]string // package name -> import path
	exports map[string]string // import path -> export data file
	imp     types.Importer
	fset    *token.FileSet
}

func loadEnv(t *testing.T, root string) *env {
	t.Helper()
	cmd := exec.Command("go", "list", "-e", "-export", "-deps", "-f", "{{.ImportPath}}\t{{.Name}}\t{{.Export}}\t{{.Standard}}\t{{.Module}}", "./...")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -export: %v\n%s", err, stderr.String())
	}
	e := &env{names: map[string]string{}, exports: map[string]string{}, fset: token.NewFileSet()}
	ambiguous := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) < 5 {
			continue
		}
		path, name, export, mod := f[0], f[1], f[2], f[4]
		if export != "" {
			e.exports[path] = export
		}
		if name == "main" || !strings.HasPrefix(mod, "github.com/stepgraph/stepgraph") || strings.Contains(path, "/internal/") {
			continue
		}
		if other, ok := e.names[name]; ok && other != path {
			ambiguous[name] = true
		}
		e.names[name] = path
	}
	for n := range ambiguous {
		delete(e.names, n)
	}
	for n, p := range stdNames {
		e.names[n] = p
	}
	e.imp = importer.ForCompiler(e.fset, "gc", func(path string) (io.ReadCloser, error) {
		f, ok := e.exports[path]
		if !ok {
			return nil, fmt.Errorf("no export data for %s", path)
		}
		return os.Open(f)
	})
	return e
}

// parseSample turns a sample into a file: the sample itself when it is a
// whole file, else its declarations, else its statements in a function.
// It returns the source, the number of lines before the sample's first
// line, and whether the sample is statements (where an unused variable is
// tolerated: a sample shows a call, not what follows it).
func parseSample(s sample) (src string, offset int, stmts bool, err error) {
	// Declared names go after the sample, where they change no line
	// number and any sample may have top-level declarations.
	decl := ""
	if s.marker == "declare" {
		decl = "\n" + s.arg + "\n"
	}
	if strings.HasPrefix(strings.TrimSpace(s.code), "package ") {
		src = s.code + decl
		return src, 0, false, parseOnly(src)
	}
	src = "package sample\n" + s.code + "\n" + decl
	if err = parseOnly(src); err == nil {
		return src, 1, false, nil
	}
	src = "package sample\nfunc _() {\n" + s.code + "\n}\n" + decl
	if err2 := parseOnly(src); err2 == nil {
		return src, 2, true, nil
	}
	return "", 0, false, err
}

func parseOnly(src string) error {
	_, err := parser.ParseFile(token.NewFileSet(), "sample.go", src, parser.SkipObjectResolution)
	return err
}

// check type-checks one sample.
func (e *env) check(s sample) error {
	src, offset, stmts, err := parseSample(s)
	if err != nil {
		return err
	}
	// Declare ctx and t unless the sample does, and import every package
	// it names that it neither imports nor declares.
	f, err := parser.ParseFile(token.NewFileSet(), "sample.go", src, parser.SkipObjectResolution)
	if err != nil {
		return err
	}
	declared := declaredNames(f)
	imported := map[string]bool{}
	for _, im := range f.Imports {
		p := strings.Trim(im.Path.Value, `"`)
		n := p[strings.LastIndex(p, "/")+1:]
		if im.Name != nil {
			n = im.Name.Name
		}
		imported[n] = true
	}
	var wanted []string
	for _, n := range selectorRoots(f) {
		if p, ok := e.names[n]; ok && !declared[n] && !imported[n] {
			wanted = append(wanted, fmt.Sprintf("%s %q", n, p))
		}
	}
	var prelude []string
	if !declared["ctx"] {
		prelude = append(prelude, "var ctx context.Context")
		if !imported["context"] && !slices.Contains(wanted, `context "context"`) {
			wanted = append(wanted, `context "context"`)
		}
	}
	if !declared["t"] {
		prelude = append(prelude, "var t *testing.T")
		if !imported["testing"] && !slices.Contains(wanted, `testing "testing"`) {
			wanted = append(wanted, `testing "testing"`)
		}
	}
	// Imports go on the package clause's line and the prelude after the
	// sample, so line numbers stay those of the sample.
	pkgEnd := e.lineEnd(src, f.Name.End())
	for range 3 {
		imports := ""
		if len(wanted) > 0 {
			imports = "; import (" + strings.Join(wanted, "; ") + ")"
		}
		full := src[:pkgEnd] + imports + src[pkgEnd:] + "\n" + strings.Join(prelude, "\n") + "\n"
		var errs []error
		unusedImports := map[string]bool{}
		conf := types.Config{Importer: e.imp, Error: func(err error) {
			te, ok := err.(types.Error)
			msg := err.Error()
			if ok {
				msg = te.Msg
			}
			if stmts && strings.Contains(msg, "declared and not used") {
				return
			}
			if strings.Contains(msg, "imported and not used") {
				for _, w := range wanted {
					if strings.Contains(msg, strings.SplitN(w, " ", 2)[1]) {
						unusedImports[w] = true
						return
					}
				}
			}
			if ok {
				pos := te.Fset.Position(te.Pos)
				msg = fmt.Sprintf("sample line %d: %s", pos.Line-offset, msg)
			}
			errs = append(errs, errors.New(msg))
		}}
		fset := token.NewFileSet()
		ff, err := parser.ParseFile(fset, "sample.go", full, 0)
		if err != nil {
			return fmt.Errorf("with imports: %w", err)
		}
		_, _ = conf.Check("sample", fset, []*ast.File{ff}, nil)
		if len(unusedImports) > 0 && len(errs) > 0 {
			// A name the sample declares locally shadowed a package:
			// drop those imports and check again.
			wanted = slices.DeleteFunc(wanted, func(w string) bool { return unusedImports[w] })
			continue
		}
		return errors.Join(errs...)
	}
	return errors.New("could not settle the imports")
}

// lineEnd returns the offset in src of the end of the line holding pos.
func (e *env) lineEnd(src string, pos token.Pos) int {
	i := int(pos) - 1 // files parsed alone start at base 1
	for i < len(src) && src[i] != '\n' {
		i++
	}
	return i
}

// declaredNames returns every name the file declares, at any level.
func declaredNames(f *ast.File) map[string]bool {
	out := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.AssignStmt:
			if n.Tok == token.DEFINE {
				for _, l := range n.Lhs {
					if id, ok := l.(*ast.Ident); ok {
						out[id.Name] = true
					}
				}
			}
		case *ast.ValueSpec:
			for _, id := range n.Names {
				out[id.Name] = true
			}
		case *ast.TypeSpec:
			out[n.Name.Name] = true
		case *ast.FuncDecl:
			out[n.Name.Name] = true
		case *ast.Field:
			for _, id := range n.Names {
				out[id.Name] = true
			}
		case *ast.RangeStmt:
			for _, x := range []ast.Expr{n.Key, n.Value} {
				if id, ok := x.(*ast.Ident); ok && n.Tok == token.DEFINE {
					out[id.Name] = true
				}
			}
		}
		return true
	})
	return out
}

// selectorRoots returns the sorted identifiers X of the file's X.Sel
// expressions: the candidate package names.
func selectorRoots(f *ast.File) []string {
	seen := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		if se, ok := n.(*ast.SelectorExpr); ok {
			if id, ok := se.X.(*ast.Ident); ok {
				seen[id.Name] = true
			}
		}
		return true
	})
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

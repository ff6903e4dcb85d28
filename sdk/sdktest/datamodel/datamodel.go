// Package datamodel runs JupiterOne's own data model package
// (@jupiterone/data-model, on npm) from Go tests: it validates entities with
// the package's validateEntityWithSchema, in node, and locates the
// package's JSON schema files, so a test checks output and class schemas
// against the data model itself rather than against a reading of it.
//
// Load finds the package in the directory named by STEPGRAPH_DATAMODEL_DIR
// (a node_modules directory, or a directory holding one), else in
// .ci/datamodel/node_modules of the enclosing repository (.ci/run installs
// it there with npm ci), else installs .ci/datamodel's pinned lockfile into
// a temporary directory with npm. Without node and npm the test is skipped
// with a message saying so — unless STEPGRAPH_REQUIRE_DATAMODEL is set (CI
// sets it), which makes it fail instead.
package datamodel

import (
	"bufio"
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stepgraph/stepgraph/sdk/graph"
)

// Name is the npm package.
const Name = "@jupiterone/data-model"

// Environment variables Load reads.
const (
	// EnvDir names a node_modules directory (or a directory holding one)
	// that has the package.
	EnvDir = "STEPGRAPH_DATAMODEL_DIR"
	// EnvRequire, when non-empty, turns a missing node or npm into a test
	// failure instead of a skip.
	EnvRequire = "STEPGRAPH_REQUIRE_DATAMODEL"
)

// lockDir is where the repository pins the package (package.json and
// package-lock.json), relative to its root.
const lockDir = ".ci/datamodel"

//go:embed validate.js
var validateJS string

// Package is an installed copy of the data model package.
type Package struct {
	// Dir is the package's directory (.../node_modules/@jupiterone/data-model).
	Dir string
	// Version is the installed version, from its package.json.
	Version string
	node    string
}

// SchemaDir returns the directory of the package's JSON schema files, one
// per class (<Class>.json).
func (p *Package) SchemaDir() string { return filepath.Join(p.Dir, "dist", "schemas") }

// Load returns the installed package, installing it when needed (see the
// package doc). It skips the test when node or npm is missing, unless
// EnvRequire is set, and fails it when the installed version is not
// graph.DataModelVersion, the version sdk/graph transcribes.
func Load(t testing.TB) *Package {
	t.Helper()
	node, nodeErr := exec.LookPath("node")
	if nodeErr != nil {
		unavailable(t, "node is not installed (%v)", nodeErr)
	}
	dir, err := find(t)
	if err != nil {
		t.Fatalf("datamodel: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		t.Fatalf("datamodel: %v", err)
	}
	var meta struct{ Version string }
	if err := json.Unmarshal(b, &meta); err != nil {
		t.Fatalf("datamodel: %s/package.json: %v", dir, err)
	}
	if meta.Version != graph.DataModelVersion {
		t.Fatalf("datamodel: %s is version %s; sdk/graph transcribes %s (pin it in %s and run npm ci --prefix %s)",
			dir, meta.Version, graph.DataModelVersion, lockDir, lockDir)
	}
	return &Package{Dir: dir, Version: meta.Version, node: node}
}

func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf("datamodel: "+format+"; the data-model check needs node and npm (it runs "+Name+"'s own validator)", args...)
	if os.Getenv(EnvRequire) != "" {
		t.Fatal(msg + " and " + EnvRequire + " is set")
	}
	t.Skip(msg)
}

// find returns the package directory: from EnvDir, the repository's
// lockDir, or a fresh npm ci of the repository's lockfile.
func find(t testing.TB) (string, error) {
	t.Helper()
	if d := os.Getenv(EnvDir); d != "" {
		for _, c := range []string{filepath.Join(d, Name), filepath.Join(d, "node_modules", Name)} {
			if fileExists(filepath.Join(c, "package.json")) {
				return c, nil
			}
		}
		return "", fmt.Errorf("%s=%s has no %s (run npm ci --prefix %s)", EnvDir, d, Name, lockDir)
	}
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	lock := filepath.Join(root, lockDir)
	if c := filepath.Join(lock, "node_modules", Name); fileExists(filepath.Join(c, "package.json")) {
		return c, nil
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		unavailable(t, "npm is not installed (%v) and %s is not installed in %s", err, Name, lock)
	}
	// Install into a directory of this test's own: tests of several
	// packages may run at once.
	tmp := t.TempDir()
	for _, f := range []string{"package.json", "package-lock.json"} {
		b, err := os.ReadFile(filepath.Join(lock, f))
		if err != nil {
			return "", err
		}
		if err := os.WriteFile(filepath.Join(tmp, f), b, 0o644); err != nil {
			return "", err
		}
	}
	cmd := exec.CommandContext(t.Context(), npm, "ci", "--no-audit", "--no-fund", "--prefix", tmp)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("npm ci of %s: %v\n%s", lock, err, out)
	}
	return filepath.Join(tmp, "node_modules", Name), nil
}

// repoRoot returns the nearest directory above the working directory that
// has lockDir.
func repoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if fileExists(filepath.Join(d, lockDir, "package-lock.json")) {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no %s/package-lock.json above %s; set %s", lockDir, wd, EnvDir)
		}
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// Failure is an entity the data model's validator rejected.
type Failure struct {
	Key, Type string
	// Message is the validator's error: the class and ajv's errors.
	Message string
}

// Validate runs the package's validateEntityWithSchema on every entity,
// in one node process, and returns the rejected ones in input order.
func (p *Package) Validate(t testing.TB, entities []*graph.Entity) []Failure {
	t.Helper()
	dir := t.TempDir()
	in := filepath.Join(dir, "entities.jsonl")
	f, err := os.Create(in)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	var buf []byte
	for _, e := range entities {
		if buf, err = e.AppendJSON(buf[:0]); err != nil {
			t.Fatalf("datamodel: encode %s: %v", e.Key, err)
		}
		w.Write(buf)
		w.WriteByte('\n')
	}
	if err := errors.Join(w.Flush(), f.Close()); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "validate.js")
	if err := os.WriteFile(script, []byte(validateJS), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(t.Context(), p.node, script, p.Dir, in)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("datamodel: node %s: %v\n%s", script, err, stderr.String())
	}
	var res struct {
		Checked  int
		Failures []Failure
	}
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("datamodel: validator output: %v\n%s", err, stdout.String())
	}
	if res.Checked != len(entities) {
		t.Fatalf("datamodel: the validator checked %d entities of %d", res.Checked, len(entities))
	}
	return res.Failures
}

// String formats a failure for a test log.
func (f Failure) String() string {
	return fmt.Sprintf("%s %q: %s", f.Type, f.Key, strings.TrimSpace(f.Message))
}

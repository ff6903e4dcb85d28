package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/stepgraph/stepgraph/sdk/graph"
)

// Dir reads a committed output folder (one written by Filesystem, or any
// JupiterOne-style .j1-integration folder). Reading streams file by file,
// so memory stays bounded by the largest graph file.
type Dir struct {
	root  string
	index *Index
}

// OpenDir opens a committed output. It uses index.json when present and
// otherwise walks graph/ and reads each file's first object for its _type.
func OpenDir(root string) (*Dir, error) {
	st, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("open collection: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("open collection: %s is not a folder", root)
	}
	d := &Dir{root: root}
	b, err := os.ReadFile(filepath.Join(root, IndexFile))
	switch {
	case err == nil:
		d.index = &Index{}
		if err := json.Unmarshal(b, d.index); err != nil {
			return nil, fmt.Errorf("open collection: %s: %w", IndexFile, err)
		}
	case errors.Is(err, fs.ErrNotExist):
		if d.index, err = walkIndex(root); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("open collection: %w", err)
	}
	return d, nil
}

func walkIndex(root string) (*Index, error) {
	idx := &Index{Entities: map[string][]IndexedFile{}, Relationships: map[string][]IndexedFile{}}
	err := filepath.WalkDir(filepath.Join(root, "graph"), func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if de.IsDir() || !strings.HasSuffix(p, ".json") {
			return nil
		}
		kind := kindEntity
		if filepath.Base(filepath.Dir(p)) == "relationships" {
			kind = kindRelationship
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		ents, rels, err := decodeGraphFile(raw, kind)
		if err != nil {
			return fmt.Errorf("decode %s: %w", p, err)
		}
		rel, _ := filepath.Rel(root, p)
		add := func(m map[string][]IndexedFile, typ string, n int) {
			m[typ] = append(m[typ], IndexedFile{Path: filepath.ToSlash(rel), Count: n})
		}
		// Files written by other tools may mix types: count per type.
		counts := map[string]int{}
		for _, e := range ents {
			counts[e.Type]++
		}
		for _, r := range rels {
			counts[r.Type]++
		}
		for t, n := range counts {
			if kind == kindEntity {
				add(idx.Entities, t, n)
			} else {
				add(idx.Relationships, t, n)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("open collection: %w", err)
	}
	return idx, nil
}

// Root returns the folder.
func (d *Dir) Root() string { return d.root }

// EntityTypes returns the entity _types present, sorted.
func (d *Dir) EntityTypes() []string { return sortedKeys(d.index.Entities) }

// RelationshipTypes returns the relationship _types present, sorted.
func (d *Dir) RelationshipTypes() []string { return sortedKeys(d.index.Relationships) }

// Count returns the number of objects of a type (entity or relationship).
func (d *Dir) Count(typ string) int {
	n := 0
	for _, f := range d.index.Entities[typ] {
		n += f.Count
	}
	for _, f := range d.index.Relationships[typ] {
		n += f.Count
	}
	return n
}

func sortedKeys(m map[string][]IndexedFile) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// SummaryJSON returns the run's summary (summary.json, the JSON document
// the run committed, see Store.Commit), or nil when the folder has none.
// runtime.ReadSummary decodes it.
func (d *Dir) SummaryJSON() (json.RawMessage, error) {
	b, err := os.ReadFile(filepath.Join(d.root, SummaryFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !json.Valid(b) {
		return nil, fmt.Errorf("%s: not a JSON document", SummaryFile)
	}
	return b, nil
}

// StepData returns the values step stepID handed over in the run that wrote
// this output (see StepDataWriter), or nil when it kept none.
func (d *Dir) StepData(stepID string) (map[string]json.RawMessage, error) {
	b, err := os.ReadFile(filepath.Join(d.root, StepDataDir, stepID+".json"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s/%s.json: %w", StepDataDir, stepID, err)
	}
	return m, nil
}

// IterateEntities calls fn for each entity of typ.
func (d *Dir) IterateEntities(ctx context.Context, typ string, fn func(*graph.Entity) error) error {
	return d.IterateStepEntities(ctx, "", typ, fn)
}

// IterateStepEntities calls fn for each entity of typ that step stepID
// wrote (every step's when stepID is "").
func (d *Dir) IterateStepEntities(ctx context.Context, stepID, typ string, fn func(*graph.Entity) error) error {
	for _, f := range d.index.Entities[typ] {
		if !ofStep(f.Path, stepID) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		raw, err := os.ReadFile(filepath.Join(d.root, filepath.FromSlash(f.Path)))
		if err != nil {
			return err
		}
		ents, _, err := decodeGraphFile(raw, kindEntity)
		if err != nil {
			return fmt.Errorf("decode %s: %w", f.Path, err)
		}
		for _, e := range ents {
			if e.Type != typ {
				continue
			}
			if err := fn(e); err != nil {
				return err
			}
		}
	}
	return nil
}

// IterateRelationships calls fn for each relationship of typ.
func (d *Dir) IterateRelationships(ctx context.Context, typ string, fn func(*graph.Relationship) error) error {
	return d.IterateStepRelationships(ctx, "", typ, fn)
}

// IterateStepRelationships calls fn for each relationship of typ that step
// stepID wrote (every step's when stepID is "").
func (d *Dir) IterateStepRelationships(ctx context.Context, stepID, typ string, fn func(*graph.Relationship) error) error {
	for _, f := range d.index.Relationships[typ] {
		if !ofStep(f.Path, stepID) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		raw, err := os.ReadFile(filepath.Join(d.root, filepath.FromSlash(f.Path)))
		if err != nil {
			return err
		}
		_, rels, err := decodeGraphFile(raw, kindRelationship)
		if err != nil {
			return fmt.Errorf("decode %s: %w", f.Path, err)
		}
		for _, r := range rels {
			if r.Type != typ {
				continue
			}
			if err := fn(r); err != nil {
				return err
			}
		}
	}
	return nil
}

// ofStep reports whether the graph file at path (graph/<step>/...) belongs
// to stepID; every file does when stepID is "".
func ofStep(path, stepID string) bool {
	return stepID == "" || strings.HasPrefix(path, "graph/"+stepID+"/")
}

// EntityFiles returns the graph files (paths relative to Root, with
// slashes) that hold entities of typ, in the order IterateEntities reads
// them. A file written by another tool may hold several types.
func (d *Dir) EntityFiles(typ string) []string { return filePaths(d.index.Entities[typ]) }

// RelationshipFiles returns the graph files (relative to Root) that hold
// relationships of typ, in the order IterateRelationships reads them.
func (d *Dir) RelationshipFiles(typ string) []string {
	return filePaths(d.index.Relationships[typ])
}

func filePaths(fs []IndexedFile) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.Path
	}
	return out
}

// FilesOf returns the graph files (relative paths) holding a step's output,
// for reuse of a previous run's results.
func (d *Dir) FilesOf(stepID string) []string {
	var out []string
	prefix := "graph/" + stepID + "/"
	for _, m := range []map[string][]IndexedFile{d.index.Entities, d.index.Relationships} {
		for _, fs := range m {
			for _, f := range fs {
				if strings.HasPrefix(f.Path, prefix) {
					out = append(out, f.Path)
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

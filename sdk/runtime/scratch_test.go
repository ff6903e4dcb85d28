package runtime_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stepgraph/stepgraph/sdk/graph"
	"github.com/stepgraph/stepgraph/sdk/integration"
	"github.com/stepgraph/stepgraph/sdk/runtime"
	"github.com/stepgraph/stepgraph/sdk/store"
)

// TestScratchDirIsTheRunsAndGoesWithIt is issue #10 item 9 at the job
// state: steps share one scratch folder, inside the staging folder of a
// filesystem store (a temporary folder for other stores), removed when the
// run ends.
func TestScratchDirIsTheRunsAndGoesWithIt(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"filesystem", "memory"} {
		t.Run(name, func(t *testing.T) {
			var st store.Store = store.NewMemory()
			if name == "filesystem" {
				fs, err := store.NewFilesystem(filepath.Join(dir, "out"), store.FilesystemOptions{})
				if err != nil {
					t.Fatal(err)
				}
				st = fs
			}
			var paths []string
			write := func(ctx context.Context, sc *integration.StepContext[cfg]) error {
				d, err := sc.ScratchDir()
				if err != nil {
					return err
				}
				paths = append(paths, d)
				return os.WriteFile(filepath.Join(d, sc.StepID+".tsv"), []byte("spill"), 0o600)
			}
			a, b := step("a"), step("b", "a")
			a.Run, b.Run = write, write
			res, err := runtime.Run(context.Background(), &integration.Integration[cfg]{Name: "t", Steps: []integration.Step[cfg]{a, b}}, &cfg{}, runtime.Options{Store: st})
			if err != nil || res.Failed() {
				t.Fatalf("run: %v %+v", err, res.Summary.Steps)
			}
			if len(paths) != 2 || paths[0] != paths[1] {
				t.Fatalf("scratch folders %v: want one for the run", paths)
			}
			if name == "filesystem" && !strings.HasPrefix(paths[0], filepath.Join(dir, ".out.staging-")) {
				t.Errorf("scratch %s is not inside the staging folder", paths[0])
			}
			if _, err := os.Stat(paths[0]); !os.IsNotExist(err) {
				t.Errorf("scratch folder %s kept after the run", paths[0])
			}
		})
	}
}

// TestScratchHandsTypedValuesBetweenSteps: a step fills a typed, disk-backed
// integration.Scratch from concurrent fan-out items and hands it to a later
// step under a run-local key; the consumer reads the values decoded, grouped
// by key, in an order that depends only on the keys (two runs that add in
// opposite orders read the same sequence), each key's values in the order
// they were added. The file is in the run's scratch folder and Close
// removes it (#12).
func TestScratchHandsTypedValuesBetweenSteps(t *testing.T) {
	type member struct {
		Group string
		IDs   []string
	}
	key := integration.NewLocalKey[*integration.Scratch[member]]("t.members")
	read := func(reverse bool) []string {
		var got []string
		var file string
		a, b := step("a"), step("b", "a")
		a.Data = []integration.DataKey{key.Data()}
		b.NeedsData = []string{key.Name()}
		a.Run = func(ctx context.Context, sc *integration.StepContext[cfg]) error {
			s, err := integration.NewScratch[member](sc, "members")
			if err != nil {
				return err
			}
			groups := []string{"g1", "g2", "g3", "g4", "g5", "g6", "g7", "g8"}
			if reverse {
				slices.Reverse(groups)
			}
			err = integration.ForEach(ctx, sc, slices.Values(groups), func(ctx context.Context, g string) error {
				for page := range 3 {
					if err := s.Add(g, member{Group: g, IDs: []string{g + "-page" + strconv.Itoa(page)}}); err != nil {
						return err
					}
				}
				return nil
			})
			integration.Put(sc, key, s)
			return err
		}
		b.Run = func(ctx context.Context, sc *integration.StepContext[cfg]) error {
			s, err := integration.Need(sc, key)
			if err != nil {
				return err
			}
			d, _ := sc.ScratchDir()
			files, _ := filepath.Glob(filepath.Join(d, "*"))
			if len(files) != 1 {
				t.Errorf("scratch folder holds %v, want the store's file", files)
			} else {
				file = files[0]
			}
			if err := s.Each(ctx, func(k string, v member) error {
				if v.Group != k {
					t.Errorf("value of %s under key %s", v.Group, k)
				}
				got = append(got, v.IDs...)
				return nil
			}); err != nil {
				return err
			}
			return s.Close()
		}
		res, err := runtime.Run(context.Background(), &integration.Integration[cfg]{Name: "t", Steps: []integration.Step[cfg]{a, b}}, &cfg{}, runtime.Options{Workers: 4})
		if err != nil || res.Failed() {
			t.Fatalf("run: %v %+v", err, res.Summary.Steps)
		}
		if _, err := os.Stat(file); file == "" || !os.IsNotExist(err) {
			t.Errorf("store file %q not removed by Close", file)
		}
		return got
	}
	first, second := read(false), read(true)
	if len(first) != 24 || !slices.Equal(first, second) {
		t.Fatalf("read order depends on the order values were added:\n%v\n%v", first, second)
	}
	for i := 0; i < len(first); i += 3 {
		g := strings.TrimSuffix(first[i], "-page0")
		if want := []string{g + "-page0", g + "-page1", g + "-page2"}; !slices.Equal(first[i:i+3], want) {
			t.Errorf("values of %s: %v, want %v (grouped, in the order added)", g, first[i:i+3], want)
		}
	}
}

// TestScratchEmitEach: the consuming step drains a store with EmitEach:
// every value's objects are emitted in Each's order, in batches of the
// given size, entities counted for progress; a value converted to nothing
// adds nothing; an object reached twice is emitted once; the store is
// closed (its file removed) afterwards, also when convert fails, whose
// error is the step's (#12: Okta's factors, group members and app
// assignments).
func TestScratchEmitEach(t *testing.T) {
	key := integration.NewLocalKey[*integration.Scratch[[]string]]("t.children")
	for _, fail := range []bool{false, true} {
		var file string
		var events []string
		var mu sync.Mutex
		a, b := step("a"), step("b", "a")
		a.Data = []integration.DataKey{key.Data()}
		b.NeedsData = integration.Needs(key)
		b.Entities = []integration.EntityType{{Resource: "Thing", Type: "t_thing", Class: []string{"Resource"}}}
		b.Relationships = []integration.RelationshipType{{Type: "t_thing_has_thing", Class: graph.HAS, Source: "t_thing", Target: "t_thing"}}
		a.Run = func(ctx context.Context, sc *integration.StepContext[cfg]) error {
			s, err := integration.NewScratch[[]string](sc, "children")
			if err != nil {
				return err
			}
			integration.Put(sc, key, s)
			for _, p := range []string{"parent-0001", "parent-0002", "parent-0003"} {
				if err := s.Add(p, []string{p + "-child-a", p + "-child-b"}); err != nil {
					return err
				}
			}
			return s.Add("parent-0001", nil) // nothing to emit
		}
		thing := func(k string) *graph.Entity {
			return (&graph.Entity{Key: k, Type: "t_thing", Class: []string{"Resource"}, DisplayName: k}).Set("name", k)
		}
		b.Run = func(ctx context.Context, sc *integration.StepContext[cfg]) error {
			d, _ := sc.ScratchDir()
			files, _ := filepath.Glob(filepath.Join(d, "*"))
			if len(files) == 1 {
				file = files[0]
			}
			s := integration.MustGet(sc, key)
			return s.EmitEach(ctx, sc, "things", 4, func(parent string, children []string) ([]*graph.Entity, []*graph.Relationship, error) {
				if fail && parent == "parent-0003" {
					return nil, nil, errors.New("cannot convert parent-0003")
				}
				if len(children) == 0 {
					return nil, nil, nil
				}
				es := []*graph.Entity{thing(parent), thing(parent)} // twice: emitted once
				var rs []*graph.Relationship
				for _, c := range children {
					es = append(es, thing(c))
					rs = append(rs, graph.Direct(thing(parent), graph.HAS, thing(c)))
				}
				return es, rs, nil
			})
		}
		res, err := runtime.Run(context.Background(), &integration.Integration[cfg]{Name: "t", Steps: []integration.Step[cfg]{a, b}}, &cfg{}, runtime.Options{
			OnEvent: func(e runtime.Event) {
				mu.Lock()
				defer mu.Unlock()
				switch e.Kind {
				case runtime.EventObjectsAdded, runtime.EventProgress:
					events = append(events, fmt.Sprint(e.Kind, " ", e.Name, " ", e.Delta))
				}
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(file); file == "" || !os.IsNotExist(err) {
			t.Errorf("failing %v: store file %q not removed", fail, file)
		}
		st := stepSummary(t, res, "b")
		if fail {
			if st.Status != runtime.StatusFailure || !strings.Contains(st.Error, "cannot convert parent-0003") {
				t.Errorf("b: %s %q, want the conversion's error", st.Status, st.Error)
			}
			continue
		}
		if st.Status != runtime.StatusSuccess || st.EncounteredTypeCounts["t_thing"] != 9 || st.EncounteredTypeCounts["t_thing_has_thing"] != 6 {
			t.Fatalf("b: %s %q, counts %v", st.Status, st.Error, st.EncounteredTypeCounts)
		}
		// Batches of at least 4 objects: each parent's value holds 4
		// entities (one a repeat) and 2 relationships; the empty value adds
		// nothing.
		want := []string{"objects_added t_thing 3", "objects_added t_thing_has_thing 2", "progress things 4",
			"objects_added t_thing 3", "objects_added t_thing_has_thing 2", "progress things 4",
			"objects_added t_thing 3", "objects_added t_thing_has_thing 2", "progress things 4"}
		if !slices.Equal(events, want) {
			t.Errorf("events\n%q\nwant\n%q", events, want)
		}
	}
}

// TestNewScratchForHandsOverWhatWasAdded: a store created with
// NewScratchFor is handed over from its creation, so when the producing
// step fails part-way its dependents still get (and emit) what it added,
// and the run marks the producer's failure as such (#12: Okta's group
// members).
func TestNewScratchForHandsOverWhatWasAdded(t *testing.T) {
	key := integration.NewLocalKey[*integration.Scratch[string]]("t.names")
	a, b := step("a"), step("b", "a")
	a.Data = []integration.DataKey{key.Data()}
	b.NeedsData = integration.Needs(key)
	b.Entities = []integration.EntityType{{Resource: "Thing", Type: "t_thing", Class: []string{"Resource"}}}
	a.Run = func(ctx context.Context, sc *integration.StepContext[cfg]) error {
		s, err := integration.NewScratchFor(sc, key, "names")
		if err != nil {
			return err
		}
		for _, n := range []string{"thing-0001", "thing-0002"} {
			if err := s.Add(n, n); err != nil {
				return err
			}
		}
		return errors.New("page 2 of the listing: 500")
	}
	b.Run = func(ctx context.Context, sc *integration.StepContext[cfg]) error {
		return integration.MustGet(sc, key).EmitEach(ctx, sc, "things", 10, func(_ string, n string) ([]*graph.Entity, []*graph.Relationship, error) {
			return []*graph.Entity{(&graph.Entity{Key: n, Type: "t_thing", Class: []string{"Resource"}, DisplayName: n}).Set("name", n)}, nil, nil
		})
	}
	res, err := runtime.Run(context.Background(), &integration.Integration[cfg]{Name: "t", Steps: []integration.Step[cfg]{a, b}}, &cfg{}, runtime.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s := stepSummary(t, res, "a"); s.Status != runtime.StatusFailure {
		t.Errorf("a: %s", s.Status)
	}
	if s := stepSummary(t, res, "b"); s.Status != runtime.StatusPartialDependencyFailure || s.EncounteredTypeCounts["t_thing"] != 2 {
		t.Errorf("b: %s %q, counts %v; want the 2 things a added", s.Status, s.Error, s.EncounteredTypeCounts)
	}
}

// TestScratchClosesWhenTheRunEnds: a store whose producer fails (so no
// consumer drains and closes it) is closed when the run ends, not left
// open until the garbage collector finds its file.
func TestScratchClosesWhenTheRunEnds(t *testing.T) {
	var kept *integration.Scratch[string]
	var path string
	a := step("a")
	a.Run = func(ctx context.Context, sc *integration.StepContext[cfg]) error {
		s, err := integration.NewScratch[string](sc, "pages")
		if err != nil {
			return err
		}
		kept = s
		if err := s.Add("k", "v"); err != nil {
			return err
		}
		d, err := sc.ScratchDir()
		if err != nil {
			return err
		}
		entries, err := os.ReadDir(d)
		if err != nil || len(entries) != 1 {
			return fmt.Errorf("scratch folder: %v %v", entries, err)
		}
		path = filepath.Join(d, entries[0].Name())
		return errors.New("listing failed")
	}
	res, err := runtime.Run(context.Background(), &integration.Integration[cfg]{Name: "t", Steps: []integration.Step[cfg]{a}}, &cfg{}, runtime.Options{Store: store.NewMemory()})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Failed() {
		t.Fatalf("the step's failure was not reported: %+v", res.Summary.Steps)
	}
	if kept == nil {
		t.Fatal("the step made no store")
	}
	if err := kept.Add("k", "w"); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("Add after the run ended: %v, want the store closed", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("store file %s kept after the run: %v", path, err)
	}
}

package sdktest

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/stepgraph/stepgraph/sdk/graph"
)

// UpdateEnv is the environment variable that, set to "1" or "true", makes
// AssertGolden rewrite golden files, like the -update flag.
const UpdateEnv = "STEPGRAPH_UPDATE_GOLDEN"

// update is the -update test flag. A package-level flag is acceptable here:
// it is test-only configuration, registered once when a test binary
// imports sdktest.
var update = flag.Bool("update", false, "sdktest: rewrite golden files instead of comparing")

// Updating reports whether golden files are to be rewritten (-update flag
// or UpdateEnv).
func Updating() bool {
	if update != nil && *update {
		return true
	}
	v := strings.ToLower(os.Getenv(UpdateEnv))
	return v == "1" || v == "true" || v == "yes"
}

// GoldenOption adjusts how a collection is rendered for golden comparison.
type GoldenOption func(*goldenConfig)

type goldenConfig struct {
	noRaw  bool
	ignore map[string]bool
}

// WithoutRawData leaves _rawData out of the golden rendering, for smaller
// goldens that do not repeat the recorded responses.
func WithoutRawData() GoldenOption { return func(g *goldenConfig) { g.noRaw = true } }

// IgnoreProperties leaves the named properties out of the golden rendering
// of every object, for values that change from run to run.
func IgnoreProperties(names ...string) GoldenOption {
	return func(g *goldenConfig) {
		for _, n := range names {
			g.ignore[n] = true
		}
	}
}

// GraphJSON renders the collection as the golden-file JSON document
// {"entities":[...],"relationships":[...]}: objects sorted by _key, each
// normalised through the graph types' MarshalJSON, properties in key order,
// indented.
func GraphJSON(c *Collection, opts ...GoldenOption) ([]byte, error) {
	doc, err := normalise(c, opts)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.WriteString(`{"entities":[`)
	for i, o := range doc.Entities {
		if i > 0 {
			buf.WriteByte(',')
		}
		if err := writeOrdered(&buf, o); err != nil {
			return nil, err
		}
	}
	buf.WriteString(`],"relationships":[`)
	for i, o := range doc.Relationships {
		if i > 0 {
			buf.WriteByte(',')
		}
		if err := writeOrdered(&buf, o); err != nil {
			return nil, err
		}
	}
	buf.WriteString("]}")
	var out bytes.Buffer
	if err := json.Indent(&out, buf.Bytes(), "", "  "); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// reservedOrder is the order of reserved fields in a golden object; other
// properties follow in sorted order, as in the graph wire format.
var reservedOrder = []string{"_key", "_type", "_class", "displayName", "_fromEntityKey", "_toEntityKey", "_mapping"}

// writeOrdered writes one object with its reserved fields first, then its
// properties sorted, and _rawData last (it is the bulkiest), without HTML
// escaping.
func writeOrdered(buf *bytes.Buffer, v any) error {
	obj, ok := v.(map[string]any)
	if !ok {
		return writeValue(buf, v)
	}
	var keys []string
	for _, k := range reservedOrder {
		if _, ok := obj[k]; ok {
			keys = append(keys, k)
		}
	}
	for _, k := range sortedKeys(obj) {
		if !slices.Contains(reservedOrder, k) && k != "_rawData" {
			keys = append(keys, k)
		}
	}
	if _, ok := obj["_rawData"]; ok {
		keys = append(keys, "_rawData")
	}
	buf.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			buf.WriteByte(',')
		}
		if err := writeValue(buf, k); err != nil {
			return err
		}
		buf.WriteByte(':')
		if err := writeValue(buf, obj[k]); err != nil {
			return err
		}
	}
	buf.WriteByte('}')
	return nil
}

func writeValue(buf *bytes.Buffer, v any) error {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	buf.Truncate(buf.Len() - 1) // Encode's newline
	return nil
}

type goldenDoc struct {
	Entities      []any `json:"entities"`
	Relationships []any `json:"relationships"`
}

func normalise(c *Collection, opts []GoldenOption) (*goldenDoc, error) {
	cfg := goldenConfig{ignore: map[string]bool{}}
	for _, o := range opts {
		o(&cfg)
	}
	doc := &goldenDoc{Entities: []any{}, Relationships: []any{}}
	conv := func(m json.Marshaler) (any, error) {
		raw, err := m.MarshalJSON()
		if err != nil {
			return nil, err
		}
		v, err := decodeJSON(raw)
		if err != nil {
			return nil, err
		}
		if obj, ok := v.(map[string]any); ok {
			if cfg.noRaw {
				delete(obj, "_rawData")
			}
			for n := range cfg.ignore {
				delete(obj, n)
			}
		}
		return v, nil
	}
	for _, e := range c.Entities {
		v, err := conv(e)
		if err != nil {
			return nil, err
		}
		doc.Entities = append(doc.Entities, v)
	}
	for _, r := range c.Relationships {
		v, err := conv(r)
		if err != nil {
			return nil, err
		}
		doc.Relationships = append(doc.Relationships, v)
	}
	return doc, nil
}

// decodeJSON decodes with json.Number so numbers compare exactly.
func decodeJSON(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// GoldenPath resolves a golden file name: a bare file name lives under the
// test's testdata/ folder; any other path is used as given (relative to
// the test's package folder).
func GoldenPath(name string) string {
	if filepath.IsAbs(name) || strings.ContainsAny(name, `/\`) {
		return name
	}
	return filepath.Join("testdata", name)
}

// AssertGolden compares the collection with the golden file at path (see
// GoldenPath) using go-cmp, keyed by kind and _key so a difference names
// the object and property. With -update or UpdateEnv it rewrites the file
// instead.
func AssertGolden(t testing.TB, c *Collection, path string, opts ...GoldenOption) {
	t.Helper()
	path = GoldenPath(path)
	got, err := GraphJSON(c, opts...)
	if err != nil {
		t.Fatalf("sdktest: render collection: %v", err)
	}
	if Updating() {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatalf("sdktest: %v", err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatalf("sdktest: write golden: %v", err)
		}
		t.Logf("sdktest: updated golden %s", path)
		return
	}
	want, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		t.Errorf("sdktest: golden %s does not exist; create it with go test -run '^%s$' -update", path, topTestName(t.Name()))
		return
	}
	if err != nil {
		t.Fatalf("sdktest: read golden: %v", err)
	}
	if diff, err := goldenDiff(want, got); err != nil {
		t.Errorf("sdktest: golden %s: %v", path, err)
	} else if diff != "" {
		t.Errorf("sdktest: collection differs from golden %s (-want +got):\n%s\nIf the change is intended, rerun with -update (or %s=1).", path, diff, UpdateEnv)
	}
}

// goldenDiff compares two golden documents object by object.
func goldenDiff(want, got []byte) (string, error) {
	w, err := keyed(want)
	if err != nil {
		return "", fmt.Errorf("golden file is not a graph document: %w", err)
	}
	g, err := keyed(got)
	if err != nil {
		return "", err
	}
	return gocmp.Diff(w, g), nil
}

// keyed turns a golden document into kind -> _key -> object.
func keyed(raw []byte) (map[string]map[string]any, error) {
	v, err := decodeJSON(raw)
	if err != nil {
		return nil, err
	}
	doc, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("top level is not an object")
	}
	out := map[string]map[string]any{}
	for _, kind := range []string{"entities", "relationships"} {
		list, _ := doc[kind].([]any)
		m := make(map[string]any, len(list))
		for i, o := range list {
			obj, _ := o.(map[string]any)
			key, _ := obj["_key"].(string)
			if key == "" {
				key = fmt.Sprintf("#%d (no _key)", i)
			}
			if _, dup := m[key]; dup {
				key = fmt.Sprintf("%s #%d (duplicate)", key, i)
			}
			m[key] = o
		}
		out[kind] = m
	}
	return out, nil
}

var (
	_ json.Marshaler = (*graph.Entity)(nil)
	_ json.Marshaler = (*graph.Relationship)(nil)
)

package runtime_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/stepgraph/stepgraph/sdk/integration"
	"github.com/stepgraph/stepgraph/sdk/runtime"
	"github.com/stepgraph/stepgraph/sdk/store"
)

// TestSummaryFileRoundTrip: the runtime owns the summary's type and the
// store keeps it as an opaque document, so what Run returns is what
// ReadSummary reads back from the committed output, byte for byte in the
// format summary.json always had (two-space indent, JupiterOne's keys in
// order, a final newline).
func TestSummaryFileRoundTrip(t *testing.T) {
	steps := []integration.Step[cfg]{step("a"), step("b", "a")}
	steps[1].Run = func(context.Context, *integration.StepContext[cfg]) error { return errors.New("boom") }
	integ := &integration.Integration[cfg]{Name: "t", Steps: steps}
	root := filepath.Join(t.TempDir(), "out")
	fs, err := store.NewFilesystem(root, store.FilesystemOptions{})
	if err != nil {
		t.Fatal(err)
	}
	clock := time.UnixMilli(1_700_000_000_000)
	res, err := runtime.Run(context.Background(), integ, &cfg{}, runtime.Options{Store: fs,
		Now: func() time.Time { clock = clock.Add(time.Millisecond); return clock }})
	if err != nil {
		t.Fatal(err)
	}
	d, err := store.OpenDir(root)
	if err != nil {
		t.Fatal(err)
	}
	got, err := runtime.ReadSummary(d)
	if err != nil || got == nil {
		t.Fatalf("ReadSummary: %v, %v", got, err)
	}
	if !reflect.DeepEqual(got, res.Summary) {
		t.Errorf("read back %+v\nwant %+v", got, res.Summary)
	}
	if got.Steps[1].Status != runtime.StatusFailure || got.Steps[0].Status != runtime.StatusSuccess {
		t.Errorf("statuses %s %s", got.Steps[0].Status, got.Steps[1].Status)
	}
	b, err := os.ReadFile(filepath.Join(root, store.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.MarshalIndent(res.Summary, "", "  ")
	if !bytes.Equal(b, append(want, '\n')) {
		t.Errorf("summary.json:\n%s\nwant:\n%s", b, want)
	}
	if !bytes.HasPrefix(b, []byte("{\n  \"integration\": \"t\",\n  \"startedOn\": ")) ||
		!bytes.Contains(b, []byte("\n  \"integrationStepResults\": [\n    {\n      \"id\": \"a\",")) ||
		!bytes.Contains(b, []byte("\n  \"metadata\": {\n    \"partialDatasets\": {\n      \"types\": []")) {
		t.Errorf("summary.json layout changed:\n%s", b)
	}
}

// TestReadSummaryWithoutSummary: an output committed without a summary
// reads as nil, not an error.
func TestReadSummaryWithoutSummary(t *testing.T) {
	root := filepath.Join(t.TempDir(), "out")
	fs, err := store.NewFilesystem(root, store.FilesystemOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := fs.Commit(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	d, err := store.OpenDir(root)
	if err != nil {
		t.Fatal(err)
	}
	if s, err := runtime.ReadSummary(d); s != nil || err != nil {
		t.Errorf("ReadSummary = %+v, %v; want nil, nil", s, err)
	}
}

func TestSummaryNoneSucceeded(t *testing.T) {
	steps := func(statuses ...string) *runtime.Summary {
		s := &runtime.Summary{}
		for _, st := range statuses {
			s.Steps = append(s.Steps, runtime.StepSummary{Status: st})
		}
		return s
	}
	for _, c := range []struct {
		name string
		sum  *runtime.Summary
		want bool
	}{
		{"no steps", steps(), false},
		{"only disabled", steps(runtime.StatusDisabled), false},
		{"all failed", steps(runtime.StatusFailure, runtime.StatusDisabled, runtime.StatusCancelled), true},
		{"one succeeded", steps(runtime.StatusFailure, runtime.StatusSuccess), false},
		{"one partly", steps(runtime.StatusFailure, runtime.StatusPartialDependencyFailure), false},
	} {
		if got := c.sum.NoneSucceeded(); got != c.want {
			t.Errorf("%s: NoneSucceeded = %v, want %v", c.name, got, c.want)
		}
	}
}

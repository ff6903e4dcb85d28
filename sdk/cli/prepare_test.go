package cli

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// TestPrepareSeesGivenConfigAndSuppliesValues: the hook sees what the
// flags and environment set, without parsing flags itself; its values win
// and its cleanup runs when the command ends.
func TestPrepareSeesGivenConfigAndSuppliesValues(t *testing.T) {
	env := map[string]string{"TEST_API_KEY": testSecret}
	a, out, errb := testApp(nil, env)
	var seen *Preparation
	stopped := 0
	a.Prepare = func(ctx context.Context, p *Preparation) error {
		seen = p
		if _, ok := p.Given["orgUrl"]; !ok { // no org: serve the demo
			p.Set["orgUrl"] = "https://demo.example.test"
			p.OnDone(func() { stopped++ })
		}
		return nil
	}
	root := filepath.Join(t.TempDir(), "out")
	r := runApp(t, context.Background(), a, out, errb, "collect", "--env-file", "", "--output", root, "--users", "2")
	if r.code != ExitOK {
		t.Fatalf("exit %d\n%s", r.code, r.combinedOut)
	}
	if seen.Command != "collect" || seen.Given["users"] != "2" || seen.Given["apiKey"] != testSecret {
		t.Errorf("preparation saw %q %v", seen.Command, seen.Given)
	}
	if stopped != 1 {
		t.Errorf("cleanup ran %d times, want once", stopped)
	}
	// An org given on the command line: the hook leaves it alone.
	r = runApp(t, context.Background(), a, out, errb, "validate", "--env-file", "", "--orgUrl", "ftp://bad")
	if r.code != ExitUsage || !strings.Contains(r.combinedOut, "orgUrl") || seen.Command != "validate" || stopped != 1 {
		t.Errorf("validate with a bad org: exit %d, command %q, cleanups %d\n%s", r.code, seen.Command, stopped, r.combinedOut)
	}
	a.Prepare = func(context.Context, *Preparation) error { return errors.New("demo server failed") }
	r = runApp(t, context.Background(), a, out, errb, "collect", "--env-file", "", "--output", root)
	if r.code == ExitOK || !strings.Contains(r.combinedOut, "demo server failed") {
		t.Errorf("a failing hook: exit %d\n%s", r.code, r.combinedOut)
	}
}

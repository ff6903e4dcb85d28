package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/stepgraph/stepgraph/sdk/cli"
	"github.com/stepgraph/stepgraph/sdk/store/postgres"
)

// TestVisualizeFromPostgres pushes the demo collection to PostgreSQL and
// draws the instance with `visualize --from`: the page holds the
// collection plus the people the database's user -> person rule derived,
// and answers a user-to-application path as the collection says.
func TestVisualizeFromPostgres(t *testing.T) {
	url := os.Getenv("STEPGRAPH_TEST_POSTGRES_URL")
	if url == "" {
		t.Skip("STEPGRAPH_TEST_POSTGRES_URL is not set (source .ci/postgres.sh)")
	}
	root := collectDemo(t)
	var b [4]byte
	rand.Read(b[:])
	inst := "viz-" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		db, err := postgres.Open(context.Background(), url, postgres.Options{})
		if err == nil {
			db.ForgetInstance(context.Background(), postgres.Instance{Integration: "okta", Name: inst})
			db.Close()
		}
	})
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"push", root, "--sink", url, "--instance", inst}, noEnv, io.Discard, &stderr); code != cli.ExitOK {
		t.Fatalf("push: exit %d: %s", code, stderr.String())
	}
	dbFile, dirFile := filepath.Join(t.TempDir(), "db.html"), filepath.Join(t.TempDir(), "dir.html")
	if code := run(context.Background(), []string{"visualize", "--from", url, "--instance", inst, "--file", dbFile}, noEnv, &stdout, &stderr); code != cli.ExitOK {
		t.Fatalf("visualize --from: exit %d: %s", code, stderr.String())
	}
	fromDB := stdout.String()
	stdout.Reset()
	if code := run(context.Background(), []string{"visualize", "--output", root, "--file", dirFile}, noEnv, &stdout, &stderr); code != cli.ExitOK {
		t.Fatalf("visualize: exit %d: %s", code, stderr.String())
	}
	counts := regexp.MustCompile(`: (\d+) entities of (\d+) types, (\d+) relationships of (\d+) types`)
	db, dir := counts.FindStringSubmatch(fromDB), counts.FindStringSubmatch(stdout.String())
	if db == nil || dir == nil {
		t.Fatalf("no counts in %q / %q", fromDB, stdout.String())
	}
	n := func(s string) int { v, _ := strconv.Atoi(s); return v }
	// One person and one IS relationship per user (two more types).
	if n(db[1]) != n(dir[1])+fakeUsers || n(db[2]) != n(dir[2])+1 || n(db[3]) != n(dir[3])+fakeUsers || n(db[4]) != n(dir[4])+1 {
		t.Errorf("from the database: %s\nfrom the folder: %s", fromDB, stdout.String())
	}
	if code := run(context.Background(), []string{"visualize", "--from", url, "--instance", "no-such-" + inst, "--file", dbFile}, noEnv, &stdout, &stderr); code == cli.ExitOK {
		t.Error("visualize --from an unknown instance succeeded")
	}

	tr := readTruth(t, root)
	user, app := tr.pickUserApp()
	direct, via := tr.paths(user, app)
	want := len(via)
	if direct {
		want++
	}
	ctx := browser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+dbFile+"#path="+user+"&to="+app), chromedp.WaitVisible(chromedp.CSS(`body[data-ready="1"]`))); err != nil {
		t.Fatal(err)
	}
	noErrors(t, ctx)
	if got := attrInt(t, ctx, "data-paths"); got != want {
		t.Errorf("paths %s -> %s in the database's page: %d, want %d", user, app, got, want)
	}
}

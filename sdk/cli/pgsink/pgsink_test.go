package pgsink_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stepgraph/stepgraph/sdk/cli"
	"github.com/stepgraph/stepgraph/sdk/cli/pgsink"
	"github.com/stepgraph/stepgraph/sdk/graph"
	"github.com/stepgraph/stepgraph/sdk/integration"
	"github.com/stepgraph/stepgraph/sdk/store/postgres"
)

type testConfig struct {
	Users int `config:"users" env:"TEST_USERS" default:"3" optional:"true"`
}

// testApp is the command line of a small integration (an account and its
// users) with the PostgreSQL sink registered.
func testApp(env map[string]string) (*cli.App[testConfig], *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	no := false
	integ := &integration.Integration[testConfig]{
		Name: "test",
		Steps: []integration.Step[testConfig]{{
			ID: "fetch-users", Name: "Fetch Users",
			Entities: []integration.EntityType{
				{Resource: "Account", Type: "test_account", Class: []string{"Account"}},
				{Resource: "User", Type: "test_user", Class: []string{"User"}},
			},
			Relationships: []integration.RelationshipType{{Type: "test_account_has_user", Class: graph.HAS, Source: "test_account", Target: "test_user"}},
			Run: func(ctx context.Context, sc *integration.StepContext[testConfig]) error {
				acct := (&graph.Entity{Key: "test-account-1", Type: "test_account", Class: []string{"Account"}, DisplayName: "Org"}).Set("name", "Org")
				if err := sc.AddEntities(ctx, acct); err != nil {
					return err
				}
				for i := range sc.Config.Users {
					email := fmt.Sprintf("user%d@example.com", i)
					u := (&graph.Entity{Key: fmt.Sprintf("test-user-%04d", i), Type: "test_user", Class: []string{"User"}, DisplayName: email}).
						Set("name", email).Set("username", email).Set("email", email).Set("active", true)
					if err := sc.AddEntities(ctx, u); err != nil {
						return err
					}
					if err := sc.AddRelationships(ctx, graph.Direct(acct, graph.HAS, u)); err != nil {
						return err
					}
				}
				return nil
			},
		}},
	}
	return &cli.App[testConfig]{
		Integration: integ,
		Sinks:       []cli.Sink{pgsink.Sink()},
		Stdout:      &out, Stderr: &errb,
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		Terminal:  &no,
		NoSignals: true,
	}, &out, &errb
}

func baseEnv() map[string]string { return map[string]string{} }

type cliResult struct {
	code                        int
	stdout, stderr, combinedOut string
}

func runApp(t *testing.T, ctx context.Context, a *cli.App[testConfig], out, errb *bytes.Buffer, args ...string) cliResult {
	t.Helper()
	out.Reset()
	errb.Reset()
	code := a.Main(ctx, args)
	return cliResult{code: code, stdout: out.String(), stderr: errb.String(), combinedOut: out.String() + errb.String()}
}

// TestCollectIntoPostgresAndPush collects the test integration straight
// into PostgreSQL, then pushes the same output again: the second load must
// change nothing. It needs the server that .ci/postgres.sh starts.
func TestCollectIntoPostgresAndPush(t *testing.T) {
	url := os.Getenv("STEPGRAPH_TEST_POSTGRES_URL")
	if url == "" {
		t.Skip("STEPGRAPH_TEST_POSTGRES_URL is not set (source .ci/postgres.sh to start a test server)")
	}
	ctx := context.Background()
	out := filepath.Join(t.TempDir(), "out")
	inst := fmt.Sprintf("cli-test-%d", time.Now().UnixNano()) // a fresh instance per run
	a, stdout, stderr := testApp(baseEnv())
	r := runApp(t, ctx, a, stdout, stderr, "collect", "--output", out, "--sink", url, "--instance", inst, "--progress", "off")
	if r.code != cli.ExitOK {
		t.Fatalf("collect --sink: exit %d\n%s", r.code, r.combinedOut)
	}
	if !strings.Contains(r.stdout, "Database: instance ") || strings.Contains(r.stdout, " 0 added") {
		t.Errorf("collect --sink did not report a load that added objects:\n%s", r.stdout)
	}
	env := baseEnv()
	env["STEPGRAPH_POSTGRES_URL"] = url
	a, stdout, stderr = testApp(env)
	r = runApp(t, ctx, a, stdout, stderr, "push", "--instance", inst, out)
	if r.code != cli.ExitOK {
		t.Fatalf("push: exit %d\n%s", r.code, r.combinedOut)
	}
	if !strings.Contains(r.stdout, "0 added, 0 changed, 0 removed") {
		t.Errorf("pushing the same collection again changed something:\n%s", r.stdout)
	}
	r = runApp(t, ctx, a, stdout, stderr, "push", "--instance", inst, filepath.Join(t.TempDir(), "missing"))
	if r.code != cli.ExitUsage {
		t.Errorf("push of a missing folder: exit %d, want %d", r.code, cli.ExitUsage)
	}
}

// TestCollectSinkDatabaseDownKeepsCollection collects with --sink pointing
// at a database that does not answer: the run still collects and writes
// its output, says the load failed and where the collection is, exits
// cli.ExitLoadFailed, and push loads that collection once the database is
// there.
func TestCollectSinkDatabaseDownKeepsCollection(t *testing.T) {
	url := os.Getenv("STEPGRAPH_TEST_POSTGRES_URL")
	if url == "" {
		t.Skip("STEPGRAPH_TEST_POSTGRES_URL is not set (source .ci/postgres.sh to start a test server)")
	}
	ctx := context.Background()
	out := filepath.Join(t.TempDir(), "out")
	inst := fmt.Sprintf("cli-down-%d", time.Now().UnixNano())
	a, stdout, stderr := testApp(baseEnv())
	down := "postgres://postgres@127.0.0.1:1/nowhere?sslmode=disable&connect_timeout=5"
	r := runApp(t, ctx, a, stdout, stderr, "collect", "--output", out, "--sink", down, "--instance", inst, "--progress", "off")
	if r.code != cli.ExitLoadFailed {
		t.Fatalf("collect --sink with the database down: exit %d, want %d\n%s", r.code, cli.ExitLoadFailed, r.combinedOut)
	}
	if !strings.Contains(r.stdout, "Database: not loaded; the collection is kept in "+out) || !strings.Contains(r.stdout, "push --instance "+inst) {
		t.Errorf("collect did not say where the collection is kept:\n%s", r.combinedOut)
	}
	if _, err := os.Stat(filepath.Join(out, "summary.json")); err != nil {
		t.Fatalf("no collection on disk: %v", err)
	}
	r = runApp(t, ctx, a, stdout, stderr, "push", "--sink", url, "--instance", inst, out)
	if r.code != cli.ExitOK || !strings.Contains(r.stdout, "Loaded "+out) || strings.Contains(r.stdout, " 0 added") {
		t.Fatalf("push of the kept collection: exit %d\n%s", r.code, r.combinedOut)
	}
}

// TestSinkBusyInstanceExitCode holds an instance with a running sync and
// checks that push and collect --sink exit cli.ExitBusy (collect keeps its
// collection), and that push --allow-older and --schema reach the sink.
func TestSinkBusyInstanceExitCode(t *testing.T) {
	url := os.Getenv("STEPGRAPH_TEST_POSTGRES_URL")
	if url == "" {
		t.Skip("STEPGRAPH_TEST_POSTGRES_URL is not set (source .ci/postgres.sh to start a test server)")
	}
	ctx := context.Background()
	schema := fmt.Sprintf("cli_busy_%d", time.Now().UnixNano())
	db, err := postgres.Open(ctx, url, postgres.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = db.Pool().Exec(context.Background(), `DROP SCHEMA `+db.SearchPath()+` CASCADE`)
		db.Close()
	})
	out := filepath.Join(t.TempDir(), "out")
	a, stdout, stderr := testApp(baseEnv())
	r := runApp(t, ctx, a, stdout, stderr, "collect", "--output", out, "--progress", "off")
	if r.code != cli.ExitOK {
		t.Fatalf("collect: exit %d\n%s", r.code, r.combinedOut)
	}
	holder, err := postgres.NewStore(ctx, db, postgres.Instance{Integration: a.Integration.Name, Name: "acme"}, postgres.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r = runApp(t, ctx, a, stdout, stderr, "push", "--sink", url, "--schema", schema, "--instance", "acme", out)
	if r.code != cli.ExitBusy || !strings.Contains(r.stderr, "is being synced by another run") {
		t.Fatalf("push to a busy instance: exit %d, want %d\n%s", r.code, cli.ExitBusy, r.combinedOut)
	}
	out2 := filepath.Join(t.TempDir(), "out2")
	r = runApp(t, ctx, a, stdout, stderr, "collect", "--output", out2, "--sink", url, "--schema", schema, "--instance", "acme", "--progress", "off")
	if r.code != cli.ExitBusy || !strings.Contains(r.stdout, "the collection is kept in "+out2) {
		t.Fatalf("collect --sink to a busy instance: exit %d, want %d\n%s", r.code, cli.ExitBusy, r.combinedOut)
	}
	if err := holder.Abort(); err != nil {
		t.Fatal(err)
	}
	// Load the newer collection, then the older one: refused without
	// --allow-older, loaded with it.
	if r = runApp(t, ctx, a, stdout, stderr, "push", "--sink", url, "--schema", schema, "--instance", "acme", out2); r.code != cli.ExitOK {
		t.Fatalf("push: exit %d\n%s", r.code, r.combinedOut)
	}
	r = runApp(t, ctx, a, stdout, stderr, "push", "--sink", url, "--schema", schema, "--instance", "acme", out)
	if r.code != cli.ExitFailure || !strings.Contains(r.stderr, "--allow-older") {
		t.Fatalf("push of an older collection: exit %d\n%s", r.code, r.combinedOut)
	}
	if r = runApp(t, ctx, a, stdout, stderr, "push", "--sink", url, "--schema", schema, "--instance", "acme", "--allow-older", out); r.code != cli.ExitOK {
		t.Fatalf("push --allow-older: exit %d\n%s", r.code, r.combinedOut)
	}
	var runs int
	if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM `+db.SearchPath()+`.sync_run WHERE status = 'success'`).Scan(&runs); err != nil || runs != 2 {
		t.Fatalf("%d successful runs in schema %s (%v), want 2", runs, schema, err)
	}
}

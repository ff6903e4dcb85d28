package service_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stepgraph/stepgraph/sdk/graph"
	"github.com/stepgraph/stepgraph/sdk/integration"
	"github.com/stepgraph/stepgraph/sdk/service"
)

const urlEnv = "STEPGRAPH_TEST_POSTGRES_URL"

var nonIdent = regexp.MustCompile(`[^a-z0-9_]+`)

func testURL(t testing.TB) string {
	t.Helper()
	url := os.Getenv(urlEnv)
	if url == "" {
		t.Skipf("%s is not set: no PostgreSQL to test against (run `source .ci/postgres.sh` first)", urlEnv)
	}
	return url
}

// uniqueSchema returns a fresh schema name for t, dropped when t ends.
func uniqueSchema(t testing.TB) string {
	url := testURL(t)
	var b [4]byte
	_, _ = rand.Read(b[:])
	name := nonIdent.ReplaceAllString(strings.ToLower(t.Name()), "_")
	if len(name) > 30 {
		name = name[:30]
	}
	schema := "svc_" + name + "_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), url)
		if err != nil {
			return
		}
		defer conn.Close(context.Background())
		_, _ = conn.Exec(context.Background(), `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`)
	})
	return schema
}

// demoConfig is the config of a tiny integration for the registry tests.
type demoConfig struct {
	Host   string `config:"host" env:"DEMO_HOST" help:"host"`
	Token  string `config:"token" env:"DEMO_TOKEN" secret:"true"`
	Shards int    `config:"shards" optional:"true" default:"1"`
}

func demoRegistry() *service.Registry {
	reg := service.NewRegistry()
	service.Register(reg, service.Definition[demoConfig]{Integration: &integration.Integration[demoConfig]{
		Name: "demo",
		Steps: []integration.Step[demoConfig]{{
			ID: "fetch-things", Name: "Fetch things",
			Entities: []integration.EntityType{{Resource: "Thing", Type: "demo_thing", Class: []string{"Configuration"}}},
			Run: func(ctx context.Context, sc *integration.StepContext[demoConfig]) error {
				return sc.AddEntities(ctx, &graph.Entity{Key: "demo-thing-" + sc.Config.Host, Type: "demo_thing", Class: []string{"Configuration"}, DisplayName: sc.Config.Host, Properties: map[string]any{"name": sc.Config.Host}})
			},
		}},
	}})
	return reg
}

func openService(t testing.TB, reg *service.Registry, schema string) *service.Service {
	t.Helper()
	s, err := service.Open(context.Background(), testURL(t), reg, service.Options{Schema: schema, Logger: slog.New(slog.NewTextHandler(testWriter{t}, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// startWorker runs a worker of s, scheduling hourly, until the test ends
// (stopped before s is closed) and returns it; the secret env:DEMO_TOKEN
// resolves to "tok3n".
func startWorker(ctx context.Context, t *testing.T, s *service.Service) *service.Worker {
	t.Helper()
	w, err := s.NewWorker(service.WorkerOptions{ScheduleEvery: time.Hour, LookupEnv: func(k string) (string, bool) {
		return "tok3n", k == "DEMO_TOKEN"
	}})
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(wctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return w
}

// testWriter sends log lines to t.Log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

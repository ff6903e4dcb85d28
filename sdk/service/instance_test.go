package service_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stepgraph/stepgraph/sdk/service"
)

func TestInstancesCRUDKeepsSecretsOutOfTheDatabase(t *testing.T) {
	ctx := context.Background()
	schema := uniqueSchema(t)
	s := openService(t, demoRegistry(), schema)

	good := service.Instance{Name: "acme", Description: "Acme prod", Integration: "demo", Interval: 6 * time.Hour,
		Config: map[string]string{"host": "acme.example"}, Secrets: map[string]service.SecretRef{"token": "env:DEMO_TOKEN_ACME"}, TagAccountName: true}
	if err := s.AddInstance(ctx, good); err != nil {
		t.Fatal(err)
	}
	if err := s.AddInstance(ctx, good); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("duplicate add: %v", err)
	}
	bad := []struct {
		inst service.Instance
		want string
	}{
		{service.Instance{Name: "x", Integration: "demo", Config: map[string]string{"token": "s3cr3t-value"}}, "config token: is a secret"},
		{service.Instance{Name: "x", Integration: "demo", Secrets: map[string]service.SecretRef{"token": "s3cr3t-value"}}, "want env:NAME or file:PATH"},
		{service.Instance{Name: "x", Integration: "demo", Secrets: map[string]service.SecretRef{"host": "env:H"}}, "secret host: is not a secret field"},
		{service.Instance{Name: "x", Integration: "demo", Config: map[string]string{"hots": "a"}}, "config hots: demo has no such field"},
		{service.Instance{Name: "x", Integration: "nope"}, `integration "nope" is not in this program`},
		{service.Instance{Name: "bad name", Integration: "demo"}, `name "bad name"`},
	}
	for _, b := range bad {
		err := s.AddInstance(ctx, b.inst)
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("add %+v: got %v, want %q", b.inst, err, b.want)
		}
		if err != nil && strings.Contains(err.Error(), "s3cr3t-value") {
			t.Errorf("error repeats the secret: %v", err)
		}
	}
	// Nothing that looks like a secret value reached the database.
	var dump string
	if err := s.Pool().QueryRow(ctx, `SELECT string_agg(row_to_json(i)::text, ' ') FROM service_instance i`).Scan(&dump); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(dump, "s3cr3t") || !strings.Contains(dump, "env:DEMO_TOKEN_ACME") {
		t.Errorf("registry rows: %s", dump)
	}

	err := s.UpdateInstance(ctx, "acme", func(i *service.Instance) error {
		i.Interval = 0
		i.Description = "Acme (paused)"
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Instance(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if got.Interval != 0 || got.IntervalString() != "DISABLED" || got.Description != "Acme (paused)" || got.Config["host"] != "acme.example" || !got.TagAccountName {
		t.Errorf("after update: %+v", got)
	}
	if err := s.UpdateInstance(ctx, "acme", func(i *service.Instance) error { i.Name = "other"; return nil }); err == nil {
		t.Error("rename accepted")
	}
	if _, err := s.Instance(ctx, "ghost"); !errors.Is(err, service.ErrNotFound) {
		t.Errorf("missing instance: %v", err)
	}

	// run now: one job, a second call finds it.
	r1, err := s.RunNow(ctx, "acme")
	if err != nil || !r1.Queued || r1.Running {
		t.Fatalf("run now: %+v %v", r1, err)
	}
	id1 := r1.JobID
	r2, err := s.RunNow(ctx, "acme")
	if err != nil || r2.Queued || r2.Running || r2.JobID != id1 {
		t.Fatalf("second run now: %+v %v", r2, err)
	}
	sts, err := s.Statuses(ctx, 0)
	if err != nil || len(sts) != 1 || sts[0].NextRun == nil || sts[0].LastRun != nil {
		t.Fatalf("statuses: %+v %v", sts, err)
	}

	// remove: the queued job is cancelled and the instance is gone.
	if err := s.RemoveInstance(ctx, "acme", time.Second); err != nil {
		t.Fatal(err)
	}
	var state string
	if err := s.Pool().QueryRow(ctx, `SELECT state::text FROM river_job WHERE id = $1`, id1).Scan(&state); err != nil || state != "cancelled" {
		t.Errorf("queued job after remove: %q %v", state, err)
	}
	if _, err := s.Instance(ctx, "acme"); !errors.Is(err, service.ErrNotFound) {
		t.Errorf("after remove: %v", err)
	}
}

func TestParseIntervalAndSecretRefs(t *testing.T) {
	for in, want := range map[string]time.Duration{"6h": 6 * time.Hour, "disabled": 0, "DISABLED": 0, "90s": 90 * time.Second} {
		if d, err := service.ParseInterval(in); err != nil || d != want {
			t.Errorf("ParseInterval(%q) = %v, %v", in, d, err)
		}
	}
	for _, in := range []string{"", "0s", "500ms", "soon"} {
		if _, err := service.ParseInterval(in); err == nil {
			t.Errorf("ParseInterval(%q) accepted", in)
		}
	}
	env := func(k string) (string, bool) {
		if k == "SET" {
			return " v4lue \n", true
		}
		return "", false
	}
	if v, err := service.SecretRef("env:SET").Resolve(env); err != nil || v != "v4lue" {
		t.Errorf("env ref: %q %v", v, err)
	}
	_, err := service.SecretRef("env:MISSING").Resolve(env)
	if err == nil || !strings.Contains(err.Error(), "environment variable MISSING is not set on this worker") {
		t.Errorf("missing env: %v", err)
	}
	_, err = service.SecretRef("file:/nonexistent/secret").Resolve(env)
	if err == nil || !strings.Contains(err.Error(), "file:/nonexistent/secret") {
		t.Errorf("missing file: %v", err)
	}
}

// Many processes starting at once migrate the queue and the service's
// tables once, without errors.
func TestConcurrentOpenMigratesOnce(t *testing.T) {
	schema := uniqueSchema(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := service.Open(context.Background(), testURL(t), demoRegistry(), service.Options{Schema: schema})
			if err != nil {
				errs <- err
				return
			}
			s.Close()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	s := openService(t, demoRegistry(), schema)
	files, err := os.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.Pool().QueryRow(context.Background(), `SELECT count(*) FROM service_migrations`).Scan(&n); err != nil || n != len(files) {
		t.Errorf("service migrations: %d applied of %d (%v)", n, len(files), err)
	}
}

package teamdir_test

import (
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stepgraph/stepgraph/examples/teamdir"
	"github.com/stepgraph/stepgraph/examples/teamdir/fakeapi"
	"github.com/stepgraph/stepgraph/sdk/fakeprovider"
	"github.com/stepgraph/stepgraph/sdk/integration"
	"github.com/stepgraph/stepgraph/sdk/runtime"
	"github.com/stepgraph/stepgraph/sdk/sdktest"
)

// testToken is what the fake accepts when recording. It is configured as a
// secret, so the recorder scrubs it and fails if a cassette contains it.
const testToken = "teamdir-example-token-7f3a9c21"

// baseURL is a stable, unresolvable host name: recordings hold it, and in
// replay nothing could connect to it anyway.
const baseURL = "http://api.teamdir.test"

func config() *teamdir.Config {
	return &teamdir.Config{BaseURL: baseURL, APIToken: testToken, PageSize: 3}
}

// guard is the transport handed to the recorder for real requests. In
// replay it must never be called; in record mode it forwards to the fake.
type guard struct {
	calls atomic.Int64
	next  http.RoundTripper
}

func (g *guard) RoundTrip(req *http.Request) (*http.Response, error) {
	g.calls.Add(1)
	if g.next == nil {
		return nil, errors.New("network disabled")
	}
	return g.next.RoundTrip(req)
}

// recorder replays recordings/teamdir/<test name>.yaml. With
// STEPGRAPH_RECORD=teamdir it records against the in-repo fake instead.
func recorder(t *testing.T) (*sdktest.Recorder, *guard) {
	t.Helper()
	g := &guard{}
	if sdktest.Recording("teamdir") {
		srv := fakeapi.Start(fakeapi.Sample(), testToken)
		t.Cleanup(srv.Close)
		g.next = srv.Transport()
	}
	rec := sdktest.NewRecorder(t, sdktest.RecorderOptions{
		Integration:   "teamdir",
		Secrets:       []string{testToken},
		RealTransport: g,
	})
	if !rec.IsRecording() {
		t.Cleanup(func() {
			if n := g.calls.Load(); n != 0 {
				t.Errorf("replay attempted %d real connections", n)
			}
		})
	}
	return rec, g
}

func TestCollect(t *testing.T) {
	rec, _ := recorder(t)
	c := sdktest.Run(t, teamdir.New(teamdir.Options{Transport: rec}), config(), sdktest.RunOptions{})

	sdktest.AssertAll(t, c)
	sdktest.AssertGolden(t, c, "collect.golden.json")

	if n := len(c.EntitiesOf(teamdir.UserType)); n != 7 {
		t.Errorf("collected %d users, want 7 (3 pages of 3)", n)
	}
	// u-9999 is a member of t-security but not a user: skipped with a warning.
	var warned bool
	for _, s := range c.Result.Summary.Steps {
		if s.ID == teamdir.StepMemberships {
			warned = len(s.Warnings) == 1 && strings.Contains(s.Warnings[0], "u-9999")
		}
	}
	if !warned {
		t.Errorf("expected one warning about u-9999: %+v", c.Result.Summary.Steps)
	}
}

func TestFetchUsersStep(t *testing.T) {
	rec, _ := recorder(t)
	c := sdktest.RunStep(t, teamdir.New(teamdir.Options{Transport: rec}), config(), teamdir.StepUsers, sdktest.RunOptions{})

	if got := c.StepStatus(teamdir.StepTeams); got != "disabled" {
		t.Errorf("%s ran (%s) though only %s was asked for", teamdir.StepTeams, got, teamdir.StepUsers)
	}
	sdktest.AssertAll(t, c)
	sdktest.AssertGolden(t, c, "fetch-users.golden.json", sdktest.WithoutRawData())
}

func TestSkipTeamsDisablesDependents(t *testing.T) {
	rec, _ := recorder(t)
	cfg := config()
	cfg.SkipTeams = true
	c := sdktest.Run(t, teamdir.New(teamdir.Options{Transport: rec}), cfg, sdktest.RunOptions{})
	for _, id := range []string{teamdir.StepTeams, teamdir.StepMemberships} {
		if got := c.StepStatus(id); got != "disabled" {
			t.Errorf("%s status = %q, want disabled", id, got)
		}
	}
	sdktest.AssertAll(t, c)
	partial := c.Result.Summary.Metadata.PartialDatasets.Types
	if !strings.Contains(strings.Join(partial, ","), teamdir.TeamUserType) {
		t.Errorf("types of disabled steps must be partial, got %v", partial)
	}
}

// TestBadTokenIsFatal runs against the live fake on loopback (no
// recording): a 401 is an authentication error, which stops the run.
func TestBadTokenIsFatal(t *testing.T) {
	srv := fakeapi.Start(fakeapi.Sample(), testToken)
	defer srv.Close()
	cfg := &teamdir.Config{BaseURL: srv.URL, APIToken: "wrong-token-123456", PageSize: 10}
	res, err := runtime.Run(t.Context(), teamdir.New(teamdir.Options{}), cfg, runtime.Options{})
	var auth *integration.AuthenticationError
	if !errors.As(err, &auth) || res == nil || res.StepStatus(teamdir.StepAccount) != "failure" {
		t.Fatalf("err = %v, want an AuthenticationError failing %s", err, teamdir.StepAccount)
	}
	if strings.Contains(err.Error(), "wrong-token-123456") {
		t.Errorf("error leaks the token: %v", err)
	}
}

func TestValidate(t *testing.T) {
	for _, cfg := range []teamdir.Config{
		{BaseURL: "api.teamdir.test", APIToken: "x", PageSize: 10},
		{BaseURL: baseURL, APIToken: "x", PageSize: 0},
		{BaseURL: baseURL, APIToken: "x", PageSize: 101},
	} {
		_, err := runtime.Run(t.Context(), teamdir.New(teamdir.Options{}), &cfg, runtime.Options{})
		var ce *integration.ConfigError
		if !errors.As(err, &ce) {
			t.Errorf("config %+v: err = %v, want a ConfigError", cfg, err)
		}
	}
}

func TestLoadConfig(t *testing.T) {
	var cfg teamdir.Config
	env := map[string]string{"TEAMDIR_BASE_URL": baseURL, "TEAMDIR_API_TOKEN": testToken}
	err := integration.LoadConfig(&cfg, integration.Sources{LookupEnv: func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}})
	if err != nil || cfg.PageSize != 50 || cfg.SkipTeams {
		t.Fatalf("LoadConfig: %v, %+v", err, cfg)
	}
	if got := integration.MaskedConfig(&cfg)["apiToken"]; got == testToken {
		t.Errorf("apiToken is not masked: %q", got)
	}
}

// TestCollectAgainstFake runs the same collection against the live fake on
// loopback (no cassette) and compares it with the same golden file, so a
// change to the fake that the recordings do not reflect is noticed.
func TestCollectAgainstFake(t *testing.T) {
	srv := fakeapi.Start(fakeapi.Sample(), testToken)
	defer srv.Close()
	c := sdktest.Run(t, teamdir.New(teamdir.Options{Transport: srv.Transport()}), config(), sdktest.RunOptions{})
	sdktest.AssertAll(t, c)
	if !sdktest.Updating() {
		sdktest.AssertGolden(t, c, "collect.golden.json")
	}
}

// TestCollectSurvivesFaults collects from a fake that answers some requests
// 500 and some 429 (as if another client had spent the rate limit), chosen
// by a fault seed, so the same requests fail on every run: the integration
// retries them and collects exactly what the golden file holds.
func TestCollectSurvivesFaults(t *testing.T) {
	srv := fakeapi.StartWith(fakeapi.Sample(), testToken, fakeprovider.Options{
		Buckets: []fakeprovider.Bucket{{Name: "api", Limit: 1000}},
		Window:  100 * time.Millisecond,
		Faults:  fakeprovider.Faults{Seed: 3, ErrorRate: 0.25, RateLimitRate: 0.25},
	})
	defer srv.Close()
	c := sdktest.Run(t, teamdir.New(teamdir.Options{Transport: srv.Transport()}), config(), sdktest.RunOptions{})
	sdktest.AssertAll(t, c)
	if !sdktest.Updating() {
		sdktest.AssertGolden(t, c, "collect.golden.json")
	}
	st := srv.API.Stats()
	if st.Injected5xx == 0 || st.RateLimited == 0 {
		t.Fatalf("the fake injected %d 500s and %d 429s; the test needs both", st.Injected5xx, st.RateLimited)
	}
	t.Logf("survived %d injected 500s and %d 429s in %d requests", st.Injected5xx, st.RateLimited, st.Requests)
}

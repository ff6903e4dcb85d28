package runtime_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/stepgraph/stepgraph/sdk/integration"
	"github.com/stepgraph/stepgraph/sdk/runtime"
)

// fakeProber lacks the needs in lacks and refuses the paths in refuse,
// recording what it was asked.
type fakeProber struct {
	lacks  []string
	refuse []string
	gets   []string
}

func (p *fakeProber) Lacks(_ context.Context, needs []string) error {
	for _, n := range needs {
		if slices.Contains(p.lacks, n) {
			return errors.New("missing scope " + n)
		}
	}
	return nil
}

func (p *fakeProber) Get(_ context.Context, path string, needs []string) error {
	p.gets = append(p.gets, path)
	if slices.Contains(p.refuse, path) {
		return errors.New("missing admin role for " + strings.Join(needs, " "))
	}
	return nil
}

type probeCfg struct {
	Share   float64  `config:"share" optional:"true" range:"(0,1]"`
	Skip    []string `config:"skip" optional:"true" sources:"disable"`
	Devices bool     `config:"enableDevices" optional:"true"`
}

func probeIntegration(p *fakeProber, ran *[]string) *integration.Integration[probeCfg] {
	key := integration.NewLocalKey[*fakeProber]("t.prober")
	noop := func(context.Context, *integration.StepContext[probeCfg]) error { return nil }
	return &integration.Integration[probeCfg]{
		Name: "t",
		Validate: func(context.Context, *probeCfg) error {
			*ran = append(*ran, "validate")
			return nil
		},
		Setup: func(_ context.Context, rc *integration.RunContext[probeCfg]) error {
			*ran = append(*ran, "setup")
			integration.Put(rc, key, p)
			return nil
		},
		Prober: func(rc *integration.RunContext[probeCfg]) (integration.Prober, error) {
			return integration.Need(rc, key)
		},
		Sources: []integration.Source[probeCfg]{
			{Name: "users", Required: true, Needs: []string{"users.read"}, Get: "/users?limit=1"},
			{Name: "groups", Needs: []string{"groups.read"}, Get: "/groups?limit=1"},
			{Name: "roles", Needs: []string{"roles.read"}, Get: "/roles?limit=1", ProbeEndpoint: "GET /roles (assignees)"},
			{Name: "factors", Needs: []string{"users.read"}, Description: "factors", Probe: integration.Using[probeCfg](key, func(_ context.Context, got *fakeProber) error {
				if got != p {
					return errors.New("Using passed another value than Setup put")
				}
				*ran = append(*ran, "factors probe")
				return nil
			})},
			{Name: "audit", Description: "audit log", Probe: integration.Using[probeCfg](integration.NewLocalKey[string]("t.absent"), func(context.Context, string) error {
				*ran = append(*ran, "audit probe")
				return nil
			})},
			{Name: "devices", Needs: []string{"devices.read"}, Get: "/devices", EnabledBy: "enableDevices"},
		},
		Steps: []integration.Step[probeCfg]{
			{ID: "users", Name: "Users", Run: noop},
			{ID: "devices", Name: "Devices", Source: "devices", Run: noop},
		},
	}
}

// TestProbeDeclaredGet: a source declared with Get is probed through the
// integration's Prober after Setup; before any probe the Prober says what
// the credentials lack of the source's Needs, and then no request is sent.
// Detail is the GET's path, without its query, unless ProbeEndpoint says
// otherwise; an off-by-default source is not probed. integration.Using
// hands a probe the value Setup put, or fails it naming a missing key.
func TestProbeDeclaredGet(t *testing.T) {
	p := &fakeProber{lacks: []string{"groups.read"}, refuse: []string{"/roles?limit=1"}}
	var ran []string
	res, err := runtime.Probe(context.Background(), probeIntegration(p, &ran), &probeCfg{}, runtime.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range res {
		got[r.Source] = r.Detail + " | " + errString(r.Err)
	}
	want := map[string]string{
		"users":   "GET /users | ",
		"groups":  "GET /groups | missing scope groups.read",
		"roles":   "GET /roles (assignees) | missing admin role for roles.read",
		"factors": "factors | ",
		"audit":   `audit log | run state "t.absent" is missing (its producer did not run in this run)`,
	}
	if len(got) != len(want) {
		t.Errorf("probed %v, want %v", got, want)
	}
	for s, w := range want {
		if got[s] != w {
			t.Errorf("%s: %q, want %q", s, got[s], w)
		}
	}
	if !slices.Equal(p.gets, []string{"/users?limit=1", "/roles?limit=1"}) {
		t.Errorf("requests %v: want users and roles only (groups lacks its scope)", p.gets)
	}
	if !slices.Equal(ran, []string{"setup", "factors probe"}) {
		t.Errorf("ran %v", ran)
	}
}

// TestRunChecksConfigFirst: a value out of its range or a bad disable list
// fails the run with a *ConfigError naming the field before Validate and
// Setup run (so before any request).
func TestRunChecksConfigFirst(t *testing.T) {
	for field, cfg := range map[string]*probeCfg{
		"share": {Share: 2},
		"skip":  {Skip: []string{"users"}},
	} {
		var ran []string
		_, err := runtime.Run(context.Background(), probeIntegration(&fakeProber{}, &ran), cfg, runtime.Options{})
		var ce *integration.ConfigError
		if !errors.As(err, &ce) || ce.Field != field {
			t.Errorf("%+v: got %v, want a ConfigError on %s", cfg, err, field)
		}
		if len(ran) != 0 {
			t.Errorf("%+v: %v ran before the config was checked", cfg, ran)
		}
	}
	var ran []string
	res, err := runtime.Run(context.Background(), probeIntegration(&fakeProber{}, &ran), &probeCfg{Share: 1}, runtime.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if st := res.Summary.Steps; len(st) != 2 || res.StepStatus("devices") != runtime.StatusDisabled {
		t.Errorf("devices step %s: want disabled (off by default)", res.StepStatus("devices"))
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

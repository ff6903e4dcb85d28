package okta

import (
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stepgraph/stepgraph/integrations/okta/oktafake"
	"github.com/stepgraph/stepgraph/sdk/httpclient"
	"github.com/stepgraph/stepgraph/sdk/sdktest"
)

// testOrgURL is the configured org of tests: keys and web links derive
// from it while requests go to the fake.
const testOrgURL = "https://acme.okta.com"

type fakeEnv struct {
	org *oktafake.Org
	srv *oktafake.Running
	col *Collector
	cfg *Config
}

// startFake serves org on loopback and returns a collector pointed at it.
func startFake(t testing.TB, spec oktafake.OrgSpec, sopts oktafake.ServerOptions, mod ...func(*Options)) *fakeEnv {
	t.Helper()
	org := oktafake.NewOrg(spec)
	if sopts.Window == 0 {
		// Okta's windows are a minute; a short window keeps the pacer
		// (which spreads a window's budget over the window) fast in tests.
		sopts.Window = time.Second
	}
	srv, err := oktafake.Start(org, sopts)
	if err != nil {
		t.Fatalf("start fake: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	opts := Options{
		BaseURL: srv.URL,
		Now:     org.Now,
		HTTP: func(c *httpclient.Config) {
			c.BackoffMin = 5 * time.Millisecond
			c.BackoffMax = 50 * time.Millisecond
			c.MaxAttempts = 8
		},
	}
	for _, m := range mod {
		m(&opts)
	}
	token := sopts.Token
	if token == "" {
		token = oktafake.DefaultToken
	}
	return &fakeEnv{
		org: org, srv: srv, col: NewCollector(opts),
		cfg: &Config{OrgURL: testOrgURL, APIKey: token, RateLimitShare: 0.9},
	}
}

// run collects everything (devices included unless disabled).
func (f *fakeEnv) run(t testing.TB, opts sdktest.RunOptions) *sdktest.Collection {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return sdktest.Run(t, f.col.Integration(), f.cfg, opts)
}

// runComplete collects everything, devices included, and checks that the
// collection is the fake org's truth, with every step a success and no
// type partial.
func (f *fakeEnv) runComplete(t *testing.T) *sdktest.Collection {
	t.Helper()
	f.cfg.EnableDevices = true
	c := f.run(t, sdktest.RunOptions{})
	sdktest.AssertAll(t, c)
	checkAgainstTruth(t, c, expect(t, f.org, nil))
	for _, s := range c.Result.Summary.Steps {
		if s.Status != "success" || len(s.PartialTypes) > 0 {
			t.Errorf("step %s: %s %s partial %v", s.ID, s.Status, s.Error, s.PartialTypes)
		}
	}
	return c
}

// readTree returns every regular file under dir by relative path.
func readTree(t testing.TB, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = string(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

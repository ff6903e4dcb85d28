package okta

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stepgraph/stepgraph/integrations/okta/oktafake"
	"github.com/stepgraph/stepgraph/sdk/runtime"
	"github.com/stepgraph/stepgraph/sdk/sdktest"
	"github.com/stepgraph/stepgraph/sdk/store"
)

// brokenFactors answers 500 for the factors of the given users, always: their
// requests run out of retries.
type brokenFactors map[string]bool

func (b brokenFactors) RoundTrip(req *http.Request) (*http.Response, error) {
	for id := range b {
		if req.URL.Path == pathUsers+"/"+id+"/factors" {
			return &http.Response{StatusCode: 500, Status: "500 Internal Server Error", Request: req,
				Header: http.Header{"Content-Type": {"application/json"}},
				Body:   io.NopCloser(strings.NewReader(`{"errorCode":"E0000009","errorSummary":"Internal Server Error"}`))}, nil
		}
	}
	return http.DefaultTransport.RoundTrip(req)
}

// TestOneUsersFactorsFailingDegradesAtTheFinestGrain is issue #10 item 6: the
// factors of two users cannot be read. Every user is still written (those
// two with mfaEnabled unset), fetch-users succeeds, and the factor types are
// marked partial with the two user ids named in the summary.
func TestOneUsersFactorsFailingDegradesAtTheFinestGrain(t *testing.T) {
	org := oktafake.NewOrg(oktafake.OrgSpec{Users: 80, Seed: 11})
	var broken []string
	for _, u := range org.Truth().Users {
		if len(u.ActiveFactorIDs) > 0 && len(broken) < 2 {
			broken = append(broken, u.ID)
		}
	}
	bf := brokenFactors{}
	for _, id := range broken {
		bf[id] = true
	}
	f := startFake(t, oktafake.OrgSpec{Users: 80, Seed: 11}, oktafake.ServerOptions{}, func(o *Options) { o.Transport = bf })
	c := f.run(t, sdktest.RunOptions{})
	sum := c.Result.Summary
	if got, want := len(c.EntitiesOf(typeUser)), len(f.org.Truth().Users); got != want {
		t.Fatalf("%d users written, want %d", got, want)
	}
	for _, id := range broken {
		u := c.Entity(id)
		if u == nil {
			t.Fatalf("user %s not written", id)
		}
		if _, set := u.Properties["mfaEnabled"]; set {
			t.Errorf("user %s: mfaEnabled %v although its factors were not read", id, u.Properties["mfaEnabled"])
		}
	}
	users, mfa := stepByID(sum, StepUsers), stepByID(sum, StepMFADevices)
	if users.Status != runtime.StatusSuccess || mfa.Status != runtime.StatusSuccess {
		t.Fatalf("fetch-users %s (%s), fetch-mfa-devices %s (%s)", users.Status, users.Error, mfa.Status, mfa.Error)
	}
	for _, typ := range []string{typeMFADevice, relUserAssignedFactor} {
		if !slices.Contains(sum.Metadata.PartialDatasets.Types, typ) || !slices.Contains(mfa.PartialTypes, typ) {
			t.Errorf("%s not partial: %v", typ, sum.Metadata.PartialDatasets.Types)
		}
	}
	if slices.Contains(sum.Metadata.PartialDatasets.Types, typeUser) {
		t.Errorf("okta_user partial: only the factor types are incomplete")
	}
	for _, id := range broken {
		named := func(ws []string) bool {
			return slices.ContainsFunc(ws, func(w string) bool { return strings.Contains(w, id) })
		}
		if !named(mfa.Warnings) || !named(users.Warnings) {
			t.Errorf("user %s not named in the summary: users %q, mfa %q", id, users.Warnings, mfa.Warnings)
		}
	}
	// Every other user's factors were collected.
	want := 0
	for _, u := range f.org.Truth().Users {
		if !bf[u.ID] {
			want += len(u.FactorIDs)
		}
	}
	if got := len(c.EntitiesOf(typeMFADevice)); got != want {
		t.Errorf("%d factors, want %d", got, want)
	}
}

// spillSpy records, at the first factors request (fetch-users'
// factor store is open by then), the scratch files inside the staging
// folders under dir.
type spillSpy struct {
	dir  string
	once sync.Once
	seen []string
}

func (s *spillSpy) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.HasSuffix(req.URL.Path, "/factors") {
		s.once.Do(func() {
			s.seen, _ = filepath.Glob(filepath.Join(s.dir, ".out.staging-*", ".scratch", "scratch-*.bin"))
		})
	}
	return http.DefaultTransport.RoundTrip(req)
}

// TestSpillsLiveInTheRunsStagingFolder is issue #10 item 9 for Okta: the
// spill files are in the run's scratch folder inside its staging folder,
// not in the system temp folder, and none is left after the run.
func TestSpillsLiveInTheRunsStagingFolder(t *testing.T) {
	dir := t.TempDir()
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	spy := &spillSpy{dir: dir}
	f := startFake(t, oktafake.OrgSpec{Users: 60, Seed: 8}, oktafake.ServerOptions{}, func(o *Options) { o.Transport = spy })
	fs, err := store.NewFilesystem(filepath.Join(dir, "out"), store.FilesystemOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := runtime.Run(context.Background(), f.col.Integration(), f.cfg, runtime.Options{Store: fs}); err != nil {
		t.Fatal(err)
	}
	if len(spy.seen) == 0 {
		t.Error("no spill file in the staging folder's scratch while fetch-users ran")
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".out.staging-*"))
	inTmp, _ := filepath.Glob(filepath.Join(tmp, "*"))
	if len(left) > 0 || len(inTmp) > 0 {
		t.Errorf("left behind: %v in the output's folder, %v in the temp folder", left, inTmp)
	}
}

package okta

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stepgraph/stepgraph/integrations/okta/oktafake"
	"github.com/stepgraph/stepgraph/sdk/integration"
	"github.com/stepgraph/stepgraph/sdk/runtime"
	"github.com/stepgraph/stepgraph/sdk/sdktest"
	"github.com/stepgraph/stepgraph/sdk/store"
)

// minimalPlan is the fewest requests a full collection of org needs.
func minimalPlan(org *oktafake.Org, devices bool) map[string]int64 {
	tr := org.Truth()
	spec := org.Spec()
	pages := func(n, size int) int64 { return int64(max(1, (n+size-1)/size)) }
	live := len(tr.LiveUserIDs())
	deprov := len(tr.UsersByStatus[oktafake.StatusDeprovisioned])
	memberCalls, roleGroups := int64(0), int64(0)
	for _, g := range tr.Groups {
		if g.Type != "BUILT_IN" && len(g.MemberIDs) > 0 {
			memberCalls += pages(len(g.MemberIDs), 1000)
		}
		if len(g.Roles) > 0 {
			roleGroups++
		}
	}
	appUsers, appGroups := int64(0), int64(0)
	for _, a := range tr.Apps {
		appUsers += pages(len(a.Users), 500)
		appGroups += pages(len(a.Groups), 200)
	}
	now := tr.Now
	logEvents := 0
	for _, c := range tr.AppCreations {
		if !c.Published.Before(now.Add(-systemLogWindow)) && c.Published.Before(now) {
			logEvents++
		}
	}
	plan := map[string]int64{
		oktafake.EndpointOktaSupport:  1,
		oktafake.EndpointUsers:        1 + pages(live, 200) + pages(deprov, 200), // validation + two listings
		oktafake.EndpointUserFactors:  int64(live),
		oktafake.EndpointIAMAssignees: pages(len(tr.RoleAssignees), 100),
		oktafake.EndpointUserRoles:    int64(len(tr.RoleAssignees)),
		oktafake.EndpointGroups:       pages(len(tr.Groups), 10000),
		oktafake.EndpointGroupUsers:   memberCalls,
		oktafake.EndpointGroupRoles:   roleGroups,
		oktafake.EndpointGroupRules:   pages(spec.Rules, 200),
		oktafake.EndpointApps:         pages(len(tr.Apps), 200),
		oktafake.EndpointAppUsers:     appUsers,
		oktafake.EndpointAppGroups:    appGroups,
		oktafake.EndpointLogs:         pages(logEvents, 1000),
	}
	if devices {
		plan[oktafake.EndpointDevices] = pages(len(tr.Devices), 200)
	}
	return plan
}

func TestRequestPlanIsMinimal(t *testing.T) {
	f := startFake(t, oktafake.OrgSpec{Users: 450, Seed: 3}, oktafake.ServerOptions{})
	f.cfg.EnableDevices = true
	c := f.run(t, sdktest.RunOptions{})
	checkAgainstTruth(t, c, expect(t, f.org, nil))
	got := f.srv.Server.Stats().Endpoints
	want := minimalPlan(f.org, true)
	for ep, n := range want {
		if got[ep] != n {
			t.Errorf("%s: %d requests, minimal plan %d", ep, got[ep], n)
		}
	}
	for ep, n := range got {
		if _, ok := want[ep]; !ok {
			t.Errorf("unexpected endpoint %s: %d requests", ep, n)
		}
	}
	// mfaEnabled is on the stored user: true exactly for users with an
	// ACTIVE factor.
	for _, u := range f.org.Truth().Users {
		e := c.Entity(u.ID)
		if e == nil {
			continue
		}
		if u.Status == oktafake.StatusDeprovisioned {
			if e.Properties["mfaEnabled"] != false {
				t.Errorf("deprovisioned user %s mfaEnabled=%v", u.ID, e.Properties["mfaEnabled"])
			}
			continue
		}
		if want := len(u.ActiveFactorIDs) > 0; e.Properties["mfaEnabled"] != want {
			t.Errorf("user %s mfaEnabled=%v want %v", u.ID, e.Properties["mfaEnabled"], want)
		}
	}
	t.Logf("requests by endpoint: %v", got)
}

func stepByID(s *runtime.Summary, id string) runtime.StepSummary {
	for _, x := range s.Steps {
		if x.ID == id {
			return x
		}
	}
	return runtime.StepSummary{}
}

func TestDegradeOnMissingPermissions(t *testing.T) {
	f := startFake(t, oktafake.OrgSpec{Users: 60, Seed: 5}, oktafake.ServerOptions{
		Faults: oktafake.Faults{Forbidden: oktafake.AdminOnlyEndpoints, RulesNotEnabled: true},
	})
	f.cfg.EnableDevices = true
	c := f.run(t, sdktest.RunOptions{})
	sum := c.Result.Summary
	for _, s := range sum.Steps {
		if s.Status != runtime.StatusSuccess {
			t.Errorf("step %s ended %s (%s)", s.ID, s.Status, s.Error)
		}
	}
	partial := sum.Metadata.PartialDatasets.Types
	for _, typ := range []string{typeAccount, typeRole, "okta_user_assigned_role", "okta_user_group_assigned_role",
		relUserCreatedApp, typeDevice, "okta_account_has_device", "okta_user_has_device", typeRule, "okta_account_has_rule", "okta_rule_manages_user_group"} {
		if !slices.Contains(partial, typ) {
			t.Errorf("%s not marked partial: %v", typ, partial)
		}
	}
	for _, id := range []string{StepAccount, StepRoles, StepRules, StepApplicationCreation, StepDevices} {
		if len(stepByID(sum, id).Warnings) == 0 {
			t.Errorf("step %s has no warning", id)
		}
	}
	if e := c.EntitiesOf(typeAccount); len(e) != 1 || e[0].Properties["supportEnabled"] != false {
		t.Errorf("account: %+v", e)
	}
	// Users, groups and apps are still complete.
	e := expect(t, f.org, nil)
	diffSets(t, "users", e.users, entityKeys(c, typeUser))
	diffSets(t, "user apps", e.userApp, relKeys(c, relUserAssignedApp))
	// Role assignees forbidden: per-user fallback was tried, then stopped.
	st := f.srv.Server.Stats()
	if n := st.Endpoints[oktafake.EndpointUserRoles]; n > int64(runtime.DefaultWorkers) {
		t.Errorf("kept asking roles after 403: %d requests", n)
	}
}

func TestDeletedBetweenListAndDetail(t *testing.T) {
	org := oktafake.NewOrg(oktafake.OrgSpec{Users: 80, Seed: 11})
	tr := org.Truth()
	// A live user with factors, a group with members and an app with users.
	var deleted []string
	for _, u := range tr.Users {
		if u.Status == oktafake.StatusActive && len(u.FactorIDs) > 0 {
			deleted = append(deleted, u.ID)
			break
		}
	}
	for _, g := range tr.Groups {
		if g.Type == "OKTA_GROUP" && len(g.MemberIDs) > 0 && len(g.Roles) == 0 {
			deleted = append(deleted, g.ID)
			break
		}
	}
	for _, a := range tr.Apps {
		if len(a.Users) > 0 {
			deleted = append(deleted, a.ID)
			break
		}
	}
	f := startFake(t, oktafake.OrgSpec{Users: 80, Seed: 11}, oktafake.ServerOptions{Faults: oktafake.Faults{DeletedIDs: deleted}})
	c := f.run(t, sdktest.RunOptions{})
	skip := map[string]bool{}
	for _, id := range deleted {
		skip[id] = true
	}
	e := expect(t, f.org, skip)
	diffSets(t, "factors", e.factors, entityKeys(c, typeMFADevice))
	diffSets(t, "group members", e.groupHasUser, relKeys(c, relGroupHasUser))
	diffSets(t, "user apps", e.userApp, relKeys(c, relUserAssignedApp))
	sum := c.Result.Summary
	// The skip is reported by the step that made the request.
	for _, id := range []string{StepUsers, StepGroupMembers, StepAppUsers, StepGroupApps} {
		s := stepByID(sum, id)
		if s.Status != runtime.StatusSuccess {
			t.Errorf("step %s ended %s", id, s.Status)
		}
		if !slices.ContainsFunc(s.Warnings, func(w string) bool { return strings.Contains(w, "deleted since") }) {
			t.Errorf("step %s: no skip warning in %v", id, s.Warnings)
		}
	}
	if u := c.Entity(deleted[0]); u == nil {
		t.Error("listed user missing")
	} else if _, ok := u.Properties["mfaEnabled"]; ok {
		t.Error("mfaEnabled set for a user whose factors could not be read")
	}
}

func TestInvalidTokenIsFatal(t *testing.T) {
	f := startFake(t, oktafake.OrgSpec{Users: 10, Seed: 1}, oktafake.ServerOptions{})
	f.cfg.APIKey = "wrong-token-abcdefghijklmnop"
	_, err := runtime.Run(t.Context(), f.col.Integration(), f.cfg, runtime.Options{})
	var auth *integration.AuthenticationError
	if !errors.As(err, &auth) {
		t.Fatalf("want AuthenticationError, got %v", err)
	}
	if !strings.Contains(err.Error(), "invalid or expired") || !strings.Contains(err.Error(), "E0000011") {
		t.Errorf("unclear message: %v", err)
	}
	if strings.Contains(err.Error(), f.cfg.APIKey) {
		t.Error("token in error")
	}
	if n := f.srv.Server.Stats().Requests; n != 1 {
		t.Errorf("%d requests after a 401, want 1", n)
	}
}

func TestFaultsLoseNothing(t *testing.T) {
	f := startFake(t, oktafake.OrgSpec{Users: 150, Seed: 21}, oktafake.ServerOptions{
		Faults: oktafake.Faults{Seed: 4, ErrorRate: 0.15, DropRate: 0.1},
	})
	f.cfg.EnableDevices = true
	c := f.run(t, sdktest.RunOptions{})
	sdktest.AssertAll(t, c)
	checkAgainstTruth(t, c, expect(t, f.org, nil))
	st := f.srv.Server.Stats()
	if st.Injected5xx == 0 || st.Dropped == 0 {
		t.Errorf("faults not exercised: %+v", st)
	}
}

func TestGroupStatsFallback(t *testing.T) {
	f := startFake(t, oktafake.OrgSpec{Users: 100, Seed: 9}, oktafake.ServerOptions{
		Faults: oktafake.Faults{GroupStatsLimit: 500},
	})
	c := f.run(t, sdktest.RunOptions{})
	checkAgainstTruth(t, c, expect(t, f.org, nil))
	if len(stepByID(c.Result.Summary, StepGroups).Warnings) == 0 {
		t.Error("no warning about the smaller page")
	}
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestTokenNeverLeaks(t *testing.T) {
	const token = "tok-Secret-0123456789abcdefXYZ"
	var logs syncBuffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f := startFake(t, oktafake.OrgSpec{Users: 40, Seed: 2}, oktafake.ServerOptions{
		Token:  token,
		Faults: oktafake.Faults{Seed: 1, ErrorRate: 0.1, Forbidden: []string{oktafake.EndpointLogs}},
	}, func(o *Options) { o.Logger = logger })
	dir := t.TempDir()
	st, err := store.NewFilesystem(dir+"/.j1-integration", store.FilesystemOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := runtime.Run(t.Context(), f.col.Integration(), f.cfg, runtime.Options{Store: st, Logger: logger}); err != nil {
		t.Fatal(err)
	}
	out := readTree(t, dir)
	for name, body := range out {
		if strings.Contains(body, token) {
			t.Errorf("token in %s", name)
		}
	}
	if strings.Contains(logs.String(), token) {
		t.Error("token in logs")
	}
	if !strings.Contains(out[".j1-integration/summary.json"], "System Log") {
		t.Error("expected the System Log warning in summary.json")
	}
	// A run with a wrong token: the error must not show it either.
	f.cfg.APIKey = "bad-" + token
	_, err = runtime.Run(t.Context(), f.col.Integration(), f.cfg, runtime.Options{Logger: logger})
	if err == nil || strings.Contains(err.Error(), "bad-"+token) || strings.Contains(logs.String(), "bad-"+token) {
		t.Errorf("bad token leaked or accepted: %v", err)
	}
	var raw map[string]any
	_ = json.Unmarshal([]byte(out[".j1-integration/summary.json"]), &raw)
}

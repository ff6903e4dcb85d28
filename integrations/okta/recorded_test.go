package okta

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stepgraph/stepgraph/integrations/okta/oktafake"
	"github.com/stepgraph/stepgraph/sdk/httpclient"
	"github.com/stepgraph/stepgraph/sdk/sdktest"
)

// Recorded tests replay cassettes under recordings/okta/, one per step.
//
// Re-record them from the bundled fake (a 30-user org served as
// https://acme.okta.com through a rewriting transport):
//
//	STEPGRAPH_RECORD=okta go test ./integrations/okta -run TestRecorded -update
//
// or from a real org (the cassettes then hold that org's data, redacted of
// the token; review them before committing):
//
//	STEPGRAPH_RECORD=okta OKTA_RECORD_REAL=1 OKTA_ORG_URL=https://<org>.okta.com \
//	  OKTA_API_KEY=... go test ./integrations/okta -run TestRecorded -update

const recordedOrgSpecUsers = 30

// rewriteTransport sends every request to target (scheme and host), keeping
// the path and query: the recorded URLs stay those of the configured org.
type rewriteTransport struct {
	target *url.URL
	next   http.RoundTripper
}

func (rt rewriteTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.URL.Scheme, r.URL.Host, r.Host = rt.target.Scheme, rt.target.Host, rt.target.Host
	return rt.next.RoundTrip(r)
}

var (
	cassetteURLRe   = regexp.MustCompile(`url: (https://[^/\s]+)/api/v1/`)
	cassetteUntilRe = regexp.MustCompile(`until=([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}%3A[0-9]{2}%3A[0-9]{2}\.[0-9]{3}Z)`)
)

// recordedEnv returns a collector whose HTTP goes through the recorder of
// the calling test, and the config to run it with.
func recordedEnv(t *testing.T) (*Collector, *Config) {
	t.Helper()
	token := oktafake.DefaultToken
	orgURL := testOrgURL
	now := oktafake.DefaultNow
	var real http.RoundTripper
	recording := sdktest.Recording(Name)
	switch {
	case recording && os.Getenv("OKTA_RECORD_REAL") != "":
		orgURL, token, now = os.Getenv("OKTA_ORG_URL"), os.Getenv("OKTA_API_KEY"), time.Now().UTC().Truncate(time.Second)
		real = http.DefaultTransport
	case recording:
		srv, err := oktafake.Start(oktafake.NewOrg(oktafake.OrgSpec{Users: recordedOrgSpecUsers, Seed: 42}),
			oktafake.ServerOptions{BaseURL: testOrgURL, Window: time.Second, LimitScale: 100})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Close() })
		u, _ := url.Parse(srv.URL)
		real = rewriteTransport{target: u, next: http.DefaultTransport}
	}
	rec := sdktest.NewRecorder(t, sdktest.RecorderOptions{
		Integration:   Name,
		Secrets:       []string{token},
		RealTransport: real,
	})
	if !recording {
		// Replay: the org and clock are those the cassette was recorded with.
		if b, err := os.ReadFile(rec.File()); err == nil {
			if m := cassetteURLRe.FindSubmatch(b); m != nil {
				orgURL = string(m[1])
			}
			if m := cassetteUntilRe.FindSubmatch(b); m != nil {
				if s, err := url.QueryUnescape(string(m[1])); err == nil {
					if ts, err := time.Parse("2006-01-02T15:04:05.000Z", s); err == nil {
						now = ts
					}
				}
			}
		}
	}
	col := NewCollector(Options{
		Transport: rec,
		Now:       func() time.Time { return now },
		HTTP: func(c *httpclient.Config) {
			c.BackoffMin, c.BackoffMax = time.Millisecond, 10*time.Millisecond
		},
	})
	return col, &Config{OrgURL: orgURL, APIKey: token, RateLimitShare: 0.9, EnableDevices: true}
}

// stepExpect is what each step must emit and request.
var stepExpect = map[string]struct {
	types     []string
	endpoints []string
}{
	StepAccount:             {[]string{typeAccount, typeService, "okta_account_has_service"}, []string{pathOktaSupport}},
	StepUsers:               {[]string{typeUser, "okta_account_has_user"}, []string{pathUsers}},
	StepGroups:              {[]string{typeUserGroup, typeAppUserGroup, relAccountHasGroup}, []string{pathGroups}},
	StepApplications:        {[]string{typeApp, "okta_account_has_application"}, []string{pathApps}},
	StepMFADevices:          {[]string{typeMFADevice, relUserAssignedFactor}, nil},
	StepUserGroupUsers:      {[]string{relGroupHasUser}, []string{"/api/v1/groups/{id}/users"}},
	StepAppUserGroupUsers:   {[]string{relGroupHasUser}, []string{"/api/v1/groups/{id}/users"}},
	StepGroupApps:           {[]string{relGroupAssignedApp, relUserGroupAssignedAWSRole}, []string{"/api/v1/apps/{id}/groups"}},
	StepUserApps:            {[]string{relUserAssignedApp, relUserAssignedAWSRole}, []string{"/api/v1/apps/{id}/users"}},
	StepRules:               {[]string{typeRule, "okta_account_has_rule", "okta_rule_manages_user_group"}, []string{pathRules}},
	StepRoles:               {[]string{typeRole, "okta_user_assigned_role", "okta_user_group_assigned_role"}, []string{pathAssignees, "/api/v1/users/{id}/roles", "/api/v1/groups/{id}/roles"}},
	StepApplicationCreation: {[]string{relUserCreatedApp}, []string{pathLogs}},
	StepDevices:             {[]string{typeDevice, "okta_account_has_device", "okta_user_has_device"}, []string{pathDevices}},
}

var idSegRe = regexp.MustCompile(`/(users|groups|apps)/[0-9A-Za-z]{20}(/|$)`)

// endpointTemplate turns /api/v1/users/00u.../roles into /api/v1/users/{id}/roles.
func endpointTemplate(path string) string {
	return idSegRe.ReplaceAllString(path, "/$1/{id}$2")
}

// countingTransport records the endpoint templates requested.
type countingTransport struct {
	next http.RoundTripper
	mu   chan struct{}
	seen map[string]int
}

func newCounting(next http.RoundTripper) *countingTransport {
	return &countingTransport{next: next, mu: make(chan struct{}, 1), seen: map[string]int{}}
}

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	c.mu <- struct{}{}
	c.seen[endpointTemplate(req.URL.Path)]++
	<-c.mu
	return c.next.RoundTrip(req)
}

func TestRecorded(t *testing.T) {
	for _, s := range New(Options{}).Steps {
		id := s.ID
		t.Run(id, func(t *testing.T) {
			col, cfg := recordedEnv(t)
			if id != StepUsers && id != StepMFADevices {
				// Factors are not needed by the other steps: smaller cassettes.
				cfg.DisableSources = []string{SourceMFADevices}
			}
			counter := newCounting(col.opts.Transport)
			col.opts.Transport = counter
			logger := slog.New(slog.NewTextHandler(io.Discard, nil))
			c := sdktest.RunStep(t, col.Integration(), cfg, id, sdktest.RunOptions{Logger: logger, Now: func() time.Time { return oktafake.DefaultNow }})
			if st := c.StepStatus(id); st != "success" {
				t.Fatalf("step %s ended %s", id, st)
			}
			sdktest.AssertAll(t, c)
			want := stepExpect[id]
			for _, typ := range want.types {
				if len(c.EntitiesOf(typ)) == 0 && len(c.RelationshipsOf(typ)) == 0 {
					t.Errorf("no %s emitted", typ)
				}
			}
			for _, ep := range want.endpoints {
				if counter.seen[ep] == 0 {
					t.Errorf("endpoint %s not requested (saw %v)", ep, counter.seen)
				}
			}
			checkRawData(t, c)
			sdktest.AssertGolden(t, c, "testdata/golden/"+id+".json", sdktest.WithoutRawData())
		})
	}
}

// checkRawData: every entity but users and services keeps its source JSON;
// no application keeps its credentials.
func checkRawData(t *testing.T, c *sdktest.Collection) {
	t.Helper()
	for _, e := range c.Entities {
		switch e.Type {
		case typeUser, typeAccount, typeService:
			if len(e.RawData) != 0 {
				t.Errorf("%s %s has raw data", e.Type, e.Key)
			}
			continue
		}
		if len(e.RawData) != 1 || e.RawData[0].Name != "default" {
			t.Errorf("%s %s: raw data %v", e.Type, e.Key, e.RawData)
			continue
		}
		raw, _ := json.Marshal(e.RawData[0].Data)
		if e.Type == typeApp && strings.Contains(string(raw), `"credentials"`) {
			t.Errorf("application %s keeps credentials", e.Key)
		}
	}
}

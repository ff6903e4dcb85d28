package okta

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/stepgraph/stepgraph/integrations/okta/oktafake"
	"github.com/stepgraph/stepgraph/sdk/cli"
	"github.com/stepgraph/stepgraph/sdk/cli/pgsink"
	"github.com/stepgraph/stepgraph/sdk/integration"
	"github.com/stepgraph/stepgraph/sdk/runtime"
	"github.com/stepgraph/stepgraph/sdk/sdktest"
)

const testClientID = "0oa1stepgraphfake0001"

// testAudience is the aud the fake expects: the configured org's token
// endpoint (requests go to the loopback fake, keys derive from acme).
const testAudience = testOrgURL + "/oauth2/v1/token"

// pemOf encodes a private key as PKCS #8 PEM.
func pemOf(t testing.TB, key crypto.Signer) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func newECKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// oauthFake serves a fake org whose authorization server knows one service
// app (testClientID) granted scopes, and returns a collector configured to
// use that app with key (written to a file).
func startOAuthFake(t testing.TB, spec oktafake.OrgSpec, sopts oktafake.ServerOptions, key crypto.Signer, scopes []string, mod ...func(*Options)) *fakeEnv {
	t.Helper()
	if scopes == nil {
		scopes = oktafake.ReadScopes
	}
	sopts.OAuth.Clients = append(sopts.OAuth.Clients, oktafake.OAuthClient{ClientID: testClientID, PublicKey: key.Public(), Scopes: scopes})
	if sopts.OAuth.Audience == "" {
		sopts.OAuth.Audience = testAudience
	}
	f := startFake(t, spec, sopts, mod...)
	file := filepath.Join(t.TempDir(), "okta-key.pem")
	if err := os.WriteFile(file, []byte(pemOf(t, key)), 0o600); err != nil {
		t.Fatal(err)
	}
	f.cfg.APIKey = ""
	f.cfg.ClientID = testClientID
	f.cfg.PrivateKeyFile = file
	return f
}

func TestOAuthCollectAgainstTruth(t *testing.T) {
	for _, tc := range []struct {
		name string
		key  func(testing.TB) crypto.Signer
	}{
		{"ES256", func(t testing.TB) crypto.Signer { return newECKey(t) }},
		{"RS256", func(t testing.TB) crypto.Signer {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				t.Fatal(err)
			}
			return k
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := startOAuthFake(t, oktafake.OrgSpec{Users: 120, Seed: 7}, oktafake.ServerOptions{}, tc.key(t), nil)
			c := f.runComplete(t)
			if d := c.Result.Summary.Metadata.Details; d["authMethod"] != AuthServiceApp || d["clientId"] != testClientID || !strings.Contains(d["scopes"], ScopeDevicesRead) {
				t.Errorf("summary details %v", d)
			}
			ts := f.srv.Server.TokenStats()
			if ts.Issued != 1 || ts.Refused != 0 || ts.Expired != 0 || ts.Unknown != 0 {
				t.Errorf("token stats %+v, want one token for the whole run", ts)
			}
			if st := f.srv.Server.Stats(); st.Unauthorized != 0 || st.Forbidden != 0 {
				t.Errorf("%d 401s and %d 403s", st.Unauthorized, st.Forbidden)
			}
		})
	}
}

// TestOAuthTokenExpiringMidRunIsRefreshedOnce: tokens end after a number of
// requests counted by the fake (no clock), while up to 16 requests are in
// flight. Every expiry costs exactly one token request, however many
// in-flight requests were refused with the old token.
func TestOAuthTokenExpiringMidRunIsRefreshedOnce(t *testing.T) {
	// Each token serves maxUses requests: far above the requests the
	// client has in flight at once, so that a request resent with a new
	// token does not find it used up already even when this machine is
	// slow to schedule it (at 100 uses that was seen once under load).
	const maxUses = 200
	f := startOAuthFake(t, oktafake.OrgSpec{Users: 600, Seed: 11}, oktafake.ServerOptions{
		OAuth: oktafake.OAuthOptions{TokenMaxUses: maxUses},
	}, newECKey(t), nil)
	f.runComplete(t)
	ts := f.srv.Server.TokenStats()
	st := f.srv.Server.Stats()
	t.Logf("token stats %+v; API requests %d, 401s %d", ts, st.Requests, st.Unauthorized)
	if ts.Issued < 3 {
		t.Errorf("%d tokens issued: the token did not expire mid-run repeatedly", ts.Issued)
	}
	if ts.Premature != 0 {
		t.Errorf("%d tokens fetched while the previous one was still fresh: concurrent requests did not share a refresh", ts.Premature)
	}
	// Each token serves exactly maxUses requests; one more token than
	// that would need means a refresh was not shared.
	admitted := st.Requests - st.Unauthorized
	if want := (admitted + maxUses - 1) / maxUses; ts.Issued != want {
		t.Errorf("%d tokens for %d authorised requests, want %d (one per %d)", ts.Issued, admitted, want, maxUses)
	}
}

// TestOAuthConcurrent401sShareOneRefresh: 32 requests hold an access token
// the server has just revoked; all are refused and resent, with one new
// token between them.
func TestOAuthConcurrent401sShareOneRefresh(t *testing.T) {
	f := startOAuthFake(t, oktafake.OrgSpec{Users: 10, Seed: 1}, oktafake.ServerOptions{}, newECKey(t), nil)
	api, err := f.col.newAPI(f.cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := api.c
	ctx := t.Context()
	if _, err := c.Do(ctx, http.MethodGet, pathUsers+"?limit=1", nil); err != nil {
		t.Fatal(err)
	}
	f.srv.Server.ExpireTokens()
	const n = 32
	start := make(chan struct{})
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			<-start
			_, errs[i] = c.Do(ctx, http.MethodGet, pathUsers+"?limit=1", nil)
		})
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	ts := f.srv.Server.TokenStats()
	if ts.Issued != 2 {
		t.Errorf("%d tokens issued, want 2 (the first and one shared refresh)", ts.Issued)
	}
	if ts.Expired == 0 {
		t.Error("no request was refused with the expired token")
	}
}

// TestOAuthTokenRefreshedBeforeExpiry: the client replaces its token a
// margin before expires_in runs out on its own clock, once for many
// concurrent requests, with no 401.
func TestOAuthTokenRefreshedBeforeExpiry(t *testing.T) {
	var clock atomic.Int64
	base := time.Now()
	now := func() time.Time { return base.Add(time.Duration(clock.Load())) }
	f := startOAuthFake(t, oktafake.OrgSpec{Users: 10, Seed: 1}, oktafake.ServerOptions{
		OAuth: oktafake.OAuthOptions{TokenLifetime: 10 * time.Minute},
	}, newECKey(t), nil, func(o *Options) { o.Clock = now })
	api, err := f.col.newAPI(f.cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := api.c
	ctx := t.Context()
	get := func(n int) {
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				if _, err := c.Do(ctx, http.MethodGet, pathUsers+"?limit=1", nil); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
	}
	get(8)
	clock.Store(int64(8 * time.Minute)) // 2 minutes left: keep the token
	get(8)
	if n := f.srv.Server.TokenStats().Issued; n != 1 {
		t.Fatalf("%d tokens before the refresh margin, want 1", n)
	}
	clock.Store(int64(9*time.Minute + 30*time.Second)) // within the 1-minute margin
	get(16)
	ts := f.srv.Server.TokenStats()
	if ts.Issued != 2 || ts.Expired != 0 {
		t.Errorf("token stats %+v: want exactly one refresh and no 401", ts)
	}
}

// TestOAuthMissingScopeDegradesOnlyItsSource: an app not granted
// okta.roles.read (Okta refuses the scope: invalid_scope) or
// okta.logs.read (a token without it) still collects everything else.
func TestOAuthMissingScopeDegradesOnlyItsSource(t *testing.T) {
	for _, tc := range []struct {
		name      string
		missing   string
		downscope bool
		step      string
		partial   []string
	}{
		{"invalid_scope", oktafake.ScopeRolesRead, false, StepRoles, []string{typeRole, "okta_user_assigned_role", "okta_user_group_assigned_role"}},
		{"token without the scope", oktafake.ScopeLogsRead, true, StepApplicationCreation, []string{relUserCreatedApp}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			granted := slices.DeleteFunc(slices.Clone(oktafake.ReadScopes), func(s string) bool { return s == tc.missing })
			f := startOAuthFake(t, oktafake.OrgSpec{Users: 60, Seed: 5}, oktafake.ServerOptions{
				OAuth: oktafake.OAuthOptions{DownscopeTokens: tc.downscope},
			}, newECKey(t), granted)
			c := f.run(t, sdktest.RunOptions{})
			want := expect(t, f.org, nil)
			switch tc.missing {
			case oktafake.ScopeRolesRead:
				want.roles, want.userRole, want.groupRole = nil, nil, nil
			case oktafake.ScopeLogsRead:
				want.created = nil
			}
			checkAgainstTruth(t, c, want)
			for _, s := range c.Result.Summary.Steps {
				if s.Status != "success" && s.ID != StepDevices { // devices: off by default
					t.Errorf("step %s: %s %s", s.ID, s.Status, s.Error)
				}
				if s.ID == tc.step {
					if len(s.Warnings) == 0 {
						t.Errorf("step %s: no warning", s.ID)
					}
					continue
				}
				if len(s.PartialTypes) > 0 && s.ID != StepApplicationCreation {
					t.Errorf("step %s partial %v", s.ID, s.PartialTypes)
				}
			}
			for _, typ := range tc.partial {
				if !slices.Contains(c.Result.Summary.Metadata.PartialDatasets.Types, typ) {
					t.Errorf("%s not partial (partial: %v)", typ, c.Result.Summary.Metadata.PartialDatasets.Types)
				}
			}
			if ts := f.srv.Server.TokenStats(); ts.Issued != 1 {
				t.Errorf("%d tokens issued, want 1: %+v", ts.Issued, ts)
			}
		})
	}
}

// TestOAuthProbeNamesMissingScopeAndRole: validate's probe says, per
// source, whether a scope or the admin role is missing.
func TestOAuthProbeNamesMissingScopeAndRole(t *testing.T) {
	granted := slices.DeleteFunc(slices.Clone(oktafake.ReadScopes), func(s string) bool { return s == oktafake.ScopeRolesRead })
	f := startOAuthFake(t, oktafake.OrgSpec{Users: 10, Seed: 1}, oktafake.ServerOptions{
		Faults: oktafake.Faults{Forbidden: []string{oktafake.EndpointDevices}},
	}, newECKey(t), granted)
	f.cfg.EnableDevices = true
	res, err := runtime.Probe(t.Context(), f.col.Integration(), f.cfg, runtime.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range res {
		if r.Err != nil {
			got[r.Source] = r.Err.Error()
		}
	}
	if !strings.Contains(got[SourceRoles], "missing scope okta.roles.read") {
		t.Errorf("roles: %q", got[SourceRoles])
	}
	if !strings.Contains(got[SourceDevices], "missing admin role") || !strings.Contains(got[SourceDevices], "okta.devices.read is granted") {
		t.Errorf("devices: %q", got[SourceDevices])
	}
	for _, r := range res {
		if r.Source == "credentials" && (!strings.Contains(r.Detail, testClientID) || !strings.Contains(r.Detail, "not granted: okta.roles.read")) {
			t.Errorf("credentials row: %q", r.Detail)
		}
	}
	delete(got, SourceRoles)
	delete(got, SourceDevices)
	if len(got) > 0 {
		t.Errorf("other sources unreachable: %v", got)
	}
}

// TestOAuthProbeSystemLogWithoutApplications: with the applications
// source disabled and no scopes configured, the service app still asks
// for okta.logs.read (the system-log source is probed on every run and
// declares it), so validate's system-log row is reachable instead of
// "missing scope okta.logs.read: not requested".
func TestOAuthProbeSystemLogWithoutApplications(t *testing.T) {
	f := startOAuthFake(t, oktafake.OrgSpec{Users: 5, Seed: 1}, oktafake.ServerOptions{}, newECKey(t), nil)
	f.cfg.DisableSources = []string{SourceApplications}
	res, err := runtime.Probe(t.Context(), f.col.Integration(), f.cfg, runtime.Options{})
	if err != nil {
		t.Fatal(err)
	}
	seen := false
	for _, r := range res {
		seen = seen || r.Source == "system-log"
		if r.Err != nil || r.Source == SourceApplications {
			t.Errorf("source %s probed: %v", r.Source, r.Err)
		}
	}
	if !seen {
		t.Error("system-log was not probed")
	}
}

// runCLI runs the okta CLI commands of col with env.
func runCLI(t *testing.T, col *Collector, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	no := false
	app := &cli.App[Config]{
		Integration: col.Integration(),
		Program:     "okta",
		Sinks:       []cli.Sink{pgsink.Sink()},
		Stdout:      &stdout, Stderr: &stderr,
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		Terminal:  &no, NoSignals: true,
	}
	code := app.Main(t.Context(), args)
	return code, stdout.String(), stderr.String()
}

// TestOAuthBadCredentialsFailBeforeAnyData: a key the app does not have,
// an unknown client id, or an org URL whose token endpoint is not the
// assertion's audience fail validate and collect with exit 3 and a clear
// message, before any management API request.
func TestOAuthBadCredentialsFailBeforeAnyData(t *testing.T) {
	for _, tc := range []struct {
		name, want string
		mod        func(f *fakeEnv, env map[string]string)
	}{
		{"bad key", "signature is invalid", func(f *fakeEnv, env map[string]string) {
			env["OKTA_PRIVATE_KEY_FILE"] = ""
			env["OKTA_PRIVATE_KEY"] = strings.ReplaceAll(pemOf(t, newECKey(t)), "\n", `\n`)
		}},
		{"wrong client id", "client_id", func(f *fakeEnv, env map[string]string) { env["OKTA_CLIENT_ID"] = "0oaWRONGclientid00001" }},
		{"wrong audience", "audience", func(f *fakeEnv, env map[string]string) { env["OKTA_ORG_URL"] = "https://other.okta.com" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := startOAuthFake(t, oktafake.OrgSpec{Users: 10, Seed: 1}, oktafake.ServerOptions{}, newECKey(t), nil)
			env := map[string]string{
				"OKTA_ORG_URL":          testOrgURL,
				"OKTA_CLIENT_ID":        testClientID,
				"OKTA_PRIVATE_KEY_FILE": f.cfg.PrivateKeyFile,
			}
			tc.mod(f, env)
			for _, args := range [][]string{{"validate"}, {"collect", "--output", t.TempDir() + "/out", "--progress", "off"}} {
				code, stdout, stderr := runCLI(t, f.col, env, args...)
				if code != cli.ExitAuth {
					t.Errorf("%s: exit %d, want %d\nstdout: %s\nstderr: %s", args[0], code, cli.ExitAuth, stdout, stderr)
				}
				if !strings.Contains(stderr, tc.want) || !strings.Contains(stderr, "refused the service app's credentials") {
					t.Errorf("%s: unclear message: %s", args[0], stderr)
				}
				if k := env["OKTA_PRIVATE_KEY"]; k != "" && (strings.Contains(stdout+stderr, k[40:80])) {
					t.Errorf("%s: private key in output", args[0])
				}
			}
			if st := f.srv.Server.Stats(); st.Requests != 0 {
				t.Errorf("%d management API requests, want none: %v", st.Requests, st.Endpoints)
			}
			if ts := f.srv.Server.TokenStats(); ts.Issued != 0 || ts.Refused != 2 {
				t.Errorf("token stats %+v, want two refusals", ts)
			}
		})
	}
}

// TestOAuthSecretsNeverLeak scans logs (debug), stdout, stderr and the
// output tree of a full collect, and of a collect whose token request
// fails, for the private key and every access token the fake issued.
func TestOAuthSecretsNeverLeak(t *testing.T) {
	key := newECKey(t)
	var logs syncBuffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f := startOAuthFake(t, oktafake.OrgSpec{Users: 100, Seed: 2}, oktafake.ServerOptions{
		OAuth:  oktafake.OAuthOptions{TokenMaxUses: 100},
		Faults: oktafake.Faults{Seed: 1, ErrorRate: 0.1, Forbidden: []string{oktafake.EndpointLogs}},
	}, key, nil, func(o *Options) { o.Logger = logger })
	pemText := pemOf(t, key)
	jwk, _ := json.Marshal(jose.JSONWebKey{Key: key})
	var jwkFields map[string]string
	_ = json.Unmarshal(jwk, &jwkFields)
	secrets := map[string]string{"private key d": jwkFields["d"]}
	for i, line := range strings.Split(strings.TrimSpace(pemText), "\n") {
		if !strings.HasPrefix(line, "-----") && len(line) >= 16 {
			secrets["PEM line "+string(rune('0'+i))] = line
		}
	}
	out := t.TempDir()
	env := map[string]string{
		"OKTA_ORG_URL":   testOrgURL,
		"OKTA_CLIENT_ID": testClientID,
		// The key inline, with escaped newlines as an env var carries it.
		"OKTA_PRIVATE_KEY": strings.ReplaceAll(pemText, "\n", `\n`),
	}
	code, stdout, stderr := runCLI(t, f.col, env, "collect", "--output", out+"/.j1-integration", "--progress", "off", "--log-level", "debug")
	if code != cli.ExitOK && code != cli.ExitPartial {
		t.Fatalf("collect exit %d\n%s\n%s", code, stdout, stderr)
	}
	// A second collect whose credentials are refused (key replaced).
	env["OKTA_PRIVATE_KEY"] = pemOf(t, newECKey(t))
	code2, stdout2, stderr2 := runCLI(t, f.col, env, "collect", "--output", out+"/other", "--progress", "off", "--log-level", "debug")
	if code2 != cli.ExitAuth {
		t.Errorf("collect with a foreign key: exit %d", code2)
	}
	for i, tok := range f.srv.Server.IssuedTokens() {
		secrets["access token "+string(rune('a'+i%26))] = tok
	}
	if len(f.srv.Server.IssuedTokens()) < 2 {
		t.Fatalf("only %d tokens issued", len(f.srv.Server.IssuedTokens()))
	}
	places := map[string]string{"logs": logs.String(), "stdout": stdout + stdout2, "stderr": stderr + stderr2}
	for name, body := range readTree(t, out) {
		places[name] = body
	}
	for where, text := range places {
		for what, s := range secrets {
			if s != "" && strings.Contains(text, s) {
				t.Errorf("%s found in %s", what, where)
			}
		}
	}
	var sum struct {
		Metadata struct {
			Details map[string]string `json:"details"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal([]byte(places[".j1-integration/summary.json"]), &sum); err != nil || sum.Metadata.Details["authMethod"] != AuthServiceApp {
		t.Errorf("summary.json does not record the auth method: %v %v", err, sum.Metadata.Details)
	}
	if !strings.Contains(stderr, "debug") && !strings.Contains(stderr, "DEBUG") && logs.String() == "" {
		t.Error("no debug output was produced to scan")
	}
}

func TestAuthMethodConfig(t *testing.T) {
	key := pemOf(t, newECKey(t))
	file := filepath.Join(t.TempDir(), "k.pem")
	os.WriteFile(file, []byte(key), 0o600)
	rsaSmall, _ := rsa.GenerateKey(rand.Reader, 1024)
	pub, _ := x509.MarshalPKIXPublicKey(newECKey(t).Public())
	pubPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}))
	jwkPriv, _ := json.Marshal(jose.JSONWebKey{Key: newECKey(t), KeyID: "kid-1"})
	for _, tc := range []struct {
		name  string
		cfg   Config
		field string // "" = valid
		msg   string
	}{
		{"api token", Config{APIKey: "abcdefghijklmnop"}, "", ""},
		{"service app file", Config{ClientID: testClientID, PrivateKeyFile: file}, "", ""},
		{"service app inline", Config{ClientID: testClientID, PrivateKey: key}, "", ""},
		{"service app JWK", Config{ClientID: testClientID, PrivateKey: string(jwkPriv)}, "", ""},
		{"none", Config{}, "apiKey, clientId", "no credentials"},
		{"both", Config{APIKey: "abcdefghijklmnop", ClientID: testClientID, PrivateKeyFile: file}, "apiKey, clientId, privateKeyFile", "exactly one"},
		{"key without client", Config{PrivateKeyFile: file}, "clientId", "is required"},
		{"client without key", Config{ClientID: testClientID}, "privateKey, privateKeyFile", "private key"},
		{"two keys", Config{ClientID: testClientID, PrivateKey: key, PrivateKeyFile: file}, "privateKey, privateKeyFile", "only one"},
		{"missing file", Config{ClientID: testClientID, PrivateKeyFile: file + ".nope"}, "privateKeyFile", "cannot read"},
		{"public key", Config{ClientID: testClientID, PrivateKey: pubPEM}, "privateKey", "private key is needed"},
		{"garbage", Config{ClientID: testClientID, PrivateKey: "not a key at all"}, "privateKey", "neither a PEM"},
		{"short RSA", Config{ClientID: testClientID, PrivateKey: pemOf(t, rsaSmall)}, "privateKey", "2048"},
		{"write scope", Config{ClientID: testClientID, PrivateKeyFile: file, Scopes: []string{"okta.users.manage"}}, "scopes", "read-only"},
		{"scopes with api token", Config{APIKey: "abcdefghijklmnop", Scopes: []string{"okta.users.read"}}, "apiKey, scopes", "exactly one"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.OrgURL, cfg.RateLimitShare = testOrgURL, 0.9
			_, err := validateFields(&cfg)
			if tc.field == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			var ce *integration.ConfigError
			if !errors.As(err, &ce) || ce.Field != tc.field || !strings.Contains(ce.Message, tc.msg) {
				t.Fatalf("got %v, want field %q with %q", err, tc.field, tc.msg)
			}
			if k := cfg.PrivateKey; k != "" && strings.Contains(err.Error(), k[len(k)/2:len(k)/2+8]) {
				t.Error("key material in the error")
			}
		})
	}
}

// The scopes a service app requests by default are the declared sources'
// Needs (integration.Integration.Needs) over the enabled sources.
func TestDefaultScopesFollowSources(t *testing.T) {
	integ := New(Options{})
	all := integ.SourceNeeds(&Config{EnableDevices: true})
	want := []string{ScopeAppsRead, ScopeDevicesRead, ScopeGroupsRead, ScopeLogsRead, ScopeOrgsRead, ScopeRolesRead, ScopeUsersRead}
	if !slices.Equal(all, want) {
		t.Errorf("all sources: %v", all)
	}
	few := integ.SourceNeeds(&Config{DisableSources: []string{SourceRoles, SourceApplications}})
	if slices.Contains(few, ScopeRolesRead) || slices.Contains(few, ScopeAppsRead) || slices.Contains(few, ScopeDevicesRead) || !slices.Contains(few, ScopeGroupsRead) {
		t.Errorf("without roles, apps, devices: %v", few)
	}
	// system-log is probed on every run, so its scope is always requested.
	if !slices.Contains(few, ScopeLogsRead) {
		t.Errorf("without applications: %v lacks %s, which the system-log probe needs", few, ScopeLogsRead)
	}
}

// A token source that is told about a 401 for a token it no longer holds
// does not fetch again.
func TestRejectedStaleTokenDoesNotRefetch(t *testing.T) {
	f := startOAuthFake(t, oktafake.OrgSpec{Users: 5, Seed: 1}, oktafake.ServerOptions{}, newECKey(t), nil)
	api, err := f.col.newAPI(f.cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	a := api.auth
	tok1, err := a.ts.Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, "http://x/", nil)
	req.Header.Set("Authorization", "Bearer "+tok1.AccessToken)
	if !a.ts.Rejected(req) {
		t.Fatal("current token rejected: want a resend")
	}
	tok2, _ := a.ts.Token(t.Context())
	if !a.ts.Rejected(req) { // tok1 again, already replaced
		t.Fatal("want a resend with the new token")
	}
	tok3, _ := a.ts.Token(t.Context())
	if tok2.AccessToken != tok3.AccessToken || tok1.AccessToken == tok2.AccessToken {
		t.Error("a 401 for a replaced token caused another fetch")
	}
	if n := f.srv.Server.TokenStats().Issued; n != 2 {
		t.Errorf("%d tokens, want 2", n)
	}
}

// TestOAuthDPoP: an app that requires DPoP is detected from the token
// endpoint's answer; tokens are DPoP-bound and every API request carries a
// proof the fake verifies (key, htm, htu, ath, jti).
func TestOAuthDPoP(t *testing.T) {
	key := newECKey(t)
	f := startOAuthFake(t, oktafake.OrgSpec{Users: 150, Seed: 4}, oktafake.ServerOptions{
		OAuth: oktafake.OAuthOptions{TokenMaxUses: 100},
	}, key, nil)
	f.srv.Server.RegisterClient(oktafake.OAuthClient{ClientID: testClientID, PublicKey: key.Public(), Scopes: oktafake.ReadScopes, RequireDPoP: true})
	f.runComplete(t)
	ts := f.srv.Server.TokenStats()
	t.Logf("token stats %+v", ts)
	if ts.Refusals["The DPoP proof JWT header is missing."] != 1 || ts.Refusals["Authorization server requires nonce in DPoP proof."] != 1 {
		t.Errorf("want one request without proof and one without nonce: %v", ts.Refusals)
	}
	for k, n := range ts.Refusals {
		if strings.HasPrefix(k, "API: ") {
			t.Errorf("%d API requests refused: %s", n, k)
		}
	}
	if ts.Issued < 2 || ts.Premature != 0 {
		t.Errorf("want DPoP tokens refreshed once per expiry: %+v", ts)
	}
}

// TestOAuthSecretsNeverReachTheDatabase collects over OAuth straight into
// PostgreSQL (--sink) and scans every row of every table for the private
// key and the access tokens issued during the run.
func TestOAuthSecretsNeverReachTheDatabase(t *testing.T) {
	dbURL := os.Getenv("STEPGRAPH_TEST_POSTGRES_URL")
	if dbURL == "" {
		t.Skip("STEPGRAPH_TEST_POSTGRES_URL is not set (source .ci/postgres.sh to start a test server)")
	}
	key := newECKey(t)
	f := startOAuthFake(t, oktafake.OrgSpec{Users: 100, Seed: 3}, oktafake.ServerOptions{
		OAuth: oktafake.OAuthOptions{TokenMaxUses: 100},
	}, key, nil)
	pemText := pemOf(t, key)
	env := map[string]string{
		"OKTA_ORG_URL":     testOrgURL,
		"OKTA_CLIENT_ID":   testClientID,
		"OKTA_PRIVATE_KEY": pemText,
	}
	inst := "oauth-leak-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	code, stdout, stderr := runCLI(t, f.col, env, "collect", "--output", t.TempDir()+"/out", "--progress", "off",
		"--sink", dbURL, "--instance", inst)
	if code != cli.ExitOK {
		t.Fatalf("collect --sink: exit %d\n%s\n%s", code, stdout, stderr)
	}
	secrets := map[string]string{}
	for i, line := range strings.Split(strings.TrimSpace(pemText), "\n") {
		if !strings.HasPrefix(line, "-----") && len(line) >= 16 {
			secrets["PEM line "+strconv.Itoa(i)] = line
		}
	}
	toks := f.srv.Server.IssuedTokens()
	if len(toks) < 2 {
		t.Fatalf("only %d tokens issued", len(toks))
	}
	for i, tok := range toks {
		secrets["access token "+strconv.Itoa(i)] = tok
	}
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, `SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) FROM information_schema.tables
		WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	found := false
	scanned := 0
	for _, tbl := range tables {
		rows, err := conn.Query(ctx, `SELECT t::text FROM `+tbl+` t`)
		if err == nil {
			var texts []string
			texts, err = pgx.CollectRows(rows, pgx.RowTo[string])
			if err == nil {
				scanned += scanRows(t, tbl, texts, inst, secrets, &found)
				continue
			}
		}
		// Other test packages share this database and drop their own
		// schemas while this test runs: a table that vanished after it was
		// listed held no row of this run (found below proves ours was read).
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && (pgErr.Code == "42P01" || pgErr.Code == "3F000") {
			continue
		}
		t.Fatalf("%s: %v", tbl, err)
	}
	if !found || scanned == 0 {
		t.Errorf("the run's instance %s was not found in the %d rows scanned: nothing was loaded", inst, scanned)
	}
}

// scanRows reports each secret found in the rows of table tbl, notes
// whether a row names the instance inst, and returns how many rows it read.
func scanRows(t *testing.T, tbl string, texts []string, inst string, secrets map[string]string, found *bool) int {
	t.Helper()
	for _, row := range texts {
		if strings.Contains(row, inst) {
			*found = true
		}
		for what, s := range secrets {
			if strings.Contains(row, s) {
				t.Errorf("%s found in table %s", what, tbl)
			}
		}
	}
	return len(texts)
}

// TestOAuthUnnamedRefusedScopesFoundOneByOne: when invalid_scope does not
// say which scopes were refused, the client asks for each alone once and
// collects the rest.
func TestOAuthUnnamedRefusedScopesFoundOneByOne(t *testing.T) {
	granted := slices.DeleteFunc(slices.Clone(oktafake.ReadScopes), func(s string) bool { return s == oktafake.ScopeLogsRead })
	f := startOAuthFake(t, oktafake.OrgSpec{Users: 30, Seed: 5}, oktafake.ServerOptions{
		OAuth: oktafake.OAuthOptions{VagueInvalidScope: true},
	}, newECKey(t), granted)
	c := f.run(t, sdktest.RunOptions{})
	want := expect(t, f.org, nil)
	want.created = nil
	checkAgainstTruth(t, c, want)
	if !slices.Contains(c.Result.Summary.Metadata.PartialDatasets.Types, relUserCreatedApp) {
		t.Error("app creators not partial")
	}
	ts := f.srv.Server.TokenStats()
	requested := len(f.col.Integration().SourceNeeds(f.cfg))
	// One refused request, one per scope alone, one final request.
	if ts.Requests != int64(requested+2) || ts.Refused != 2 {
		t.Errorf("token stats %+v, want %d requests and 2 refusals", ts, requested+2)
	}
}

// TestOAuthTokenEndpointOutageIsRetried: 503s from the token endpoint are
// retried with the request that needed the token; the run succeeds.
func TestOAuthTokenEndpointOutageIsRetried(t *testing.T) {
	f := startOAuthFake(t, oktafake.OrgSpec{Users: 20, Seed: 5}, oktafake.ServerOptions{
		OAuth: oktafake.OAuthOptions{FailFirst: 2},
	}, newECKey(t), nil)
	c := f.run(t, sdktest.RunOptions{})
	checkAgainstTruth(t, c, expect(t, f.org, nil))
	if ts := f.srv.Server.TokenStats(); ts.Requests != 3 || ts.Issued != 1 {
		t.Errorf("token stats %+v, want 2 failures then a token", ts)
	}
}

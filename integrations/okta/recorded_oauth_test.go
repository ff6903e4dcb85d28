package okta

import (
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stepgraph/stepgraph/integrations/okta/oktafake"
	"github.com/stepgraph/stepgraph/sdk/httpclient"
	"github.com/stepgraph/stepgraph/sdk/sdktest"
)

// TestRecordedOAuth replays a collection made over the OAuth 2.0 service
// app path (token exchange included) from recordings/okta/. The cassette
// holds neither the private key, nor the client assertion, nor the access
// token (the recorder redacts them); replay signs its assertion with a key
// generated on the spot, which the recording never saw, so replaying needs
// no key at all. Re-record with
//
//	STEPGRAPH_RECORD=okta go test ./integrations/okta -run TestRecordedOAuth -update
func TestRecordedOAuth(t *testing.T) {
	key := newECKey(t) // record mode: registered with the fake; replay: unknown to anyone
	pemText := pemOf(t, key)
	var real http.RoundTripper
	var srv *oktafake.Running
	if sdktest.Recording(Name) {
		var err error
		srv, err = oktafake.Start(oktafake.NewOrg(oktafake.OrgSpec{Users: 20, Seed: 42}), oktafake.ServerOptions{
			BaseURL: testOrgURL, Window: time.Second, LimitScale: 100,
			OAuth: oktafake.OAuthOptions{
				Audience: testAudience,
				Clients:  []oktafake.OAuthClient{{ClientID: testClientID, PublicKey: key.Public(), Scopes: oktafake.ReadScopes}},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Close() })
		u, _ := url.Parse(srv.URL)
		real = rewriteTransport{target: u, next: http.DefaultTransport}
	}
	rec := sdktest.NewRecorder(t, sdktest.RecorderOptions{
		Integration:   Name,
		Secrets:       []string{pemText, strings.Join(strings.Split(pemText, "\n")[1:3], "")},
		RealTransport: real,
	})
	file := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(file, []byte(pemText), 0o600); err != nil {
		t.Fatal(err)
	}
	col := NewCollector(Options{
		Transport: rec,
		Now:       func() time.Time { return oktafake.DefaultNow },
		HTTP: func(c *httpclient.Config) {
			c.BackoffMin, c.BackoffMax = time.Millisecond, 10*time.Millisecond
		},
	})
	cfg := &Config{OrgURL: testOrgURL, ClientID: testClientID, PrivateKeyFile: file, RateLimitShare: 0.9,
		DisableSources: []string{SourceMFADevices, SourceDevices}}
	c := sdktest.Run(t, col.Integration(), cfg, sdktest.RunOptions{
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now:         func() time.Time { return oktafake.DefaultNow },
		Concurrency: 1,
	})
	sdktest.AssertAll(t, c)
	for _, s := range c.Result.Summary.Steps {
		if s.Status != "success" && s.Status != "disabled" {
			t.Errorf("step %s: %s %s", s.ID, s.Status, s.Error)
		}
	}
	if len(c.EntitiesOf(typeUser)) == 0 || len(c.EntitiesOf(typeApp)) == 0 {
		t.Fatal("nothing collected")
	}
	if c.Result.Summary.Metadata.Details["authMethod"] != AuthServiceApp {
		t.Errorf("auth method %v", c.Result.Summary.Metadata.Details)
	}
	if srv != nil {
		if ts := srv.Server.TokenStats(); ts.Issued != 1 {
			t.Errorf("recording: %d tokens issued, want 1", ts.Issued)
		}
	}
	sdktest.AssertGolden(t, c, "testdata/golden/oauth-collection.json", sdktest.WithoutRawData())
	if rec.IsRecording() {
		return // the cassette is written when the test ends; replay checks it
	}
	b, err := os.ReadFile(rec.File())
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	if !strings.Contains(text, "url: "+testOrgURL+"/oauth2/v1/token") || !strings.Contains(text, `access_token":"REDACTED"`) {
		t.Error("the cassette has no redacted token exchange")
	}
	if strings.Contains(text, "client_assertion=ey") {
		t.Error("the cassette holds a client assertion")
	}
}

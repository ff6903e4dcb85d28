package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stepgraph/stepgraph/integrations/okta"
)

// Every credential field of either authentication method (okta's own list,
// which includes the non-secret clientId and privateKeyFile) keeps the
// binary out of the demo org.
func TestServiceAppCredentialsAreNotTheDemo(t *testing.T) {
	for _, c := range okta.CredentialFields {
		found := false
		for _, f := range connectionFields {
			found = found || (f.name == c.Name && f.env == c.Env)
		}
		if !found {
			t.Errorf("credential %s (%s) does not count as a configured org", c.Name, c.Env)
		}
	}
	for _, env := range []string{"OKTA_CLIENT_ID", "OKTA_PRIVATE_KEY_FILE", "OKTA_PRIVATE_KEY"} {
		var stdout, stderr bytes.Buffer
		lookup := func(k string) (string, bool) {
			if k == env {
				return "x", true
			}
			return "", false
		}
		code := run(context.Background(), []string{"validate"}, lookup, &stdout, &stderr)
		if code != 2 || !strings.Contains(stderr.String(), "orgUrl") || strings.Contains(stdout.String()+stderr.String(), "DEMO") {
			t.Errorf("%s without an org URL: exit %d, want 2 naming orgUrl and no demo\n%s%s", env, code, stdout.String(), stderr.String())
		}
	}
}

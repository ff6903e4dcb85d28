package main

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/stepgraph/stepgraph/integrations/okta"
	"github.com/stepgraph/stepgraph/sdk/integration"
)

// Every credential field of either authentication method (tagged
// credential:"true", which includes the non-secret clientId and
// privateKeyFile) keeps the binary out of the demo org.
func TestServiceAppCredentialsAreNotTheDemo(t *testing.T) {
	fields, err := integration.Fields(&okta.Config{})
	if err != nil {
		t.Fatal(err)
	}
	credentials := 0
	for _, c := range fields {
		if !c.Credential {
			continue
		}
		credentials++
		if !slices.Contains(connectionFields, connectionField{c.Name, c.Env}) {
			t.Errorf("credential %s (%s) does not count as a configured org", c.Name, c.Env)
		}
	}
	if credentials < 4 {
		t.Errorf("%d config fields are tagged credential:\"true\", want apiKey, clientId, privateKey and privateKeyFile", credentials)
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

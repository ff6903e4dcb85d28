package sdktest

import (
	"strings"
	"testing"

	"gopkg.in/dnaeon/go-vcr.v4/pkg/cassette"
)

func TestRedactCredentialBody(t *testing.T) {
	const jwt = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiIwb2ExIiwiYXVkIjoieCJ9.c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWc"
	form := "client_assertion=" + jwt + "&client_id=0oa1&grant_type=client_credentials&scope=okta.users.read"
	got := redactCredentialBody(form)
	if strings.Contains(got, jwt) || !strings.Contains(got, "client_id=0oa1") || !strings.Contains(got, "client_assertion="+Redacted) {
		t.Errorf("form: %s", got)
	}
	body := `{"token_type":"Bearer","expires_in":3600,"access_token":"` + jwt + `","scope":"okta.users.read"}`
	got = redactCredentialBody(body)
	if strings.Contains(got, jwt) || !strings.Contains(got, `"access_token":"REDACTED"`) || !strings.Contains(got, `"expires_in":3600`) {
		t.Errorf("json: %s", got)
	}
	if redactCredentialBody(got) != got {
		t.Error("not idempotent")
	}
	if p := credentialBodyProblems(body); len(p) == 0 {
		t.Error("unredacted token response not flagged")
	}
	if p := credentialBodyProblems(got); len(p) != 0 {
		t.Errorf("redacted body flagged: %v", p)
	}
}

func TestCassetteProblemsFlagTokenExchange(t *testing.T) {
	c := &cassette.Cassette{Interactions: []*cassette.Interaction{{
		Request:  cassette.Request{Method: "POST", URL: "https://acme.okta.com/oauth2/v1/token", Body: "client_assertion=abc.def&grant_type=client_credentials"},
		Response: cassette.Response{Body: `{"access_token":"opaque-token-value-123"}`},
	}}}
	probs := cassetteProblems([]byte("x"), c, nil)
	joined := strings.Join(probs, "\n")
	if !strings.Contains(joined, "access_token") || !strings.Contains(joined, "credential form parameter") {
		t.Errorf("problems: %v", probs)
	}
}

package integration_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stepgraph/stepgraph/sdk/integration"
)

func TestStatusOf(t *testing.T) {
	api := func(st int) integration.APIError {
		return integration.APIError{Request: integration.Request{Method: "GET", Endpoint: "/x"}, Status: st}
	}
	notFound := api(404)
	forbidden := &integration.AuthorizationError{APIError: api(403)}
	exhausted := &integration.RetriesExhaustedError{Attempts: 3, LastStatus: 503, Err: errors.New("boom")}
	for _, tc := range []struct {
		err                  error
		status               int
		notFound, isForbiddn bool
	}{
		{fmt.Errorf("reading: %w", &notFound), 404, true, false},
		{fmt.Errorf("reading: %w", forbidden), 403, false, true},
		{exhausted, 503, false, false},
		{errors.New("plain"), 0, false, false},
		{nil, 0, false, false},
	} {
		if got := integration.StatusOf(tc.err); got != tc.status {
			t.Errorf("StatusOf(%v) = %d, want %d", tc.err, got, tc.status)
		}
		if integration.IsNotFound(tc.err) != tc.notFound || integration.IsForbidden(tc.err) != tc.isForbiddn {
			t.Errorf("%v: IsNotFound %v IsForbidden %v", tc.err, integration.IsNotFound(tc.err), integration.IsForbidden(tc.err))
		}
	}
}

func TestIsAPIErrorUnder(t *testing.T) {
	at := func(endpoint string) error {
		return fmt.Errorf("listing: %w", &integration.APIError{Request: integration.Request{Method: "GET", Endpoint: endpoint}, Status: 400})
	}
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{at("/api/v1/groups/rules?limit=200"), true},
		{at("/api/v1/groups/rules/0pr1/lifecycle"), true},
		{at("/api/v1/groups/rulesx"), false},
		{at("/api/v1/groups?q=/api/v1/groups/rules"), false},
		{errors.New("/api/v1/groups/rules"), false},
	} {
		if got := integration.IsAPIErrorUnder(tc.err, "/api/v1/groups/rules"); got != tc.want {
			t.Errorf("%v: %v, want %v", tc.err, got, tc.want)
		}
	}
}

package okta

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/stepgraph/stepgraph/sdk/integration"
)

// classify is the integration's error policy (integration.Classifier),
// declared once: an object deleted between its listing and a read of its
// children is skipped; a missing permission, group rules that are not
// enabled (400) and an org without the devices API degrade: the step goes
// on and the types the error affects are marked partial.
func classify(err error) (integration.Action, string) {
	var nd *devicesUnavailable
	switch st := integration.StatusOf(err); {
	case errors.As(err, &nd):
		return integration.Degrade, "the org does not serve the devices API to these credentials (401)"
	case st == http.StatusNotFound:
		return integration.Skip, "deleted since it was listed"
	case integration.IsForbidden(err):
		return integration.Degrade, "the credentials cannot read it (missing scope or admin role)"
	case st == http.StatusBadRequest && integration.IsAPIErrorUnder(err, pathRules):
		return integration.Degrade, "group rules are not enabled for this org (400)"
	}
	return integration.Fail, ""
}

// devicesUnavailable is a 401 from the devices API, which Okta Classic
// orgs answer for any credentials: not an authentication failure of the
// run (the error does not unwrap to *integration.AuthenticationError).
type devicesUnavailable struct{ msg string }

func (e *devicesUnavailable) Error() string { return e.msg }

// seg escapes one path segment.
func seg(s string) string { return url.PathEscape(s) }

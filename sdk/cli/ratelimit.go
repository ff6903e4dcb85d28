package cli

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/stepgraph/stepgraph/sdk/httpclient"
)

// addRateLimitFlag registers --rate-limit-share, the SDK-wide share of each
// provider rate-limit bucket a run may use. Every integration built on
// sdk/httpclient honours it.
func addRateLimitFlag(fs *flagSet) *string {
	p := fs.String("rate-limit-share", "", fmt.Sprintf(
		"fraction (0 < S <= 1) of each provider rate-limit bucket this run may use; the rest is left to the account's other API clients (env %s; default %g, see docs/performance.md)",
		httpclient.ShareEnv, httpclient.DefaultShare))
	fs.group["rate-limit-share"] = "Rate limits"
	return p
}

// withRateLimitShare applies --rate-limit-share, else STEPGRAPH_RATE_LIMIT_SHARE,
// to ctx: every provider request of the run then uses that share. A bad
// value is an *integration.ConfigError naming the flag or the variable,
// reported before any request.
func withRateLimitShare(ctx context.Context, flagValue string, lookupEnv func(string) (string, bool)) (context.Context, error) {
	if lookupEnv == nil {
		lookupEnv = os.LookupEnv
	}
	v, field := strings.TrimSpace(flagValue), "--rate-limit-share"
	if v == "" {
		env, _ := lookupEnv(httpclient.ShareEnv)
		v, field = strings.TrimSpace(env), httpclient.ShareEnv
	}
	if v == "" {
		return ctx, nil
	}
	s, err := httpclient.ParseShare(field, v)
	if err != nil {
		return ctx, err
	}
	return httpclient.WithRateLimitShare(ctx, s), nil
}

package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/stepgraph/stepgraph/sdk/httpclient"
)

func TestRateLimitShareOption(t *testing.T) {
	for _, tt := range []struct {
		name      string
		env       string
		flags     []string
		code      int
		want      any // share seen by the steps (nil: none set)
		errSubstr string
	}{
		{name: "unset", code: ExitOK, want: nil},
		{name: "flag", flags: []string{"--rate-limit-share", "0.25"}, code: ExitOK, want: 0.25},
		{name: "env", env: "0.4", code: ExitOK, want: 0.4},
		{name: "flag beats env", env: "0.4", flags: []string{"--rate-limit-share=1"}, code: ExitOK, want: 1.0},
		{name: "bad flag", flags: []string{"--rate-limit-share", "1.5"}, code: ExitUsage, errSubstr: "--rate-limit-share"},
		{name: "bad env", env: "zero", code: ExitUsage, errSubstr: httpclient.ShareEnv},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := &testHooks{}
			env := baseEnv()
			if tt.env != "" {
				env[httpclient.ShareEnv] = tt.env
			}
			a, out, errb := testApp(h, env)
			args := append([]string{"collect", "--output", t.TempDir() + "/out", "--progress", "off"}, tt.flags...)
			r := runApp(t, context.Background(), a, out, errb, args...)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d:\n%s", r.code, tt.code, r.combinedOut)
			}
			if tt.errSubstr != "" {
				if !strings.Contains(r.stderr, tt.errSubstr) {
					t.Errorf("error does not name %s:\n%s", tt.errSubstr, r.stderr)
				}
				if h.runs.Load() != 0 {
					t.Error("a step ran despite the bad share")
				}
				return
			}
			if got := h.share.Load(); got != tt.want {
				t.Errorf("share seen by the step = %v, want %v", got, tt.want)
			}
		})
	}
}

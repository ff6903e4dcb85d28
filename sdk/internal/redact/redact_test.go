package redact

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
)

func TestMask(t *testing.T) {
	for in, want := range map[string]string{
		"":                         "****",
		"short-secret":             "****",
		"nineteen-characters":      "****",
		"twenty-characters-xy":     "****xy",
		"00abcdefghijklmnopqrstuv": "****uv",
	} {
		if got := Mask(in); got != want {
			t.Errorf("Mask(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRedactor(t *testing.T) {
	r := New("s3cr3t-token", "abc", "")
	if got := r.Redact("Authorization: SSWS s3cr3t-token, abc stays"); got != "Authorization: SSWS [REDACTED], abc stays" {
		t.Errorf("Redact = %q", got)
	}
	var none *Redactor
	if none.Redact("x") != "x" || New().Redact("s3cr3t-token") != "s3cr3t-token" {
		t.Error("a nil or empty Redactor changed text")
	}
}

type stringer struct{}

func (stringer) String() string { return "url?token=s3cr3t-token" }

// TestHandlerScrubsEveryValueKind: messages, strings, errors, Stringers,
// byte slices, groups and WithAttrs attributes lose the secret.
func TestHandlerScrubsEveryValueKind(t *testing.T) {
	var b strings.Builder
	log := slog.New(NewHandler(slog.NewTextHandler(&b, nil), "s3cr3t-token")).With("pre", "s3cr3t-token")
	log.WithGroup("g").Info("sent s3cr3t-token", "s", "x s3cr3t-token", "err", errors.New("bad s3cr3t-token"),
		"str", stringer{}, "raw", []byte("s3cr3t-token"), slog.Group("grp", "in", "s3cr3t-token"), "n", 3)
	out := b.String()
	if strings.Contains(out, "s3cr3t-token") {
		t.Fatalf("secret in log: %s", out)
	}
	for _, w := range []string{`msg="sent [REDACTED]"`, `pre=[REDACTED]`, `g.s="x [REDACTED]"`, `g.err="bad [REDACTED]"`,
		`g.str="url?token=[REDACTED]"`, `g.raw=[REDACTED]`, `g.grp.in=[REDACTED]`, `g.n=3`} {
		if !strings.Contains(out, w) {
			t.Errorf("log lacks %s: %s", w, out)
		}
	}
}

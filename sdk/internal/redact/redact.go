// Package redact scrubs known secret values from text and from log
// records, and masks a secret for display. It is not API: the runtime, the
// CLI, the HTTP client and integration.MaskedConfig apply it for every
// integration.
package redact

import (
	"context"
	"log/slog"
	"strings"
)

// Mask hides a secret for display: "****", plus its last 2 characters
// when it is long enough (20 or more) that they give nothing away.
func Mask(s string) string {
	if len(s) < 20 {
		return "****"
	}
	return "****" + s[len(s)-2:]
}

// Redactor replaces known secret values in text.
type Redactor struct {
	r *strings.Replacer
}

// New returns a Redactor for the given secrets; empty ones and
// values shorter than 4 characters (too common to scrub safely) are ignored.
func New(secrets ...string) *Redactor {
	var pairs []string
	for _, s := range secrets {
		if len(s) >= 4 {
			pairs = append(pairs, s, "[REDACTED]")
		}
	}
	if len(pairs) == 0 {
		return &Redactor{}
	}
	return &Redactor{r: strings.NewReplacer(pairs...)}
}

// Redact returns s with every secret replaced by [REDACTED].
func (r *Redactor) Redact(s string) string {
	if r == nil || r.r == nil {
		return s
	}
	return r.r.Replace(s)
}

// Handler is a slog.Handler that scrubs secret values from messages
// and from string, error and Stringer attribute values before they reach
// the wrapped handler.
type Handler struct {
	next slog.Handler
	red  *Redactor
}

// NewHandler wraps next so no record carries any of secrets.
func NewHandler(next slog.Handler, secrets ...string) *Handler {
	return &Handler{next: next, red: New(secrets...)}
}

// Enabled implements slog.Handler.
func (h *Handler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

// Handle implements slog.Handler.
func (h *Handler) Handle(ctx context.Context, rec slog.Record) error {
	out := slog.NewRecord(rec.Time, rec.Level, h.red.Redact(rec.Message), rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.maskAttr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h *Handler) maskAttr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, h.red.Redact(v.String()))
	case slog.KindGroup:
		attrs := v.Group()
		out := make([]any, 0, len(attrs))
		for _, x := range attrs {
			out = append(out, h.maskAttr(x))
		}
		return slog.Group(a.Key, out...)
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return slog.String(a.Key, h.red.Redact(x.Error()))
		case interface{ String() string }:
			return slog.String(a.Key, h.red.Redact(x.String()))
		case []byte:
			return slog.String(a.Key, h.red.Redact(string(x)))
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}

// WithAttrs implements slog.Handler.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	masked := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		masked[i] = h.maskAttr(a)
	}
	return &Handler{next: h.next.WithAttrs(masked), red: h.red}
}

// WithGroup implements slog.Handler.
func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{next: h.next.WithGroup(name), red: h.red}
}

package integration

import (
	"cmp"
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// Prober is how validate's probes reach the provider with a run's client
// and credentials. An integration's Setup builds it with the client;
// Integration.Prober hands it to the runtime.
type Prober interface {
	// Lacks returns, without a request, why the run's credentials cannot
	// have what a source needs (Source.Needs), e.g. an OAuth scope that was
	// not requested or not granted; nil when nothing is missing or the
	// credentials know no such notion (an API token).
	Lacks(ctx context.Context, needs []string) error
	// Get sends GET path (Source.Get) and returns its error, saying what
	// the credentials lack when the provider refuses (needs are the
	// source's, for the explanation).
	Get(ctx context.Context, path string, needs []string) error
}

// SourcesOff returns the declared sources cfg switches off, each with the
// reason their steps are disabled: the names in its field tagged
// sources:"disable" ("source \"groups\" disabled by configuration
// (disableSources)"), the EnabledBy sources whose field is false, and
// what DisabledSources adds. It fails with a *ConfigError naming the
// field when the disable list names a source that is not declared or
// cannot be disabled (Required), or disables a source its EnabledBy field
// enables; it makes no request. Names in the list are matched without
// regard to case or surrounding space.
func (i *Integration[C]) SourcesOff(cfg *C) (map[string]string, error) {
	fields, err := Fields(cfg)
	if err != nil {
		return nil, err
	}
	v := reflect.ValueOf(cfg).Elem()
	var optional []string
	for _, s := range i.Sources {
		if !s.Required {
			optional = append(optional, s.Name)
		}
	}
	off := map[string]string{}
	listField := ""
	for _, f := range fields {
		if !f.DisablesSources {
			continue
		}
		listField = f.Name
		for _, raw := range v.FieldByIndex(f.index).Interface().([]string) {
			name := strings.ToLower(strings.TrimSpace(raw))
			if !slices.Contains(optional, name) {
				return nil, &ConfigError{Field: f.Name, Message: fmt.Sprintf("unknown source %q (known: %s)", raw, strings.Join(optional, ", "))}
			}
			off[name] = fmt.Sprintf("source %q disabled by configuration (%s)", name, f.Name)
		}
	}
	for _, s := range i.Sources {
		if s.EnabledBy == "" {
			continue
		}
		j := slices.IndexFunc(fields, func(f Field) bool { return f.Name == s.EnabledBy && f.Kind == "bool" })
		if j < 0 {
			return nil, fmt.Errorf("source %s: EnabledBy %q is not a bool config field", s.Name, s.EnabledBy)
		}
		f := fields[j]
		if v.FieldByIndex(f.index).Bool() {
			if _, disabled := off[s.Name]; disabled {
				return nil, &ConfigError{Field: listField, Message: fmt.Sprintf("%s is both enabled (%s) and disabled", s.Name, f.Name)}
			}
			continue
		}
		note, set := "", f.Name
		if s.OffNote != "" {
			note = " (" + s.OffNote + ")"
		}
		if f.Env != "" {
			set += " (" + f.Env + "=true)"
		}
		off[s.Name] = fmt.Sprintf("source %q is off by default%s; set %s to collect %s", s.Name, note, set, s.Name)
	}
	if i.DisabledSources != nil {
		for name, why := range i.DisabledSources(cfg) {
			if _, ok := off[name]; !ok {
				off[name] = cmp.Or(why, "source "+name+" disabled by configuration")
			}
		}
	}
	return off, nil
}

// SourceEnabled reports whether the source is declared and cfg does not
// switch it off (SourcesOff); a config SourcesOff rejects enables none.
// Steps ask JobState.SourceEnabled, which also honours the run's options
// (--disable-source).
func (i *Integration[C]) SourceEnabled(cfg *C, source string) bool {
	off, err := i.SourcesOff(cfg)
	if err != nil {
		return false
	}
	_, disabled := off[source]
	return !disabled && slices.ContainsFunc(i.Sources, func(s Source[C]) bool { return s.Name == source })
}

// SourceNeeds returns the union of the Needs of the sources cfg enables,
// sorted, each once: for an OAuth 2.0 client, the scopes to request when
// the configuration names none. It is nil for a config SourcesOff rejects.
func (i *Integration[C]) SourceNeeds(cfg *C) []string {
	off, err := i.SourcesOff(cfg)
	if err != nil {
		return nil
	}
	var out []string
	for _, s := range i.Sources {
		if _, disabled := off[s.Name]; !disabled {
			out = append(out, s.Needs...)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// CheckConfig checks cfg without any request: its values against their
// tags (CheckValues) and its source settings (SourcesOff). The runtime
// and the CLI call it before the integration's Validate, so an
// integration's Validate checks only what is its own.
func (i *Integration[C]) CheckConfig(cfg *C) error {
	if err := CheckValues(cfg); err != nil {
		return err
	}
	_, err := i.SourcesOff(cfg)
	return err
}

// Using adapts fn, which needs the run value Setup put under key (the
// run's client), to a Source.Probe: it reads the value, failing with
// Need's error when Setup did not put one, and calls fn with it.
func Using[C, T any](key Key[T], fn func(context.Context, T) error) func(context.Context, *RunContext[C]) error {
	return func(ctx context.Context, rc *RunContext[C]) error {
		v, err := Need(rc, key)
		if err != nil {
			return err
		}
		return fn(ctx, v)
	}
}

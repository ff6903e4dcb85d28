package integration

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// checkTags reads the value-checking tags of a field (see Field) and
// rejects those that do not fit its kind, so that a malformed declaration
// fails when the config is first read, not when a user sets the value.
func (f *Field) checkTags(tag reflect.StructTag) error {
	f.Credential = tag.Get("credential") == "true"
	switch v := tag.Get("sources"); v {
	case "":
	case "disable":
		if f.Kind != "list" {
			return fmt.Errorf(`sources:"disable" needs a []string field`)
		}
		f.DisablesSources = true
	default:
		return fmt.Errorf(`unknown sources tag %q (want sources:"disable")`, v)
	}
	if e := tag.Get("enum"); e != "" {
		if f.Kind != "string" && f.Kind != "list" {
			return fmt.Errorf("enum needs a string or []string field")
		}
		for _, v := range strings.Split(e, ",") {
			f.Enum = append(f.Enum, strings.TrimSpace(v))
		}
	}
	if f.Range != "" {
		if !slices.Contains([]string{"int", "int64", "float64", "duration"}, f.Kind) {
			return fmt.Errorf("range needs a number or duration field")
		}
		rng, err := parseInterval(f.Range, f.Kind == "duration")
		if err != nil {
			return err
		}
		f.rng = rng
	}
	return nil
}

// interval is a parsed range tag.
type interval struct {
	lo, hi         *float64 // nil: unbounded
	loText, hiText string   // the bounds as written, for messages
	loIncl, hiIncl bool
}

func parseInterval(s string, duration bool) (*interval, error) {
	bad := fmt.Errorf("range %q: want an interval such as (0,1], [1,) or [1s,1h]", s)
	if len(s) < 3 || !strings.ContainsRune("([", rune(s[0])) || !strings.ContainsRune(")]", rune(s[len(s)-1])) {
		return nil, bad
	}
	loText, hiText, ok := strings.Cut(s[1:len(s)-1], ",")
	if !ok {
		return nil, bad
	}
	in := &interval{loIncl: s[0] == '[', hiIncl: s[len(s)-1] == ']'}
	parse := func(t string) (*float64, string, error) {
		t = strings.TrimSpace(t)
		if t == "" {
			return nil, "", nil
		}
		var n float64
		if duration {
			d, err := time.ParseDuration(t)
			if err != nil {
				return nil, "", bad
			}
			n = float64(d)
		} else {
			var err error
			if n, err = strconv.ParseFloat(t, 64); err != nil {
				return nil, "", bad
			}
		}
		return &n, t, nil
	}
	var err error
	if in.lo, in.loText, err = parse(loText); err != nil {
		return nil, err
	}
	if in.hi, in.hiText, err = parse(hiText); err != nil {
		return nil, err
	}
	if in.lo == nil && in.hi == nil || in.lo != nil && in.hi != nil && *in.lo > *in.hi {
		return nil, bad
	}
	return in, nil
}

// contains reports whether n lies in the interval.
func (in *interval) contains(n float64) bool {
	if in.lo != nil && (n < *in.lo || n == *in.lo && !in.loIncl) {
		return false
	}
	return in.hi == nil || n < *in.hi || n == *in.hi && in.hiIncl
}

// String says the interval in words: "greater than 0 and at most 1".
func (in *interval) String() string {
	var parts []string
	if in.lo != nil {
		word := "greater than "
		if in.loIncl {
			word = "at least "
		}
		parts = append(parts, word+in.loText)
	}
	if in.hi != nil {
		word := "less than "
		if in.hiIncl {
			word = "at most "
		}
		parts = append(parts, word+in.hiText)
	}
	return strings.Join(parts, " and ")
}

// CheckValues checks the fields of the config struct cfg points to against
// their range and enum tags (see Field). It fails with a *ConfigError
// naming the first field whose value is out of range or not allowed; a
// secret value is never quoted. Optional fields left at their zero value
// are unset and pass. LoadConfig does not call it: the runtime does, with
// Integration.CheckConfig, so a config built in code is checked too.
func CheckValues(cfg any) error {
	fields, err := Fields(cfg)
	if err != nil {
		return err
	}
	v := reflect.ValueOf(cfg).Elem()
	for _, f := range fields {
		fv := v.FieldByIndex(f.index)
		if f.Optional && fv.IsZero() {
			continue
		}
		if err := f.checkValue(fv); err != nil {
			return err
		}
	}
	return nil
}

func (f *Field) checkValue(fv reflect.Value) error {
	bad := func(shown, msg string) error {
		if f.Secret {
			shown = "(secret value)"
		}
		if f.Example != "" {
			msg += " (e.g. " + f.Example + ")"
		}
		return &ConfigError{Field: f.Name, Message: shown + " " + msg}
	}
	if f.rng != nil {
		var n float64
		switch fv.Kind() {
		case reflect.Float64:
			n = fv.Float()
		default:
			n = float64(fv.Int())
		}
		if !f.rng.contains(n) {
			return bad(fmt.Sprint(fv.Interface()), "must be "+f.rng.String())
		}
	}
	if len(f.Enum) > 0 {
		values := []string{}
		if fv.Kind() == reflect.String {
			values = append(values, fv.String())
		} else {
			values = append(values, fv.Interface().([]string)...)
		}
		for _, s := range values {
			if !slices.Contains(f.Enum, strings.TrimSpace(s)) {
				return bad(strconv.Quote(s), "is not one of "+strings.Join(f.Enum, ", "))
			}
		}
	}
	return nil
}

// Alternative is one way of configuring what a config needs exactly one
// of (an authentication method: an API token, or an OAuth 2.0 client
// with its key): its name and the config names (tag "config") of the
// fields that belong to it.
type Alternative struct {
	Name   string
	Fields []string
}

// OneOf returns the name of the one alternative whose fields cfg sets (a
// field is set when it is not its zero value; strings and lists count
// when not blank). It fails with a *ConfigError when cfg sets fields of
// several alternatives (Field lists every field set, Message is both) or
// of none (Field lists the first field of each alternative, Message is
// none). It makes no request and never shows a value.
func OneOf(cfg any, both, none string, alts ...Alternative) (string, error) {
	fields, err := Fields(cfg)
	if err != nil {
		return "", err
	}
	v := reflect.ValueOf(cfg).Elem()
	var set, firsts, chosen []string
	for _, alt := range alts {
		for i, name := range alt.Fields {
			j := slices.IndexFunc(fields, func(f Field) bool { return f.Name == name })
			if j < 0 {
				return "", fmt.Errorf("alternative %s: %q is not a config field", alt.Name, name)
			}
			if i == 0 {
				firsts = append(firsts, name)
			}
			if isSet(v.FieldByIndex(fields[j].index)) {
				set = append(set, name)
				if !slices.Contains(chosen, alt.Name) {
					chosen = append(chosen, alt.Name)
				}
			}
		}
	}
	switch len(chosen) {
	case 0:
		return "", &ConfigError{Field: strings.Join(firsts, ", "), Message: none}
	case 1:
		return chosen[0], nil
	}
	return "", &ConfigError{Field: strings.Join(set, ", "), Message: both}
}

// isSet reports whether a config field holds a value: a string or list
// that is not blank, any other kind that is not zero.
func isSet(fv reflect.Value) bool {
	switch fv.Kind() {
	case reflect.String:
		return strings.TrimSpace(fv.String()) != ""
	case reflect.Slice:
		for i := range fv.Len() {
			if strings.TrimSpace(fv.Index(i).String()) != "" {
				return true
			}
		}
		return false
	}
	return !fv.IsZero()
}

package integration

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/stepgraph/stepgraph/sdk/internal/redact"
)

// Field describes one configuration field, read from the config struct's tags:
//
//	OrgURL string `config:"orgUrl" env:"OKTA_ORG_URL" help:"Okta org URL"`
//	APIKey string `config:"apiKey" env:"OKTA_API_KEY" secret:"true"`
//	Share  float64 `config:"rateLimitShare" env:"OKTA_RATE_LIMIT_SHARE" default:"0.9" optional:"true"`
//
// Supported field kinds: string, bool, int, int64, float64, time.Duration and
// []string (comma separated).
//
// Tags that check values (CheckValues), each error a *ConfigError naming
// the field:
//
//	Share float64  `config:"share" range:"(0,1]" example:"0.5"`      // 0 < x <= 1
//	Mode  string   `config:"mode" enum:"fast,full"`                 // one of
//	Skip  []string `config:"disableSources" sources:"disable"`      // declared source names
//
// range is an interval over a number or duration field: "(" or "[" for an
// exclusive or inclusive lower bound, ")" or "]" for the upper one, and an
// empty bound for none ("[1,)" is at least 1). enum lists the values a
// string field, or each item of a list field, may take. sources:"disable"
// marks the configuration's list of ingestion sources to skip (see
// Integration.SourcesOff). credential:"true" marks a field that carries
// or locates a credential (a token, a client id, a key file's path),
// secret or not. An optional field left at its zero value is unset and
// is not checked.
type Field struct {
	// Name is the config name (tag "config"), also the flag name.
	Name string
	// Env is the environment variable (tag "env").
	Env string
	// Secret fields are masked in logs and errors (tag secret:"true").
	Secret bool
	// Optional fields may be left empty (tag optional:"true").
	Optional bool
	// Default is used when no source sets the field (tag "default").
	Default string
	// Help is a one-line description (tag "help").
	Help string
	// Kind is the Go kind of the field, e.g. "string", "bool".
	Kind string
	// Credential fields carry or locate a credential (tag
	// credential:"true"), secret or not: a binary that falls back to a demo
	// when nothing is configured treats any of them as "configured".
	Credential bool
	// DisablesSources marks the configuration's list of ingestion sources
	// to skip (tag sources:"disable"), checked against the integration's
	// declared sources.
	DisablesSources bool
	// Range is the interval the value must lie in (tag "range"), e.g.
	// "(0,1]"; Enum the values it may take (tag "enum", comma separated);
	// Example a valid value quoted in their errors (tag "example").
	Range   string
	Enum    []string
	Example string
	index   []int
	typ     reflect.Type
	rng     *interval
}

var durationType = reflect.TypeFor[time.Duration]()

// Fields lists the configuration fields of a pointer to a config struct.
func Fields(cfg any) ([]Field, error) {
	v := reflect.ValueOf(cfg)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("config must be a pointer to a struct, got %T", cfg)
	}
	t := v.Elem().Type()
	var out []Field
	for i := range t.NumField() {
		sf := t.Field(i)
		name := sf.Tag.Get("config")
		if name == "" || name == "-" || !sf.IsExported() {
			continue
		}
		f := Field{
			Name:     name,
			Env:      sf.Tag.Get("env"),
			Secret:   sf.Tag.Get("secret") == "true",
			Optional: sf.Tag.Get("optional") == "true",
			Default:  sf.Tag.Get("default"),
			Help:     sf.Tag.Get("help"),
			Range:    sf.Tag.Get("range"),
			Example:  sf.Tag.Get("example"),
			index:    sf.Index,
			typ:      sf.Type,
		}
		switch {
		case sf.Type == durationType:
			f.Kind = "duration"
		case sf.Type.Kind() == reflect.Slice && sf.Type.Elem().Kind() == reflect.String:
			f.Kind = "list"
		default:
			switch sf.Type.Kind() {
			case reflect.String, reflect.Bool, reflect.Int, reflect.Int64, reflect.Float64:
				f.Kind = sf.Type.Kind().String()
			default:
				return nil, fmt.Errorf("config field %s: unsupported type %s", name, sf.Type)
			}
		}
		if err := f.checkTags(sf.Tag); err != nil {
			return nil, fmt.Errorf("config field %s: %w", name, err)
		}
		out = append(out, f)
	}
	return out, nil
}

// Sources are where LoadConfig reads values, highest precedence first:
// Flags, then the environment, then the .env file, then tag defaults.
type Sources struct {
	// Flags maps config names to values given on the command line.
	Flags map[string]string
	// LookupEnv reads the environment; nil means os.LookupEnv.
	LookupEnv func(string) (string, bool)
	// DotEnv is the path of a .env file; "" means none. A missing file is
	// not an error.
	DotEnv string
}

// LoadConfig fills the config struct cfg points to from src. It fails with
// a *ConfigError naming the field when a value cannot be parsed or a
// required field is empty. It never includes a secret value in an error.
func LoadConfig(cfg any, src Sources) error {
	fields, err := Fields(cfg)
	if err != nil {
		return err
	}
	lookup := src.LookupEnv
	if lookup == nil {
		lookup = os.LookupEnv
	}
	dotenv := map[string]string{}
	if src.DotEnv != "" {
		dotenv, err = ReadDotEnv(src.DotEnv)
		if err != nil {
			return err
		}
	}
	v := reflect.ValueOf(cfg).Elem()
	for _, f := range fields {
		raw, ok := src.Flags[f.Name]
		if !ok && f.Env != "" {
			raw, ok = lookup(f.Env)
		}
		if !ok && f.Env != "" {
			raw, ok = dotenv[f.Env]
		}
		if !ok && f.Default != "" {
			raw, ok = f.Default, true
		}
		if !ok || strings.TrimSpace(raw) == "" {
			if !f.Optional && v.FieldByIndex(f.index).IsZero() {
				return &ConfigError{Field: f.Name, Message: "is required" + envHint(f)}
			}
			continue
		}
		if err := setField(v.FieldByIndex(f.index), f, strings.TrimSpace(raw)); err != nil {
			return err
		}
	}
	return nil
}

func envHint(f Field) string {
	if f.Env == "" {
		return ""
	}
	return fmt.Sprintf(" (flag --%s or env %s)", f.Name, f.Env)
}

func setField(fv reflect.Value, f Field, raw string) error {
	bad := func(want string) error {
		shown := strconv.Quote(raw)
		if f.Secret {
			shown = "(secret value)"
		}
		return &ConfigError{Field: f.Name, Message: fmt.Sprintf("%s is not a valid %s", shown, want)}
	}
	switch f.Kind {
	case "duration":
		d, err := time.ParseDuration(raw)
		if err != nil {
			return bad("duration (e.g. 30s, 6h)")
		}
		fv.SetInt(int64(d))
	case "list":
		var items []string
		for _, p := range strings.Split(raw, ",") {
			if p = strings.TrimSpace(p); p != "" {
				items = append(items, p)
			}
		}
		fv.Set(reflect.ValueOf(items))
	case "string":
		fv.SetString(raw)
	case "bool":
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return bad("boolean")
		}
		fv.SetBool(b)
	case "int", "int64":
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return bad("integer")
		}
		fv.SetInt(n)
	case "float64":
		n, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			return bad("number")
		}
		fv.SetFloat(n)
	}
	return nil
}

// ReadDotEnv parses a .env file: KEY=VALUE lines, optional "export "
// prefix, # comments, single or double quoted values. A missing file gives
// an empty map.
func ReadDotEnv(path string) (map[string]string, error) {
	out := map[string]string{}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		k, val, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("%s:%d: expected KEY=VALUE", path, n)
		}
		k, val = strings.TrimSpace(k), strings.TrimSpace(val)
		if len(val) >= 2 && (val[0] == '"' || val[0] == '\'') && val[len(val)-1] == val[0] {
			if val[0] == '"' {
				if uq, err := strconv.Unquote(val); err == nil {
					val = uq
				} else {
					val = val[1 : len(val)-1]
				}
			} else {
				val = val[1 : len(val)-1]
			}
		} else if i := strings.Index(val, " #"); i >= 0 {
			val = strings.TrimSpace(val[:i])
		}
		out[k] = val
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return out, nil
}

// SecretValues returns the non-empty values of the secret fields of cfg,
// for masking.
func SecretValues(cfg any) []string {
	fields, err := Fields(cfg)
	if err != nil {
		return nil
	}
	v := reflect.ValueOf(cfg).Elem()
	var out []string
	for _, f := range fields {
		if !f.Secret {
			continue
		}
		fv := v.FieldByIndex(f.index)
		switch fv.Kind() {
		case reflect.String:
			if s := fv.String(); s != "" {
				out = append(out, s)
			}
		case reflect.Slice:
			for i := range fv.Len() {
				if s := fv.Index(i).String(); s != "" {
					out = append(out, s)
				}
			}
		}
	}
	return out
}

// MaskedConfig returns name=value pairs of cfg for display, with secrets
// masked as "****" plus at most their last 2 characters for long secrets.
func MaskedConfig(cfg any) map[string]string {
	fields, err := Fields(cfg)
	if err != nil {
		return nil
	}
	v := reflect.ValueOf(cfg).Elem()
	out := make(map[string]string, len(fields))
	for _, f := range fields {
		s := fmt.Sprint(v.FieldByIndex(f.index).Interface())
		if f.Secret && s != "" {
			s = redact.Mask(s)
		}
		out[f.Name] = s
	}
	return out
}

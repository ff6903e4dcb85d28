package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/stepgraph/stepgraph/sdk/integration"
	"github.com/stepgraph/stepgraph/sdk/store"
)

var errHelp = errors.New("help requested")

// flagSet is a flag.FlagSet that accepts flags after positional
// arguments, prints --double-dash help, groups flags and knows aliases.
type flagSet struct {
	fs      *flag.FlagSet
	group   map[string]string // flag name -> group title
	aliases map[string][]string
	hidden  map[string]bool
}

func newFlagSet(name string) *flagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &flagSet{fs: fs, group: map[string]string{}, aliases: map[string][]string{}, hidden: map[string]bool{}}
}

func (f *flagSet) String(name, value, usage string) *string { return f.fs.String(name, value, usage) }
func (f *flagSet) Bool(name string, value bool, usage string) *bool {
	return f.fs.Bool(name, value, usage)
}
func (f *flagSet) Int(name string, value int, usage string) *int { return f.fs.Int(name, value, usage) }
func (f *flagSet) Duration(name string, value time.Duration, usage string) *time.Duration {
	return f.fs.Duration(name, value, usage)
}

// alias makes alias another name of the registered flag name.
func (f *flagSet) alias(alias, name string) {
	fl := f.fs.Lookup(name)
	f.fs.Var(fl.Value, alias, fl.Usage)
	f.aliases[name] = append(f.aliases[name], alias)
	f.hidden[alias] = true
}

// parse parses args, allowing flags and positional arguments in any order;
// everything after a "--" argument is positional.
func (f *flagSet) parse(args []string) ([]string, error) {
	var tail []string
	for i, a := range args {
		if a == "--" {
			args, tail = args[:i], args[i+1:]
			break
		}
	}
	var pos []string
	for {
		if err := f.fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, errHelp
			}
			return nil, err
		}
		left := f.fs.Args()
		if len(left) == 0 {
			return append(pos, tail...), nil
		}
		pos = append(pos, left[0])
		args = left[1:]
	}
}

// printDefaults prints the flags by group, each as --name (and aliases).
func (f *flagSet) printDefaults(w io.Writer) {
	byGroup := map[string][]*flag.Flag{}
	var groups []string
	f.fs.VisitAll(func(fl *flag.Flag) {
		if f.hidden[fl.Name] {
			return
		}
		g := f.group[fl.Name]
		if _, ok := byGroup[g]; !ok {
			groups = append(groups, g)
		}
		byGroup[g] = append(byGroup[g], fl)
	})
	sort.Slice(groups, func(i, j int) bool {
		if (groups[i] == "") != (groups[j] == "") {
			return groups[i] == "" // command flags first
		}
		return groups[i] < groups[j]
	})
	for _, g := range groups {
		if g != "" {
			fmt.Fprintf(w, "\n%s:\n", g)
		}
		for _, fl := range byGroup[g] {
			names := "--" + fl.Name
			for _, a := range f.aliases[fl.Name] {
				names += ", --" + a
			}
			kind, usage := flag.UnquoteUsage(fl)
			if bf, ok := fl.Value.(interface{ IsBoolFlag() bool }); ok && bf.IsBoolFlag() {
				kind = ""
			}
			if cv, ok := fl.Value.(*configValue); ok {
				kind = cv.field.Kind
			}
			line := "  " + names
			if kind != "" {
				line += " " + kind
			}
			fmt.Fprintf(w, "%s\n      %s", line, usage)
			if def := fl.DefValue; def != "" && def != "false" && def != "0" && def != "0s" {
				if kind == "string" {
					def = strconv.Quote(def)
				}
				fmt.Fprintf(w, " (default %s)", def)
			}
			fmt.Fprintln(w)
		}
	}
}

// configValue is the flag.Value of one config field: it only records the
// raw value so integration.LoadConfig applies the flags > env > .env >
// default precedence and the parsing rules in one place.
type configValue struct {
	field integration.Field
	set   map[string]string
}

func (v *configValue) String() string {
	if v == nil || v.set == nil {
		return ""
	}
	return v.set[v.field.Name]
}

func (v *configValue) Set(s string) error {
	v.set[v.field.Name] = s
	return nil
}

// IsBoolFlag lets a bool config field be given as a bare --flag.
func (v *configValue) IsBoolFlag() bool { return v.field.Kind == "bool" }

// configFlags are the generated config flags and --env-file.
type configFlags[C any] struct {
	set     map[string]string
	extra   map[string]string // values App.Prepare supplied
	envFile *string
	err     error
}

// addConfigFlags registers one flag per config field of C and --env-file.
func addConfigFlags[C any](fs *flagSet) *configFlags[C] {
	cf := &configFlags[C]{set: map[string]string{}}
	cf.envFile = fs.String("env-file", ".env", "read config variables from this .env file when present (\"\" for none)")
	fs.group["env-file"] = "Configuration (flags > environment > .env file > defaults)"
	fields, err := integration.Fields(new(C))
	if err != nil {
		cf.err = err
		return cf
	}
	for _, f := range fields {
		usage := f.Help
		if usage == "" {
			usage = f.Name
		}
		var notes []string
		if f.Env != "" {
			notes = append(notes, "env "+f.Env)
		}
		if f.Default != "" {
			notes = append(notes, "default "+strconv.Quote(f.Default))
		}
		if f.Optional {
			notes = append(notes, "optional")
		}
		if f.Secret {
			notes = append(notes, "secret: prefer the env var or .env, flags show in process lists")
		}
		if f.Kind == "list" {
			notes = append(notes, "comma separated")
		}
		if len(notes) > 0 {
			usage += " (" + strings.Join(notes, "; ") + ")"
		}
		fs.fs.Var(&configValue{field: f, set: cf.set}, f.Name, usage)
		fs.group[f.Name] = "Configuration (flags > environment > .env file > defaults)"
	}
	return cf
}

// load fills a new C from the flags, the environment and the .env file.
func (cf *configFlags[C]) load(a *App[C]) (*C, error) {
	if cf.err != nil {
		return nil, cf.err
	}
	cfg := new(C)
	flags := cf.set
	if len(cf.extra) > 0 { // values App.Prepare supplied win
		flags = map[string]string{}
		for k, v := range cf.set {
			flags[k] = v
		}
		for k, v := range cf.extra {
			flags[k] = v
		}
	}
	err := integration.LoadConfig(cfg, integration.Sources{
		Flags:     flags,
		LookupEnv: a.LookupEnv,
		DotEnv:    *cf.envFile,
	})
	if err != nil {
		return nil, err
	}
	return cfg, nil
}

// logFlags are --log-format and --log-level.
type logFlags struct {
	format, level *string
}

func addLogFlags(fs *flagSet) *logFlags {
	lf := &logFlags{
		format: fs.String("log-format", "text", "log format: text or json"),
		level:  fs.String("log-level", "info", "log level: debug, info, warn or error"),
	}
	fs.group["log-format"] = "Logging"
	fs.group["log-level"] = "Logging"
	return lf
}

func (lf *logFlags) logger(w io.Writer, secrets []string) (*slog.Logger, error) {
	return newLogger(w, *lf.format, *lf.level, secrets)
}

// check validates the flag values before anything else runs.
func (lf *logFlags) check() error {
	_, err := newLogger(io.Discard, *lf.format, *lf.level, nil)
	return err
}

// addOutputFlag registers --output (alias --data-dir).
func addOutputFlag(fs *flagSet, usage string) *string {
	p := fs.String("output", store.DefaultRoot, usage)
	fs.alias("data-dir", "output")
	return p
}

// splitList splits a comma separated flag value.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

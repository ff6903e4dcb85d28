package cli

import (
	"context"
	"os"
	"strings"

	"github.com/stepgraph/stepgraph/sdk/integration"
)

// Preparation is what App.Prepare sees and changes: it runs in collect
// and validate after the command line is parsed and before the
// configuration is loaded, so a binary can react to what is configured
// (for example start a demo server when no account is set) without
// parsing the flags a second time.
type Preparation struct {
	// Command is the command being run ("collect" or "validate").
	Command string
	// Given holds the configuration values that the flags, the
	// environment or the .env file set to something non-blank, by config
	// name (defaults are not included). Secrets are included: do not print
	// them.
	Given map[string]string
	// Set holds values the hook supplies, by config name; they take
	// precedence over every other source.
	Set map[string]string

	done []func()
}

// OnDone registers fn to run when the command ends (stop a demo server).
func (p *Preparation) OnDone(fn func()) { p.done = append(p.done, fn) }

// prepare runs App.Prepare, if any, and returns the values it set and the
// cleanups to run when the command ends.
func (cf *configFlags[C]) prepare(ctx context.Context, a *App[C], command string) (func(), error) {
	cf.extra = nil
	if a.Prepare == nil {
		return func() {}, nil
	}
	p := &Preparation{Command: command, Given: map[string]string{}, Set: map[string]string{}}
	fields, err := integration.Fields(new(C))
	if err != nil {
		return func() {}, err
	}
	lookup := a.LookupEnv
	if lookup == nil {
		lookup = os.LookupEnv
	}
	dotenv := map[string]string{}
	if *cf.envFile != "" {
		if dotenv, err = integration.ReadDotEnv(*cf.envFile); err != nil {
			return func() {}, err
		}
	}
	for _, f := range fields {
		v, ok := cf.set[f.Name]
		if !ok && f.Env != "" {
			v, ok = lookup(f.Env)
		}
		if !ok && f.Env != "" {
			v, ok = dotenv[f.Env]
		}
		if ok && strings.TrimSpace(v) != "" {
			p.Given[f.Name] = v
		}
	}
	done := func() {
		for i := len(p.done) - 1; i >= 0; i-- {
			p.done[i]()
		}
	}
	if err := a.Prepare(ctx, p); err != nil {
		done()
		return func() {}, err
	}
	cf.extra = p.Set
	return done, nil
}

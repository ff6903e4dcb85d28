package service

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"sort"

	"github.com/stepgraph/stepgraph/sdk/integration"
	"github.com/stepgraph/stepgraph/sdk/runtime"
	"github.com/stepgraph/stepgraph/sdk/store"
)

// Registry lists the integrations a program contains: what its commands
// can validate instances against and what its workers can run. A worker
// only takes jobs of instances whose integration it has (River routes
// every integration to a queue of its own).
type Registry struct {
	defs map[string]definition
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{defs: map[string]definition{}} }

// Definition declares one integration to the service.
type Definition[C any] struct {
	// Integration is what the service runs and validates configs
	// against (its Name names the integration). Required.
	Integration *integration.Integration[C]
	// ForInstance, when set, returns the integration to run for one
	// instance (for example with per-instance client options); the
	// default runs Integration.
	ForInstance func(inst *Instance) (*integration.Integration[C], error)
	// Rules holds the integration's own alert rules, for example an
	// embed.FS next to the integration: each *.sql file at its root is a
	// built-in rule named after the file (without .sql), in the form Rule
	// describes, installed by Open and evaluated for this integration's
	// instances only. The SDK's generic rules (sdk/service/rules) run for
	// every instance. nil: none.
	Rules fs.FS
}

// Register adds an integration to r. It panics on a duplicate name or a
// definition without an integration: both are programming errors.
func Register[C any](r *Registry, d Definition[C]) {
	if d.Integration == nil || d.Integration.Name == "" {
		panic("service: Register needs an integration with a name")
	}
	if _, dup := r.defs[d.Integration.Name]; dup {
		panic("service: integration " + d.Integration.Name + " registered twice")
	}
	r.defs[d.Integration.Name] = &typedDef[C]{d: d}
}

// Names lists the registered integrations, sorted.
func (r *Registry) Names() []string {
	out := make([]string, 0, len(r.defs))
	for n := range r.defs {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Fields returns the configuration fields of a registered integration.
func (r *Registry) Fields(name string) ([]integration.Field, error) {
	d, ok := r.defs[name]
	if !ok {
		return nil, r.unknown(name)
	}
	return d.fields(), nil
}

func (r *Registry) unknown(name string) error {
	return fmt.Errorf("integration %q is not in this program (it has: %v)", name, r.Names())
}

// definition is a registered integration with its config type erased.
type definition interface {
	fields() []integration.Field
	// rules is Definition.Rules.
	rules() fs.FS
	// collect loads the config from values (nothing from the environment),
	// runs the integration into st and returns the result and the secret
	// values to mask.
	collect(ctx context.Context, inst *Instance, values map[string]string, st store.Store, log *slog.Logger) (*runtime.Result, error)
}

type typedDef[C any] struct{ d Definition[C] }

func (t *typedDef[C]) fields() []integration.Field {
	var c C
	fs, err := integration.Fields(&c)
	if err != nil {
		return nil
	}
	return fs
}

func (t *typedDef[C]) rules() fs.FS { return t.d.Rules }

func noEnv(string) (string, bool) { return "", false }

func (t *typedDef[C]) collect(ctx context.Context, inst *Instance, values map[string]string, st store.Store, log *slog.Logger) (*runtime.Result, error) {
	var cfg C
	if err := integration.LoadConfig(&cfg, integration.Sources{Flags: values, LookupEnv: noEnv}); err != nil {
		_ = st.Abort()
		return nil, fmt.Errorf("config: %w", err)
	}
	integ := t.d.Integration
	if t.d.ForInstance != nil {
		var err error
		if integ, err = t.d.ForInstance(inst); err != nil {
			_ = st.Abort()
			return nil, err
		}
	}
	return runtime.Run(ctx, integ, &cfg, runtime.Options{Store: st, Logger: log})
}

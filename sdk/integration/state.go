package integration

import (
	"context"
	"fmt"
	"log/slog"
)

// Key names a value of type T handed between the parts of one run: from
// the run's Setup to its steps (an API client), or from a step to the
// steps that depend on it (an index of ids). Put and Get store and read it
// without string keys or type assertions in integration code.
//
// A step that puts a key declares it in its Step.Data with k.Data(); a
// step that cannot run without it lists k.Name() in its Step.NeedsData. A
// key made with NewKey holds data: the value is saved with the step's
// output, so a later run that reuses the step gets it back (T must
// round-trip through encoding/json). A key made with NewLocalKey holds
// something that only means anything inside the run that made it (a
// client, an open file); it is never saved, so a run that selects a step
// needing it runs its producer again instead of reusing it.
//
// Declare keys as package-level variables:
//
//	var userIDs = integration.NewKey[[]string]("example.userIDs")
type Key[T any] struct {
	name  string
	local bool
}

// NewKey returns a key for data of type T that survives reuse (see Key).
func NewKey[T any](name string) Key[T] { return Key[T]{name: name} }

// NewLocalKey returns a key for a value of type T that lives only as long
// as the run that made it (see Key).
func NewLocalKey[T any](name string) Key[T] { return Key[T]{name: name, local: true} }

// Name returns the key's name, unique within an integration.
func (k Key[T]) Name() string { return k.name }

// Local reports whether the value lives only inside the run that made it.
func (k Key[T]) Local() bool { return k.local }

// Data declares the key in the Step.Data of the step that puts it: a
// NewKey is PersistedData of T, a NewLocalKey is RunLocalData. (Setup's
// keys are not declared: they are rebuilt by every run.)
func (k Key[T]) Data() DataKey {
	if k.local {
		return RunLocalData(k.name)
	}
	return PersistedData[T](k.name)
}

// DataSetter is what Put writes to: a step's JobState or the run's
// RunContext.
type DataSetter interface {
	SetData(key string, value any)
}

// DataGetter is what Get reads from: a step's JobState or the run's
// RunContext.
type DataGetter interface {
	GetData(key string) (any, bool)
}

// Put stores v under k for the rest of the run.
func Put[T any](s DataSetter, k Key[T], v T) { s.SetData(k.name, v) }

// Get returns the value stored under k, and whether there is one. A value
// of another type under k's name (two keys with one name) reads as absent.
func Get[T any](s DataGetter, k Key[T]) (T, bool) {
	v, ok := s.GetData(k.name)
	if !ok {
		var zero T
		return zero, false
	}
	t, ok := v.(T)
	return t, ok
}

// Need is Get for a value the caller cannot work without: it returns an
// error naming the key when the value is missing.
func Need[T any](s DataGetter, k Key[T]) (T, error) {
	v, ok := Get(s, k)
	if !ok {
		return v, fmt.Errorf("run state %q is missing (its producer did not run in this run)", k.name)
	}
	return v, nil
}

// MustGet is Get for a value that is there by construction: one the step
// lists in Step.NeedsData (the runtime does not start the step without
// it, failing it with an error naming the key) or one the integration's
// Setup puts (a failed Setup fails the run before any step). A missing
// value is a bug in the integration's declaration: MustGet panics with
// the key's name, and the runtime turns the panic into the step's
// failure.
func MustGet[T any](s DataGetter, k Key[T]) T {
	v, ok := Get(s, k)
	if !ok {
		panic(fmt.Sprintf("run state %q is missing: list it in the step's NeedsData, or put it in Setup", k.name))
	}
	return v
}

// RunContext is what an integration's Setup and its sources' probes get:
// the run's configuration, a logger and the run-wide state, where Setup
// puts what every step shares (the API client) with Put and a NewLocalKey.
type RunContext[C any] struct {
	// Config is the validated configuration. Do not modify it.
	Config *C
	// Logger carries the integration's name; secrets are masked.
	Logger *slog.Logger
	RunState
}

// RunState is the run-wide state of a RunContext.
type RunState interface {
	DataSetter
	DataGetter
	// OnEnd registers fn to run when the run ends, however it ends, in
	// reverse order of registration (close a client, remove a file).
	OnEnd(fn func())
}

// SetupFunc builds, once per run and before any step starts, what the
// run's steps share. It puts them into the run state with Put; the values
// are gone when the run ends, so nothing outlives a run. An error fails
// the run before any step starts.
type SetupFunc[C any] func(ctx context.Context, rc *RunContext[C]) error

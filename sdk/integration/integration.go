// Package integration holds what an integration declares: its name, typed
// configuration, validation, the steps and the types each step emits, and
// the typed errors steps and the runtime report.
//
// An integration is data. The runtime (package runtime) turns the
// declaration into a dependency graph and runs it; steps talk to the
// runtime only through the JobState interface of their StepContext.
package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/stepgraph/stepgraph/sdk/graph"
)

// Integration declares an integration over config type C.
type Integration[C any] struct {
	// Name is the integration's short name, e.g. "okta". It names the
	// recordings folder and prefixes log lines.
	Name string
	// Validate checks the loaded config before any step runs. Return a
	// *ConfigError naming the field for bad input, or a provider error
	// (e.g. *AuthenticationError) when credentials are checked.
	Validate func(ctx context.Context, cfg *C) error
	// StepStartStates optionally disables steps for a given config.
	// Steps missing from the map are enabled.
	StepStartStates func(cfg *C) map[string]StepStartState
	// Describe optionally returns facts about how a run is configured
	// (e.g. "authMethod"), recorded in summary.json's metadata.details.
	// Values must not be secrets.
	Describe func(cfg *C) map[string]string
	// Classes adds class schemas to graph.DefaultSchemas for validation.
	Classes []graph.ClassSchema
	// Setup optionally builds, once per run before any step, what the
	// steps share (the API client), into the run state (see SetupFunc).
	Setup SetupFunc[C]
	// Sources declares the ingestion sources steps name in Step.Source.
	Sources []Source[C]
	// DisabledSources optionally returns further sources a config
	// switches off (beyond its sources:"disable" list and EnabledBy, see
	// SourcesOff), each with the reason its steps are disabled ("" for a
	// default one). The runtime disables their steps, as it does for
	// runtime.Options.DisableSources.
	DisabledSources func(cfg *C) map[string]string
	// Prober returns the run's Prober (built by Setup) for the sources
	// that declare their probe with Source.Get, and for checking every
	// probed source's Needs. Optional.
	Prober func(rc *RunContext[C]) (Prober, error)
	// Classify is the integration's error policy (see Classifier); nil
	// fails the step on every error.
	Classify Classifier
	// Steps are the integration's steps, in any order.
	Steps []Step[C]
}

// StepStartState says whether a step runs and, if not, why.
type StepStartState struct {
	Disabled bool
	Reason   string
}

// EntityType declares one entity type a step emits.
type EntityType struct {
	// Resource is a human readable name, e.g. "Okta User".
	Resource string
	// Type is the _type.
	Type string
	// Class holds the classes of every entity of this type.
	Class []string
	// Partial marks the type as never complete (consumers must not delete
	// objects of this type that are missing from a run).
	Partial bool
}

// RelationshipType declares one direct relationship type a step emits.
type RelationshipType struct {
	// Type is the relationship _type.
	Type string
	// Class is the relationship class, e.g. graph.HAS.
	Class string
	// Source and Target are the entity _types at each end. A relationship
	// type with several possible sources is declared once per source.
	Source, Target string
	// Partial marks the type as never complete.
	Partial bool
}

// Relates declares a direct relationship type from source to target with
// the conventional _type, graph.RelationshipType(source, class, target)
// (okta_account HAS okta_user: okta_account_has_user), the one
// graph.Direct and graph.DirectByKey give the relationships they build.
func Relates(source, class, target string) RelationshipType {
	return RelationshipType{Type: graph.RelationshipType(source, class, target), Class: class, Source: source, Target: target}
}

// Named returns the declaration with _type typ instead of the
// conventional one, for relationships built with graph.WithType(typ).
func (r RelationshipType) Named(typ string) RelationshipType {
	r.Type = typ
	return r
}

// MappedRelationshipType declares one mapped relationship type a step emits.
type MappedRelationshipType struct {
	Type      string
	Class     string
	Source    string
	Target    string
	Direction graph.Direction
	Partial   bool
}

// MapsTo declares a mapped relationship type from source to a target
// owned by another integration, with the conventional _type (the one
// graph.Mapped gives), e.g. okta_user ASSIGNED aws_iam_role:
// okta_user_assigned_aws_iam_role.
func MapsTo(source, class, target string, dir graph.Direction) MappedRelationshipType {
	return MappedRelationshipType{Type: graph.RelationshipType(source, class, target), Class: class, Source: source, Target: target, Direction: dir}
}

// DataKey declares one value a step hands to later steps with SetData.
// Build it with PersistedData or RunLocalData.
type DataKey struct {
	// Key is the SetData key, unique within the integration.
	Key string
	// decode turns the value's persisted JSON back into the Go type
	// SetData received; nil for a run-local value.
	decode func([]byte) (any, error)
}

// PersistedData declares a key whose value, of type T, survives reuse: it is
// JSON-encoded with the step's output and decoded back into a T (so GetData
// returns the same type either way) when a later run reuses the step. T
// must round-trip through encoding/json: exported fields only.
func PersistedData[T any](key string) DataKey {
	return DataKey{Key: key, decode: func(b []byte) (any, error) {
		var v T
		err := json.Unmarshal(b, &v)
		return v, err
	}}
}

// RunLocalData declares a key whose value only means something inside the
// run that set it (a scratch file, a client, a handle). It is never
// persisted: a step that lists it in NeedsData makes a run that selects
// that step run the producer rather than reuse it.
func RunLocalData(key string) DataKey { return DataKey{Key: key} }

// Persisted reports whether the value survives reuse.
func (d DataKey) Persisted() bool { return d.decode != nil }

// Decode turns a persisted value back into its Go type.
func (d DataKey) Decode(b []byte) (any, error) {
	if d.decode == nil {
		return nil, fmt.Errorf("data %q is run-local and cannot be decoded", d.Key)
	}
	return d.decode(b)
}

// Step declares one unit of collection work.
type Step[C any] struct {
	// ID is unique within the integration, e.g. "fetch-users".
	ID string
	// Name is human readable, e.g. "Fetch Users".
	Name string
	// Entities, Relationships and MappedRelationships declare every type
	// the step emits. Emitting anything else fails the step.
	Entities            []EntityType
	Relationships       []RelationshipType
	MappedRelationships []MappedRelationshipType
	// DependsOn lists step IDs that must end before this step starts.
	DependsOn []string
	// Data declares every key the step hands to later steps with SetData.
	// Setting an undeclared key fails the step. Values declared with
	// PersistedData are saved with the step's output, so a later run that
	// reuses the step (--use-cache) hands them over again.
	Data []DataKey
	// NeedsData lists keys, declared by a step this one depends on
	// (directly or not), that this step cannot run without. A run that
	// would reuse the producer but cannot restore such a key (a run-local
	// value) runs the producer instead, saying why in its warnings.
	NeedsData []string
	// Source names the ingestion source (Integration.Sources) the step
	// reads; disabling the source disables the step. "" for none.
	Source string
	// Run does the work.
	Run func(ctx context.Context, sc *StepContext[C]) error
}

// StepContext is what a running step gets: its config, a logger and the
// job state.
type StepContext[C any] struct {
	// Config is the validated configuration. Steps must not modify it.
	Config *C
	// Logger carries the step id; secrets are masked by the handler.
	Logger *slog.Logger
	// StepID is the running step's ID.
	StepID string
	JobState
}

// jobState returns the job state the step context wraps.
func (sc *StepContext[C]) jobState() JobState { return sc.JobState }

// JobState is a step's view of the collection: one key space shared by all
// steps. Implementations are safe for concurrent use by a step's goroutines.
type JobState interface {
	// AddEntities validates and stores entities. It fails with
	// *UndeclaredTypeError, *InvalidObjectError or *DuplicateKeyError.
	AddEntities(ctx context.Context, entities ...*graph.Entity) error
	// AddRelationships validates and stores relationships.
	AddRelationships(ctx context.Context, relationships ...*graph.Relationship) error
	// Emit adds the entities, then the relationships, leaving out those
	// whose _key is already collected or earlier in the same call: the
	// same object reached twice (a user listed by two listings, a role
	// held by two principals, a mapped target reached through two
	// parents) is emitted once instead of failing the step with a
	// *DuplicateKeyError. Its check and add are one atomic step across the
	// step's goroutines. Use AddEntities when a duplicate is a bug.
	Emit(ctx context.Context, entities []*graph.Entity, relationships []*graph.Relationship) error
	// Skip counts n objects the step leaves out for reason (a relationship
	// whose other end was not collected, a value of the wrong type). When
	// the step ends, however it ends, the runtime records one warning per
	// reason, "skipped: <reason>" with the count, in reason order.
	Skip(reason string, n int64)
	// HasKey reports whether any object with this _key was added.
	HasKey(key string) bool
	// FindEntity returns the entity with the key, or nil when none exists.
	FindEntity(ctx context.Context, key string) (*graph.Entity, error)
	// IterateEntities calls fn for every entity of the type added so far.
	IterateEntities(ctx context.Context, typ string, fn func(*graph.Entity) error) error
	// IterateRelationships calls fn for every relationship of the type.
	IterateRelationships(ctx context.Context, typ string, fn func(*graph.Relationship) error) error
	// SetData stores a value for later steps under key, which the step
	// must declare in Step.Data (an undeclared key fails the step).
	SetData(key string, value any)
	// GetData returns a value stored by SetData in this run, or restored
	// from the output of a previous run that reused its producer.
	GetData(key string) (any, bool)
	// ScratchDir returns a folder for the run's temporary files (data one
	// step spills to disk for a later step), shared by the run's steps.
	// It lives inside the run's staging folder (or, for stores without
	// one, a temporary folder): it is removed when the run ends, however
	// it ends, never published with the output, and what a killed run left
	// there is removed when the next run starts.
	ScratchDir() (string, error)
	// Warn records a warning for the step's summary and logs it.
	Warn(ctx context.Context, msg string, args ...any)
	// MarkPartial marks types as partial datasets for this run (a
	// permission was missing, objects were skipped, ...) with a reason.
	// The step itself can still succeed.
	MarkPartial(reason string, types ...string)
	// Progress reports objects or work counted so far, for progress displays.
	Progress(name string, delta int64)
	// Group starts a fan-out of per-item work on the run's worker budget
	// (see Group and ForEach).
	Group(ctx context.Context) Group
	// Handle applies the integration's error policy (Integration.Classify)
	// to err: it returns nil when the error was degraded (its types are
	// marked partial) or skipped (counted in a warning), and err when it
	// fails the step. Handle(nil) is nil.
	Handle(ctx context.Context, err error) error
	// SourceEnabled reports whether the ingestion source (Integration.
	// Sources) is enabled in this run: not disabled by the run's options
	// or the configuration. A step that reads part of another source's
	// data for its own output (Okta's users read their MFA factors for
	// mfaEnabled) asks it.
	SourceEnabled(source string) bool
}

// DeclaredTypes returns every _type a step declares, entities first, each
// once (a relationship type declared for several source types appears once).
func (s *Step[C]) DeclaredTypes() []string {
	var out []string
	seen := map[string]bool{}
	add := func(t string) {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	for _, e := range s.Entities {
		add(e.Type)
	}
	for _, r := range s.Relationships {
		add(r.Type)
	}
	for _, r := range s.MappedRelationships {
		add(r.Type)
	}
	return out
}

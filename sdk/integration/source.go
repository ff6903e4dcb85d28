package integration

import "context"

// Source declares one ingestion source of an integration (for Okta:
// groups, applications, MFA devices, ...): a part of the provider's data a
// user may switch off, because the credentials cannot read it or it is
// not wanted. Steps name their source in Step.Source; disabling a source
// disables its steps and, through the runtime, their dependents. The
// command line's --disable-source, the configuration's disable list
// (Integration.DisabledSources) and validate's probes all derive from this
// one declaration.
type Source[C any] struct {
	// Name is the short name used in flags and config, e.g. "groups".
	Name string
	// Description says what the source covers, for help and validate.
	Description string
	// Probe checks, with one cheap request and without collecting, that
	// the configured credentials can read the source. It runs after the
	// integration's Setup, so it can Get what Setup built. Return an
	// *AuthenticationError when the credentials are rejected outright.
	// Optional.
	Probe func(ctx context.Context, rc *RunContext[C]) error
}

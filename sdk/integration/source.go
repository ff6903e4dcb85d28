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
//
// A Required source is part of every run (the credentials, the base
// listing every step needs): it cannot be disabled, and exists so that
// validate probes and reports it like any other source.
type Source[C any] struct {
	// Name is the short name used in flags and config, e.g. "groups".
	Name string
	// Description says what the source covers, for help and validate.
	Description string
	// Required marks a source that every run reads: naming it in
	// --disable-source or the configuration's disable list is an error,
	// and it is not offered by --disable-source's help.
	Required bool
	// Probe checks, with one cheap request and without collecting, that
	// the configured credentials can read the source. It runs after the
	// integration's Setup, so it can Get what Setup built. Return an
	// *AuthenticationError when the credentials are rejected outright;
	// any other error marks the source unreachable, and its text (which
	// should say what is missing, e.g. a scope or an admin role) is shown
	// by validate. Optional.
	Probe func(ctx context.Context, rc *RunContext[C]) error
	// ProbeEndpoint is the request Probe makes, e.g. "GET /api/v1/groups":
	// validate shows it as the source's detail instead of Description.
	// Optional.
	ProbeEndpoint string
	// ProbeDetail, when set, is called after Probe (also when it failed)
	// and its result is validate's detail for the source, for details only
	// known at run time (e.g. which credentials are in use and the scopes
	// their token was granted). Optional.
	ProbeDetail func(ctx context.Context, rc *RunContext[C]) string
}

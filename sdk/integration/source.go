package integration

import "context"

// Source declares one ingestion source of an integration (for Okta:
// groups, applications, MFA devices, ...): a part of the provider's data a
// user may switch off, because the credentials cannot read it or it is
// not wanted. Steps name their source in Step.Source; disabling a source
// disables its steps and, through the runtime, their dependents. The
// command line's --disable-source, the configuration's disable list (a
// field tagged sources:"disable", see Integration.SourcesOff), a source
// that is off unless a config field enables it (EnabledBy), what the
// credentials need (Needs) and validate's probes all derive from this one
// declaration.
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
	// EnabledBy, when set, makes the source off by default: it is on only
	// when the bool config field of that name (its tag "config") is true.
	// Otherwise its steps are disabled with the reason
	//	source "devices" is off by default (<OffNote>); set enableDevices (OKTA_ENABLE_DEVICES=true) to collect devices
	// and a config that both enables it and names it in its disable list
	// is a *ConfigError.
	EnabledBy string
	// OffNote says why an EnabledBy source is off by default, e.g. "needs
	// Okta Identity Engine". Optional.
	OffNote string
	// Needs lists what the credentials need to read the source, in the
	// provider's terms (for an OAuth 2.0 client: its scopes).
	// Integration.SourceNeeds(cfg) is their union over the sources cfg enables
	// (what a client requests by default), and before a source is probed
	// the run's Prober says which of them the credentials lack.
	// Optional.
	Needs []string
	// Get declares the probe as one GET of this path (with its query) sent
	// by the run's Prober (Integration.Prober), which also explains a
	// refusal; ProbeEndpoint defaults to "GET <path>". Set Probe instead
	// for anything else.
	Get string
	// Probe checks, with one cheap request and without collecting, that
	// the configured credentials can read the source. It runs after the
	// integration's Setup, so it can Get what Setup built. Return an
	// *AuthenticationError when the credentials are rejected outright;
	// any other error marks the source unreachable, and its text (which
	// should say what is missing, e.g. a scope or an admin role) is shown
	// by validate. Optional (see Get).
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

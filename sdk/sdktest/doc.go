// Package sdktest is the test kit for stepgraph integrations.
//
// It has three parts, all built on the production code paths:
//
//   - A recorder ([NewRecorder]) over gopkg.in/dnaeon/go-vcr.v4 that replays
//     HTTP interactions from cassettes under recordings/<integration>/ at the
//     module root. Tests replay by default and never touch the network: a
//     request missing from the cassette fails the test and the transport
//     used for real requests is replaced by one that fails the test if it is
//     ever called. Recording happens only when the environment variable
//     STEPGRAPH_RECORD names the integration (or is "1"/"all"). Before a
//     cassette is written, a go-vcr save hook removes Authorization, cookies,
//     credential-looking headers and query parameters and every configured
//     secret (in raw, URL-escaped, JSON-escaped and base64 forms) from
//     headers, URLs, forms and bodies; the cassette file is then checked for
//     secrets on load and after save ([CheckCassette]).
//
//   - [Run] and [RunStep] run an integration, or one step plus its
//     dependencies, through the real runtime (runtime.Run with Options.Only)
//     over an in-memory store, and return the [Collection] the run produced.
//     There is no second job-state implementation to drift from production.
//
//   - Assertions over a Collection: [AssertTypes] (emitted types vs declared
//     types), [AssertValidObjects] (class schemas and relationship rules),
//     [AssertRelationshipEndpoints], [AssertNoDuplicateKeys], [AssertAll], and
//     golden-file comparison with github.com/google/go-cmp ([AssertGolden]),
//     which the -update test flag or STEPGRAPH_UPDATE_GOLDEN=1 rewrites.
//
// # Flags
//
// Importing sdktest registers the test flag -update on the default flag set
// (read lazily, so it works under `go test ./pkg -update`). A test package
// that imports sdktest must therefore not define its own -update flag.
// A package-level flag is test-only configuration, which is the one place
// where global state is the conventional Go choice.
package sdktest

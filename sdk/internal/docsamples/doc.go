// Package docsamples holds the test that keeps the Go code samples of the
// documentation compiling: every ```go block of README.md and docs/*.md, and
// every Go code block of a package's doc comment, is type-checked against
// the current SDK (or, for an excerpt, found in the file it quotes). It has
// no API; the conventions a sample follows are:
//
//   - A sample is checked as it stands. One that starts with a package
//     clause is a whole file; otherwise it is top-level declarations or,
//     when it does not parse as those, statements (checked inside a
//     function, where an unused variable is no error).
//
//   - Imports may be left out: the check imports every package the sample
//     names by its package name, from this module's packages (sdk/cli,
//     sdk/graph, examples/teamdir, integrations/okta, ...) and a fixed set
//     of standard ones (context, fmt, os, time, errors, strings, slices,
//     testing, net/http, log/slog, encoding/json, path/filepath, ...).
//
//   - ctx (context.Context) and t (*testing.T) are always declared. A
//     markdown sample that uses other names of its surroundings declares
//     them in an HTML comment right above the block, which the rendered
//     page hides:
//
//     <!-- declare: var integ *integration.Integration[teamdir.Config] -->
//
//     The comment may span several lines and hold any declarations.
//
//   - <!-- excerpt: PATH --> right above a block says the block quotes
//     PATH, a file of the repository that the build compiles: its lines
//     (indentation and blank lines aside) must appear in PATH in order.
//
//   - <!-- fragment: REASON --> right above a block marks a sample that is
//     deliberately not compilable (elided code, pseudo-code); it is not
//     checked, and REASON says why.
//
//   - In a package doc comment (which has no HTML comments), a code block
//     that does not parse as Go is taken for something else (a shell
//     command, an HTTP route, a formula) unless it looks like Go; a Go
//     sample there must compile on its own with the rules above.
package docsamples

// Package alertrules holds the Okta integration's alert rules for the
// collection service (package sdk/service): SQL over Okta's own types
// (okta_user, okta_role), one rule per *.sql file, named after the file.
// The okta binary registers them with its service definition
// (service.Definition.Rules), so they run for Okta instances only; the
// SDK's generic rules (sdk/service/rules) need no registration.
package alertrules

import "embed"

// FS holds the rules: new-admin-role-assignment.sql and
// okta-user-without-person.sql.
//
//go:embed *.sql
var FS embed.FS

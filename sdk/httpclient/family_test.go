package httpclient

import "testing"

// TestFamiliesByPath: a path is in the family of the longest declared
// path it is or is under, else in other (#12: Okta's buckets).
func TestFamiliesByPath(t *testing.T) {
	fam := FamiliesByPath("other", map[string]string{"/api/v1/users": "users", "/api/v1/groups": "groups", "/api/v1/groups/rules": "rules"})
	for path, want := range map[string]string{
		"/api/v1/users": "users", "/api/v1/users/00u1/factors": "users", "/api/v1/usersx": "other",
		"/api/v1/groups/00g1/users": "groups", "/api/v1/groups/rules": "rules", "/api/v1/groups/rules/0pr1": "rules",
		"/api/v1/iam/assignees/users": "other", "/": "other",
	} {
		if got := fam("GET", path); got != want {
			t.Errorf("%s: %s, want %s", path, got, want)
		}
	}
}

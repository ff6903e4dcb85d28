package httpclient

import "strings"

// FamiliesByPath returns a Config.Family that names a request's family by
// the longest path in families that the request's path is, or is under
// (/api/v1/users covers /api/v1/users/00u1/factors, not /api/v1/usersx),
// and other for any other path.
func FamiliesByPath(other string, families map[string]string) func(method, path string) string {
	return func(_, path string) string {
		best, name := -1, other
		for p, fam := range families {
			if len(p) > best && (path == p || strings.HasPrefix(path, p) && strings.HasPrefix(path[len(p):], "/")) {
				best, name = len(p), fam
			}
		}
		return name
	}
}

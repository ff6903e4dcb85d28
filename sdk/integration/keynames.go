package integration

// Named is anything with a name: every Key[T].
type Named interface{ Name() string }

// Needs returns the names of keys, for Step.NeedsData:
// NeedsData: integration.Needs(keyUsers, keyGroups) with keys of
// different value types.
func Needs(keys ...Named) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k.Name()
	}
	return out
}

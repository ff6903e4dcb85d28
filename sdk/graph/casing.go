package graph

import (
	"strings"
	"unicode"
)

// StartCase splits s into words (at non-alphanumerics, lower-to-upper case
// changes and letter/digit boundaries, like lodash's startCase) and joins
// them with spaces, each word capitalised: okta_browser_plugin -> Okta
// Browser Plugin. JupiterOne integrations use it for display names derived
// from identifiers.
func StartCase(s string) string {
	words := splitWords(s)
	for i, w := range words {
		r := []rune(w)
		r[0] = unicode.ToUpper(r[0])
		words[i] = string(r)
	}
	return strings.Join(words, " ")
}

// CamelCase converts a name to lodash-style camelCase, the convention of
// property names in the data model: User_County -> userCounty, first_name
// -> firstName, SAMAccountName -> samAccountName; firstName stays. A name
// without letters or digits is returned unchanged.
func CamelCase(s string) string {
	words := splitWords(s)
	if len(words) == 0 {
		return s
	}
	var b strings.Builder
	for i, w := range words {
		w = strings.ToLower(w)
		if i > 0 {
			r := []rune(w)
			r[0] = unicode.ToUpper(r[0])
			w = string(r)
		}
		b.WriteString(w)
	}
	return b.String()
}

// splitWords splits an identifier into words the way lodash does for
// ASCII-like input.
func splitWords(s string) []string {
	var words []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			words = append(words, string(cur))
			cur = cur[:0]
		}
	}
	rs := []rune(s)
	for i, r := range rs {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			flush()
			continue
		}
		if len(cur) > 0 {
			prev := cur[len(cur)-1]
			switch {
			case unicode.IsLower(prev) && unicode.IsUpper(r):
				flush()
			case unicode.IsUpper(prev) && unicode.IsUpper(r) && i+1 < len(rs) && unicode.IsLower(rs[i+1]):
				// "SAMLApp" -> "SAML", "App"
				flush()
			case unicode.IsDigit(prev) != unicode.IsDigit(r):
				flush()
			}
		}
		cur = append(cur, r)
	}
	flush()
	return words
}

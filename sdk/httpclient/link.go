package httpclient

import (
	"strings"
)

// Link is one link of an RFC 8288 Link header.
type Link struct {
	// URL is the target as written between < and > (possibly relative to
	// the response's URL).
	URL string
	// Rel holds the space-separated relation types of the rel parameter,
	// lower-cased.
	Rel []string
	// Params holds every parameter by lower-cased name (first occurrence
	// wins, as RFC 8288 requires for rel); quoted values are unquoted and
	// parameters without a value map to "".
	Params map[string]string
}

// HasRel reports whether l has the relation type rel (case-insensitive).
func (l Link) HasRel(rel string) bool {
	for _, r := range l.Rel {
		if strings.EqualFold(r, rel) {
			return true
		}
	}
	return false
}

// ParseLinkHeader parses the values of one or more Link header lines, each
// holding one or more comma-separated links, into links in order. Malformed
// links are skipped.
func ParseLinkHeader(values []string) []Link {
	var links []Link
	for _, v := range values {
		s := v
		for {
			s = strings.TrimLeft(s, " \t,")
			if s == "" {
				break
			}
			if s[0] != '<' {
				s = skipLink(s)
				continue
			}
			end := strings.IndexByte(s, '>')
			if end < 0 {
				break
			}
			l := Link{URL: strings.TrimSpace(s[1:end]), Params: map[string]string{}}
			s = parseLinkParams(s[end+1:], l.Params)
			if rel := strings.Fields(strings.ToLower(l.Params["rel"])); len(rel) > 0 {
				l.Rel = rel
			}
			links = append(links, l)
		}
	}
	return links
}

// parseLinkParams parses `; name=value` parameters into params and returns
// the rest of s after the link (at a comma or the end).
func parseLinkParams(s string, params map[string]string) string {
	for {
		s = strings.TrimLeft(s, " \t")
		if s == "" || s[0] == ',' {
			return s
		}
		if s[0] != ';' {
			return skipLink(s)
		}
		s = strings.TrimLeft(s[1:], " \t")
		i := strings.IndexAny(s, "=;,")
		if i < 0 {
			i = len(s)
		}
		name := strings.ToLower(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s[:i]), "*")))
		s = s[i:]
		var val string
		if s != "" && s[0] == '=' {
			s = strings.TrimLeft(s[1:], " \t")
			if s != "" && s[0] == '"' {
				val, s = parseQuoted(s)
			} else {
				j := strings.IndexAny(s, ";,")
				if j < 0 {
					j = len(s)
				}
				val, s = strings.TrimSpace(s[:j]), s[j:]
			}
		}
		if name == "" {
			continue
		}
		if _, dup := params[name]; !dup {
			params[name] = val
		}
	}
}

// parseQuoted parses an RFC 7230 quoted-string at the start of s.
func parseQuoted(s string) (val, rest string) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			}
		case '"':
			return b.String(), s[i+1:]
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String(), "" // unterminated
}

// skipLink skips to the comma ending a malformed link, honouring quotes.
func skipLink(s string) string {
	inQuote := false
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && inQuote:
			i++
		case s[i] == '"':
			inQuote = !inQuote
		case s[i] == ',' && !inQuote:
			return s[i:]
		}
	}
	return ""
}

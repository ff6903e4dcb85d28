package graph

import (
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

// The expressions of ajv-formats 2.1.1 (email and uri are hand-written in
// validEmail and validURI, tested against the expressions) ("full" mode), which the data
// model's validator installs; JavaScript's /i is (?i), and the hostname
// look-ahead is a length check.
var (
	hostnameRe = regexp.MustCompile(`(?i)^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[-0-9a-z]{0,61}[0-9a-z])?)*\.?$`)
	ipv4Re     = regexp.MustCompile(`^(?:(?:25[0-5]|2[0-4]\d|[01]?\d\d?)\.){3}(?:25[0-5]|2[0-4]\d|[01]?\d\d?)$`)
	ipv6Re     = regexp.MustCompile(`(?i)^((([0-9a-f]{1,4}:){7}([0-9a-f]{1,4}|:))|(([0-9a-f]{1,4}:){6}(:[0-9a-f]{1,4}|((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3})|:))|(([0-9a-f]{1,4}:){5}(((:[0-9a-f]{1,4}){1,2})|:((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3})|:))|(([0-9a-f]{1,4}:){4}(((:[0-9a-f]{1,4}){1,3})|((:[0-9a-f]{1,4})?:((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}))|:))|(([0-9a-f]{1,4}:){3}(((:[0-9a-f]{1,4}){1,4})|((:[0-9a-f]{1,4}){0,2}:((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}))|:))|(([0-9a-f]{1,4}:){2}(((:[0-9a-f]{1,4}){1,5})|((:[0-9a-f]{1,4}){0,3}:((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}))|:))|(([0-9a-f]{1,4}:){1}(((:[0-9a-f]{1,4}){1,6})|((:[0-9a-f]{1,4}){0,4}:((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}))|:))|(:(((:[0-9a-f]{1,4}){1,7})|((:[0-9a-f]{1,4}){0,5}:((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}))|:)))$`)
	uriRe      = regexp.MustCompile(`(?i)^(?:[a-z][a-z0-9+\-.]*:)(?:\/?\/(?:(?:[a-z0-9\-._~!$&'()*+,;=:]|%[0-9a-f]{2})*@)?(?:\[(?:(?:(?:(?:[0-9a-f]{1,4}:){6}|::(?:[0-9a-f]{1,4}:){5}|(?:[0-9a-f]{1,4})?::(?:[0-9a-f]{1,4}:){4}|(?:(?:[0-9a-f]{1,4}:){0,1}[0-9a-f]{1,4})?::(?:[0-9a-f]{1,4}:){3}|(?:(?:[0-9a-f]{1,4}:){0,2}[0-9a-f]{1,4})?::(?:[0-9a-f]{1,4}:){2}|(?:(?:[0-9a-f]{1,4}:){0,3}[0-9a-f]{1,4})?::[0-9a-f]{1,4}:|(?:(?:[0-9a-f]{1,4}:){0,4}[0-9a-f]{1,4})?::)(?:[0-9a-f]{1,4}:[0-9a-f]{1,4}|(?:(?:25[0-5]|2[0-4]\d|[01]?\d\d?)\.){3}(?:25[0-5]|2[0-4]\d|[01]?\d\d?))|(?:(?:[0-9a-f]{1,4}:){0,5}[0-9a-f]{1,4})?::[0-9a-f]{1,4}|(?:(?:[0-9a-f]{1,4}:){0,6}[0-9a-f]{1,4})?::)|[Vv][0-9a-f]+\.[a-z0-9\-._~!$&'()*+,;=:]+)\]|(?:(?:25[0-5]|2[0-4]\d|[01]?\d\d?)\.){3}(?:25[0-5]|2[0-4]\d|[01]?\d\d?)|(?:[a-z0-9\-._~!$&'()*+,;=]|%[0-9a-f]{2})*)(?::\d*)?(?:\/(?:[a-z0-9\-._~!$&'()*+,;=:@]|%[0-9a-f]{2})*)*|\/(?:(?:[a-z0-9\-._~!$&'()*+,;=:@]|%[0-9a-f]{2})+(?:\/(?:[a-z0-9\-._~!$&'()*+,;=:@]|%[0-9a-f]{2})*)*)?|(?:[a-z0-9\-._~!$&'()*+,;=:@]|%[0-9a-f]{2})+(?:\/(?:[a-z0-9\-._~!$&'()*+,;=:@]|%[0-9a-f]{2})*)*)(?:\?(?:[a-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9a-f]{2})*)?(?:#(?:[a-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9a-f]{2})*)?$`)
	timeRe     = regexp.MustCompile(`(?i)^(\d\d):(\d\d):(\d\d)(\.\d+)?(z|[+-]\d\d(?::?\d\d)?)?$`)
)

// Valid reports whether s has format f (FormatNone: always).
func (f Format) Valid(s string) bool {
	switch f {
	case FormatNone:
		return true
	case FormatEmail:
		return validEmail(s)
	case FormatURI:
		return validURI(s)
	case FormatDateTime:
		return validDateTime(s)
	case FormatHostname:
		n := len(strings.TrimSuffix(s, "."))
		return n >= 1 && n <= 253 && hostnameRe.MatchString(s)
	case FormatIP:
		return ipv4Re.MatchString(s) || ipv6Re.MatchString(s)
	case FormatIPv4:
		return ipv4Re.MatchString(s)
	case FormatIPv6:
		return ipv6Re.MatchString(s)
	}
	return false
}

// validDateTime is RFC 3339's date-time, with a time zone, as ajv-formats
// checks it: a date and a time split at the only 'T', 't' or space.
func validDateTime(s string) bool {
	isSep := func(r rune) bool { return r == 'T' || r == 't' || unicode.IsSpace(r) }
	i := strings.IndexFunc(s, isSep)
	if i < 0 || strings.IndexFunc(s[i+1:], isSep) >= 0 {
		return false
	}
	return validDate(s[:i]) && validTime(s[i+1:])
}

func validDate(s string) bool {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' || !digits(s[:4]) || !digits(s[5:7]) || !digits(s[8:]) {
		return false
	}
	y, _ := strconv.Atoi(s[:4])
	m, _ := strconv.Atoi(s[5:7])
	d, _ := strconv.Atoi(s[8:])
	if m < 1 || m > 12 || d < 1 {
		return false
	}
	if m == 2 && y%4 == 0 && (y%100 != 0 || y%400 == 0) {
		return d <= 29
	}
	days := [...]int{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}
	return d <= days[m]
}

func validTime(s string) bool {
	m := timeRe.FindStringSubmatch(s)
	if m == nil || m[5] == "" {
		return false
	}
	h, _ := strconv.Atoi(m[1])
	mi, _ := strconv.Atoi(m[2])
	sec, _ := strconv.Atoi(m[3])
	return (h <= 23 && mi <= 59 && sec <= 59) || (h == 23 && mi == 59 && sec == 60)
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Character classes of ajv-formats' uri and email expressions (ASCII; the
// expressions are case-insensitive).
const (
	unreservedSub = "-._~!$&'()*+,;="
	userinfoChars = unreservedSub + ":"
	regNameChars  = unreservedSub
	pathChars     = unreservedSub + ":@/"
	queryChars    = unreservedSub + ":@/?"
	atextChars    = "!#$%&'*+/=?^_`{|}~-"
)

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// uriPart reports whether s is made of alphanumerics, the given characters
// and %XX escapes.
func uriPart(s, chars string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isAlnum(c), c != '%' && strings.IndexByte(chars, c) >= 0:
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			i += 2
		default:
			return false
		}
	}
	return true
}

// validURI is ajv-formats' uri: an absolute URI (RFC 3986) that contains a
// '/' or ':'. It decides what the expression uriRe decides without running
// it, except for IP-literal hosts ("[...]"), which go to the expression.
func validURI(s string) bool {
	if strings.IndexByte(s, '[') >= 0 {
		return strings.ContainsAny(s, "/:") && uriRe.MatchString(s)
	}
	// scheme ":"
	if s == "" || !('a' <= s[0] && s[0] <= 'z' || 'A' <= s[0] && s[0] <= 'Z') {
		return false
	}
	i := 1
	for i < len(s) && (isAlnum(s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.') {
		i++
	}
	if i == len(s) || s[i] != ':' {
		return false
	}
	rest := s[i+1:]
	if h := strings.IndexByte(rest, '#'); h >= 0 {
		if !uriPart(rest[h+1:], queryChars) {
			return false
		}
		rest = rest[:h]
	}
	if q := strings.IndexByte(rest, '?'); q >= 0 {
		if !uriPart(rest[q+1:], queryChars) {
			return false
		}
		rest = rest[:q]
	}
	switch {
	case rest == "":
		return false
	case rest[0] != '/': // path-rootless
		return uriPart(rest, pathChars)
	case rest == "/" || rest[1] != '/' && uriPart(rest[1:], pathChars): // path-absolute
		return true
	}
	// "/"? "/" authority path-abempty
	return authorityPath(rest[1:]) || strings.HasPrefix(rest, "//") && authorityPath(rest[2:])
}

// authorityPath checks [userinfo "@"] host [":" port] followed by a path
// of "/"-separated segments.
func authorityPath(s string) bool {
	auth, path := s, ""
	if j := strings.IndexByte(s, '/'); j >= 0 {
		auth, path = s[:j], s[j:]
	}
	if !uriPart(path, pathChars) {
		return false
	}
	if at := strings.IndexByte(auth, '@'); at >= 0 {
		if !uriPart(auth[:at], userinfoChars) {
			return false
		}
		auth = auth[at+1:]
	}
	host, port, _ := strings.Cut(auth, ":")
	return uriPart(host, regNameChars) && digits(port)
}

// validEmail is ajv-formats' email: dot-separated atext words, "@", and
// two or more dot-separated DNS labels.
func validEmail(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	if !ok {
		return false
	}
	for w, more := local, true; more; {
		var word string
		word, w, more = strings.Cut(w, ".")
		if word == "" {
			return false
		}
		for i := 0; i < len(word); i++ {
			if !isAlnum(word[i]) && strings.IndexByte(atextChars, word[i]) < 0 {
				return false
			}
		}
	}
	n := 0
	for d, more := domain, true; more; n++ {
		var l string
		l, d, more = strings.Cut(d, ".")
		if l == "" || !isAlnum(l[0]) || !isAlnum(l[len(l)-1]) {
			return false
		}
		for i := 0; i < len(l); i++ {
			if !isAlnum(l[i]) && l[i] != '-' {
				return false
			}
		}
	}
	return n >= 2
}

// cidrPattern is the data model's Network.CIDR pattern.
const cidrPattern = `^([0-9]{1,3}\.){3}[0-9]{1,3}(/([0-9]|[1-2][0-9]|3[0-2]))?$`

// knownPatterns are hand-written matchers of the data model's patterns, on
// the hot path of validation (tested against the expressions).
var knownPatterns = map[string]func(string) bool{cidrPattern: matchCIDR}

// matchCIDR matches cidrPattern: four dot-separated groups of one to three
// digits, then optionally "/" and a prefix length 0-32 without a leading
// zero ("0" itself allowed).
func matchCIDR(s string) bool {
	i := 0
	for group := 0; group < 4; group++ {
		if group > 0 {
			if i == len(s) || s[i] != '.' {
				return false
			}
			i++
		}
		n := 0
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
			n++
		}
		if n < 1 || n > 3 {
			return false
		}
	}
	if i == len(s) {
		return true
	}
	if s[i] != '/' {
		return false
	}
	switch bits := s[i+1:]; len(bits) {
	case 1:
		return digits(bits)
	case 2:
		return (bits[0] == '1' || bits[0] == '2') && digits(bits[1:]) || bits[0] == '3' && '0' <= bits[1] && bits[1] <= '2'
	}
	return false
}

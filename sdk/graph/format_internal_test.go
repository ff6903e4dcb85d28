package graph

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// emailRe is ajv-formats 2.1.1's email expression, which validEmail
// implements by hand.
var emailRe = regexp.MustCompile(`(?i)^[a-z0-9!#$%&'*+/=?^_\x60{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_\x60{|}~-]+)*@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$`)

// TestHandWrittenFormatsMatchExpressions checks validEmail and validURI
// against ajv-formats' expressions on listed and random strings.
func TestHandWrittenFormatsMatchExpressions(t *testing.T) {
	uris := []string{
		"https://acme.okta.com", "https://acme-admin.okta.com/admin/user/profile/view/00u1", "http://u:p@h:8080/a/b?q=1#f",
		"mailto:jo@x.test", "urn:isbn:0451450523", "file:///etc/hosts", "file:/etc", "x:/", "x:", "x://", "x:///", "x:?q",
		"https://a b", "1http://x", "https://x/%zz", "https://x/%41", "https://[::1]:80/x", "https://[v1.x]/", "ht~tp://x",
		"https://x:8a/", "https://x@y@z/", "https://x/#a#b", "https://x/?a?b", "a:b/c//d", "a://b/c//d", "a:/b//c", "no-colon/path",
	}
	emails := []string{"jo@x.test", "a.b@c.d", ".a@b.c", "a.@b.c", "a..b@c.d", "a@b", "a@-b.c", "a@b-.c", "a@b..c", "a@b.c.", "a@@b.c", "@b.c", "a@b.c-d.e", "Jo+X@Ex.COM", "a b@c.d", "a%b@c.d"}
	r := rand.New(rand.NewPCG(1, 2))
	const alphabet = "aZ09:/?#[]@!$&'()*+,;=-._~% \"<>\\^\x60{|}"
	for range 20000 {
		var b strings.Builder
		for range 1 + r.IntN(14) {
			b.WriteByte(alphabet[r.IntN(len(alphabet))])
		}
		uris = append(uris, "h:"+b.String(), b.String())
		emails = append(emails, b.String(), "a@"+b.String(), b.String()+"@x.y")
	}
	for _, s := range uris {
		want := strings.ContainsAny(s, "/:") && uriRe.MatchString(s)
		if got := validURI(s); got != want {
			t.Errorf("validURI(%q) = %v, the expression says %v", s, got, want)
		}
	}
	for _, s := range emails {
		if got, want := validEmail(s), emailRe.MatchString(s); got != want {
			t.Errorf("validEmail(%q) = %v, the expression says %v", s, got, want)
		}
	}
}

// TestKnownPatternsMatchExpressions checks the hand-written pattern
// matchers against the expressions they stand for.
func TestKnownPatternsMatchExpressions(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for pattern, match := range knownPatterns {
		re := regexp.MustCompile(pattern)
		inputs := []string{"10.0.0.0/24", "0.0.0.0/0", "1.2.3.4", "255.255.255.255/32", "1.2.3.4/33", "1.2.3.4/05", "1.2.3.4/", "1.2.3", "1.2.3.4.5", "1234.1.1.1", "a.b.c.d", ""}
		const alphabet = "0123456789./a"
		for range 50000 {
			var b strings.Builder
			for range 7 + r.IntN(12) {
				b.WriteByte(alphabet[r.IntN(len(alphabet))])
			}
			inputs = append(inputs, b.String())
		}
		for i := range 20000 { // near-misses of valid CIDRs
			inputs = append(inputs, fmt.Sprintf("%d.%d.%d.%d/%d", r.IntN(1200), r.IntN(300), i%256, r.IntN(20), r.IntN(40)))
		}
		for _, s := range inputs {
			if got, want := match(s), re.MatchString(s); got != want {
				t.Errorf("pattern %s: %q: hand-written %v, expression %v", pattern, s, got, want)
			}
		}
	}
}

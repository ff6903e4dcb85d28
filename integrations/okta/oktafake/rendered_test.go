package oktafake

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// encodeList is how the fake wrote list answers before they were served
// from pre-rendered JSON: a JSON array, each item encoded on its own
// without HTML escaping.
func encodeList[T any](t *testing.T, items []T) string {
	t.Helper()
	var out, b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	out.WriteString("[")
	for k := range items {
		b.Reset()
		if err := enc.Encode(items[k]); err != nil {
			t.Fatal(err)
		}
		if k > 0 {
			out.WriteString(",")
		}
		out.Write(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
	}
	out.WriteString("]")
	return out.String()
}

// TestRenderedAnswersAreTheEncodedObjects checks that users, a user, a
// user's factors, a group's members and an app's users (first and later
// pages), served from the JSON rendered once
// per object base URL, are byte for byte the objects encoded per answer,
// for two hosts reaching the same server (links carry each one's host),
// whether rendered on first use or by Prerender.
func TestRenderedAnswersAreTheEncodedObjects(t *testing.T) {
	o := NewOrg(OrgSpec{Users: 300, Seed: 7})
	for _, pre := range []bool{false, true} {
		s := NewServer(o, ServerOptions{DisableRateLimits: true})
		if pre {
			s.Prerender("http://a.example")
		}
		get := func(host, target string) string {
			t.Helper()
			req := httptest.NewRequest(http.MethodGet, target, nil)
			req.Host = host
			req.Header.Set("Authorization", "SSWS "+DefaultToken)
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				t.Fatalf("%s%s: %d %s", host, target, rec.Code, rec.Body)
			}
			return rec.Body.String()
		}
		noFactors := 0
		for _, host := range []string{"a.example", "b.example"} {
			base := "http://" + host
			listed := []jUser{}
			for i := range o.users {
				if o.users[i].status != stDeprovisioned {
					listed = append(listed, o.renderUser(base, i))
				}
			}
			if got, want := get(host, EndpointUsers+"?limit=200"), encodeList(t, listed[:min(200, len(listed))]); got != want {
				t.Fatalf("prerendered %v, %s: users page differs:\n got %.300s\nwant %.300s", pre, host, got, want)
			}
			for i := range o.users {
				id := o.users[i].id
				if got, want := get(host, EndpointUsers+"/"+id), strings.TrimPrefix(encodeList(t, []jUser{o.renderUser(base, i)}), "["); got+"]" != want {
					t.Fatalf("prerendered %v, %s: user %s differs:\n got %s\nwant %s", pre, host, id, got, want)
				}
				fs := o.userFactors(i)
				var factors []jFactor
				for k := range fs {
					factors = append(factors, o.renderFactor(base, i, &fs[k]))
				}
				if len(fs) == 0 {
					noFactors++
				}
				if got, want := get(host, EndpointUsers+"/"+id+"/factors"), encodeList(t, factors); got != want {
					t.Fatalf("prerendered %v, %s: factors of %s differ:\n got %s\nwant %s", pre, host, id, got, want)
				}
			}
			for gi := range o.groups {
				g := &o.groups[gi]
				members := g.members
				if g.typ == gtBuiltIn {
					members = o.all
				}
				want := []jUser{}
				for _, ui := range members {
					want = append(want, o.renderUser(base, int(ui)))
				}
				if got := get(host, "/api/v1/groups/"+g.id+"/users?limit=200"); got != encodeList(t, want[:min(200, len(want))]) {
					t.Fatalf("prerendered %v, %s: members of %s differ", pre, host, g.id)
				}
			}
			for ai := range o.apps {
				us := o.apps[ai].users
				want := []jAppUser{}
				for k := range us[:min(500, len(us))] {
					want = append(want, o.renderAppUser(base, ai, &us[k]))
				}
				if got := get(host, "/api/v1/apps/"+o.apps[ai].id+"/users?limit=500"); got != encodeList(t, want) {
					t.Fatalf("prerendered %v, %s: users of app %s differ", pre, host, o.apps[ai].id)
				}
				if len(us) > 2 {
					after := o.users[us[1].user].id
					if got := get(host, "/api/v1/apps/"+o.apps[ai].id+"/users?limit=1&after="+after); got != encodeList(t, want[2:3]) {
						t.Fatalf("prerendered %v, %s: users of app %s after %s differ", pre, host, o.apps[ai].id, after)
					}
				}
			}
		}
		if noFactors == 0 {
			t.Fatal("no user without factors: the empty list is not covered")
		}
	}
}

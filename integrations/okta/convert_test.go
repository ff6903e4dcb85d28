package okta

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	fastjson "github.com/segmentio/encoding/json"

	"github.com/stepgraph/stepgraph/sdk/graph"
)

// profileUsers are users whose profiles exercise the decoder: custom
// attributes of every JSON kind, nested objects and arrays (not copied),
// nulls, escapes, non-ASCII keys and values, numbers in every notation,
// duplicate keys and reserved names.
var profileUsers = []string{
	`{"id":"00u1","status":"ACTIVE","created":"2020-01-02T03:04:05.000Z","lastLogin":null,
	  "profile":{"login":"Ann.Lee@Example.com","email":"Ann.Lee@Example.com","firstName":"Ann","lastName":"Lee",
	    "costCenter":"cc-7","employee_number":"E001","hireDate":"2019-05-06",
	    "score":12.5,"big":1e21,"small":-0.000001,"int":42,"neg":-7,"exp":1.5E+3,
	    "admin":true,"contractor":false,"manager":null,
	    "tags":["a","b\"c",1,true],"emptyList":[],"mixed":["a",null],"deep":[["x"]],"objs":[{"a":1}],
	    "address":{"city":"Oslo","lines":["1","2"]},
	    "uni\u00e9Key":"caf\u00e9 \ud83d\ude00 \n\t\\","_private":"p","displayName":"D","":"empty",
	    "countryCode":"NO","dup":"first","dup":"second"},
	  "credentials":{"emails":[{"value":"Ann.Lee@Example.com","status":"VERIFIED"},{"value":"x@y.z","status":"UNVERIFIED"}]}}`,
	`{"id":"00u2","status":"DEPROVISIONED","profile":{"login":7,"email":null,"terminationDate":"2021-02-03"}}`,
	`{"id":"00u3","status":"STAGED","profile":null}`,
	`{"id":"00u4","status":"ACTIVE","profile":{}}`,
}

// oldUserEntity is the conversion as it was with the profile decoded into
// a map[string]any by encoding/json: the oracle the new decoder must match.
func oldUserEntity(t *testing.T, org orgInfo, raw string, mfa *bool) *graph.Entity {
	t.Helper()
	var u struct {
		oktaUser
		Profile map[string]any `json:"profile"`
	}
	if err := json.Unmarshal([]byte(raw), &u); err != nil {
		t.Fatal(err)
	}
	// The new conversion with an empty profile gives every computed
	// property; the old one then added the profile's flat attributes
	// first, so computed properties win.
	props := map[string]any{}
	for k, v := range u.Profile {
		fv, ok := graph.FlatValue(v)
		if !ok {
			continue
		}
		name := graph.CamelCase(k)
		if name == "" || name == "displayName" || strings.HasPrefix(name, "_") {
			continue
		}
		props[name] = fv
	}
	pstr := func(k string) string { s, _ := u.Profile[k].(string); return s }
	base := u.oktaUser
	base.Profile = userProfile{}
	e := userEntity(org, &base, mfa)
	for k, v := range e.Properties {
		props[k] = v
	}
	login := pstr("login")
	e.DisplayName = login
	if login == "" {
		e.DisplayName = u.ID
	}
	username, _, _ := strings.Cut(login, "@")
	props["username"] = username
	props["name"] = strings.TrimSpace(pstr("firstName") + " " + pstr("lastName"))
	if em, ok := u.Profile["email"].(string); ok {
		props["email"] = strings.ToLower(em)
	}
	for _, x := range []struct{ k, name string }{{"hireDate", "hiredOn"}, {"terminationDate", "terminatedOn"}} {
		if s := pstr(x.k); s != "" {
			e.SetTimes(&s, x.name)
			props[x.name] = e.Properties[x.name]
		}
	}
	if cc := pstr("countryCode"); cc != "" {
		props["countryCode"] = cc
	}
	e.Properties = props
	return e
}

// TestUserProfileDecodesLikeAMap: users whose profiles hold every kind of
// JSON value convert to the same entity (same bytes) as with the profile
// decoded into a map[string]any, through both JSON decoders.
func TestUserProfileDecodesLikeAMap(t *testing.T) {
	org := orgInfo{AdminURL: "https://acme-admin.okta.com"}
	on := true
	for i, raw := range profileUsers {
		want, err := oldUserEntity(t, org, raw, &on).AppendJSON(nil)
		if err != nil {
			t.Fatal(err)
		}
		for name, unmarshal := range map[string]func([]byte, any) error{"encoding/json": json.Unmarshal, "segmentio": fastjson.Unmarshal} {
			var u oktaUser
			if err := unmarshal([]byte(raw), &u); err != nil {
				t.Fatalf("user %d, %s: %v", i, name, err)
			}
			got, err := userEntity(org, &u, &on).AppendJSON(nil)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Errorf("user %d, %s:\n got %s\nwant %s", i, name, got, want)
			}
		}
	}
}

// TestUserProfileKeepsEveryAttributeName: HasProperty knows every profile
// key, flat or not (a nested attribute named like a computed property is
// still the profile's).
func TestUserProfileKeepsEveryAttributeName(t *testing.T) {
	var u oktaUser
	if err := fastjson.Unmarshal([]byte(profileUsers[0]), &u); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"costCenter", "address", "manager", "employeeNumber", "uniéKey", "mixed", "firstName"} {
		if !u.Profile.HasProperty(name) {
			t.Errorf("HasProperty(%q) = false", name)
		}
	}
	if u.Profile.HasProperty("webLink") {
		t.Error("HasProperty(webLink) = true")
	}
}

// TestUserProfileRejectsMalformedJSON: a profile that is not an object is
// an error, not a silently empty profile.
func TestUserProfileRejectsMalformedJSON(t *testing.T) {
	for _, raw := range []string{`"x"`, `[1]`, `{"a":}`, `{"a":[1,}`, `{"a"`} {
		var p userProfile
		if err := p.UnmarshalJSON([]byte(raw)); err == nil {
			t.Errorf("%s: no error", raw)
		}
	}
	var ok userProfile
	if err := ok.UnmarshalJSON([]byte(`{"a":{"b":[1,{"c":2}]},"d":"e"}`)); err != nil || ok.String("d") != "e" {
		t.Errorf("nested: %v %q", err, ok.String("d"))
	}
}

// TestUserProfileNameClashIsDeterministic: two attributes whose names
// camelCase the same way (first_name, firstName) give the property the
// value of the later one in the document, every time (with a map the
// winner changed from run to run).
func TestUserProfileNameClashIsDeterministic(t *testing.T) {
	raw := `{"id":"00u5","status":"ACTIVE","profile":{"first_name":"A","firstName":"B","Cost Center":"1","costCenter":"2","cost_center":"3"}}`
	for range 20 {
		var u oktaUser
		if err := fastjson.Unmarshal([]byte(raw), &u); err != nil {
			t.Fatal(err)
		}
		e := userEntity(orgInfo{}, &u, nil)
		if got := []any{e.Properties["firstName"], e.Properties["costCenter"]}; !reflect.DeepEqual(got, []any{"B", "3"}) {
			t.Fatalf("firstName, costCenter = %v, want [B 3]", got)
		}
	}
}

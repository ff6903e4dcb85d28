package graph_test

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stepgraph/stepgraph/sdk/graph"
)

func TestRelationshipConventions(t *testing.T) {
	tests := []struct {
		from, class, to string
		want            string
	}{
		{"okta_account", graph.HAS, "okta_user", "okta_account_has_user"},
		{"okta_account", graph.HAS, "okta_app_user_group", "okta_account_has_app_user_group"},
		{"okta_user", graph.ASSIGNED, "okta_application", "okta_user_assigned_application"},
		{"okta_user_group", graph.ASSIGNED, "okta_role", "okta_user_group_assigned_role"},
		{"okta_user", graph.ASSIGNED, "aws_iam_role", "okta_user_assigned_aws_iam_role"},
		{"okta_user", graph.ASSIGNED, "okta", "okta_user_assigned_okta"},
		{"azure_vpc", graph.CONTAINS, "azure_subnet", "azure_vpc_contains_subnet"},
	}
	for _, tt := range tests {
		if got := graph.RelationshipType(tt.from, tt.class, tt.to); got != tt.want {
			t.Errorf("RelationshipType(%s,%s,%s) = %s, want %s", tt.from, tt.class, tt.to, got, tt.want)
		}
	}
	a := &graph.Entity{Key: "okta_account_x.okta.com/", Type: "okta_account"}
	u := &graph.Entity{Key: "00u1abcdefgh", Type: "okta_user"}
	r := graph.Direct(a, graph.HAS, u)
	if r.Key != "okta_account_x.okta.com/|has|00u1abcdefgh" || r.Type != "okta_account_has_user" || r.DisplayName != "HAS" ||
		r.FromKey != a.Key || r.ToKey != u.Key {
		t.Errorf("Direct = %+v", r)
	}
	r = graph.Direct(u, graph.HAS, a, graph.WithType("custom_type_x"), graph.WithProperties(map[string]any{"p": 1}))
	if r.Type != "custom_type_x" || r.Properties["p"] != 1 {
		t.Errorf("options not applied: %+v", r)
	}
}

func TestMappedRelationship(t *testing.T) {
	u := &graph.Entity{Key: "00u1abcdefgh", Type: "okta_user"}
	r := graph.Mapped(u, graph.ASSIGNED, graph.Reverse, graph.MappedTarget{
		Entity:             map[string]any{"_type": "aws_iam_role", "_key": "arn:aws:iam::123456789012:role/Admin"},
		FilterKeys:         [][]string{{"_type", "_key"}},
		SkipTargetCreation: true,
	})
	if r.Key != "00u1abcdefgh|assigned|arn:aws:iam::123456789012:role/Admin" || r.Type != "okta_user_assigned_aws_iam_role" {
		t.Errorf("mapped key/type: %s %s", r.Key, r.Type)
	}
	if err := graph.ValidateRelationship(r); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	mp := m["_mapping"].(map[string]any)
	if mp["relationshipDirection"] != "REVERSE" || mp["sourceEntityKey"] != u.Key || mp["skipTargetCreation"] != true {
		t.Errorf("mapping JSON: %s", b)
	}
	if _, ok := m["_fromEntityKey"]; ok {
		t.Error("mapped relationship must not carry _fromEntityKey")
	}
	bad := *r
	bad.Mapping = &graph.Mapping{Direction: "SIDEWAYS", TargetFilterKeys: [][]string{{"email"}}, TargetEntity: map[string]any{}}
	err = graph.ValidateRelationship(&bad)
	if err == nil || !strings.Contains(err.Error(), "SIDEWAYS") || !strings.Contains(err.Error(), `"email"`) {
		t.Errorf("bad mapping not reported: %v", err)
	}
}

func validUser() *graph.Entity {
	return (&graph.Entity{Key: "user-000001", Type: "t_user", Class: []string{"User"}, DisplayName: "Jo"}).
		Set("name", "Jo").Set("username", "jo").Set("email", "jo@x.test").Set("active", true)
}

func TestValidateEntity(t *testing.T) {
	s := graph.DefaultSchemas()
	tests := []struct {
		name   string
		mutate func(e *graph.Entity)
		want   string // "" = valid
	}{
		{"valid", func(*graph.Entity) {}, ""},
		{"short key", func(e *graph.Entity) { e.Key = "u1" }, "shorter than 10"},
		{"no type", func(e *graph.Entity) { e.Type = "" }, "_type is empty"},
		{"no class", func(e *graph.Entity) { e.Class = nil }, "_class is empty"},
		{"unknown class", func(e *graph.Entity) { e.Class = append(e.Class, "Spaceship") }, `unknown class "Spaceship"`},
		{"short type", func(e *graph.Entity) { e.Type = "tu" }, "shorter than 3"},
		{"missing required", func(e *graph.Entity) { delete(e.Properties, "name") }, `class User requires property "name"`},
		{"missing display name", func(e *graph.Entity) { e.DisplayName = "" }, `class User requires property "displayName"`},
		{"optional absent", func(e *graph.Entity) { delete(e.Properties, "active"); delete(e.Properties, "email") }, ""},
		{"wrong kind", func(e *graph.Entity) { e.Set("active", "yes") }, `class User: property "active" must be a boolean, got string`},
		{"null not allowed", func(e *graph.Entity) { e.Set("username", nil) }, "got null"},
		{"email format", func(e *graph.Entity) { e.Set("email", "jo at x") }, `property "email": value "jo at x" is not a valid email`},
		{"uri format", func(e *graph.Entity) { e.Set("webLink", "acme.okta.com/x") }, `"webLink": value "acme.okta.com/x" is not a valid uri`},
		{"uri ok", func(e *graph.Entity) { e.Set("webLink", "https://acme-admin.okta.com/admin/user/profile/view/00u1") }, ""},
		{"timestamp is a number", func(e *graph.Entity) { e.Set("createdOn", "2024-01-02T03:04:05Z") }, `"createdOn" must be a number, got string`},
		{"timestamp ok", func(e *graph.Entity) { e.Set("createdOn", int64(1704164645000)) }, ""},
		{"integer", func(e *graph.Entity) { e.Set("risk", 2.5) }, `"risk" must be a integer`},
		{"range", func(e *graph.Entity) { e.Set("risk", 11) }, `"risk": value 11 is out of range [1, 10]`},
		{"id string or array", func(e *graph.Entity) { e.Set("id", []string{"a", "b"}) }, ""},
		{"id array of numbers", func(e *graph.Entity) { e.Set("id", []any{1.0}) }, `"id" must be a string or array of strings`},
		{"property name", func(e *graph.Entity) { e.Set("employee_number", "7") }, `property name "employee_number"`},
		{"tag value", func(e *graph.Entity) { e.Set("tag.Env", []string{"a"}) }, `tag property "tag.Env"`},
		{"tag ok", func(e *graph.Entity) { e.Set("tag.Env", "prod").Set("tag.Cost Center", 12) }, ""},
		{"nested object", func(e *graph.Entity) { e.Set("profile", map[string]any{"a": 1}) }, "not flat"},
		{"array of objects", func(e *graph.Entity) { e.Set("list", []any{map[string]any{}}) }, "not flat"},
		{"scalar arrays ok", func(e *graph.Entity) { e.Set("tags", []string{"a"}).Set("n", []any{1.0, "x", true, nil}) }, ""},
		{"reserved name", func(e *graph.Entity) { e.Set("_secret", 1) }, "reserved"},
		{"huge property", func(e *graph.Entity) { e.Set("bio", strings.Repeat("x", graph.MaxPropertyBytes+1)) }, `"bio" is 1048577 bytes, over the 1048576-byte cap`},
		{"huge array property", func(e *graph.Entity) {
			e.Set("tags", []string{strings.Repeat("x", graph.MaxPropertyBytes/2), strings.Repeat("y", graph.MaxPropertyBytes/2+1)})
		}, `"tags" is 1048577 bytes`},
		{"property at the cap", func(e *graph.Entity) { e.Set("bio", strings.Repeat("x", graph.MaxPropertyBytes)) }, ""},
		{"raw data names unique", func(e *graph.Entity) {
			e.RawData = []graph.RawData{{Name: "default", Data: 1}, {Name: "default", Data: 2}}
		}, "not unique"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := validUser()
			tt.mutate(e)
			err := s.ValidateEntity(e)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			var ve *graph.ValidationError
			if !errors.As(err, &ve) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestEntityJSONRoundTrip(t *testing.T) {
	e := validUser()
	e.DisplayName = "Jo \"Q\" <x> \u2028 é"
	e.Set("n", 12.5).Set("i", int64(1700000000000)).Set("big", 1e21).Set("tags", []string{"a", "b"}).Set("nil", nil)
	e.RawData = []graph.RawData{{Name: "default", Data: json.RawMessage(`{ "id" : "x", "nested": {"a": [1, 2]} }`)}}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(b) {
		t.Fatalf("invalid JSON: %s", b)
	}
	if !strings.HasPrefix(string(b), `{"_key":"user-000001","_type":"t_user","_class":["User"]`) {
		t.Errorf("reserved fields not first: %s", b)
	}
	if !strings.Contains(string(b), `"rawData":{"id":"x","nested":{"a":[1,2]}}`) {
		t.Errorf("raw data not written verbatim: %s", b)
	}
	// Same bytes as encoding/json would produce for the values.
	var viaStd map[string]any
	if err := json.Unmarshal(b, &viaStd); err != nil {
		t.Fatal(err)
	}
	if viaStd["displayName"] != e.DisplayName || viaStd["big"] != 1e21 || viaStd["i"] != 1.7e12 {
		t.Errorf("values changed: %v", viaStd)
	}
	var back graph.Entity
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	b2, _ := json.Marshal(&back)
	if string(b) != string(b2) {
		t.Errorf("round trip changed bytes:\n%s\n%s", b, b2)
	}
	if _, err := (&graph.Entity{Key: "k", Properties: map[string]any{"f": math.NaN()}}).AppendJSON(nil); err == nil {
		t.Error("NaN accepted")
	}
}

func TestStringEscapingMatchesStdlib(t *testing.T) {
	for _, s := range []string{"plain", "quote\" back\\ slash", "ctl\x01\x1f\n\t\r", "bad utf8 \xff", "line\u2028sep\u2029", "ünï©ødé 😀"} {
		e := &graph.Entity{Key: "0123456789", Type: "t", Class: []string{"Account"}, DisplayName: s}
		b, _ := e.AppendJSON(nil)
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		std, _ := json.Marshal(s)
		var want string
		_ = json.Unmarshal(std, &want)
		if m["displayName"] != want {
			t.Errorf("%q decoded as %q", s, m["displayName"])
		}
	}
}

func TestParseTime(t *testing.T) {
	tests := []struct {
		in     any
		want   int64
		ok     bool
		errIs  error
		anyErr bool
	}{
		{"2024-01-02T03:04:05.000Z", 1704164645000, true, nil, false},
		{"2024-01-02T03:04:05Z", 1704164645000, true, nil, false},
		{"2024-01-02T05:04:05+02:00", 1704164645000, true, nil, false},
		{"2024-01-02", 1704153600000, true, nil, false},
		{time.UnixMilli(42).UTC(), 42, true, nil, false},
		{"", 0, false, nil, false},
		{nil, 0, false, nil, false},
		{1704164645, 0, false, graph.ErrAmbiguousTimestamp, true},
		{1704164645.0, 0, false, graph.ErrAmbiguousTimestamp, true},
		{"yesterday", 0, false, nil, true},
	}
	for _, tt := range tests {
		got, ok, err := graph.ParseTime(tt.in)
		if (err != nil) != tt.anyErr || (tt.errIs != nil && !errors.Is(err, tt.errIs)) {
			t.Errorf("ParseTime(%v) error %v", tt.in, err)
		}
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseTime(%v) = %d,%v want %d,%v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
	if ms, _ := graph.EpochMillis(1704164645, graph.Seconds); ms != 1704164645000 {
		t.Errorf("seconds: %d", ms)
	}
	if ms, _ := graph.EpochMillis(1704164645000, graph.Milliseconds); ms != 1704164645000 {
		t.Errorf("millis: %d", ms)
	}
	if _, err := graph.EpochMillis(1, 0); !errors.Is(err, graph.ErrAmbiguousTimestamp) {
		t.Errorf("unit 0 accepted")
	}
	e := &graph.Entity{}
	if err := e.SetTime("createdOn", "2024-01-02"); err != nil || e.Prop("createdOn") != int64(1704153600000) {
		t.Errorf("SetTime: %v %v", err, e.Prop("createdOn"))
	}
}

func TestSchemasCoverDataModel(t *testing.T) {
	s := graph.DefaultSchemas()
	for _, c := range []string{"Account", "User", "UserGroup", "Application", "Key", "AccessKey", "Device", "AccessRole", "Configuration", "Service", "Control", "Person"} {
		if _, ok := s[c]; !ok {
			t.Errorf("class %s missing", c)
		}
	}
	s2 := s.With(graph.ClassSchema{Name: "Spaceship"})
	if _, ok := s["Spaceship"]; ok {
		t.Error("With mutated the receiver")
	}
	if _, ok := s2["Spaceship"]; !ok {
		t.Error("With did not add")
	}
	if !reflect.DeepEqual(graph.DefaultSchemas()["User"], s["User"]) {
		t.Error("DefaultSchemas not stable")
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "abcdefgh", "abcdefg\"ijklmnop", "0123456789\\abcdef", "\x00\x01\x1f\x20abcdefgh", "héllo wörld 12345678", "\x7f\x80\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := &graph.Entity{Key: "0123456789", Type: "t", Class: []string{"Account"}, DisplayName: s}
		b, err := e.AppendJSON(nil)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%q: invalid JSON %s: %v", s, b, err)
		}
		std, _ := json.Marshal(s)
		var want string
		_ = json.Unmarshal(std, &want)
		if s != "" && m["displayName"] != want {
			t.Fatalf("%q decoded as %q", s, m["displayName"])
		}
	})
}

// TestWithPropertiesTakesTheMap: the first WithProperties of a
// relationship becomes its property map without a copy (one map per
// relationship instead of two); later ones merge into it.
func TestWithPropertiesTakesTheMap(t *testing.T) {
	props := map[string]any{"userId": "00u1", "factorId": "mfa1"}
	r := graph.DirectByKey("00u1abcdefgh", "okta_user", graph.ASSIGNED, "mfa1abcdefgh", "mfa_device",
		graph.WithProperties(props), graph.WithProperties(map[string]any{"role": "x"}))
	props["probe"] = true
	if r.Properties["probe"] != true || r.Properties["userId"] != "00u1" || r.Properties["role"] != "x" || len(r.Properties) != 4 {
		t.Errorf("properties = %v, want the map given, merged with the second", r.Properties)
	}
	allocs := testing.AllocsPerRun(100, func() {
		graph.DirectByKey("00u1abcdefgh", "okta_user", graph.ASSIGNED, "mfa1abcdefgh", "mfa_device",
			graph.WithType("okta_user_assigned_mfa_device"), graph.WithProperties(props))
	})
	if allocs > 5 { // the relationship, its key, the two option closures and their slice
		t.Errorf("DirectByKey with WithProperties: %v allocations, want at most 5 (no property map copy)", allocs)
	}
}

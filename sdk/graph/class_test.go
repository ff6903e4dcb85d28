package graph_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/stepgraph/stepgraph/sdk/graph"
)

func device(platform string) *graph.Entity {
	e := &graph.Entity{Key: "device-0001", Type: "t_device", Class: []string{"Device"}, DisplayName: "Jo's Mac"}
	e.Set("name", "Jo's Mac").Set("category", "UDDevice").Set("make", "Apple").Set("model", nil).
		Set("serial", "C02X").Set("deviceId", "device-0001").Set("platform", platform)
	return e
}

func TestEnumViolationIsTyped(t *testing.T) {
	s := graph.DefaultSchemas()
	if err := s.ValidateEntity(device("darwin")); err != nil {
		t.Fatalf("darwin: %v", err)
	}
	err := s.ValidateEntity(device("macos"))
	var pe *graph.PropertyError
	if !errors.As(err, &pe) || !errors.Is(err, graph.ErrNotInEnum) {
		t.Fatalf("error %v (%T) is not a *PropertyError wrapping ErrNotInEnum", err, err)
	}
	want := []string{"darwin", "linux", "unix", "windows", "android", "ios", "embedded", "other"}
	if pe.Class != "Device" || pe.Property != "platform" || pe.Value != "macos" || !slices.Equal(pe.Allowed, want) {
		t.Errorf("PropertyError %+v", pe)
	}
	for _, part := range []string{"class Device", `"platform"`, `"macos"`, "darwin, linux, unix, windows, android, ios, embedded, other"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("message %q lacks %q", err, part)
		}
	}
	// Device also requires deviceId (nullable) and the Entity rules.
	d := device("other")
	delete(d.Properties, "deviceId")
	if err := s.ValidateEntity(d); !errors.Is(err, graph.ErrMissingProperty) || !strings.Contains(err.Error(), `class Device requires property "deviceId"`) {
		t.Errorf("missing deviceId: %v", err)
	}
	if err := s.ValidateEntity(device("other").Set("status", "active")); !errors.Is(err, graph.ErrNotInEnum) {
		t.Errorf("Device.status active accepted: %v", err)
	}
}

func TestInheritedAndMultiClassRules(t *testing.T) {
	s := graph.DefaultSchemas()
	// AccessKey extends Key extends Entity: Entity's rules apply once.
	k := &graph.Entity{Key: "factor-0001", Type: "mfa_device", Class: []string{"Key", "AccessKey"}, DisplayName: "okta push"}
	k.Set("name", "okta push").Set("webLink", "not a link")
	err := s.ValidateEntity(k)
	var ve *graph.ValidationError
	if !errors.As(err, &ve) || len(ve.Violations) != 1 || ve.Violations[0].Property != "webLink" || ve.Violations[0].Class != "Key" {
		t.Fatalf("violations %+v (%v)", ve, err)
	}
	// Control.function: a string or an array of unique strings, each in the enum.
	svc := func(fn any) *graph.Entity {
		return (&graph.Entity{Key: "okta:sso:acme", Type: "okta_service", Class: []string{"Service", "Control"}, DisplayName: "Okta SSO"}).
			Set("name", "SSO").Set("category", []string{"security"}).Set("function", fn)
	}
	if err := s.ValidateEntity(svc([]string{"SSO"})); err != nil {
		t.Errorf("SSO: %v", err)
	}
	if err := s.ValidateEntity(svc([]any{"SSO", "SSO"})); !errors.Is(err, graph.ErrNotUnique) {
		t.Errorf("duplicate function: %v", err)
	}
	if err := s.ValidateEntity(svc([]string{"sso"})); !errors.Is(err, graph.ErrNotInEnum) {
		t.Errorf("lower-case sso: %v", err)
	}
	if err := s.ValidateEntity(svc("SSO")); !errors.Is(err, graph.ErrWrongKind) {
		t.Errorf("Service.function must be an array: %v", err)
	}
	// Network.CIDR has a pattern; Host addresses have the ip format.
	n := (&graph.Entity{Key: "vpc-000001", Type: "aws_vpc", Class: []string{"Network"}, DisplayName: "v"}).
		Set("name", "v").Set("public", false).Set("internal", true).Set("CIDR", "10.0.0.0/33")
	if err := s.ValidateEntity(n); !errors.Is(err, graph.ErrNoPatternMatch) {
		t.Errorf("CIDR /33: %v", err)
	}
	if err := s.ValidateEntity(n.Set("CIDR", nil)); err != nil {
		t.Errorf("null CIDR: %v", err)
	}
	h := (&graph.Entity{Key: "host-000001", Type: "t_host", Class: []string{"Host"}, DisplayName: "h"}).
		Set("name", "h").Set("hostname", "h1").Set("ipAddress", []string{"10.0.0.1", "::1"})
	if err := s.ValidateEntity(h); err != nil {
		t.Errorf("host: %v", err)
	}
	if err := s.ValidateEntity(h.Set("ipAddress", "10.0.0.256")); !errors.Is(err, graph.ErrBadFormat) {
		t.Errorf("bad ip: %v", err)
	}
	// Record extends RecordEntity, not Entity.
	r := (&graph.Entity{Key: "record-0001", Type: "t_record", Class: []string{"Record"}, DisplayName: "r"}).Set("name", "r").Set("approvedOn", "yesterday")
	if err := s.ValidateEntity(r); !errors.Is(err, graph.ErrWrongKind) {
		t.Errorf("Record approvedOn: %v", err)
	}
}

func TestRegisteredClassRules(t *testing.T) {
	s := graph.DefaultSchemas().With(graph.ClassSchema{
		Name: "Spaceship", Extends: "Entity",
		Required:   []graph.PropertyRule{{Name: "engine", Kind: graph.KindString, Enum: []string{"ion", "warp"}}},
		Properties: []graph.PropertyRule{{Name: "captainEmail", Kind: graph.KindString, Format: graph.FormatEmail}, {Name: "code", Kind: graph.KindString, Pattern: `^[A-Z]{3}$`}},
	}, graph.ClassSchema{Name: "Orphan", Extends: "Nothing"}, graph.ClassSchema{Name: "BadPattern", Properties: []graph.PropertyRule{{Name: "x", Kind: graph.KindString, Pattern: `(`}}})
	ship := func() *graph.Entity {
		return (&graph.Entity{Key: "ship-000001", Type: "t_ship", Class: []string{"Spaceship"}, DisplayName: "Enterprise"}).
			Set("name", "Enterprise").Set("engine", "warp")
	}
	if err := s.ValidateEntity(ship()); err != nil {
		t.Fatal(err)
	}
	var pe *graph.PropertyError
	if err := s.ValidateEntity(ship().Set("engine", "sail")); !errors.As(err, &pe) || pe.Class != "Spaceship" || !slices.Equal(pe.Allowed, []string{"ion", "warp"}) {
		t.Errorf("engine sail: %v", err)
	}
	if err := s.ValidateEntity(ship().Set("captainEmail", "kirk")); !errors.Is(err, graph.ErrBadFormat) {
		t.Errorf("captainEmail: %v", err)
	}
	if err := s.ValidateEntity(ship().Set("code", "NCC")); err != nil {
		t.Errorf("code: %v", err)
	}
	e := ship()
	delete(e.Properties, "name")
	if err := s.ValidateEntity(e); !strings.Contains(fmtErr(err), `class Spaceship requires property "name"`) {
		t.Errorf("inherited Entity rule not applied: %v", err)
	}
	o := (&graph.Entity{Key: "orphan-0001", Type: "t_orphan", Class: []string{"Orphan"}})
	if err := s.ValidateEntity(o); !strings.Contains(fmtErr(err), `extends unknown class "Nothing"`) {
		t.Errorf("unknown parent: %v", err)
	}
	b := (&graph.Entity{Key: "bad-pattern-1", Type: "t_bad", Class: []string{"BadPattern"}}).Set("x", "y")
	if err := s.ValidateEntity(b); !strings.Contains(fmtErr(err), "does not compile") {
		t.Errorf("bad pattern: %v", err)
	}
	// A hand-built map (no With) validates the same way.
	hand := graph.Schemas{"Spaceship": s["Spaceship"], "Entity": graph.DefaultSchemas()["Entity"]}
	hs := hand["Spaceship"]
	hand["Spaceship"] = graph.ClassSchema{Name: hs.Name, Extends: hs.Extends, Required: hs.Required, Properties: hs.Properties}
	if err := hand.ValidateEntity(ship().Set("engine", "sail")); !errors.Is(err, graph.ErrNotInEnum) {
		t.Errorf("hand-built schemas: %v", err)
	}
}

func fmtErr(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

func TestFormats(t *testing.T) {
	tests := []struct {
		f    graph.Format
		s    string
		want bool
	}{
		{graph.FormatEmail, "jo@x.test", true},
		{graph.FormatEmail, "Jo.Q+tag@Acme-Corp.example.com", true},
		{graph.FormatEmail, "jo@localhost", false},
		{graph.FormatEmail, "jo@@x.test", false},
		{graph.FormatEmail, "", false},
		{graph.FormatURI, "https://acme.okta.com", true},
		{graph.FormatURI, "https://acme-admin.okta.com/admin/app/aws/instance/0oa1/#tab-assignments", true},
		{graph.FormatURI, "mailto:jo@x.test", true},
		{graph.FormatURI, "acme.okta.com", false},
		{graph.FormatURI, "https://acme.okta.com/a b", false},
		{graph.FormatURI, "/relative/path", false},
		{graph.FormatDateTime, "2024-01-02T03:04:05.000Z", true},
		{graph.FormatDateTime, "2024-02-29 03:04:05+02:00", true},
		{graph.FormatDateTime, "2023-02-29T03:04:05Z", false},
		{graph.FormatDateTime, "2024-01-02T03:04:05", false},
		{graph.FormatDateTime, "2024-01-02", false},
		{graph.FormatHostname, "ip-10-0-0-1.ec2.internal", true},
		{graph.FormatHostname, "-bad.example", false},
		{graph.FormatHostname, strings.Repeat("a.", 127) + "a", false},
		{graph.FormatIP, "192.168.0.1", true},
		{graph.FormatIP, "2001:db8::1", true},
		{graph.FormatIP, "256.1.1.1", false},
		{graph.FormatIPv4, "::1", false},
		{graph.FormatIPv6, "fe80::1", true},
		{graph.FormatIPv6, "1.2.3.4", false},
		{graph.FormatNone, "anything", true},
	}
	for _, tt := range tests {
		if got := tt.f.Valid(tt.s); got != tt.want {
			t.Errorf("%s.Valid(%q) = %v, want %v", tt.f, tt.s, got, tt.want)
		}
	}
}

func BenchmarkValidateEntity(b *testing.B) {
	s := graph.DefaultSchemas()
	e := device("darwin").Set("osVersion", "14.4.1").Set("createdOn", int64(1704164645000)).Set("webLink", "https://acme-admin.okta.com/admin/devices/guo1")
	b.ReportAllocs()
	for b.Loop() {
		if err := s.ValidateEntity(e); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidateNetwork(b *testing.B) {
	s := graph.DefaultSchemas()
	e := (&graph.Entity{Key: "azure_vpc_1000000001", Type: "azure_vpc", Class: []string{"Network"}, DisplayName: "vnet-1"}).
		Set("id", "/subscriptions/0f3c/resourceGroups/rg-1/providers/Microsoft.Network/virtualNetworks/vnet-1").
		Set("environment", "prod").Set("CIDR", "10.0.1.0/24").Set("name", "vnet-1").Set("public", false).Set("internal", true)
	b.ReportAllocs()
	for b.Loop() {
		if err := s.ValidateEntity(e); err != nil {
			b.Fatal(err)
		}
	}
}

// slowSchemas copies s without the indexes DefaultSchemas and With build,
// so validation walks each class's Extends chain.
func slowSchemas(s graph.Schemas) graph.Schemas {
	out := graph.Schemas{}
	for n, c := range s {
		out[n] = graph.ClassSchema{Name: c.Name, Extends: c.Extends, Required: c.Required, Properties: c.Properties}
	}
	return out
}

func violations(err error) string {
	var ve *graph.ValidationError
	if !errors.As(err, &ve) {
		return ""
	}
	var out []string
	for _, v := range ve.Violations {
		out = append(out, v.Error())
	}
	return strings.Join(out, "\n")
}

// TestIndexedValidationMatchesChainWalk checks that the precomputed
// (flattened) rules DefaultSchemas and With build report exactly what
// walking the Extends chains reports.
func TestIndexedValidationMatchesChainWalk(t *testing.T) {
	fast := graph.DefaultSchemas().With(graph.ClassSchema{Name: "Spaceship", Extends: "Device",
		Required: []graph.PropertyRule{{Name: "displayName", Kind: graph.KindString, Enum: []string{"Enterprise"}}}})
	slow := slowSchemas(fast)
	entities := []*graph.Entity{
		device("darwin"), device("macos"), device("other").Set("status", "active").Set("webLink", "x").Set("risk", 0),
		(&graph.Entity{Key: "factor-0001", Type: "mfa_device", Class: []string{"Key", "AccessKey"}}).Set("usage", 1),
		(&graph.Entity{Key: "okta:sso:acme", Type: "okta_service", Class: []string{"Service", "Control", "Device"}, DisplayName: "s"}).
			Set("function", []string{"SSO", "nope"}).Set("category", "security").Set("make", 1),
		(&graph.Entity{Key: "person-0001", Type: "t_person", Class: []string{"Person", "User"}, DisplayName: "p"}).
			Set("name", "p").Set("email", "p@x.test").Set("firstName", nil),
		(&graph.Entity{Key: "ship-000001", Type: "t_ship", Class: []string{"Spaceship"}, DisplayName: "Voyager"}).Set("platform", "warp"),
		(&graph.Entity{Key: "record-0001", Type: "t_record", Class: []string{"Record", "Entity"}}).Set("open", "yes").Set("active", "no"),
	}
	for _, e := range entities {
		f, sl := violations(fast.ValidateEntity(e)), violations(slow.ValidateEntity(e))
		if f != sl {
			t.Errorf("%s: indexed:\n%s\nchain walk:\n%s", e.Key, f, sl)
		}
		if e.Key != "device-0001" && f == "" && e.Prop("platform") != "darwin" {
			t.Errorf("%s: no violations", e.Key)
		}
	}
	// A class copied into another set is checked with that set's parents.
	mixed := graph.Schemas{"User": fast["User"], "Entity": {Name: "Entity", Required: []graph.PropertyRule{{Name: "nickname", Kind: graph.KindString}}}}
	if err := mixed.ValidateEntity(validUser()); !strings.Contains(fmtErr(err), `class User requires property "nickname"`) {
		t.Errorf("mixed set: %v", err)
	}
}

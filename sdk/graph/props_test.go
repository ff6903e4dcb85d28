package graph_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	fastjson "github.com/segmentio/encoding/json"

	"github.com/stepgraph/stepgraph/sdk/graph"
)

// provObject exercises every kind and option a prop tag supports.
type provObject struct {
	ID       string          `json:"id" prop:"id"`
	Status   string          `json:"status" prop:"status,lower,active=ACTIVE"`
	Mode     string          `json:"mode" prop:"mode,isSAML=SAML*"`
	Vendor   string          `json:"vendor" prop:"vendor,omitempty"`
	Label    string          `json:"label" prop:"label"`
	Device   *string         `json:"device" prop:"device,omitempty"`
	Make     *string         `json:"make" prop:"make,null"`
	Model    *string         `json:"model" prop:"model"`
	Created  string          `json:"created" prop:"created createdOn,time"`
	Updated  *string         `json:"updated" prop:"updatedOn,time"`
	Bad      string          `json:"bad" prop:"badOn,time"`
	Seen     time.Time       `json:"seen" prop:"seenOn,time"`
	Count    int             `json:"count" prop:"count"`
	Ratio    *float64        `json:"ratio" prop:"ratio"`
	Enabled  *bool           `json:"enabled" prop:"enabled"`
	Admin    bool            `json:"admin" prop:"admin"`
	Tags     []string        `json:"tags" prop:"tags"`
	Extra    any             `json:"extra" prop:"extra"`
	Nested   any             `json:"nested" prop:"nested,null"`
	Rules    json.RawMessage `json:"rules" prop:"rules"`
	Role     json.RawMessage `json:"role" prop:"role,text"`
	Missing  json.RawMessage `json:"missing" prop:"missingJSON,null"`
	Untagged string          `json:"untagged"`
	Profile  struct {
		Name string `json:"name" prop:"profileName"`
	} `json:"profile"`
	Stats *struct {
		Users *int   `json:"users" prop:"usersCount,null"`
		Kind  string `json:"kind" prop:"kind,superKind=SUPER"`
	} `json:"stats"`
}

func decodeObject(t *testing.T, raw string) *provObject {
	t.Helper()
	var o provObject
	if err := json.Unmarshal([]byte(raw), &o); err != nil {
		t.Fatal(err)
	}
	return &o
}

// TestPropertyMapSetsWhatTheTagsDeclare: each kind and option, present,
// empty, null and absent, against the exact property map (a property set
// to nil is not a property left out).
func TestPropertyMapSetsWhatTheTagsDeclare(t *testing.T) {
	m, err := graph.NewPropertyMap[provObject]()
	if err != nil {
		t.Fatal(err)
	}
	full := decodeObject(t, `{"id":"x1","status":"ACTIVE","mode":"SAML_2_0","vendor":"V","label":"",
		"device":"d","make":"m","model":"M","created":"2020-01-02T03:04:05.000Z","updated":"2021-01-01T00:00:00Z",
		"bad":"yesterday","seen":"2022-01-01T00:00:00Z","count":3,"ratio":0.5,"enabled":false,"admin":true,
		"tags":["a","b"],"extra":"e","nested":{"a":1},"rules":{ "a" : [1, 2] },"role":"admin",
		"untagged":"u","profile":{"name":"P"},"stats":{"users":7,"kind":"SUPER"}}`)
	e := m.Set(&graph.Entity{}, full)
	created := int64(1577934245000)
	want := map[string]any{
		"id": "x1", "status": "active", "active": true, "mode": "SAML_2_0", "isSAML": true,
		"vendor": "V", "label": "", "device": "d", "make": "m", "model": "M",
		"created": created, "createdOn": created, "updatedOn": int64(1609459200000),
		"seenOn": int64(1640995200000), "count": 3, "ratio": 0.5, "enabled": false, "admin": true,
		"tags": []string{"a", "b"}, "extra": "e", "nested": nil, "rules": `{"a":[1,2]}`, "role": "admin",
		"missingJSON": nil, "profileName": "P", "usersCount": 7, "kind": "SUPER", "superKind": true,
	}
	if !reflect.DeepEqual(e.Properties, want) {
		t.Errorf("full object:\n got %#v\nwant %#v", e.Properties, want)
	}

	empty := decodeObject(t, `{"status":"STAGED","mode":"OIDC","vendor":"","device":"","make":null,
		"tags":[],"extra":{"a":1},"rules":null,"role":{"b": 2},"stats":{"kind":"X"}}`)
	e = m.Set(&graph.Entity{}, empty)
	want = map[string]any{
		"id": "", "status": "staged", "active": false, "mode": "OIDC", "isSAML": false, "label": "",
		"make": nil, "count": 0, "admin": false, "tags": []string{}, "nested": nil, "role": `{"b":2}`,
		"missingJSON": nil, "profileName": "", "usersCount": nil, "kind": "X", "superKind": false,
	}
	if !reflect.DeepEqual(e.Properties, want) {
		t.Errorf("empty object:\n got %#v\nwant %#v", e.Properties, want)
	}

	// A nil parent struct: its fields are absent (null where asked, flags false).
	e = m.Set(&graph.Entity{}, decodeObject(t, `{"stats":null}`))
	if v, ok := e.Properties["usersCount"]; !ok || v != nil {
		t.Errorf("usersCount under a nil parent = %v, %v; want nil, set", v, ok)
	}
	if v := e.Properties["superKind"]; v != false {
		t.Errorf("superKind under a nil parent = %v, want false", v)
	}
	if _, ok := e.Properties["kind"]; ok {
		t.Error("kind under a nil parent is set")
	}
}

// TestPropertyMapSharesOneValueAcrossNames: a field with several names
// boxes its value once, and Set replaces same-named properties while
// keeping the others.
func TestPropertyMapSharesOneValueAcrossNames(t *testing.T) {
	type obj struct {
		Created string `prop:"created createdOn,time"`
		Name    string `prop:"name"`
	}
	m := graph.MustPropertyMap[obj]()
	e := &graph.Entity{Properties: map[string]any{"name": "old", "other": 1}}
	m.Set(e, &obj{Created: "2020-01-01", Name: "new"})
	if e.Properties["name"] != "new" || e.Properties["other"] != 1 || e.Properties["created"] != int64(1577836800000) {
		t.Errorf("properties = %v", e.Properties)
	}
	if m.Len() != 3 {
		t.Errorf("Len = %d, want 3", m.Len())
	}
	props := make(map[string]any, 4)
	o := &obj{Created: "2020-01-01T00:00:00Z", Name: "n"}
	// One box for the time shared by both names, one for the name.
	if n := testing.AllocsPerRun(100, func() { m.SetMap(props, o) }); n != 2 {
		t.Errorf("SetMap allocates %v times, want 2", n)
	}
}

// TestPropertyMapDecodersAgree: the same object decoded by encoding/json
// and by segmentio's decoder sets the same properties.
func TestPropertyMapDecodersAgree(t *testing.T) {
	raw := `{"id":"x","status":"ACTIVE","make":null,"tags":["a"],"extra":[1,"b"],"rules":{"x":1},"role":"r","stats":{"users":2}}`
	m := graph.MustPropertyMap[provObject]()
	var a, b provObject
	if err := json.Unmarshal([]byte(raw), &a); err != nil {
		t.Fatal(err)
	}
	if err := fastjson.Unmarshal([]byte(raw), &b); err != nil {
		t.Fatal(err)
	}
	pa, pb := m.Set(&graph.Entity{}, &a).Properties, m.Set(&graph.Entity{}, &b).Properties
	if !reflect.DeepEqual(pa, pb) {
		t.Errorf("encoding/json %v\nsegmentio     %v", pa, pb)
	}
}

// TestPropertyMapRejectsMalformedTags: a tag the plan cannot honour is an
// error naming the field, found when the plan is built.
func TestPropertyMapRejectsMalformedTags(t *testing.T) {
	check := func(name string, err error, want string) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one containing %q", name, err, want)
		}
	}
	_, err := graph.NewPropertyMap[struct {
		A string `prop:",lower"`
	}]()
	check("no name", err, "field A")
	_, err = graph.NewPropertyMap[struct {
		B string `prop:"b,upper"`
	}]()
	check("unknown option", err, `unknown option "upper"`)
	_, err = graph.NewPropertyMap[struct {
		C int64 `prop:"c,time"`
	}]()
	check("numeric time", err, "EpochMillis")
	_, err = graph.NewPropertyMap[struct {
		D struct{ X string } `prop:"d"`
	}]()
	check("struct value", err, "not a flat property value")
	_, err = graph.NewPropertyMap[struct {
		E map[string]any `prop:"e"`
	}]()
	check("map value", err, "field E")
	_, err = graph.NewPropertyMap[struct {
		F bool `prop:"f,lower"`
	}]()
	check("lower on a bool", err, "need a string")
	_, err = graph.NewPropertyMap[struct {
		G []map[string]any `prop:"g"`
	}]()
	check("slice of objects", err, "field G")
	_, err = graph.NewPropertyMap[struct {
		In struct {
			h string `prop:"h"`
		}
	}]()
	check("unexported", err, "field In.h")
	_, err = graph.NewPropertyMap[string]()
	check("not a struct", err, "not a struct")
	defer func() {
		if recover() == nil {
			t.Error("MustPropertyMap of a malformed tag did not panic")
		}
	}()
	graph.MustPropertyMap[struct {
		I string `prop:"i,text"`
	}]()
}

// node is a recursive type: planning it must end.
type node struct {
	Name string `prop:"name"`
	Next *node
}

func TestPropertyMapRecursiveType(t *testing.T) {
	m := graph.MustPropertyMap[node]()
	e := m.Set(&graph.Entity{}, &node{Name: "a", Next: &node{Name: "b"}})
	if !reflect.DeepEqual(e.Properties, map[string]any{"name": "a"}) {
		t.Errorf("properties = %v", e.Properties)
	}
}

// TestPropertiesOfCachesOnePlan: the cached plan is built once per type
// and shared, also when first asked for from several goroutines at once.
func TestPropertiesOfCachesOnePlan(t *testing.T) {
	type once struct {
		A string `prop:"a"`
	}
	plans := make(chan *graph.PropertyMap[once], 8)
	for range cap(plans) {
		go func() { plans <- graph.PropertiesOf[once]() }()
	}
	first := <-plans
	for range cap(plans) - 1 {
		if p := <-plans; p != first {
			t.Fatal("PropertiesOf returned two plans for one type")
		}
	}
	e := graph.SetProperties(&graph.Entity{}, &once{A: "x"})
	if e.Properties["a"] != "x" || graph.PropertiesOf[once]() != first {
		t.Errorf("SetProperties: %v", e.Properties)
	}
	if n := testing.AllocsPerRun(100, func() { graph.PropertiesOf[once]() }); n != 0 {
		t.Errorf("PropertiesOf allocates %v times once cached, want 0", n)
	}
}

type promoted struct {
	N int `prop:"n"`
}

// TestPropertyMapWalksLikeEncodingJSON: an embedded struct's tagged fields
// are promoted even when its type is unexported; an unexported struct
// field is not walked; a nil object sets nothing.
func TestPropertyMapWalksLikeEncodingJSON(t *testing.T) {
	type obj struct {
		promoted
		hidden struct {
			H string `prop:"h"`
		}
		When time.Time `prop:"whenOn,time"`
	}
	m := graph.MustPropertyMap[obj]()
	o := &obj{promoted: promoted{N: 5}}
	o.hidden.H = "x"
	e := m.Set(&graph.Entity{}, o)
	if !reflect.DeepEqual(e.Properties, map[string]any{"n": 5}) {
		t.Errorf("properties = %v, want only n", e.Properties)
	}
	e = m.Set(&graph.Entity{}, nil)
	if len(e.Properties) != 0 {
		t.Errorf("a nil object set %v", e.Properties)
	}
}

// benchFactor is a typical provider object: strings, a status, timestamps.
type benchFactor struct {
	ID           string `prop:"id"`
	FactorType   string `prop:"factorType"`
	Provider     string `prop:"provider"`
	VendorName   string `prop:"vendorName,omitempty"`
	Status       string `prop:"status,lower,active=ACTIVE"`
	Created      string `prop:"created createdOn,time"`
	LastUpdated  string `prop:"lastUpdated lastUpdatedOn,time"`
	LastVerified string `prop:"lastVerifiedOn,time"`
	Profile      struct {
		Platform string `prop:"platform,omitempty"`
		Name     string `prop:"profileName,omitempty"`
	}
}

func newBenchFactor() *benchFactor {
	f := &benchFactor{ID: "mfa1abcdefghij", FactorType: "push", Provider: "OKTA", VendorName: "OKTA", Status: "ACTIVE",
		Created: "2020-01-02T03:04:05.000Z", LastUpdated: "2021-01-02T03:04:05.000Z", LastVerified: "2022-01-02T03:04:05.000Z"}
	f.Profile.Platform, f.Profile.Name = "IOS", "Ann's iPhone"
	return f
}

// BenchmarkSetProperties is the cost of setting an object's properties
// through its cached plan; BenchmarkSetByHand sets the same properties
// with Entity.Set and SetTimes, as a converter without tags does. The
// difference is the plan's overhead per object:
//
//	go test ./sdk/graph -run '^$' -bench 'SetProperties|SetByHand' -benchmem
func BenchmarkSetProperties(b *testing.B) {
	f := newBenchFactor()
	b.ReportAllocs()
	for b.Loop() {
		graph.SetProperties(&graph.Entity{Properties: make(map[string]any, 16)}, f)
	}
}

func BenchmarkSetByHand(b *testing.B) {
	f := newBenchFactor()
	b.ReportAllocs()
	for b.Loop() {
		e := &graph.Entity{Properties: make(map[string]any, 16)}
		e.Set("id", f.ID).Set("factorType", f.FactorType).Set("provider", f.Provider).
			Set("status", strings.ToLower(f.Status)).Set("active", f.Status == "ACTIVE")
		e.SetIfPresent("vendorName", f.VendorName)
		_ = e.SetTimes(f.Created, "created", "createdOn")
		_ = e.SetTimes(f.LastUpdated, "lastUpdated", "lastUpdatedOn")
		_ = e.SetTimes(f.LastVerified, "lastVerifiedOn")
		e.SetIfPresent("platform", f.Profile.Platform).SetIfPresent("profileName", f.Profile.Name)
	}
}

// TestSetTimesDoesNotBoxItsArgument: a timestamp string passed to
// SetTimes stays on the caller's stack; the one allocation is the epoch
// milliseconds shared by the names (ParseTime used to hand its argument to
// fmt, which made every caller box it).
func TestSetTimesDoesNotBoxItsArgument(t *testing.T) {
	e := &graph.Entity{Properties: make(map[string]any, 4)}
	s := strings.Repeat("2020-01-02T03:04:05.000Z", 1) // not a constant
	if n := testing.AllocsPerRun(100, func() { _ = e.SetTimes(s, "created", "createdOn") }); n != 1 {
		t.Errorf("SetTimes allocates %v times, want 1", n)
	}
	if _, _, err := graph.ParseTime(struct{}{}); err == nil || !strings.Contains(err.Error(), "struct {}") {
		t.Errorf("ParseTime(struct{}{}) error = %v, want one naming the type", err)
	}
}

package okta

import (
	"encoding/json"
	"testing"

	"github.com/stepgraph/stepgraph/integrations/okta/oktafake"
	"github.com/stepgraph/stepgraph/sdk/graph"
	"github.com/stepgraph/stepgraph/sdk/sdktest"
)

func TestDevicePlatformMapsToTheDataModel(t *testing.T) {
	tests := []struct {
		raw          string
		platform, os any
	}{
		{`{"platform":"MACOS"}`, "darwin", "MACOS"},
		{`{"platform":"WINDOWS"}`, "windows", "WINDOWS"},
		{`{"platform":"IOS"}`, "ios", "IOS"},
		{`{"platform":"ANDROID"}`, "android", "ANDROID"},
		{`{"platform":"macOS"}`, "darwin", "macOS"},
		{`{"platform":"CHROMEOS"}`, "other", "CHROMEOS"},
		{`{"platform":""}`, nil, nil},
		{`{}`, nil, nil},
	}
	schemas := graph.DefaultSchemas()
	for _, tt := range tests {
		raw := []byte(`{"id":"guo1234567890","status":"ACTIVE","resourceType":"UDDevice","profile":` + tt.raw + `}`)
		var d oktaDevice
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatal(err)
		}
		e := deviceEntity(&d, raw)
		if e.Prop("platform") != tt.platform || e.Prop("osPlatform") != tt.os {
			t.Errorf("%s: platform %v osPlatform %v, want %v %v", tt.raw, e.Prop("platform"), e.Prop("osPlatform"), tt.platform, tt.os)
		}
		if err := schemas.ValidateEntity(e); err != nil {
			t.Errorf("%s: %v", tt.raw, err)
		}
	}
}

// TestDevicesOfEveryPlatform collects a small org's devices, which cover
// every platform Okta reports, and checks each mapping end to end.
func TestDevicesOfEveryPlatform(t *testing.T) {
	f := startFake(t, oktafake.OrgSpec{Users: 10, Seed: 3}, oktafake.ServerOptions{})
	f.cfg.EnableDevices = true
	c := f.run(t, sdktest.RunOptions{})
	want := map[string]string{"MACOS": "darwin", "WINDOWS": "windows", "IOS": "ios", "ANDROID": "android"}
	seen := map[string]bool{}
	for _, e := range c.EntitiesOf(typeDevice) {
		os, _ := e.Prop("osPlatform").(string)
		if want[os] == "" || e.Prop("platform") != want[os] {
			t.Errorf("device %s: platform %v osPlatform %v", e.Key, e.Prop("platform"), e.Prop("osPlatform"))
		}
		seen[os] = true
	}
	if len(seen) != len(want) {
		t.Errorf("platforms collected: %v, want all of %v", seen, want)
	}
}

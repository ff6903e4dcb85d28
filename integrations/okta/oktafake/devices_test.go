package oktafake

import "testing"

// TestDevicesCoverEveryPlatform checks that the smallest default org (and
// the bundled demo org) has a device of each platform Okta reports.
func TestDevicesCoverEveryPlatform(t *testing.T) {
	for _, spec := range []OrgSpec{{Users: 1}, {Users: 30, Seed: 42}, {Users: 200, Seed: 1}} {
		o := NewOrg(spec)
		s := NewServer(o, ServerOptions{DisableRateLimits: true})
		type deviceJSON struct {
			Profile struct{ Platform, Manufacturer string }
		}
		devs, _ := collect[deviceJSON](t, s, "/api/v1/devices")
		seen := map[string]int{}
		for _, d := range devs {
			seen[d.Profile.Platform]++
		}
		for _, p := range []string{"MACOS", "WINDOWS", "IOS", "ANDROID"} {
			if seen[p] == 0 {
				t.Errorf("org of %d users: no %s device among %d (%v)", spec.Users, p, len(devs), seen)
			}
		}
		if len(seen) != 4 {
			t.Errorf("org of %d users: platforms %v", spec.Users, seen)
		}
	}
}

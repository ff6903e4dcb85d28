package graph

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// parseTimeByLayouts is ParseTime's layout loop alone, the reference the
// fast path must agree with.
func parseTimeByLayouts(s string) (int64, bool) {
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UnixMilli(), true
		}
	}
	return 0, false
}

// TestParseTimeFastPathAgreesWithLayouts: the forms the fast path takes
// ("2006-01-02T15:04:05[.fraction]Z" and "2006-01-02") give exactly what
// the layouts give, and every near miss (bad digits, out-of-range fields,
// other offsets, long fractions) is left to the layouts.
func TestParseTimeFastPathAgreesWithLayouts(t *testing.T) {
	cases := []string{
		"2013-06-24T16:39:18.000Z", "2013-06-24T16:39:18Z", "2013-06-24T16:39:18.5Z", "2013-06-24T16:39:18.123456789Z",
		"2013-06-24T16:39:18.1234567891Z", "2013-06-24", "1969-12-31T23:59:59.999Z", "0000-01-01", "9999-12-31T23:59:59Z",
		"2024-02-29", "2023-02-29", "2024-02-30T00:00:00Z", "2013-13-01", "2013-00-10", "2013-06-00", "2013-06-31",
		"2013-06-24T24:00:00Z", "2013-06-24T23:60:00Z", "2013-06-24T23:59:60Z", "2013-06-24T16:39:18.Z",
		"2013-06-24T16:39:18,000Z", "2013-06-24t16:39:18Z", "2013-06-24 16:39:18Z", "2013-06-24T16:39:18+02:00",
		"2013-06-24T16:39:18.000+0000", "2013-06-24T16:39:18.0x0Z", "2o13-06-24", "2013/06/24", "2013-6-24",
		"Mon, 02 Jan 2006 15:04:05 MST", "2013-06-24T16:39:18", "-013-06-24", "+013-06-24", "2013-06-24T16:39:1aZ",
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 5000 {
		ts := time.Unix(r.Int64N(1<<34)-1<<33, r.Int64N(1e9)).UTC()
		cases = append(cases, ts.Format("2006-01-02T15:04:05.000Z"), ts.Format(time.RFC3339Nano), ts.Format("2006-01-02"),
			fmt.Sprintf("%04d-%02d-%02dT%02d:%02d:%02dZ", r.IntN(10000), r.IntN(14), r.IntN(33), r.IntN(26), r.IntN(62), r.IntN(62)))
	}
	fast := 0
	for _, c := range cases {
		wantMS, wantOK := parseTimeByLayouts(c)
		ms, ok, err := ParseTime(c)
		if ok != wantOK || ms != wantMS || (err == nil) != wantOK {
			t.Errorf("ParseTime(%q) = %d, %v, %v; layouts give %d, %v", c, ms, ok, err, wantMS, wantOK)
		}
		if _, ok := parseISOFast(c); ok {
			fast++
		}
	}
	if fast < len(cases)/2 {
		t.Errorf("only %d of %d timestamps took the fast path", fast, len(cases))
	}
}

// BenchmarkParseTime shows what one Okta timestamp costs.
func BenchmarkParseTime(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, ok, _ := ParseTime("2013-06-24T16:39:18.000Z"); !ok {
			b.Fatal("not parsed")
		}
		if _, ok, _ := ParseTime("2013-06-24"); !ok {
			b.Fatal("not parsed")
		}
	}
}

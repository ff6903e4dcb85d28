//go:build !race

package oktafake

import (
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"
)

// TestLargeOrgBudget checks the 100k-user generation budget (< 2 s, modest
// heap). Skipped under -race, which slows generation several-fold.
func TestLargeOrgBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	o := NewOrg(OrgSpec{Users: 100_000, Seed: 1})
	took := time.Since(start)
	runtime.GC()
	runtime.ReadMemStats(&after)
	heap := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("100k users: %v, %.1f MB retained, %d factors, %d groups, %d apps, %d events", took, float64(heap)/1e6, len(o.factors), len(o.groups), len(o.apps), len(o.events))
	if took > 2*time.Second {
		t.Errorf("generation took %v", took)
	}
	if heap > 100<<20 {
		t.Errorf("org retains %d MB", heap>>20)
	}
	runtime.KeepAlive(o)
}

func BenchmarkNewOrg100k(b *testing.B) {
	for i := 0; i < b.N; i++ {
		NewOrg(OrgSpec{Users: 100_000, Seed: int64(i)})
	}
}

// BenchmarkUsersPage measures rendering one full page of 200 users.
func BenchmarkUsersPage(b *testing.B) {
	s := NewServer(NewOrg(OrgSpec{Users: 10_000}), ServerOptions{DisableRateLimits: true})
	req := httptest.NewRequest(http.MethodGet, "/api/v1/users?limit=200", nil)
	req.Header.Set("Authorization", "SSWS "+DefaultToken)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		w := &discardWriter{h: http.Header{}}
		s.ServeHTTP(w, req)
	}
}

type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return io.Discard.Write(p) }
func (d *discardWriter) WriteHeader(int)             {}

package okta

import (
	"context"
	"os"
	goruntime "runtime"
	"runtime/pprof"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stepgraph/stepgraph/integrations/okta/oktafake"
	"github.com/stepgraph/stepgraph/sdk/runtime"
	"github.com/stepgraph/stepgraph/sdk/store"
)

// TestScale collects a large fake org into the filesystem store and reports
// the peak heap. It runs only when OKTA_SCALE_USERS is set, e.g.
//
//	OKTA_SCALE_USERS=100000 go test ./integrations/okta -run TestScale -v
func TestScale(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("OKTA_SCALE_USERS"))
	if n <= 0 {
		t.Skip("set OKTA_SCALE_USERS to run")
	}
	f := startFake(t, oktafake.OrgSpec{Users: n, Seed: 1}, oktafake.ServerOptions{Window: 100 * time.Millisecond, LimitScale: 50},
		func(o *Options) { o.MaxInFlight = 64 })
	st, err := store.NewFilesystem(t.TempDir()+"/.j1-integration", store.FilesystemOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var peak atomic.Uint64
	ctx, stop := context.WithCancel(t.Context())
	defer stop()
	go func() {
		var ms goruntime.MemStats
		for ctx.Err() == nil {
			goruntime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				if prof := os.Getenv("OKTA_SCALE_HEAPPROFILE"); prof != "" && ms.HeapInuse > peak.Load()+8<<20 {
					if fh, err := os.Create(prof); err == nil {
						_ = pprof.WriteHeapProfile(fh)
						fh.Close()
					}
				}
				peak.Store(ms.HeapInuse)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	start := time.Now()
	res, err := runtime.Run(t.Context(), f.col.Integration(), f.cfg, runtime.Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	stop()
	for _, s := range res.Summary.Steps {
		t.Logf("%-42s %-10s %v", s.ID, s.Status, s.EncounteredTypeCounts)
	}
	stats := f.srv.Server.Stats()
	t.Logf("%d users in %v, %d requests, peak heap in use %d MB", n, time.Since(start).Round(time.Second), stats.Requests, peak.Load()>>20)
	t.Logf("endpoints: %v", stats.Endpoints)
}

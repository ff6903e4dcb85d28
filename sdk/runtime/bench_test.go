package runtime_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	goruntime "runtime"

	"github.com/stepgraph/stepgraph/sdk/graph"
	"github.com/stepgraph/stepgraph/sdk/integration"
	"github.com/stepgraph/stepgraph/sdk/runtime"
	"github.com/stepgraph/stepgraph/sdk/store"
)

// vpc builds the benchmark entity: class Network, type azure_vpc, six flat
// properties and a raw source object of eight fields with a nested object
// and an array, as the provider would have sent it.
func vpc(i int, raw []byte) (*graph.Entity, []byte) {
	id := "/subscriptions/0f3c/resourceGroups/rg-" + strconv.Itoa(i%97) + "/providers/Microsoft.Network/virtualNetworks/vnet-" + strconv.Itoa(i)
	cidr := "10." + strconv.Itoa(i>>16&255) + "." + strconv.Itoa(i>>8&255) + ".0/24"
	name := "vnet-" + strconv.Itoa(i)
	raw = raw[:0]
	raw = append(raw, `{"id":"`...)
	raw = append(raw, id...)
	raw = append(raw, `","name":"`...)
	raw = append(raw, name...)
	raw = append(raw, `","location":"westeurope","type":"Microsoft.Network/virtualNetworks","etag":"W/\"`...)
	raw = strconv.AppendInt(raw, int64(i)*7919, 16)
	raw = append(raw, `\"","properties":{"provisioningState":"Succeeded","resourceGuid":"`...)
	raw = strconv.AppendInt(raw, int64(i)*104729, 16)
	raw = append(raw, `","enableDdosProtection":false},"addressPrefixes":["`...)
	raw = append(raw, cidr...)
	raw = append(raw, `"],"tags":{"environment":"prod"}}`...)
	e := &graph.Entity{
		Key:         "azure_vpc_" + strconv.Itoa(1_000_000_000+i),
		Type:        "azure_vpc",
		Class:       []string{"Network"},
		DisplayName: name,
		RawData:     []graph.RawData{{Name: "default", Data: json.RawMessage(append([]byte(nil), raw...))}},
		Properties: map[string]any{
			"id":          id,
			"environment": "prod",
			"CIDR":        cidr,
			"name":        name,
			"public":      i%3 == 0,
			"internal":    i%3 != 0,
		},
	}
	return e, raw
}

// peakRSS returns the process's peak resident set size (VmHWM) in bytes.
func peakRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// resetPeakRSS resets VmHWM so each sub-benchmark reports its own peak.
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0o644) }

func BenchmarkFilesystemStore(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprintf("entities=%d", n), func(b *testing.B) {
			benchStore(b, n)
		})
	}
}

func benchStore(b *testing.B, n int) {
	const batch = 100
	var build time.Duration // time spent constructing entities, not in the SDK
	type noConfig struct{}
	integ := &integration.Integration[noConfig]{Name: "bench", Steps: []integration.Step[noConfig]{{
		ID: "fetch-vpcs", Name: "Fetch VPCs",
		Entities: []integration.EntityType{{Resource: "VPC", Type: "azure_vpc", Class: []string{"Network"}}},
		Run: func(ctx context.Context, sc *integration.StepContext[noConfig]) error {
			buf := make([]*graph.Entity, 0, batch)
			var raw []byte
			for start := 0; start < n; start += batch {
				t0 := time.Now()
				buf = buf[:0]
				for i := start; i < min(start+batch, n); i++ {
					var e *graph.Entity
					e, raw = vpc(i, raw)
					buf = append(buf, e)
				}
				build += time.Since(t0)
				if err := sc.AddEntities(ctx, buf...); err != nil {
					return err
				}
			}
			return nil
		},
	}}}
	var peakHeap uint64
	var elapsed time.Duration
	var outBytes int64
	var cpu time.Duration
	goruntime.GC()
	resetPeakRSS()
	b.ResetTimer()
	for range b.N {
		root := filepath.Join(b.TempDir(), "out")
		fs, err := store.NewFilesystem(root, store.FilesystemOptions{})
		if err != nil {
			b.Fatal(err)
		}
		stop := make(chan struct{})
		done := make(chan uint64)
		go func() { // sample the live heap while the run goes on
			var m goruntime.MemStats
			var peak uint64
			t := time.NewTicker(50 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-stop:
					done <- peak
					return
				case <-t.C:
					goruntime.ReadMemStats(&m)
					peak = max(peak, m.HeapInuse)
				}
			}
		}()
		cpu0 := cpuTime()
		start := time.Now()
		res, err := runtime.Run(context.Background(), integ, &noConfig{}, runtime.Options{Store: fs})
		elapsed += time.Since(start)
		cpu += cpuTime() - cpu0
		close(stop)
		peakHeap = max(peakHeap, <-done)
		if err != nil || res.Failed() {
			b.Fatalf("run failed: %v %+v", err, res.Summary.Steps)
		}
		b.StopTimer()
		d, err := store.OpenDir(root)
		if err != nil || d.Count("azure_vpc") != n {
			b.Fatalf("wrote %d entities, want %d (%v)", d.Count("azure_vpc"), n, err)
		}
		outBytes = dirSize(b, root)
		os.RemoveAll(root)
		b.StartTimer()
	}
	b.ReportMetric(float64(n)*float64(b.N)/elapsed.Seconds(), "entities/s")
	b.ReportMetric(float64(n)*float64(b.N)/(elapsed-build).Seconds(), "sdk_entities/s")
	// Entities per second of CPU time (user+system, all threads): the
	// throughput of one core, whatever else the machine is doing.
	b.ReportMetric(float64(n)*float64(b.N)/cpu.Seconds(), "entities/cpu-s")
	b.ReportMetric(float64(peakRSS())/(1<<20), "peakRSS_MB")
	b.ReportMetric(float64(peakHeap)/(1<<20), "peakHeap_MB")
	b.ReportMetric(float64(outBytes)/(1<<20), "output_MB")
}

func dirSize(b *testing.B, root string) int64 {
	var total int64
	_ = filepath.Walk(root, func(_ string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			total += info.Size()
		}
		return nil
	})
	return total
}

// cpuTime returns the CPU time (user + system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

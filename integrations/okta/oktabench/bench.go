// Package oktabench measures a complete Okta collection against the fake
// Okta (oktafake) with binding rate limits, and reports how close the run
// comes to the rate-limit floor.
//
// The rate-limit floor is the physical limit of a collection: for each
// bucket, the requests the collection made divided by the bucket's limit per
// window, times the window; buckets run in parallel, so the floor is the
// largest of them. Efficiency is floor / wall time.
//
// Limits keep Okta's per-minute ratios between buckets (users 600, groups
// 500, apps 100, logs 120, devices 100, other 1200) and are scaled so the
// busiest bucket of the org's minimal request plan needs TargetWindows
// windows: with 1-second windows a 10k-user run takes seconds, and with
// Okta's real 60-second window and TargetWindows 1.5 the busiest bucket
// needs two windows, the setting graph-okta was measured in.
//
// The fake can run in this process or, so that peak RSS measures the
// collector alone, in a child process (see ServeFake and ChildFake).
package oktabench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	goruntime "runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/stepgraph/stepgraph/integrations/okta"
	"github.com/stepgraph/stepgraph/integrations/okta/oktafake"
	"github.com/stepgraph/stepgraph/sdk/runtime"
	"github.com/stepgraph/stepgraph/sdk/store"
)

// Options configure one benchmark run.
type Options struct {
	// Users is the org size; groups, apps, memberships and factors follow
	// oktafake's proportional defaults.
	Users int
	// Seed makes the org (default 1).
	Seed int64
	// Window is the rate-limit window (default 1 s; Okta's is 60 s).
	Window time.Duration
	// TargetWindows sizes the limits: the busiest bucket of the minimal
	// plan needs this many windows (default 10).
	TargetWindows float64
	// ScaleToGraphOkta sizes the limits so graph-okta's plan of the org
	// (GraphOktaPlan), not ours, needs TargetWindows windows: the setting of
	// graph-okta's published baseline.
	ScaleToGraphOkta bool
	// NoRateLimits switches the fake's rate limits off (profiling runs).
	NoRateLimits bool
	// Latency is the fake's per-request latency (default 0).
	Latency time.Duration
	// ConcurrencyLimit is the fake's org-wide concurrency limit (default 75).
	ConcurrencyLimit int
	// Share is the share of each bucket the collector uses (default 1:
	// the benchmark org has no other API clients).
	Share float64
	// ConcurrencyLimitZero makes the fake's concurrency 429s report
	// X-Rate-Limit-Limit 0 instead of the concurrent values.
	ConcurrencyLimitZero bool
	// MaxInFlight caps the collector's concurrent requests (default: the
	// integration's default).
	MaxInFlight int
	// ErrorRate and DropRate inject 500s and connections dropped mid-body
	// into that fraction of requests (deterministically).
	ErrorRate, DropRate float64
	// OutDir receives the .j1-integration output (default: a temp dir,
	// removed afterwards).
	OutDir string
	// Host starts the fake; nil runs it in this process.
	Host func(ctx context.Context, spec FakeSpec) (FakeHost, error)
	// Logger receives the run's log (default: discard).
	Logger *slog.Logger
}

// FakeSpec is everything needed to start the fake for a run.
type FakeSpec struct {
	Users            int            `json:"users"`
	Seed             int64          `json:"seed"`
	Now              time.Time      `json:"now"`
	Window           time.Duration  `json:"window"`
	Limits           map[string]int `json:"limits"`
	NoRateLimits     bool           `json:"noRateLimits"`
	Latency          time.Duration  `json:"latency"`
	ConcurrencyLimit int            `json:"concurrencyLimit"`
	ConcurrencyZero  bool           `json:"concurrencyZero,omitempty"`
	ErrorRate        float64        `json:"errorRate,omitempty"`
	DropRate         float64        `json:"dropRate,omitempty"`
}

// FakeHost is a running fake Okta.
type FakeHost interface {
	URL() string
	Stats(ctx context.Context) (oktafake.Stats, error)
	Close() error
}

// cpuHost is a FakeHost in a process of its own that reports that
// process's CPU time (user+system) so far.
type cpuHost interface {
	CPU(ctx context.Context) (time.Duration, error)
}

// Result is what one run measured.
type Result struct {
	// ErrorRate and DropRate are the injected fault rates.
	ErrorRate float64 `json:"errorRate,omitempty"`
	DropRate  float64 `json:"dropRate,omitempty"`
	// Injected5xx and Dropped count the faults the fake injected.
	Injected5xx int64          `json:"injected5xx,omitempty"`
	Dropped     int64          `json:"dropped,omitempty"`
	Users       int            `json:"users"`
	Groups      int            `json:"groups"`
	Apps        int            `json:"apps"`
	Memberships int            `json:"memberships"`
	Factors     int            `json:"factors"`
	Window      string         `json:"window"`
	Limits      map[string]int `json:"limits"`
	// Requests are the requests the fake admitted per bucket; Plan the
	// minimal plan's.
	Requests map[string]int64 `json:"requests"`
	Plan     map[string]int64 `json:"plan"`
	// OverPlan lists endpoints with more admitted requests than the plan.
	OverPlan map[string][2]int64 `json:"overPlan,omitempty"`
	// Share is the share of each bucket the collector used; MaxInFlightCap
	// its in-flight cap; Latency the fake's per-request latency.
	Share          float64 `json:"share"`
	MaxInFlightCap int     `json:"maxInFlightCap"`
	Latency        string  `json:"latency"`
	// RequestsTotal is what the fake admitted, PlanTotal the minimal plan.
	RequestsTotal int64 `json:"requestsTotal"`
	PlanTotal     int64 `json:"planTotal"`
	// ProportionalFloorSeconds is max over buckets of
	// requests / (limit × share) × window.
	ProportionalFloorSeconds float64 `json:"proportionalFloorSeconds"`
	// AlignedFloorSeconds is the rate floor at the share when windows
	// reset at fixed times and a run may start just before a reset: max
	// over buckets of (ceil(requests / (limit × share)) − 1) × window, the
	// windows needed minus one. It is the definition used for graph-okta's
	// published comparison (two windows of work = 60 s).
	AlignedFloorSeconds float64 `json:"alignedFloorSeconds"`
	// LatencyFloorSeconds is the floor the latency alone imposes: the
	// longest chain of sequential requests (Plan.Chain) × latency, or all
	// requests × latency / the in-flight cap (or the org's concurrency
	// limit when lower), whichever is longer.
	LatencyFloorSeconds float64 `json:"latencyFloorSeconds"`
	// FloorSeconds is the larger of the aligned rate floor and the latency
	// floor; Efficiency = FloorSeconds / WallSeconds.
	FloorSeconds float64 `json:"floorSeconds"`
	FloorBucket  string  `json:"floorBucket"`
	WallSeconds  float64 `json:"wallSeconds"`
	Efficiency   float64 `json:"efficiency"`
	// RateLimited429 and Concurrency429 are the fake's 429 counts.
	RateLimited429   int64 `json:"rateLimited429"`
	Concurrency429   int64 `json:"concurrency429"`
	Retries          int64 `json:"retries"`
	MaxInFlight      int64 `json:"maxInFlight"`
	ConcurrencyLimit int   `json:"concurrencyLimit"`
	// CPUSeconds is the collector process's user+system CPU time during
	// the collection (the fake's is not included when it runs in a child).
	CPUSeconds float64 `json:"cpuSeconds"`
	// FakeCPUSeconds is the fake's child process's CPU time during the
	// collection (0 when the fake runs in the collector's process).
	FakeCPUSeconds float64 `json:"fakeCPUSeconds,omitempty"`
	PeakRSSMB      float64 `json:"peakRSSMB"`
	PeakHeapMB     float64 `json:"peakHeapMB"`
	OutputMB       float64 `json:"outputMB"`
	Objects        int64   `json:"objects"`
	ObjectsPerSec  float64 `json:"objectsPerSec"`
	// Lost lists ground-truth counts the output does not match.
	Lost         []string `json:"lost,omitempty"`
	StepFailures []string `json:"stepFailures,omitempty"`
}

// oktaLimits are Okta's per-minute limits, whose ratios the benchmark keeps.
var oktaLimits = oktafake.DefaultLimits

// Limits scales Okta's per-minute ratios so the busiest bucket of plan needs
// target windows.
func Limits(plan *Plan, target float64) map[string]int {
	worst := 0.0
	for b, n := range plan.Buckets {
		worst = max(worst, float64(n)/float64(oktaLimits[b]))
	}
	scale := worst / target
	out := map[string]int{}
	for b, l := range oktaLimits {
		out[b] = max(1, int(math.Round(float64(l)*scale)))
	}
	return out
}

// Run performs one benchmark run.
func Run(ctx context.Context, o Options) (*Result, error) {
	if o.Users <= 0 {
		return nil, errors.New("oktabench: Users must be positive")
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Window <= 0 {
		o.Window = time.Second
	}
	if o.TargetWindows <= 0 {
		o.TargetWindows = 10
	}
	if o.ConcurrencyLimit == 0 {
		o.ConcurrencyLimit = 75
	}
	if o.Share == 0 {
		o.Share = 1
	}
	if o.MaxInFlight == 0 {
		o.MaxInFlight = okta.DefaultMaxInFlight
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	now := oktafake.DefaultNow
	org := oktafake.NewOrg(oktafake.OrgSpec{Users: o.Users, Seed: o.Seed, Now: now})
	truth := org.Truth()
	plan := MinimalPlan(truth)
	res := &Result{Users: len(truth.Users), ErrorRate: o.ErrorRate, DropRate: o.DropRate, Groups: len(truth.Groups), Apps: len(truth.Apps),
		Window: o.Window.String(), Plan: plan.Buckets, ConcurrencyLimit: o.ConcurrencyLimit}
	for _, u := range truth.Users {
		res.Factors += len(u.FactorIDs)
	}
	for _, g := range truth.Groups {
		if g.Type != "BUILT_IN" {
			res.Memberships += len(g.MemberIDs)
		}
	}
	sizing := plan
	if o.ScaleToGraphOkta {
		sizing = GraphOktaPlan(truth)
	}
	spec := FakeSpec{Users: o.Users, Seed: o.Seed, Now: now, Window: o.Window, Limits: Limits(sizing, o.TargetWindows),
		NoRateLimits: o.NoRateLimits, Latency: o.Latency, ConcurrencyLimit: o.ConcurrencyLimit, ConcurrencyZero: o.ConcurrencyLimitZero,
		ErrorRate: o.ErrorRate, DropRate: o.DropRate}
	if o.NoRateLimits {
		// The fake still sends rate-limit headers; limits this high make
		// the client's pacer stand aside, so the run measures CPU only.
		for b := range spec.Limits {
			spec.Limits[b] = 1 << 30
		}
	}
	res.Limits = spec.Limits
	host := o.Host
	if host == nil {
		host = func(_ context.Context, s FakeSpec) (FakeHost, error) { return startInProcess(s, org) }
	} else {
		org = nil // the child builds its own; drop ours before measuring memory
	}
	h, err := host(ctx, spec)
	if err != nil {
		return nil, fmt.Errorf("oktabench: start fake: %w", err)
	}
	defer h.Close()

	out := o.OutDir
	if out == "" {
		tmp, err := os.MkdirTemp("", "oktabench-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		out = filepath.Join(tmp, store.DefaultRoot)
	}
	col := okta.NewCollector(okta.Options{BaseURL: h.URL(), Now: func() time.Time { return now }, MaxInFlight: o.MaxInFlight})
	cfg := &okta.Config{OrgURL: "https://bench.okta.com", APIKey: oktafake.DefaultToken, RateLimitShare: o.Share}
	fs, err := store.NewFilesystem(out, store.FilesystemOptions{})
	if err != nil {
		return nil, err
	}

	truth = nil
	goruntime.GC()
	debug.FreeOSMemory()
	resetPeakRSS()
	stop := make(chan struct{})
	heapDone := make(chan uint64)
	go sampleHeap(stop, heapDone)
	ch, childCPU := h.(cpuHost)
	var fakeCPU0 time.Duration
	if childCPU {
		if fakeCPU0, err = ch.CPU(ctx); err != nil {
			return nil, fmt.Errorf("oktabench: fake CPU: %w", err)
		}
	}
	cpu0 := cpuTime()
	start := time.Now()
	rr, err := runtime.Run(ctx, col.Integration(), cfg, runtime.Options{Store: fs, Logger: o.Logger})
	wall := time.Since(start)
	res.CPUSeconds = (cpuTime() - cpu0).Seconds()
	if childCPU {
		fakeCPU1, err := ch.CPU(ctx)
		if err != nil {
			return nil, fmt.Errorf("oktabench: fake CPU: %w", err)
		}
		res.FakeCPUSeconds = (fakeCPU1 - fakeCPU0).Seconds()
	}
	close(stop)
	res.PeakHeapMB = float64(<-heapDone) / (1 << 20)
	res.PeakRSSMB = float64(peakRSS()) / (1 << 20)
	if err != nil {
		return nil, fmt.Errorf("oktabench: collection: %w", err)
	}
	res.WallSeconds = wall.Seconds()

	st, err := h.Stats(ctx)
	if err != nil {
		return nil, fmt.Errorf("oktabench: fake stats: %w", err)
	}
	res.Requests = map[string]int64{}
	res.Share, res.MaxInFlightCap, res.Latency = o.Share, o.MaxInFlight, o.Latency.String()
	res.PlanTotal = plan.Total()
	for b, bs := range st.Buckets {
		if bs.Admitted == 0 {
			continue
		}
		res.Requests[b] = bs.Admitted
		res.RequestsTotal += bs.Admitted
		if !o.NoRateLimits && bs.Limit > 0 {
			perWindow := max(1, math.Floor(float64(bs.Limit)*o.Share+1e-9))
			f := float64(bs.Admitted) / perWindow * bs.Window.Seconds()
			windows := math.Ceil(float64(bs.Admitted) / perWindow)
			aligned := (windows - 1) * bs.Window.Seconds()
			if aligned > res.AlignedFloorSeconds || (aligned == res.AlignedFloorSeconds && f > res.ProportionalFloorSeconds) {
				res.FloorBucket = b
			}
			res.ProportionalFloorSeconds = max(res.ProportionalFloorSeconds, f)
			res.AlignedFloorSeconds = max(res.AlignedFloorSeconds, aligned)
		}
	}
	lat := o.Latency.Seconds()
	inFlight := o.MaxInFlight
	if o.ConcurrencyLimit > 0 {
		inFlight = min(inFlight, o.ConcurrencyLimit)
	}
	res.LatencyFloorSeconds = max(float64(plan.Chain)*lat, float64(res.PlanTotal)*lat/float64(inFlight))
	res.FloorSeconds = max(res.AlignedFloorSeconds, res.LatencyFloorSeconds)
	if res.FloorSeconds > 0 {
		res.Efficiency = res.FloorSeconds / res.WallSeconds
	}
	res.RateLimited429, res.Concurrency429, res.MaxInFlight = st.RateLimited, st.ConcurrencyLimited, st.MaxInFlight
	res.Injected5xx, res.Dropped = st.Injected5xx, st.Dropped
	for ep, n := range st.Endpoints {
		if want := plan.Endpoints[ep]; n > want {
			if res.OverPlan == nil {
				res.OverPlan = map[string][2]int64{}
			}
			res.OverPlan[ep] = [2]int64{n, want}
		}
	}
	for _, f := range col.HTTPStats() {
		res.Retries += f.Retries
	}
	for _, s := range rr.Summary.Steps {
		for _, n := range s.EncounteredTypeCounts {
			res.Objects += n
		}
		if s.Status != runtime.StatusSuccess && s.Status != runtime.StatusDisabled {
			res.StepFailures = append(res.StepFailures, s.ID+": "+s.Status+" "+s.Error)
		}
	}
	res.ObjectsPerSec = float64(res.Objects) / res.WallSeconds
	res.OutputMB = float64(dirSize(out)) / (1 << 20)
	res.Lost = checkCounts(out, res)
	return res, nil
}

// checkCounts compares the output's counts with the org's.
func checkCounts(root string, r *Result) []string {
	d, err := store.OpenDir(root)
	if err != nil {
		return []string{err.Error()}
	}
	var lost []string
	want := map[string]int{"okta_user": r.Users, "mfa_device": r.Factors, "okta_application": r.Apps}
	for typ, n := range want {
		if got := d.Count(typ); got != n {
			lost = append(lost, fmt.Sprintf("%s: %d of %d", typ, got, n))
		}
	}
	groups := d.Count("okta_user_group") + d.Count("okta_app_user_group")
	if groups != r.Groups {
		lost = append(lost, fmt.Sprintf("groups: %d of %d", groups, r.Groups))
	}
	return lost
}

func sampleHeap(stop <-chan struct{}, done chan<- uint64) {
	var m goruntime.MemStats
	var peak uint64
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-stop:
			goruntime.ReadMemStats(&m)
			done <- max(peak, m.HeapInuse)
			return
		case <-t.C:
			goruntime.ReadMemStats(&m)
			peak = max(peak, m.HeapInuse)
		}
	}
}

// peakRSS returns VmHWM of this process in bytes (0 where unavailable).
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// resetPeakRSS resets VmHWM (Linux) so the peak covers the collection only.
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0o644) }

func dirSize(root string) int64 {
	var total int64
	_ = filepath.Walk(root, func(_ string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			total += info.Size()
		}
		return nil
	})
	return total
}

// WriteTable prints results as a text table: per run the share used, the
// busiest bucket (requests / limit per window), wall time, the floor at the
// share (the larger of the latency floor and the aligned rate floor, see
// Result), efficiency, CPU seconds, peak RSS, 429s (rate limit +
// concurrency) and requests against the minimal plan.
func WriteTable(w io.Writer, rs []*Result) {
	fmt.Fprintf(w, "%-7s %-5s %-6s %-7s %-22s %7s %7s %7s %7s %6s %6s %6s %8s %13s %7s\n",
		"users", "share", "window", "latency", "busiest: requests/limit", "wall_s", "floor_s", "lat_fl", "rate_fl", "effic", "cpu_s", "rss_MB", "429s", "requests/plan", "retries")
	for _, r := range rs {
		busiest := "-"
		if r.FloorBucket != "" {
			busiest = fmt.Sprintf("%s %d/%d", r.FloorBucket, r.Requests[r.FloorBucket], r.Limits[r.FloorBucket])
		}
		fmt.Fprintf(w, "%-7d %-5g %-6s %-7s %-22s %7.1f %7.1f %7.1f %7.1f %6.2f %6.2f %6.0f %8s %13s %7d\n",
			r.Users, r.Share, r.Window, r.Latency, busiest, r.WallSeconds, r.FloorSeconds, r.LatencyFloorSeconds, r.AlignedFloorSeconds,
			r.Efficiency, r.CPUSeconds, r.PeakRSSMB, fmt.Sprintf("%d+%d", r.RateLimited429, r.Concurrency429),
			fmt.Sprintf("%d/%d", r.RequestsTotal, r.PlanTotal), r.Retries)
		if r.FakeCPUSeconds > 0 {
			fmt.Fprintf(w, "    fake (child process): %.2f CPU s during the collection\n", r.FakeCPUSeconds)
		}
		if r.ErrorRate > 0 || r.DropRate > 0 {
			fmt.Fprintf(w, "    faults: %d injected 500s (rate %g), %d dropped connections (rate %g), all retried\n",
				r.Injected5xx, r.ErrorRate, r.Dropped, r.DropRate)
		}
		var excess int64
		for _, v := range r.OverPlan {
			excess += v[0] - v[1]
		}
		if faults := r.Injected5xx + r.Dropped + r.RateLimited429 + r.Concurrency429; excess > 0 && excess <= faults {
			fmt.Fprintf(w, "    requests over the minimal plan: %d, all retries of injected faults or 429s\n", excess)
		} else {
			for ep, v := range r.OverPlan {
				fmt.Fprintf(w, "    over the minimal plan: %s %d requests, plan %d\n", ep, v[0], v[1])
			}
		}
		for _, l := range r.Lost {
			fmt.Fprintf(w, "    LOST: %s\n", l)
		}
		for _, f := range r.StepFailures {
			fmt.Fprintf(w, "    STEP: %s\n", f)
		}
	}
}

// MarshalResults encodes results as indented JSON.
func MarshalResults(rs []*Result) ([]byte, error) { return json.MarshalIndent(rs, "", "  ") }

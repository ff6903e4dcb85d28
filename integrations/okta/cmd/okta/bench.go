package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/stepgraph/stepgraph/integrations/okta"
	"github.com/stepgraph/stepgraph/integrations/okta/oktabench"
	"github.com/stepgraph/stepgraph/sdk/cli"
	"github.com/stepgraph/stepgraph/sdk/httpclient"
	"github.com/stepgraph/stepgraph/sdk/store"
)

const benchUsage = `okta bench: measure a complete collection against the fake Okta with
binding rate limits, and report how close it comes to the rate-limit floor.

Usage:
  okta bench [flags]

The fake runs in a child process (so peak RSS is the collector's own), with
Okta's per-minute ratios between buckets scaled so the busiest bucket needs
--target-windows windows of --window. Efficiency = floor / wall time.

Examples:
  okta bench                                   # 1k, 10k, 100k users, 1 s windows
  okta bench --users 10000 --window 60s --target-windows 1.5
  okta bench --users 100000 --no-rate-limits --cpuprofile cpu.prof
  okta bench --users 100000 --no-rate-limits --memprofile mem.prof   # allocations (alloc_space, alloc_objects)
  okta bench --users 10000 --runs 3 --format json
  okta bench --users 10000 --error-rate 0.02      # 2% server errors: nothing lost, time?
  okta bench --graph-okta-baseline                # 200, 2k, 10k users at graph-okta's settings, share 1 and default
  okta bench --graph-okta-baseline --users 10000 --latency 50ms --concurrency-limit 4
  okta bench --users 100000 --no-rate-limits --keep /tmp/big   # keep the collection (load tests)

Flags:
`

// benchMain runs "okta bench".
func benchMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, benchUsage)
		fs.PrintDefaults()
	}
	users := fs.String("users", "1000,10000,100000", "comma-separated org sizes")
	window := fs.Duration("window", time.Second, "rate-limit window (Okta: 60s)")
	target := fs.Float64("target-windows", 10, "windows the busiest bucket needs (sizes the limits)")
	latency := fs.Duration("latency", 0, "fake per-request latency")
	noLimits := fs.Bool("no-rate-limits", false, "switch rate limits off (CPU profile runs)")
	runs := fs.Int("runs", 1, "runs per size; the median by wall time is reported")
	format := fs.String("format", "text", "text or json")
	shares := fs.String("share", "1,default", "comma-separated rate-limit shares to run at (\"default\" = the SDK default, "+strconv.FormatFloat(httpclient.DefaultShare, 'g', -1, 64)+")")
	maxInFlight := fs.Int("max-in-flight", okta.DefaultMaxInFlight, "the collector's in-flight cap")
	concLimit := fs.Int("concurrency-limit", 75, "the fake org's concurrent-request limit")
	concZero := fs.Bool("concurrency-limit-zero", false, "the fake's concurrency 429s report X-Rate-Limit-Limit 0 instead of the concurrent values")
	inProcess := fs.Bool("in-process", false, "run the fake in this process (peak RSS then includes it)")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the collections to this file")
	memprofile := fs.String("memprofile", "", "write an allocation profile of the collections to this file (go tool pprof -sample_index=alloc_space)")
	errorRate := fs.Float64("error-rate", 0, "fraction of requests the fake answers with 500")
	dropRate := fs.Float64("drop-rate", 0, "fraction of requests whose connection the fake drops mid-body")
	graphOkta := fs.Bool("graph-okta-baseline", false, "graph-okta's baseline settings: 60 s windows, 20 ms latency, limits sized so graph-okta's plan needs --target-windows (default 1.75: two windows) windows")
	keep := fs.String("keep", "", "keep the last collection of each size in DIR/<users>/.j1-integration (e.g. for push load tests)")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return cli.ExitOK
		}
		return cli.ExitUsage
	}
	if *graphOkta {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if !set["window"] {
			*window = time.Minute
		}
		if !set["latency"] {
			*latency = 20 * time.Millisecond
		}
		if !set["target-windows"] {
			*target = 1.75
		}
		if !set["users"] {
			*users = "200,2000,10000"
		}
	}
	var sizes []int
	for _, s := range strings.Split(*users, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			fmt.Fprintf(stderr, "error: --users: %q is not a positive number\n", s)
			return cli.ExitUsage
		}
		sizes = append(sizes, n)
	}
	var shareList []float64
	for _, s := range strings.Split(*shares, ",") {
		s = strings.TrimSpace(s)
		if s == "default" {
			shareList = append(shareList, httpclient.DefaultShare)
			continue
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || !(v > 0 && v <= 1) {
			fmt.Fprintf(stderr, "error: --share: %q is not in (0, 1] or \"default\"\n", s)
			return cli.ExitUsage
		}
		shareList = append(shareList, v)
	}
	if *noLimits {
		shareList = shareList[:1] // the share does not matter without limits
	}
	if *format != "text" && *format != "json" {
		fmt.Fprintf(stderr, "error: --format: want text or json, got %q\n", *format)
		return cli.ExitUsage
	}
	var host func(context.Context, oktabench.FakeSpec) (oktabench.FakeHost, error)
	if !*inProcess {
		exe, err := os.Executable()
		if err != nil {
			fmt.Fprintf(stderr, "error: locating this binary for the fake's child process: %v\n", err)
			return cli.ExitFailure
		}
		host = oktabench.ChildFake(exe, "bench-fake")
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintf(stderr, "error: --cpuprofile: %v\n", err)
			return cli.ExitUsage
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(stderr, "error: --cpuprofile: %v\n", err)
			return cli.ExitFailure
		}
		defer pprof.StopCPUProfile()
	}
	if *memprofile != "" {
		f, err := os.Create(*memprofile)
		if err != nil {
			fmt.Fprintf(stderr, "error: --memprofile: %v\n", err)
			return cli.ExitUsage
		}
		defer f.Close()
		defer func() {
			if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
				fmt.Fprintf(stderr, "error: --memprofile: %v\n", err)
			}
		}()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	var results []*oktabench.Result
	for _, n := range sizes {
		for _, share := range shareList {
			var rs []*oktabench.Result
			for i := range *runs {
				fmt.Fprintf(stderr, "bench: %d users, share %g, run %d of %d ...\n", n, share, i+1, *runs)
				var out string
				if *keep != "" {
					out = filepath.Join(*keep, strconv.Itoa(n), store.DefaultRoot)
				}
				r, err := oktabench.Run(ctx, oktabench.Options{Users: n, Window: *window, TargetWindows: *target,
					Latency: *latency, NoRateLimits: *noLimits, Share: share, Host: host, MaxInFlight: *maxInFlight,
					ConcurrencyLimit: *concLimit, ConcurrencyLimitZero: *concZero,
					ErrorRate: *errorRate, DropRate: *dropRate, ScaleToGraphOkta: *graphOkta, OutDir: out})
				if err != nil {
					fmt.Fprintf(stderr, "error: %v\n", err)
					return cli.ExitFailure
				}
				rs = append(rs, r)
				if out != "" {
					fmt.Fprintf(stderr, "bench: collection kept in %s\n", out)
				}
			}
			sort.Slice(rs, func(a, b int) bool { return rs[a].WallSeconds < rs[b].WallSeconds })
			results = append(results, rs[len(rs)/2])
		}
	}
	if *format == "json" {
		b, err := oktabench.MarshalResults(results)
		if err != nil {
			fmt.Fprintf(stderr, "error: %v\n", err)
			return cli.ExitFailure
		}
		fmt.Fprintln(stdout, string(b))
	} else {
		oktabench.WriteTable(stdout, results)
	}
	for _, r := range results {
		if len(r.Lost) > 0 || len(r.StepFailures) > 0 {
			return cli.ExitPartial
		}
	}
	return cli.ExitOK
}

// benchFakeMain is the child process of "okta bench": it serves the fake
// described by its argument until interrupted.
func benchFakeMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 {
		fmt.Fprintln(stderr, "usage: okta bench-fake '<spec JSON>' (started by okta bench)")
		return cli.ExitUsage
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	if err := oktabench.ServeFake(ctx, args[0], stdout); err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return cli.ExitFailure
	}
	return cli.ExitOK
}

package main

import (
	"context"
	"flag"
	"log/slog"
	"os"
	"runtime/pprof"
	"time"

	"github.com/stepgraph/stepgraph/integrations/okta/oktabench"
)

func main() {
	users := flag.Int("users", 10000, "")
	win := flag.Duration("window", time.Second, "")
	tw := flag.Float64("target", 10, "")
	norl := flag.Bool("norl", false, "")
	lat := flag.Duration("latency", 0, "")
	verbose := flag.Bool("v", false, "")
	prof := flag.String("cpuprofile", "", "")
	flag.Parse()
	if *prof != "" {
		f, _ := os.Create(*prof)
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	var log *slog.Logger
	if *verbose {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	r, err := oktabench.Run(context.Background(), oktabench.Options{Users: *users, Window: *win, TargetWindows: *tw, NoRateLimits: *norl, Latency: *lat, Logger: log})
	if err != nil {
		panic(err)
	}
	oktabench.WriteTable(os.Stdout, []*oktabench.Result{r})
}

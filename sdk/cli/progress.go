package cli

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/term"

	"github.com/stepgraph/stepgraph/sdk/runtime"
)

// TotalPrefix is the progress-counter naming convention for known totals.
// A step that knows how much work is ahead reports it with
//
//	sc.Progress(cli.TotalPrefix+"okta_user", 5000) // 5000 users expected
//
// and the display then shows "okta_user 1200/5000 24% eta 1m10s" for that
// step, where the done count is the step's Progress counter named
// "okta_user" when it reports one and otherwise the number of objects of
// _type okta_user it added. Totals add up (a step may raise its total page
// by page). The ETA extrapolates the step's average rate so far.
const TotalPrefix = "total:"

// stepProgress is what the display knows of one step.
type stepProgress struct {
	id       string
	started  time.Time
	ended    bool
	status   string
	objects  map[string]int64 // _type -> objects added
	counters map[string]int64 // Progress name -> sum of deltas
	totals   map[string]int64 // counter name -> expected total
}

func (s *stepProgress) objectCount() int64 {
	var n int64
	for _, v := range s.objects {
		n += v
	}
	return n
}

// eta returns the "x done/total" parts and the longest ETA (0 if unknown).
func (s *stepProgress) eta(now time.Time) ([]string, time.Duration) {
	var parts []string
	var worst time.Duration
	names := make([]string, 0, len(s.totals))
	for n := range s.totals {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		total := s.totals[name]
		done, ok := s.counters[name]
		if !ok {
			done = s.objects[name]
		}
		if total <= 0 {
			continue
		}
		pct := min(100, done*100/total)
		part := fmt.Sprintf("%s %d/%d %d%%", name, done, total, pct)
		if done > 0 && done < total {
			el := now.Sub(s.started)
			eta := time.Duration(float64(el) * float64(total-done) / float64(done))
			part += " eta " + roundDur(eta)
			worst = max(worst, eta)
		}
		parts = append(parts, part)
	}
	return parts, worst
}

func roundDur(d time.Duration) string {
	switch {
	case d >= time.Hour:
		return d.Round(time.Minute).String()
	case d >= time.Second:
		return d.Round(time.Second).String()
	}
	return d.Round(100 * time.Millisecond).String()
}

// progressDisplay renders runtime events: a live block redrawn on a
// terminal ("live"), periodic log lines ("log"), or nothing ("off").
type progressDisplay struct {
	w        io.Writer
	mode     string
	interval time.Duration
	stats    func() []FamilyStats
	width    func() int
	log      *slog.Logger

	mu      sync.Mutex
	steps   map[string]*stepProgress
	order   []string
	total   int
	started time.Time
	drawn   int // lines of the live block currently on screen
	stopCh  chan struct{}
	doneCh  chan struct{}
}

func newProgressDisplay(w io.Writer, mode string, interval time.Duration, stats func() []FamilyStats, width func() int) *progressDisplay {
	if interval <= 0 {
		interval = 15 * time.Second
	}
	return &progressDisplay{w: w, mode: mode, interval: interval, stats: stats, width: width}
}

// logWriter returns a writer for log records that keeps the live block
// below the log lines.
func (p *progressDisplay) logWriter() io.Writer { return liveWriter{p} }

type liveWriter struct{ p *progressDisplay }

func (lw liveWriter) Write(b []byte) (int, error) {
	p := lw.p
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearLocked()
	n, err := p.w.Write(b)
	if p.stopCh != nil {
		p.drawLocked()
	}
	return n, err
}

// begin resets the display for a run of total steps and starts its ticker.
func (p *progressDisplay) begin(total int, logger *slog.Logger) {
	p.mu.Lock()
	p.steps = map[string]*stepProgress{}
	p.order = nil
	p.total = total
	p.started = time.Now()
	p.log = logger
	p.drawn = 0
	if p.mode == "off" {
		p.mu.Unlock()
		return
	}
	p.stopCh = make(chan struct{})
	p.doneCh = make(chan struct{})
	stop, done := p.stopCh, p.doneCh
	p.mu.Unlock()
	every := p.interval
	if p.mode == "live" {
		every = 200 * time.Millisecond
	}
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				p.tick()
			}
		}
	}()
}

// stop ends the ticker and removes the live block.
func (p *progressDisplay) stop() {
	p.mu.Lock()
	stop, done := p.stopCh, p.doneCh
	p.stopCh = nil
	p.mu.Unlock()
	if stop == nil {
		return
	}
	close(stop)
	<-done
	p.mu.Lock()
	p.clearLocked()
	p.mu.Unlock()
}

// event records a runtime event; it is runtime.Options.OnEvent.
func (p *progressDisplay) event(e runtime.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.steps == nil {
		return
	}
	s := p.steps[e.StepID]
	if s == nil {
		s = &stepProgress{id: e.StepID, started: time.Now(), objects: map[string]int64{}, counters: map[string]int64{}, totals: map[string]int64{}}
		p.steps[e.StepID] = s
		p.order = append(p.order, e.StepID)
	}
	switch e.Kind {
	case runtime.EventStepStart:
		s.started = time.Now()
	case runtime.EventStepEnd, runtime.EventStepSkip:
		s.ended, s.status = true, e.Status
	case runtime.EventObjectsAdded:
		s.objects[e.Name] += e.Delta
	case runtime.EventProgress:
		if name, ok := strings.CutPrefix(e.Name, TotalPrefix); ok {
			s.totals[name] += e.Delta
		} else {
			s.counters[e.Name] += e.Delta
		}
	}
}

func (p *progressDisplay) tick() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopCh == nil {
		return
	}
	switch p.mode {
	case "live":
		p.clearLocked()
		p.drawLocked()
	case "log":
		p.logLocked()
	}
}

// lines renders the live block.
func (p *progressDisplay) linesLocked() []string {
	now := time.Now()
	running, done := 0, 0
	var out []string
	for _, id := range p.order {
		s := p.steps[id]
		if s.ended {
			done++
			continue
		}
		running++
		line := fmt.Sprintf("  %-28s %8d objects  %6s", id, s.objectCount(), roundDur(now.Sub(s.started)))
		if parts, _ := s.eta(now); len(parts) > 0 {
			line += "  " + strings.Join(parts, ", ")
		}
		out = append(out, line)
	}
	head := fmt.Sprintf("collecting: %d running, %d/%d steps done, %s elapsed", running, done, p.total, roundDur(now.Sub(p.started)))
	out = append([]string{head}, out...)
	if p.stats != nil {
		for _, f := range sortedStats(p.stats()) {
			out = append(out, "  http "+formatStats(f))
		}
	}
	return out
}

func sortedStats(fs []FamilyStats) []FamilyStats {
	out := append([]FamilyStats(nil), fs...)
	sort.Slice(out, func(i, j int) bool { return out[i].Family < out[j].Family })
	return out
}

func formatStats(f FamilyStats) string {
	s := fmt.Sprintf("%-14s %7d requests  %4d retries  %4d x429  %4d waits (%s)", f.Family, f.Requests, f.Retries, f.RateLimited, f.Waits, roundDur(f.Waited))
	if f.InFlight > 0 {
		s += fmt.Sprintf("  %d in flight", f.InFlight)
	}
	if f.Limit > 0 && f.Remaining >= 0 {
		s += fmt.Sprintf("  budget %d/%d", f.Remaining, f.Limit)
	}
	return s
}

func (p *progressDisplay) drawLocked() {
	width := 100
	if p.width != nil {
		if w := p.width(); w > 20 {
			width = w
		}
	}
	lines := p.linesLocked()
	var b strings.Builder
	for _, l := range lines {
		if utf8.RuneCountInString(l) > width-1 {
			l = string([]rune(l)[:width-2]) + "…"
		}
		b.WriteString(l)
		b.WriteString("\x1b[K\n")
	}
	_, _ = io.WriteString(p.w, b.String())
	p.drawn = len(lines)
}

// clearLocked erases the live block (cursor to its first line).
func (p *progressDisplay) clearLocked() {
	if p.drawn == 0 {
		return
	}
	_, _ = fmt.Fprintf(p.w, "\x1b[%dA\r\x1b[J", p.drawn)
	p.drawn = 0
}

// logLocked writes one progress log line per running step and HTTP family.
func (p *progressDisplay) logLocked() {
	if p.log == nil {
		return
	}
	now := time.Now()
	for _, id := range p.order {
		s := p.steps[id]
		if s.ended {
			continue
		}
		attrs := []any{"step", id, "objects", s.objectCount(), "elapsed", roundDur(now.Sub(s.started))}
		if parts, eta := s.eta(now); len(parts) > 0 {
			attrs = append(attrs, "progress", strings.Join(parts, ", "))
			if eta > 0 {
				attrs = append(attrs, "eta", roundDur(eta))
			}
		}
		p.log.Info("progress", attrs...)
	}
	if p.stats != nil {
		for _, f := range sortedStats(p.stats()) {
			p.log.Info("http", "family", f.Family, "requests", f.Requests, "retries", f.Retries,
				"rateLimited", f.RateLimited, "waits", f.Waits, "waited", roundDur(f.Waited))
		}
	}
}

// isTerminal reports whether the live display should be used.
func (a *App[C]) isTerminal() bool {
	if a.Terminal != nil {
		return *a.Terminal
	}
	f, ok := a.stderr().(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// termWidth returns the terminal's width, or 0 when unknown.
func (a *App[C]) termWidth() int {
	f, ok := a.stderr().(*os.File)
	if !ok {
		return 0
	}
	w, _, err := term.GetSize(int(f.Fd()))
	if err != nil {
		return 0
	}
	return w
}

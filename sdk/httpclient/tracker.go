package httpclient

import (
	"maps"
	"sync"
)

// Tracker sums the per-family statistics of the clients of several runs:
// an integration that builds one client per run tracks each while its run
// is in progress and keeps its totals once it ended, so that its callers
// (a benchmark, the CLI's HTTP totals) see every request of every run. The
// zero value is ready; it is safe for concurrent use.
type Tracker struct {
	mu    sync.Mutex
	live  map[*Client]bool       // clients of the runs in progress
	ended map[string]FamilyStats // totals of the clients that ended
}

// Track adds c's statistics to the totals from now on and returns the
// function to call when c's run ended (its totals are then kept and c is
// no longer referenced). Calling it again does nothing.
func (t *Tracker) Track(c *Client) (done func()) {
	t.mu.Lock()
	if t.live == nil {
		t.live = map[*Client]bool{}
	}
	t.live[c] = true
	t.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			t.mu.Lock()
			defer t.mu.Unlock()
			delete(t.live, c)
			if t.ended == nil {
				t.ended = map[string]FamilyStats{}
			}
			addFamilies(t.ended, c.Stats().Families)
		})
	}
}

// Families returns the per-family counters of every tracked client: those
// whose run ended and those in progress.
func (t *Tracker) Families() map[string]FamilyStats {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := maps.Clone(t.ended)
	if out == nil {
		out = map[string]FamilyStats{}
	}
	for c := range t.live {
		addFamilies(out, c.Stats().Families)
	}
	return out
}

func addFamilies(to, from map[string]FamilyStats) {
	for name, s := range from {
		x := to[name]
		x.Add(s)
		to[name] = x
	}
}

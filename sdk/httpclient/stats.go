package httpclient

import (
	"sync/atomic"
	"time"
)

// FamilyStats counts the traffic of one endpoint family (or all of them).
type FamilyStats struct {
	Requests           int64         // attempts sent, retries included
	Retries            int64         // attempts after the first of a request
	RateLimited        int64         // 429 responses for an exhausted budget
	ConcurrencyLimited int64         // 429 responses with X-Rate-Limit-Limit: 0
	ServerErrors       int64         // 5xx responses
	TransportErrors    int64         // attempts that failed without a full response
	Waits              int64         // times the pacer made a request wait
	PacingWait         time.Duration // time requests waited for the pacer
	BackoffWait        time.Duration // time requests waited between attempts
}

// Add adds o's counters to s, e.g. to sum the families of several clients.
func (s *FamilyStats) Add(o FamilyStats) {
	s.Requests += o.Requests
	s.Retries += o.Retries
	s.RateLimited += o.RateLimited
	s.ConcurrencyLimited += o.ConcurrencyLimited
	s.ServerErrors += o.ServerErrors
	s.TransportErrors += o.TransportErrors
	s.Waits += o.Waits
	s.PacingWait += o.PacingWait
	s.BackoffWait += o.BackoffWait
}

// Stats is a snapshot of a Client's counters.
type Stats struct {
	Total    FamilyStats            // sum over all families
	Families map[string]FamilyStats // per family name
	// InFlightCap is the current effective global in-flight cap (lowered by
	// concurrency-limit 429s, at most Config.MaxInFlight).
	InFlightCap int
}

// familyCounters are the live atomic counters behind FamilyStats.
type familyCounters struct {
	requests, retries, rateLimited, concLimited, serverErrors, transportErrors atomic.Int64
	waits                                                                      atomic.Int64
	pacingWait, backoffWait                                                    atomic.Int64 // nanoseconds
}

func (c *familyCounters) snapshot() FamilyStats {
	return FamilyStats{
		Requests:           c.requests.Load(),
		Retries:            c.retries.Load(),
		RateLimited:        c.rateLimited.Load(),
		ConcurrencyLimited: c.concLimited.Load(),
		ServerErrors:       c.serverErrors.Load(),
		TransportErrors:    c.transportErrors.Load(),
		Waits:              c.waits.Load(),
		PacingWait:         time.Duration(c.pacingWait.Load()),
		BackoffWait:        time.Duration(c.backoffWait.Load()),
	}
}

// Stats returns a snapshot of the counters.
func (c *Client) Stats() Stats {
	c.pacer.mu.Lock()
	fams := make([]*family, 0, len(c.pacer.families))
	for _, f := range c.pacer.families {
		fams = append(fams, f)
	}
	capacity := c.pacer.capacity()
	c.pacer.mu.Unlock()
	s := Stats{Families: make(map[string]FamilyStats, len(fams)), InFlightCap: capacity}
	for _, f := range fams {
		fs := f.counters.snapshot()
		s.Families[f.name] = fs
		s.Total.Add(fs)
	}
	return s
}

// EventKind classifies an Event.
type EventKind int

// Event kinds.
const (
	// EventRetry: an attempt failed and the request will be retried after
	// Wait.
	EventRetry EventKind = iota + 1
	// EventRateLimitWait: the family's budget for the current window is
	// used up; requests wait Wait for the reset.
	EventRateLimitWait
	// EventConcurrencyLimit: a concurrency-limit 429 lowered the global
	// in-flight cap to InFlightCap.
	EventConcurrencyLimit
)

// String implements fmt.Stringer.
func (k EventKind) String() string {
	switch k {
	case EventRetry:
		return "retry"
	case EventRateLimitWait:
		return "rate-limit-wait"
	case EventConcurrencyLimit:
		return "concurrency-limit"
	}
	return "unknown"
}

// Event describes something a progress display may show. It never carries
// headers or credentials.
type Event struct {
	Kind        EventKind
	Family      string
	Method      string
	Endpoint    string // path and query
	Status      int    // HTTP status of the attempt, 0 without response
	Attempt     int    // attempt number that failed (EventRetry)
	Wait        time.Duration
	InFlightCap int // EventConcurrencyLimit
}

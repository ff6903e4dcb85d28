package fakeprovider

import (
	"maps"
	"net/http"
	"time"
)

type outcome uint8

const (
	outcomeNone outcome = iota
	outcomeOK
	outcomeRateLimited
	outcomeConcurrency
	outcomeUnauthorized
	outcomeForbidden
	outcomeNotFound
	outcome5xx
	outcomeDropped
	outcomeCanceled
	outcomeOther
)

func outcomeOf(status int) outcome {
	switch {
	case status == 0 || status < 300:
		return outcomeOK
	case status == http.StatusUnauthorized:
		return outcomeUnauthorized
	case status == http.StatusForbidden:
		return outcomeForbidden
	case status == http.StatusNotFound:
		return outcomeNotFound
	case status >= 500:
		return outcome5xx
	}
	return outcomeOther
}

// Stats is a snapshot of what a Server has seen since it started or since
// ResetStats. A request is counted once it has been answered.
type Stats struct {
	// Requests is the number of requests received.
	Requests int64
	// Endpoints counts requests per endpoint Pattern (Unknown for paths
	// no endpoint serves).
	Endpoints map[string]int64
	// Buckets holds per-bucket counters, effective limit and window.
	Buckets map[string]BucketStats
	// OK counts successful (2xx) answers, dropped ones excluded.
	OK int64
	// RateLimited counts 429s of exhausted buckets; ConcurrencyLimited the
	// 429s of the concurrency limit.
	RateLimited, ConcurrencyLimited int64
	// Unauthorized (401), Forbidden (403), NotFound (404) and OtherErrors
	// (400, 405, ...) count those answers.
	Unauthorized, Forbidden, NotFound, OtherErrors int64
	// Injected5xx counts 5xx answers: injected by Faults.ErrorRate or sent
	// by an endpoint simulating a provider failure.
	Injected5xx int64
	// Dropped counts answers cut off by Faults.DropRate.
	Dropped int64
	// Canceled counts requests whose client went away during Latency.
	Canceled int64
	// MaxInFlight is the highest number of requests in flight observed by
	// an admitted request (concurrency-limited requests excluded).
	MaxInFlight int64
}

// BucketStats are the counters of one rate-limit bucket.
type BucketStats struct {
	// Limit is the effective per-window limit and Window the window.
	Limit  int
	Window time.Duration
	// Requests counts all requests of the bucket; Admitted those that
	// passed both the concurrency and the rate limit.
	Requests, Admitted int64
	// RateLimited and ConcurrencyLimited count the bucket's 429s.
	RateLimited, ConcurrencyLimited int64
	// MinWindows = ceil(Admitted / Limit): the fewest windows that could
	// have served the admitted requests.
	MinWindows int64
}

// RateLimitFloor is the shortest wall time in which the admitted requests
// could have been served under the rate limits: the maximum over buckets of
// (MinWindows-1) * Window (the first and last windows may be partial).
func (s Stats) RateLimitFloor() time.Duration {
	var d time.Duration
	for _, b := range s.Buckets {
		if b.MinWindows > 1 {
			d = max(d, time.Duration(b.MinWindows-1)*b.Window)
		}
	}
	return d
}

// MinWindows is the maximum over buckets of BucketStats.MinWindows.
func (s Stats) MinWindows() int64 {
	var n int64
	for _, b := range s.Buckets {
		n = max(n, b.MinWindows)
	}
	return n
}

type bucketCounters struct {
	requests, admitted, rateLimited, concurrency int64
}

type statsState struct {
	requests  int64
	endpoints map[string]int64
	buckets   map[string]*bucketCounters
	byOutcome [outcomeOther + 1]int64
	maxIn     int64
}

func (st *statsState) reset(limits map[string]int) {
	*st = statsState{endpoints: map[string]int64{}, buckets: map[string]*bucketCounters{}}
	for b := range limits {
		st.buckets[b] = &bucketCounters{}
	}
}

func (s *Server) record(endpoint, bucket string, oc outcome, inflight int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := &s.st
	st.requests++
	st.endpoints[endpoint]++
	b := st.buckets[bucket]
	if b == nil {
		b = &bucketCounters{} // requests outside every bucket
	}
	b.requests++
	switch oc {
	case outcomeRateLimited:
		b.rateLimited++
	case outcomeConcurrency:
		b.concurrency++
	default:
		b.admitted++
		st.maxIn = max(st.maxIn, inflight)
	}
	st.byOutcome[oc]++
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := &s.st
	out := Stats{
		Requests:           st.requests,
		Endpoints:          maps.Clone(st.endpoints),
		Buckets:            map[string]BucketStats{},
		OK:                 st.byOutcome[outcomeOK],
		RateLimited:        st.byOutcome[outcomeRateLimited],
		ConcurrencyLimited: st.byOutcome[outcomeConcurrency],
		Unauthorized:       st.byOutcome[outcomeUnauthorized],
		Forbidden:          st.byOutcome[outcomeForbidden],
		NotFound:           st.byOutcome[outcomeNotFound],
		OtherErrors:        st.byOutcome[outcomeOther],
		Injected5xx:        st.byOutcome[outcome5xx],
		Dropped:            st.byOutcome[outcomeDropped],
		Canceled:           st.byOutcome[outcomeCanceled],
		MaxInFlight:        st.maxIn,
	}
	for name, b := range st.buckets {
		lim := s.limits[name]
		out.Buckets[name] = BucketStats{
			Limit: lim, Window: s.window,
			Requests: b.requests, Admitted: b.admitted,
			RateLimited: b.rateLimited, ConcurrencyLimited: b.concurrency,
			MinWindows: (b.admitted + int64(lim) - 1) / int64(lim),
		}
	}
	return out
}

// ResetStats zeroes the counters (not the rate-limit windows nor the fault
// attempt counts).
func (s *Server) ResetStats() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.reset(s.limits)
}

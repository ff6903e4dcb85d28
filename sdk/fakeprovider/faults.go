package fakeprovider

import (
	"strconv"
	"sync"
)

// Faults configures deterministic fault injection. Whether a request fails
// depends only on Seed, its method and URI, and how many times that same
// method and URI were requested before, so a run is reproducible whatever
// the interleaving of requests, and a retried request eventually succeeds.
type Faults struct {
	// Seed selects which requests are hit.
	Seed int64
	// ErrorRate is the fraction of requests answered 500
	// (ReasonServerError).
	ErrorRate float64
	// DropRate is the fraction of requests whose successful answer is cut
	// off: the status line, the headers with the full Content-Length and
	// half of the body are sent, then the connection is closed.
	DropRate float64
	// RateLimitRate is the fraction of requests answered 429
	// (ReasonRateLimited) as if another client of the same credentials had
	// spent the bucket: X-Rate-Limit-Remaining 0 until the window's end.
	RateLimitRate float64
	// Endpoints restricts ErrorRate, DropRate and RateLimitRate to these endpoints (by
	// Pattern); empty means every endpoint. Unknown paths never fail.
	Endpoints []string
	// Forbidden endpoints (by Pattern, or bucket names for every endpoint
	// of a bucket) answer 403 (ReasonForbidden) to authenticated requests,
	// as for credentials without a permission.
	Forbidden []string
}

type fault uint8

const (
	faultNone fault = iota
	faultError
	faultDrop
	faultRateLimit
)

type faulter struct {
	f         Faults
	seed      uint64
	endpoints map[string]bool
	forbid    map[string]bool

	mu       sync.Mutex
	attempts map[uint64]uint32
}

func newFaulter(f Faults) *faulter {
	fl := &faulter{f: f, seed: uint64(f.Seed), endpoints: map[string]bool{}, forbid: map[string]bool{}, attempts: map[uint64]uint32{}}
	for _, e := range f.Endpoints {
		fl.endpoints[e] = true
	}
	for _, e := range f.Forbidden {
		fl.forbid[e] = true
	}
	return fl
}

func (fl *faulter) forbidden(endpoint, bucket string) bool {
	return len(fl.forbid) > 0 && (fl.forbid[endpoint] || bucket != "" && fl.forbid[bucket])
}

func (fl *faulter) applies(endpoint string) bool {
	return (fl.f.ErrorRate > 0 || fl.f.DropRate > 0 || fl.f.RateLimitRate > 0) && (len(fl.endpoints) == 0 || fl.endpoints[endpoint])
}

// decide counts an attempt at method and uri and says what to inject.
func (fl *faulter) decide(method, uri string) fault {
	req := method + " " + uri
	h := Hash(0, req)
	fl.mu.Lock()
	attempt := fl.attempts[h]
	fl.attempts[h] = attempt + 1
	fl.mu.Unlock()
	key := req + "#" + strconv.Itoa(int(attempt))
	if fl.f.ErrorRate > 0 && Unit(Hash(fl.seed^0xe770, key)) < fl.f.ErrorRate {
		return faultError
	}
	if fl.f.DropRate > 0 && Unit(Hash(fl.seed^0xd209, key)) < fl.f.DropRate {
		return faultDrop
	}
	if fl.f.RateLimitRate > 0 && Unit(Hash(fl.seed^0x4290, key)) < fl.f.RateLimitRate {
		return faultRateLimit
	}
	return faultNone
}

// Hash is a seeded 64-bit hash of s (FNV-1a finished with SplitMix64), the
// one the fault injection uses: fakes use it to pick their own seeded
// faults (objects deleted between a list and a detail call, ...) the same
// reproducible way.
func Hash(seed uint64, s string) uint64 {
	h := uint64(14695981039346656037) ^ mix64(seed)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return mix64(h)
}

// Unit maps a hash to [0, 1): Unit(Hash(seed, id)) < fraction picks about
// that fraction of ids.
func Unit(h uint64) float64 { return float64(h>>11) / (1 << 53) }

func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

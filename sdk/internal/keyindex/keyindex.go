// Package keyindex is the compact hash index of _key strings the runtime
// (deduplication) and the filesystem store (find by key) keep per run. It
// is not API: integrations never see it.
package keyindex

import (
	"hash/maphash"
	"math/bits"
)

// Index is a compact table from 64-bit hashes of _key strings to 64-bit
// values. It keeps 8 bytes per slot (16 with values) instead of key
// strings. It is not safe for concurrent use; callers hold their own lock.
//
// The table is ordered linear probing (Amble and Knuth; Robin Hood hashing
// with ties broken by hash): a hash's home slot grows with the hash
// (h·size/2^64, so any table size works) and the stored hashes are in
// ascending order, so a lookup stops at the first larger hash and misses
// cost about as little as hits even with the table 85% full. Tables grow
// by half (not double) at that load: a million keys take 9.6-14 MB
// instead of 16.
//
// Two different keys may share a hash (about 1 in 10^8 for a million keys);
// callers that must be exact confirm a hit against the stored object.
type Index struct {
	seed   maphash.Seed
	size   uint64   // home slots; hashes has room to probe past the last
	hashes []uint64 // 0 = empty, else ascending among the occupied slots
	vals   []uint64 // nil for a set
	n      int
}

const (
	minSize = 1024
	// maxLoad is the fill (in 1/100) above which the table grows.
	maxLoad = 85
)

// New returns an empty index. withValues=false makes it a set.
func New(withValues bool) *Index {
	x := &Index{seed: maphash.MakeSeed()}
	x.alloc(minSize, withValues)
	return x
}

// alloc makes empty arrays for size home slots.
func (x *Index) alloc(size uint64, withValues bool) {
	x.size = size
	n := size + slack(size)
	x.hashes = make([]uint64, n)
	x.vals = nil
	if withValues {
		x.vals = make([]uint64, n)
	}
}

// slack is the room past the last home slot for the probes of the hashes
// whose home is near the end (a table never wraps around).
func slack(size uint64) uint64 { return 64 + size/64 }

// Hash returns the hash of key used by this index (never 0).
func (x *Index) Hash(key string) uint64 {
	h := maphash.String(x.seed, key)
	if h == 0 {
		h = 1
	}
	return h
}

// Len returns the number of hashes stored.
func (x *Index) Len() int { return x.n }

// home returns the first slot h may occupy.
func (x *Index) home(h uint64) uint64 {
	hi, _ := bits.Mul64(h, x.size)
	return hi
}

// find returns the slot of h, or where it belongs.
func (x *Index) find(h uint64) uint64 {
	i := x.home(h)
	for i < uint64(len(x.hashes)) && x.hashes[i] != 0 && x.hashes[i] < h {
		i++
	}
	return i
}

// Get returns the value stored for h.
func (x *Index) Get(h uint64) (uint64, bool) {
	i := x.find(h)
	if i >= uint64(len(x.hashes)) || x.hashes[i] != h {
		return 0, false
	}
	if x.vals == nil {
		return 0, true
	}
	return x.vals[i], true
}

// Insert stores v for h unless h is present. It returns the existing value
// and true when h was already there (leaving it unchanged).
func (x *Index) Insert(h, v uint64) (uint64, bool) {
	if uint64(x.n+1)*100 > x.size*maxLoad {
		x.grow()
	}
	for {
		i := x.find(h)
		if i < uint64(len(x.hashes)) && x.hashes[i] == h {
			if x.vals == nil {
				return 0, true
			}
			return x.vals[i], true
		}
		// Shift the run from i to the next empty slot one to the right.
		j := i
		for j < uint64(len(x.hashes)) && x.hashes[j] != 0 {
			j++
		}
		if j == uint64(len(x.hashes)) { // ran past the slack: rare
			x.grow()
			continue
		}
		copy(x.hashes[i+1:j+1], x.hashes[i:j])
		x.hashes[i] = h
		if x.vals != nil {
			copy(x.vals[i+1:j+1], x.vals[i:j])
			x.vals[i] = v
		}
		x.n++
		return 0, false
	}
}

// grow moves the hashes to a table half as large again. They are taken in
// ascending order, so each goes to its home slot or just after the
// previous one, without shifting.
func (x *Index) grow() {
	oldH, oldV := x.hashes, x.vals
	for size := x.size + x.size/2; ; size += size / 2 {
		if x.rebuild(oldH, oldV, size) {
			return
		}
	}
}

// rebuild fills a new table of size home slots from old's hashes; false
// when they do not fit in its slack (far below the load bound, never seen).
func (x *Index) rebuild(oldH, oldV []uint64, size uint64) bool {
	x.alloc(size, oldV != nil)
	next := uint64(0)
	for j, h := range oldH {
		if h == 0 {
			continue
		}
		i := max(x.home(h), next)
		if i >= uint64(len(x.hashes)) {
			return false
		}
		x.hashes[i] = h
		if oldV != nil {
			x.vals[i] = oldV[j]
		}
		next = i + 1
	}
	return true
}

// Package keyindex is the compact hash index of _key strings the runtime
// (deduplication) and the filesystem store (find by key) keep per run. It
// is not API: integrations never see it.
package keyindex

import "hash/maphash"

// Index is a compact open-addressing table from 64-bit hashes of _key
// strings to 64-bit values. It keeps 8 bytes per slot (16 with values)
// instead of key strings, so a million keys cost about 16-32 MB. It is not
// safe for concurrent use; callers hold their own lock.
//
// Two different keys may share a hash (about 1 in 10^8 for a million keys);
// callers that must be exact confirm a hit against the stored object.
type Index struct {
	seed   maphash.Seed
	hashes []uint64
	vals   []uint64 // nil for a set
	n      int
}

// New returns an empty index. withValues=false makes it a set.
func New(withValues bool) *Index {
	x := &Index{seed: maphash.MakeSeed(), hashes: make([]uint64, 1024)}
	if withValues {
		x.vals = make([]uint64, 1024)
	}
	return x
}

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

// Get returns the value stored for h.
func (x *Index) Get(h uint64) (uint64, bool) {
	mask := uint64(len(x.hashes) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch x.hashes[i] {
		case 0:
			return 0, false
		case h:
			if x.vals == nil {
				return 0, true
			}
			return x.vals[i], true
		}
	}
}

// Insert stores v for h unless h is present. It returns the existing value
// and true when h was already there (leaving it unchanged).
func (x *Index) Insert(h, v uint64) (uint64, bool) {
	if (x.n+1)*4 > len(x.hashes)*3 {
		x.grow()
	}
	mask := uint64(len(x.hashes) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch x.hashes[i] {
		case 0:
			x.hashes[i] = h
			if x.vals != nil {
				x.vals[i] = v
			}
			x.n++
			return 0, false
		case h:
			if x.vals == nil {
				return 0, true
			}
			return x.vals[i], true
		}
	}
}

func (x *Index) grow() {
	oldH, oldV := x.hashes, x.vals
	x.hashes = make([]uint64, len(oldH)*2)
	if oldV != nil {
		x.vals = make([]uint64, len(oldH)*2)
	}
	mask := uint64(len(x.hashes) - 1)
	for j, h := range oldH {
		if h == 0 {
			continue
		}
		i := h & mask
		for x.hashes[i] != 0 {
			i = (i + 1) & mask
		}
		x.hashes[i] = h
		if oldV != nil {
			x.vals[i] = oldV[j]
		}
	}
}

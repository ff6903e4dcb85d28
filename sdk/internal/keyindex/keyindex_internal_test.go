package keyindex

import (
	"math/rand/v2"
	"testing"
)

// TestIndexAgainstAMap inserts random hashes (with duplicates, and hashes
// crowded at both ends of the range) into tables of both kinds and checks
// every answer against a map, and that the table stays ordered.
func TestIndexAgainstAMap(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, withValues := range []bool{false, true} {
		x := New(withValues)
		ref := map[uint64]uint64{}
		seen := []uint64{1}
		for i := range 100000 {
			var h uint64
			switch r.IntN(10) {
			case 0: // crowd the last home slots
				h = ^uint64(0) - r.Uint64N(300)
			case 1: // and the first
				h = 1 + r.Uint64N(300)
			case 2: // a hash inserted before
				h = seen[r.IntN(len(seen))]
			default:
				h = r.Uint64() | 1
			}
			old, dup := x.Insert(h, uint64(i))
			want, had := ref[h]
			if dup != had || (withValues && dup && old != want) {
				t.Fatalf("Insert(%x) = %d, %v; want %d, %v", h, old, dup, want, had)
			}
			if !had {
				ref[h] = uint64(i)
				seen = append(seen, h)
			}
		}
		if x.Len() != len(ref) {
			t.Fatalf("Len %d, want %d", x.Len(), len(ref))
		}
		for h, v := range ref {
			got, ok := x.Get(h)
			if !ok || (withValues && got != v) {
				t.Fatalf("Get(%x) = %d, %v; want %d", h, got, ok, v)
			}
		}
		for range 100000 {
			h := r.Uint64() | 1
			_, in := ref[h]
			if _, ok := x.Get(h); ok != in {
				t.Fatalf("Get(%x) = %v", h, ok)
			}
		}
		prev, n := uint64(0), 0
		for i, h := range x.hashes {
			if h == 0 {
				continue
			}
			if h <= prev || x.home(h) > uint64(i) {
				t.Fatalf("slot %d holds %x after %x (home %d): table out of order", i, h, prev, x.home(h))
			}
			prev = h
			n++
		}
		if n != len(ref) {
			t.Fatalf("%d hashes in the table, want %d", n, len(ref))
		}
	}
}

// TestIndexSizeAtAMillionKeys: the runtime's set of a 100,000-user Okta
// collection's keys (about 1.03 million) takes under 13 MB; a power-of-two
// table at 75% load took 16.8 MB (2^21 slots).
func TestIndexSizeAtAMillionKeys(t *testing.T) {
	x := New(false)
	r := rand.New(rand.NewPCG(5, 6))
	for x.Len() < 1030000 {
		x.Insert(r.Uint64()|1, 0)
	}
	if mb := float64(len(x.hashes)*8) / 1e6; mb > 13 {
		t.Errorf("1.03M keys take %.1f MB", mb)
	}
}

// BenchmarkIndex measures an insert of a new key and a lookup of an absent
// one (what the runtime does for every object) at a million keys.
func BenchmarkIndex(b *testing.B) {
	x := New(false)
	r := rand.New(rand.NewPCG(7, 8))
	for x.Len() < 1000000 {
		x.Insert(r.Uint64()|1, 0)
	}
	b.ReportAllocs()
	for b.Loop() {
		h := r.Uint64() | 1
		x.Get(h)
		x.Insert(h, 0)
	}
}

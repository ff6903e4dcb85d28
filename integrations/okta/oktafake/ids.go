package oktafake

import (
	"math/rand/v2"
	"time"
)

// base62 is ASCII-ordered, so fixed-width base62 numbers sort like the numbers.
const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// Okta object ids are 20 characters: a 3-character type prefix and 17
// characters. Ours are prefix(3) + org tag(4) + base62 index(5) + hash(8), so
// ids of one kind sort in generation order and can be mapped back to their
// index without a lookup table.
const (
	idLen      = 20
	idTagAt    = 3
	idIndexAt  = 7
	idIndexLen = 5
	idHashAt   = 12
)

func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func orgTag(seed uint64) string {
	h := mix64(seed ^ 0x5eed)
	b := make([]byte, 4)
	for i := range b {
		b[i] = base62[h%62]
		h /= 62
	}
	return string(b)
}

func makeID(prefix, tag string, kind uint64, seed uint64, idx int) string {
	var b [idLen]byte
	copy(b[:3], prefix)
	copy(b[idTagAt:idIndexAt], tag)
	n := idx
	for i := idIndexAt + idIndexLen - 1; i >= idIndexAt; i-- {
		b[i] = base62[n%62]
		n /= 62
	}
	h := mix64(seed ^ mix64(kind<<40^uint64(idx)))
	for i := idHashAt; i < idLen; i++ {
		b[i] = base62[h%62]
		h /= 62
	}
	return string(b[:])
}

// parseIndex returns the generation index encoded in an id of the given
// prefix and org tag, or -1.
func parseIndex(id, prefix, tag string) int {
	if len(id) != idLen || id[:3] != prefix || id[idTagAt:idIndexAt] != tag {
		return -1
	}
	n := 0
	for i := idIndexAt; i < idIndexAt+idIndexLen; i++ {
		c := id[i]
		var d int
		switch {
		case c >= '0' && c <= '9':
			d = int(c - '0')
		case c >= 'A' && c <= 'Z':
			d = int(c-'A') + 10
		case c >= 'a' && c <= 'z':
			d = int(c-'a') + 36
		default:
			return -1
		}
		n = n*62 + d
	}
	return n
}

// uuidFrom renders a version-4-shaped UUID from two hashes.
func uuidFrom(a, b uint64) string {
	const hex = "0123456789abcdef"
	var buf [36]byte
	p := 0
	put := func(v uint64, n int) {
		for i := n - 1; i >= 0; i-- {
			buf[p+i] = hex[v&15]
			v >>= 4
		}
		p += n
	}
	put(a>>32, 8)
	buf[p] = '-'
	p++
	put(a>>16, 4)
	buf[p] = '-'
	p++
	put(0x4000|(a&0x0fff), 4)
	buf[p] = '-'
	p++
	put(0x8000|(b>>48&0x3fff), 4)
	buf[p] = '-'
	p++
	put(b, 12)
	return string(buf[:])
}

// newRand returns a generator for one section of the org, so sections do not
// shift each other's random streams.
func newRand(seed uint64, section uint64) *rand.Rand {
	return rand.New(rand.NewPCG(mix64(seed^section), mix64(section*0x9e37+seed)))
}

// Okta renders times as ISO-8601 UTC with milliseconds.
const oktaTime = "2006-01-02T15:04:05.000Z"

func fmtSec(sec int64) string { return time.Unix(sec, 0).UTC().Format(oktaTime) }

func fmtMs(ms int64) string { return time.UnixMilli(ms).UTC().Format(oktaTime) }

func optSec(sec int64) *string {
	if sec == 0 {
		return nil
	}
	s := fmtSec(sec)
	return &s
}

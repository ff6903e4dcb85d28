package httpclient

import (
	"io"
	"math/bits"
	"sync"
)

// Response bodies are read into buffers recycled by size class, so a
// collection that reads hundreds of thousands of responses does not
// allocate (and collect) a fresh, repeatedly grown buffer for each one. A
// caller that is done with a Response's Body hands its buffer back with
// Response.Release; a body never released is simply garbage collected.

const (
	minBodyClass  = 12 // 4 KiB: the smallest pooled buffer
	maxBodyClass  = 24 // 16 MiB: larger bodies are not pooled
	numBodyClases = maxBodyClass - minBodyClass + 1
)

// bodyPool recycles body buffers, one sync.Pool per power-of-two size.
// Buffers are held as *[]byte so Put does not allocate.
type bodyPool struct {
	classes [numBodyClases]sync.Pool
}

// class returns the index of the smallest class holding n bytes, or -1
// when n is above the largest class.
func bodyClass(n int) int {
	if n <= 1<<minBodyClass {
		return 0
	}
	c := bits.Len(uint(n-1)) - minBodyClass
	if c >= numBodyClases {
		return -1
	}
	return c
}

// get returns a buffer of length 0 and capacity at least n.
func (p *bodyPool) get(n int) *[]byte {
	c := bodyClass(n)
	if c < 0 {
		b := make([]byte, 0, n)
		return &b
	}
	if v, ok := p.classes[c].Get().(*[]byte); ok {
		*v = (*v)[:0]
		return v
	}
	b := make([]byte, 0, 1<<(c+minBodyClass))
	return &b
}

// put hands a buffer back. Buffers whose capacity is not exactly a class
// size (not from get, or grown by append) are left to the collector.
func (p *bodyPool) put(b *[]byte) {
	if b == nil {
		return
	}
	n := cap(*b)
	c := bodyClass(n)
	if c < 0 || n != 1<<(c+minBodyClass) {
		return
	}
	*b = (*b)[:0]
	p.classes[c].Put(b)
}

// readBody reads r to the end into a pooled buffer of at least hint bytes,
// moving to the next size class when it fills up (the smaller buffer goes
// back to the pool).
func (p *bodyPool) readBody(r io.Reader, hint int) (*[]byte, error) {
	bp := p.get(max(hint, 1<<minBodyClass))
	for {
		buf := *bp
		if len(buf) == cap(buf) {
			nb := p.get(2 * cap(buf))
			*nb = append(*nb, buf...)
			p.put(bp)
			bp, buf = nb, *nb
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		*bp = buf[:len(buf)+n]
		if err != nil {
			if err == io.EOF {
				return bp, nil
			}
			return bp, err
		}
	}
}

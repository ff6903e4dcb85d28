package fakeprovider

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Rendered holds the JSON encodings (as Marshal writes them) of a fixed set
// of n objects, each rendered at most once: on first use by Bytes, or all
// at once by RenderAll before the server takes requests. A fake whose data
// does not change while it serves answers list pages from these bytes with
// Call.ListJSON, so its CPU goes to serving rather than re-encoding the
// same objects. It is safe for concurrent use.
type Rendered struct {
	render func(i int) any
	slots  []renderedSlot
}

type renderedSlot struct {
	once sync.Once
	b    []byte
}

// NewRendered returns a Rendered for objects 0..n-1, rendered by render.
func NewRendered(n int, render func(i int) any) *Rendered {
	return &Rendered{render: render, slots: make([]renderedSlot, n)}
}

// Len returns the number of objects.
func (r *Rendered) Len() int { return len(r.slots) }

// Bytes returns object i's JSON, rendering it if it is not yet. It panics
// if the object cannot be encoded (a bug in the fake).
func (r *Rendered) Bytes(i int) []byte {
	sl := &r.slots[i]
	sl.once.Do(func() {
		b, err := Marshal(r.render(i))
		if err != nil {
			panic(err)
		}
		sl.b = b
	})
	return sl.b
}

// RenderAll renders every object not yet rendered, on all CPUs.
func (r *Rendered) RenderAll() {
	workers := runtime.GOMAXPROCS(0)
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			const chunk = 256
			for {
				start := int(next.Add(chunk)) - chunk
				if start >= len(r.slots) {
					return
				}
				for i := start; i < min(start+chunk, len(r.slots)); i++ {
					r.Bytes(i)
				}
			}
		}()
	}
	wg.Wait()
}

package httpclient

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"testing/iotest"
)

// TestReadBodyAcrossSizeClasses: bodies of every size around the class
// boundaries are read whole, with and without a size hint, and byte by
// byte.
func TestReadBodyAcrossSizeClasses(t *testing.T) {
	var p bodyPool
	for _, n := range []int{0, 1, 4095, 4096, 4097, 8192, 70000, 1 << 20, 1<<20 + 3} {
		want := bytes.Repeat([]byte("0123456789abcdef"), n/16+1)[:n]
		for _, hint := range []int{0, n + 1, n / 2} {
			bp, err := p.readBody(bytes.NewReader(want), hint)
			if err != nil || !bytes.Equal(*bp, want) {
				t.Fatalf("n=%d hint=%d: %d bytes, err %v", n, hint, len(*bp), err)
			}
			if c := cap(*bp); c < n || c&(c-1) != 0 {
				t.Fatalf("n=%d: capacity %d is not a pooled size class", n, c)
			}
			p.put(bp)
		}
		bp, err := p.readBody(iotest.OneByteReader(bytes.NewReader(want)), 0)
		if err != nil || !bytes.Equal(*bp, want) {
			t.Fatalf("n=%d one byte at a time: %d bytes, err %v", n, len(*bp), err)
		}
	}
	if c := bodyClass(17 << 20); c != -1 {
		t.Errorf("a 17 MiB body has class %d, want -1 (not pooled)", c)
	}
	big := make([]byte, 0, 17<<20)
	p.put(&big) // not pooled, no panic
	odd := make([]byte, 0, 5000)
	p.put(&odd) // not a class size: dropped
	if got := p.get(4097); cap(*got) != 8192 {
		t.Errorf("get(4097) capacity %d, want 8192", cap(*got))
	}
}

// TestReleasedBodiesAreReused: a caller that releases each response lets
// the client read the next body into the same buffer, instead of
// allocating (and growing) a new one per response, and a released body is
// never handed out while a response that was not released still uses it.
func TestReleasedBodiesAreReused(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Chunked (no Content-Length), like Okta's list responses.
		w.Write(bytes.Repeat([]byte(r.URL.Query().Get("c")), 20000))
		w.(http.Flusher).Flush()
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, nil)
	ctx := context.Background()
	kept, err := c.Do(ctx, http.MethodGet, "/x?c=k", nil) // never released
	if err != nil {
		t.Fatal(err)
	}
	buffers := map[*byte]bool{}
	const n = 40
	for i := range n {
		ch := string(rune('a' + i%26))
		resp, err := c.Do(ctx, http.MethodGet, "/x?c="+ch, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Body) != 20000 || resp.Body[0] != ch[0] || resp.Body[19999] != ch[0] {
			t.Fatalf("response %d: %d bytes starting %q", i, len(resp.Body), resp.Body[:1])
		}
		if &resp.Body[0] == &kept.Body[0] {
			t.Fatal("an unreleased body's buffer was reused")
		}
		buffers[&resp.Body[0]] = true
		resp.Release()
		resp.Release() // twice: nothing happens
		if resp.Body != nil {
			t.Fatal("Body still set after Release")
		}
	}
	// sync.Pool may drop a buffer now and then (and under the race
	// detector drops a quarter of them on purpose), never most of them.
	if len(buffers) > n/2 {
		t.Errorf("%d responses used %d distinct body buffers: released buffers are not reused", n, len(buffers))
	}
	if kept.Body[0] != 'k' || kept.Body[19999] != 'k' || !bytes.Equal(kept.Body, bytes.Repeat([]byte("k"), 20000)) {
		t.Error("the unreleased body changed")
	}
	var nilResp *Response
	nilResp.Release()
}

// BenchmarkDoChunkedPage reads a 300 KB chunked body (a page of 200 Okta
// users) per operation, releasing it as listings do: B/op and allocs/op
// show what a response costs besides the body.
func BenchmarkDoChunkedPage(b *testing.B) {
	page := bytes.Repeat([]byte(`{"id":"00u0000000000000000","status":"ACTIVE"},`), 300000/48)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(page)
		w.(http.Flusher).Flush()
	}))
	defer srv.Close()
	c := newTestClient(b, srv.URL, nil)
	ctx := context.Background()
	b.ReportAllocs()
	b.SetBytes(int64(len(page)))
	for i := 0; b.Loop(); i++ {
		resp, err := c.Do(ctx, http.MethodGet, "/api/v1/users?after="+strconv.Itoa(i), nil)
		if err != nil {
			b.Fatal(err)
		}
		resp.Release()
	}
}

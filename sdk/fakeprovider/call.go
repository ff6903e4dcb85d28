package fakeprovider

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
)

// Call is one request being answered: an endpoint's view of the request and
// the means to answer it. Answer once, with JSON, List or Error.
type Call struct {
	srv    *Server
	w      http.ResponseWriter
	r      *http.Request
	ep     *Endpoint
	params []string
	query  url.Values

	status int
	drop   bool
	onDrop func()
	buf    *bytes.Buffer
	bw     *bufio.Writer
}

// Request returns the HTTP request.
func (c *Call) Request() *http.Request { return c.r }

// Endpoint returns the matched endpoint, or nil for an unknown path.
func (c *Call) Endpoint() *Endpoint { return c.ep }

// Header returns the response headers, to set before answering.
func (c *Call) Header() http.Header { return c.w.Header() }

// Param returns the path segment matched by {name} in the endpoint's
// pattern ("" if there is none).
func (c *Call) Param(name string) string {
	for i := 0; i+1 < len(c.params); i += 2 {
		if c.params[i] == name {
			return c.params[i+1]
		}
	}
	return ""
}

// Query returns the parsed query (parsed once; do not modify).
func (c *Call) Query() url.Values {
	if c.query == nil {
		c.query = c.r.URL.Query()
	}
	return c.query
}

// BaseURL returns the scheme and host of links: Options.BaseURL, else the
// request's own.
func (c *Call) BaseURL() string {
	if c.srv.opts.BaseURL != "" {
		return c.srv.opts.BaseURL
	}
	scheme := "http"
	if c.r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + c.r.Host
}

// SelfURL returns the request's URL on BaseURL.
func (c *Call) SelfURL() string {
	u := c.BaseURL() + c.r.URL.Path
	if c.r.URL.RawQuery != "" {
		u += "?" + c.r.URL.RawQuery
	}
	return u
}

// NextURL returns the request's URL on BaseURL with the cursor parameter
// set to after and the limit parameter to limit, other parameters kept.
func (c *Call) NextURL(after string, limit int) string {
	q := url.Values{}
	for k, v := range c.Query() {
		q[k] = v
	}
	q.Set(c.srv.opts.CursorParam, after)
	q.Set(c.srv.opts.LimitParam, strconv.Itoa(limit))
	return c.BaseURL() + c.r.URL.Path + "?" + q.Encode()
}

// Cursor returns the cursor parameter ("" on a first page).
func (c *Call) Cursor() string { return c.Query().Get(c.srv.opts.CursorParam) }

// Limit returns the page size the request asks for under the endpoint's
// Paging: the default without a limit parameter, a larger one clamped to
// the maximum (or a 400 if Strict). An invalid limit is a *Error to pass to
// Error. Without Paging it returns 0.
func (c *Call) Limit() (int, *Error) {
	p := c.ep.Paging
	if p == nil {
		return 0, nil
	}
	v := c.Query().Get(c.srv.opts.LimitParam)
	if v == "" {
		return p.Default, nil
	}
	n, err := strconv.Atoi(v)
	switch {
	case err != nil || n < 0 || p.Strict && (n < 1 || n > p.Max):
		return 0, &Error{Status: http.StatusBadRequest, Reason: ReasonBadRequest,
			Message: fmt.Sprintf("%s must be a number from 1 to %d", c.srv.opts.LimitParam, p.Max)}
	case n == 0:
		return p.Default, nil
	}
	return min(n, p.Max), nil
}

// SetLinks writes the paging Link headers: rel="self" if Options.SelfLinks,
// and rel="next" when next is not empty, each on a line of its own.
func (c *Call) SetLinks(next string) {
	h := c.w.Header()
	if c.srv.opts.SelfLinks {
		h.Add("Link", "<"+c.SelfURL()+`>; rel="self"`)
	}
	if next != "" {
		h.Add("Link", "<"+next+`>; rel="next"`)
	}
}

// Page answers with the page of items after the request's cursor (the
// cursor of the last item of the previous page) and links to the next one.
// An unknown cursor or an invalid limit is a 400.
func Page[T any](c *Call, items []T, cursor func(T) string) {
	limit, e := c.Limit()
	if e != nil {
		c.Error(e)
		return
	}
	if limit <= 0 {
		limit = len(items)
	}
	start := 0
	if after := c.Cursor(); after != "" {
		start = -1
		for i, it := range items {
			if cursor(it) == after {
				start = i + 1
				break
			}
		}
		if start < 0 {
			c.Error(&Error{Status: http.StatusBadRequest, Reason: ReasonBadRequest, Message: "unknown " + c.srv.opts.CursorParam + " cursor"})
			return
		}
	}
	end := min(start+limit, len(items))
	next := ""
	if end < len(items) {
		next = c.NextURL(cursor(items[end-1]), limit)
	}
	c.SetLinks(next)
	c.List(http.StatusOK, end-start, func(k int) any { return items[start+k] })
}

// begin starts a JSON answer. A successful answer picked for a dropped
// connection is buffered, to be cut off by end.
func (c *Call) begin(status int) io.Writer {
	c.status = status
	c.w.Header().Set("Content-Type", "application/json")
	if c.drop && status < 300 {
		c.buf = &bytes.Buffer{}
		return c.buf
	}
	c.drop = false
	c.w.WriteHeader(status)
	if c.r.Method == http.MethodHead {
		return io.Discard
	}
	c.bw = bufio.NewWriterSize(c.w, 32<<10)
	return c.bw
}

func (c *Call) end() {
	if c.bw != nil {
		c.bw.Flush()
		return
	}
	if c.buf == nil {
		return
	}
	body := c.buf.Bytes()
	cut := max(1, len(body)/2)
	if cut >= len(body) {
		cut = len(body) - 1
	}
	h := c.w.Header()
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if hj, ok := c.w.(http.Hijacker); ok {
		conn, rw, err := hj.Hijack()
		if err == nil {
			c.onDrop()
			fmt.Fprintf(rw, "HTTP/1.1 %d %s\r\n", c.status, http.StatusText(c.status))
			h.Write(rw)
			rw.WriteString("\r\n")
			rw.Write(body[:max(cut, 0)])
			rw.Flush()
			conn.Close()
			return
		}
	}
	// HTTP/2 or a wrapped writer: abort the stream mid-body.
	c.onDrop()
	c.w.WriteHeader(c.status)
	c.w.Write(body[:max(cut, 0)])
	if fl, ok := c.w.(http.Flusher); ok {
		fl.Flush()
	}
	panic(http.ErrAbortHandler)
}

// Marshal encodes v as JSON without HTML escaping and without a trailing
// newline, as the answers are written.
func Marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// JSON answers with status and v encoded as JSON. It panics if v cannot be
// encoded (a bug in the fake).
func (c *Call) JSON(status int, v any) {
	b, err := Marshal(v)
	if err != nil {
		panic(err)
	}
	w := c.begin(status)
	w.Write(b)
	c.end()
}

// List answers with status and a JSON array of n items, encoding one item
// at a time, so a large page is never built in memory.
func (c *Call) List(status, n int, item func(k int) any) {
	w := c.begin(status)
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	io.WriteString(w, "[")
	for k := 0; k < n; k++ {
		b.Reset()
		if err := enc.Encode(item(k)); err != nil {
			panic(err)
		}
		if k > 0 {
			io.WriteString(w, ",")
		}
		w.Write(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
	}
	io.WriteString(w, "]")
	c.end()
}

// RawJSON answers with status and body, JSON already encoded (for example
// by Rendered or Marshal).
func (c *Call) RawJSON(status int, body []byte) {
	w := c.begin(status)
	w.Write(body)
	c.end()
}

// ListJSON answers with status and a JSON array of n items already encoded
// (for example by Rendered): the same bytes List writes for the items
// they encode.
func (c *Call) ListJSON(status, n int, item func(k int) []byte) {
	w := c.begin(status)
	io.WriteString(w, "[")
	for k := 0; k < n; k++ {
		if k > 0 {
			io.WriteString(w, ",")
		}
		w.Write(item(k))
	}
	io.WriteString(w, "]")
	c.end()
}

// Error answers with an error, rendered by Options.WriteError. Errors are
// never cut off by a dropped connection.
func (c *Call) Error(e *Error) {
	for k, v := range e.Header {
		c.w.Header()[k] = v
	}
	c.drop = false
	c.srv.opts.WriteError(c, e)
	if c.status == 0 {
		c.status = e.Status
	}
}

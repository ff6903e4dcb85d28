package httpclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"

	fastjson "github.com/segmentio/encoding/json"

	"github.com/stepgraph/stepgraph/sdk/integration"
)

// EachPage pages a list endpoint (Link rel="next", or as opts say), calling
// fn with each page's items decoded as T. It decodes each body in one pass
// with a fast decoder, so a small T (a struct holding only an id) skips the
// rest of each object, and json.RawMessage keeps every item as it was sent;
// each response is released once decoded (items hold copies). An empty page
// (with WithItemsIn, also a body without the field) ends the listing. A
// body that does not decode is a *RequestError naming the endpoint; an
// error from fn ends the listing and is returned as is.
func EachPage[T any](ctx context.Context, c *Client, pathOrURL string, fn func([]T) error, opts ...PageOption) error {
	var o pageOptions
	for _, opt := range opts {
		opt(&o)
	}
	for resp, err := range c.Pages(ctx, pathOrURL, opts...) {
		if err != nil {
			return err
		}
		var items []T
		body := resp.Body
		if o.itemsIn != "" {
			var env map[string]fastjson.RawMessage
			if err = fastjson.Unmarshal(body, &env); err == nil {
				body = env[o.itemsIn]
				if body == nil {
					body = []byte("null") // no items
				}
			}
		}
		if err == nil {
			err = fastjson.Unmarshal(body, &items)
		}
		resp.Release() // items hold copies
		if err != nil {
			return c.DecodeError(resp, err)
		}
		if len(items) == 0 {
			return nil
		}
		if err := fn(items); err != nil {
			return err
		}
	}
	return nil
}

// PageItems is EachPage as an iterator: it yields each page's items, or the
// error that ended the listing (once, last). A consumer that stops early
// stops the paging.
func PageItems[T any](ctx context.Context, c *Client, pathOrURL string, opts ...PageOption) iter.Seq2[[]T, error] {
	return func(yield func([]T, error) bool) {
		err := EachPage(ctx, c, pathOrURL, func(items []T) error {
			if !yield(items, nil) {
				return errStopped
			}
			return nil
		}, opts...)
		if err != nil && err != errStopped {
			yield(nil, err)
		}
	}
}

// errStopped ends a listing whose consumer stopped.
var errStopped = errors.New("httpclient: listing stopped by its consumer")

// ConcatPages iterates over the pages of each listing in turn, starting the
// next one only after the previous one ended without error; an error ends
// the whole sequence.
func ConcatPages[T any](listings ...iter.Seq2[[]T, error]) iter.Seq2[[]T, error] {
	return func(yield func([]T, error) bool) {
		for _, s := range listings {
			for items, err := range s {
				if !yield(items, err) || err != nil {
					return
				}
			}
		}
	}
}

// DecodeError is the error for a response body resp that could not be
// decoded (err from the decoder): a *RequestError naming the method GET
// and resp's endpoint, with secrets scrubbed. resp may be released.
func (c *Client) DecodeError(resp *Response, err error) error {
	endpoint := "response"
	if resp != nil && resp.URL != nil {
		endpoint = c.endpoint(resp.URL)
	}
	return &RequestError{
		Request: integration.Request{Method: http.MethodGet, Endpoint: endpoint},
		Err:     c.scrub.wrap(fmt.Errorf("decoding JSON response: %w", err)),
	}
}

// Raw is a listed item decoded as T that also keeps its JSON as sent (a
// copy, valid after the response is released), for an entity's _rawData:
// EachPage[Raw[T]] decodes both in one call. Value is decoded with
// encoding/json.
type Raw[T any] struct {
	Value T
	JSON  json.RawMessage
}

// UnmarshalJSON keeps a copy of b and decodes it into Value.
func (r *Raw[T]) UnmarshalJSON(b []byte) error {
	r.JSON = append(json.RawMessage(nil), b...)
	return json.Unmarshal(b, &r.Value)
}

package httpclient

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/url"

	"github.com/stepgraph/stepgraph/sdk/integration"
)

// NextFunc returns the URL (absolute, or relative to the page's URL) of the
// page after resp, or "" when resp is the last page.
type NextFunc func(resp *Response) (string, error)

// PageOption configures Client.Pages.
type PageOption func(*pageOptions)

type pageOptions struct {
	next     NextFunc
	maxPages int
	itemsIn  string
}

// WithItemsIn says that a page's items are the array under the body's
// top-level field (an envelope such as {"value": [...], "_links": ...})
// rather than the body itself: for EachPage and PageItems (Pages hands
// over bodies as they are).
func WithItemsIn(field string) PageOption {
	return func(o *pageOptions) { o.itemsIn = field }
}

// WithMaxPages bounds the listing to n pages (n > 0), overriding
// Config.MaxPages. A listing with more pages ends with a *PagingError.
func WithMaxPages(n int) PageOption {
	return func(o *pageOptions) {
		if n > 0 {
			o.maxPages = n
		}
	}
}

// WithExpectedItems derives the page bound from a count the API gave for the
// listing (e.g. a group's member count): items in pages of perPage, plus
// room for objects added while the listing runs (a quarter more, at least
// three pages). It never raises the bound above Config.MaxPages.
func WithExpectedItems(items, perPage int) PageOption {
	return func(o *pageOptions) {
		if items < 0 || perPage <= 0 {
			return
		}
		pages := (items + perPage - 1) / perPage
		bound := pages + max(3, pages/4)
		if o.maxPages == 0 || bound < o.maxPages {
			o.maxPages = bound
		}
	}
}

// WithNextFunc replaces the default next-page rule (the Link header's
// rel="next") with next, for APIs that page through the body.
func WithNextFunc(next NextFunc) PageOption {
	return func(o *pageOptions) {
		if next != nil {
			o.next = next
		}
	}
}

// NextFromLinkHeader is the default NextFunc: the target of the first
// RFC 8288 Link with relation type "next", or "".
func NextFromLinkHeader(resp *Response) (string, error) {
	for _, l := range ParseLinkHeader(resp.Header.Values("Link")) {
		if l.HasRel("next") {
			return l.URL, nil
		}
	}
	return "", nil
}

// NextFromBodyLinks is a NextFunc for JSON bodies carrying the next page in
// `_links.next.href` (HAL style, e.g. Okta's /api/v1/iam/assignees/users).
// A body without it is the last page.
func NextFromBodyLinks(resp *Response) (string, error) {
	var body struct {
		Links struct {
			Next struct {
				Href string `json:"href"`
			} `json:"next"`
		} `json:"_links"`
	}
	if len(resp.Body) == 0 {
		return "", nil
	}
	if err := json.Unmarshal(resp.Body, &body); err != nil {
		return "", fmt.Errorf("httpclient: reading _links.next.href: %w", err)
	}
	return body.Links.Next.Href, nil
}

// Pages returns an iterator over the pages of a GET listing starting at
// pathOrURL. Each step yields a page, or an error after which the iteration
// ends: ctx.Err() (checked before every page), the errors of Do, a
// *ForeignHostError when a next link leaves BaseURL's scheme and host
// (nothing is sent there), or the NextFunc's error.
//
// A listing that does not end is an error, never a silent success: a next
// link to a page already fetched (a loop), or more pages than the bound
// (Config.MaxPages, WithMaxPages, WithExpectedItems), ends the iteration with
// a *PagingError after the pages fetched so far, and logs a warning. The
// caller should treat the listing as incomplete (e.g. mark its types
// partial). A provider whose last page legitimately points to itself (a
// polling feed) must be stopped by the caller, e.g. on an empty page.
func (c *Client) Pages(ctx context.Context, pathOrURL string, opts ...PageOption) iter.Seq2[*Response, error] {
	o := pageOptions{next: NextFromLinkHeader}
	for _, opt := range opts {
		opt(&o)
	}
	if o.maxPages == 0 || o.maxPages > c.cfg.MaxPages {
		o.maxPages = c.cfg.MaxPages
	}
	return func(yield func(*Response, error) bool) {
		target := pathOrURL
		seen := map[string]bool{}
		var first *url.URL
		for {
			if err := ctx.Err(); err != nil {
				yield(nil, err)
				return
			}
			u, err := c.resolve(target)
			if err != nil {
				yield(nil, err)
				return
			}
			if first == nil {
				first = u
			}
			key := u.String()
			if seen[key] || len(seen) >= o.maxPages {
				pe := &PagingError{
					Request: integration.Request{Method: http.MethodGet, Endpoint: c.endpoint(first)},
					Pages:   len(seen), Loop: seen[key], MaxPages: o.maxPages,
				}
				c.log.Warn("httpclient: "+pe.reason()+"; the listing is incomplete",
					"endpoint", pe.Endpoint, "family", c.familyOf(http.MethodGet, u.Path), "pages", pe.Pages)
				yield(nil, pe)
				return
			}
			seen[key] = true
			resp, err := c.do(ctx, http.MethodGet, u, nil)
			if err != nil {
				yield(nil, err)
				return
			}
			next, nerr := o.next(resp)
			if !yield(resp, nil) {
				return
			}
			if nerr != nil {
				yield(nil, &RequestError{
					Request: integration.Request{Method: http.MethodGet, Endpoint: c.endpoint(resp.URL)},
					Err:     c.scrub.wrap(nerr),
				})
				return
			}
			if next == "" {
				return
			}
			nu, err := resp.URL.Parse(next)
			if err != nil {
				yield(nil, &RequestError{
					Request: integration.Request{Method: http.MethodGet, Endpoint: c.endpoint(resp.URL)},
					Err:     fmt.Errorf("invalid next-page URL"),
				})
				return
			}
			target = nu.String()
		}
	}
}

// PagingError ends a listing that does not end: its next link pointed to a
// page already fetched (Loop), or it had more than MaxPages pages. The pages
// before it were yielded; the listing is incomplete.
type PagingError struct {
	integration.Request // the listing's first page
	// Pages is the number of pages fetched.
	Pages int
	// Loop is true for a next link to a page already fetched.
	Loop bool
	// MaxPages is the bound in force.
	MaxPages int
}

func (e *PagingError) reason() string {
	if e.Loop {
		return fmt.Sprintf("next link after page %d points to a page already fetched (a paging loop)", e.Pages)
	}
	return fmt.Sprintf("listing has more than %d pages (the page bound)", e.MaxPages)
}

// Error implements the error interface.
func (e *PagingError) Error() string {
	return fmt.Sprintf("httpclient: %s: %s; the listing is incomplete", e.Request, e.reason())
}

// Code implements integration.Coded.
func (e *PagingError) Code() integration.Code { return integration.CodeProviderAPI }

package httpclient

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"

	"github.com/stepgraph/stepgraph/sdk/integration"
)

// NextFunc returns the URL (absolute, or relative to the page's URL) of the
// page after resp, or "" when resp is the last page.
type NextFunc func(resp *Response) (string, error)

// PageOption configures Client.Pages.
type PageOption func(*pageOptions)

type pageOptions struct {
	next NextFunc
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
// (nothing is sent there), or the NextFunc's error. A next link to a page
// already fetched ends the iteration without error.
func (c *Client) Pages(ctx context.Context, pathOrURL string, opts ...PageOption) iter.Seq2[*Response, error] {
	o := pageOptions{next: NextFromLinkHeader}
	for _, opt := range opts {
		opt(&o)
	}
	return func(yield func(*Response, error) bool) {
		target := pathOrURL
		seen := map[string]bool{}
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
			key := u.String()
			if seen[key] {
				c.log.Debug("httpclient: next link points to a page already fetched; stopping",
					"endpoint", c.endpoint(u), "family", c.familyOf(http.MethodGet, u.Path))
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

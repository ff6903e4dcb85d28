package fakeprovider_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/stepgraph/stepgraph/sdk/fakeprovider"
	"github.com/stepgraph/stepgraph/sdk/httpclient"
)

// widget is what the fake widget API serves.
type widget struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// newWidgetFake is a fake widget API. Its data and endpoints are its own;
// the token check, paging, rate limits and faults come from fakeprovider.
func newWidgetFake(widgets []widget, opts fakeprovider.Options) *fakeprovider.Server {
	opts.Auth = fakeprovider.TokenAuth{Scheme: "Bearer", Token: "test-token"}
	s := fakeprovider.New(opts)
	s.Handle(fakeprovider.Endpoint{
		Pattern: "/api/widgets",
		Paging:  &fakeprovider.Paging{Default: 2, Max: 50},
		Serve: func(c *fakeprovider.Call) {
			fakeprovider.Page(c, widgets, func(w widget) string { return w.ID })
		},
	})
	s.Handle(fakeprovider.Endpoint{
		Pattern: "/api/widgets/{id}",
		Serve: func(c *fakeprovider.Call) {
			for _, w := range widgets {
				if w.ID == c.Param("id") {
					c.JSON(http.StatusOK, w)
					return
				}
			}
			c.Error(&fakeprovider.Error{Status: http.StatusNotFound, Reason: fakeprovider.ReasonNotFound})
		},
	})
	return s
}

// A client pages through a fake that rate limits it and answers a third of
// its requests 500, chosen by the fault seed: it gets every widget.
func Example() {
	widgets := []widget{{"w1", "one"}, {"w2", "two"}, {"w3", "three"}, {"w4", "four"}, {"w5", "five"}}
	fake := newWidgetFake(widgets, fakeprovider.Options{
		Buckets: []fakeprovider.Bucket{{Name: "widgets", Limit: 100}},
		Window:  time.Second,
		Faults:  fakeprovider.Faults{Seed: 1, ErrorRate: 0.3},
	})
	srv, err := fakeprovider.Start(fake)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()

	cl, err := httpclient.New(httpclient.Config{BaseURL: srv.URL, AuthValue: "Bearer test-token"})
	if err != nil {
		fmt.Println(err)
		return
	}
	var names []string
	for page, err := range cl.Pages(context.Background(), "/api/widgets") {
		if err != nil {
			fmt.Println(err)
			return
		}
		var ws []widget
		if err := json.Unmarshal(page.Body, &ws); err != nil {
			fmt.Println(err)
			return
		}
		for _, w := range ws {
			names = append(names, w.Name)
		}
	}
	st := fake.Stats()
	fmt.Println(names)
	fmt.Printf("%d requests, %d answered 500\n", st.Requests, st.Injected5xx)
	// Output:
	// [one two three four five]
	// 4 requests, 1 answered 500
}

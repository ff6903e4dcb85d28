package oktafake

import (
	"context"
	"net"
	"net/http"

	"github.com/stepgraph/stepgraph/sdk/fakeprovider"
)

// Running is a fake Okta server listening on a loopback port.
type Running struct {
	// URL is the base URL, e.g. "http://127.0.0.1:41234" (no trailing slash).
	URL string
	// Server is the handler, for Stats and options.
	Server *Server

	run    *fakeprovider.Running
	client *http.Client
}

// Start serves a new Server for org over plain HTTP on 127.0.0.1:0.
func Start(org *Org, opts ServerOptions) (*Running, error) {
	return start(org, opts, fakeprovider.Start)
}

// StartTLS serves a new Server for org over HTTPS (a self-signed httptest
// certificate for 127.0.0.1) on 127.0.0.1:0; use Running.Client to trust it.
func StartTLS(org *Org, opts ServerOptions) (*Running, error) {
	return start(org, opts, fakeprovider.StartTLS)
}

func start(org *Org, opts ServerOptions, serve func(http.Handler) (*fakeprovider.Running, error)) (*Running, error) {
	s := NewServer(org, opts)
	run, err := serve(s)
	if err != nil {
		return nil, err
	}
	return &Running{URL: run.URL, Server: s, run: run, client: run.Client()}, nil
}

// Client returns an *http.Client that trusts the server's certificate (for
// StartTLS); for plain HTTP it is an ordinary client. Its transport is the
// server's own: Close closes its idle connections.
func (r *Running) Client() *http.Client { return r.client }

// Close shuts the server down, closing client connections.
func (r *Running) Close() error {
	r.run.Close()
	return nil
}

// ListenAndServe serves s on addr (e.g. "127.0.0.1:8080") over plain HTTP
// until ctx is done, then shuts down gracefully (5 s grace). It returns nil
// after a shutdown requested by ctx.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	return fakeprovider.ListenAndServe(ctx, addr, s)
}

// Serve serves s on ln until ctx is done (see ListenAndServe).
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	return fakeprovider.Serve(ctx, ln, s)
}

package oktafake

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"time"
)

// Running is a fake Okta server listening on a loopback port.
type Running struct {
	// URL is the base URL, e.g. "http://127.0.0.1:41234" (no trailing slash).
	URL string
	// Server is the handler, for Stats and options.
	Server *Server

	hs     *httptest.Server
	client *http.Client
}

// Start serves a new Server for org over plain HTTP on 127.0.0.1:0.
func Start(org *Org, opts ServerOptions) (*Running, error) {
	return start(org, opts, false)
}

// StartTLS serves a new Server for org over HTTPS (a self-signed httptest
// certificate for 127.0.0.1) on 127.0.0.1:0; use Running.Client to trust it.
func StartTLS(org *Org, opts ServerOptions) (*Running, error) {
	return start(org, opts, true)
}

func start(org *Org, opts ServerOptions, tls bool) (*Running, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := NewServer(org, opts)
	hs := &httptest.Server{Listener: ln, Config: &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}}
	if tls {
		hs.StartTLS()
	} else {
		hs.Start()
	}
	return &Running{URL: hs.URL, Server: s, hs: hs, client: hs.Client()}, nil
}

// Client returns an *http.Client that trusts the server's certificate (for
// StartTLS); for plain HTTP it is an ordinary client. Its transport is the
// server's own: Close closes its idle connections.
func (r *Running) Client() *http.Client { return r.client }

// Close shuts the server down, closing client connections.
func (r *Running) Close() error {
	r.hs.CloseClientConnections()
	r.hs.Close()
	return nil
}

// ListenAndServe serves s on addr (e.g. "127.0.0.1:8080") over plain HTTP
// until ctx is done, then shuts down gracefully (5 s grace). It returns nil
// after a shutdown requested by ctx.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return s.Serve(ctx, ln)
}

// Serve serves s on ln until ctx is done (see ListenAndServe).
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- hs.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := hs.Shutdown(sctx)
		if e := <-done; e != nil && !errors.Is(e, http.ErrServerClosed) && err == nil {
			err = e
		}
		return err
	}
}

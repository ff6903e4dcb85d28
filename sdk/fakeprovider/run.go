package fakeprovider

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"time"
)

// Running is a handler served on a loopback port.
type Running struct {
	// URL is the base URL, e.g. "http://127.0.0.1:41234" (no trailing
	// slash).
	URL string

	hs *httptest.Server
}

// Start serves h over plain HTTP on 127.0.0.1 until Close.
func Start(h http.Handler) (*Running, error) { return start(h, false) }

// StartTLS serves h over HTTPS (a self-signed certificate for 127.0.0.1)
// until Close; Running.Client trusts it.
func StartTLS(h http.Handler) (*Running, error) { return start(h, true) }

func start(h http.Handler, tls bool) (*Running, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	hs := &httptest.Server{Listener: ln, Config: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}}
	if tls {
		hs.StartTLS()
	} else {
		hs.Start()
	}
	return &Running{URL: hs.URL, hs: hs}, nil
}

// Client returns an *http.Client that trusts the server's certificate; its
// idle connections are closed by Close.
func (r *Running) Client() *http.Client { return r.hs.Client() }

// Transport returns a transport that connects to this server whatever the
// request's host (plain HTTP only), so a client can use a stable base URL,
// e.g. http://api.example.test, that ends up in recordings.
func (r *Running) Transport() http.RoundTripper {
	addr := r.hs.Listener.Addr().String()
	return &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
	}
}

// Close shuts the server down, closing client connections.
func (r *Running) Close() {
	r.hs.CloseClientConnections()
	r.hs.Close()
}

// ListenAndServe serves h on addr (e.g. "127.0.0.1:8080") over plain HTTP
// until ctx is done, then shuts down gracefully (5 s grace). It returns nil
// after a shutdown requested by ctx.
func ListenAndServe(ctx context.Context, addr string, h http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return Serve(ctx, ln, h)
}

// Serve serves h on ln until ctx is done (see ListenAndServe).
func Serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
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

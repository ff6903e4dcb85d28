package oktabench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/stepgraph/stepgraph/integrations/okta/oktafake"
)

// statsPath serves the fake's Stats as JSON in the child process. It is not
// an Okta path, so it is neither counted nor rate limited.
const statsPath = "/__oktabench/stats"

// cpuPath serves the child process's CPU time so far, in nanoseconds.
const cpuPath = "/__oktabench/cpu"

func serverOptions(s FakeSpec) oktafake.ServerOptions {
	return oktafake.ServerOptions{Window: s.Window, Limits: s.Limits, DisableRateLimits: s.NoRateLimits,
		Latency: s.Latency, ConcurrencyLimit: s.ConcurrencyLimit, ConcurrencyLimitZero: s.ConcurrencyZero,
		Faults: oktafake.Faults{Seed: s.Seed, ErrorRate: s.ErrorRate, DropRate: s.DropRate}}
}

type inProcess struct{ r *oktafake.Running }

func startInProcess(s FakeSpec, org *oktafake.Org) (FakeHost, error) {
	r, err := oktafake.Start(org, serverOptions(s))
	if err != nil {
		return nil, err
	}
	r.Server.Prerender(r.URL)
	return inProcess{r}, nil
}

func (p inProcess) URL() string { return p.r.URL }
func (p inProcess) Stats(context.Context) (oktafake.Stats, error) {
	return p.r.Server.Stats(), nil
}
func (p inProcess) Close() error { return p.r.Close() }

// ServeFake runs the fake for spec (JSON) on a loopback port until ctx ends,
// writing "listening <url>" to w once it accepts requests. A benchmark's
// parent process starts it through ChildFake.
func ServeFake(ctx context.Context, specJSON string, w io.Writer) error {
	var s FakeSpec
	if err := json.Unmarshal([]byte(specJSON), &s); err != nil {
		return fmt.Errorf("oktabench: fake spec: %w", err)
	}
	org := oktafake.NewOrg(oktafake.OrgSpec{Users: s.Users, Seed: s.Seed, Now: s.Now})
	srv := oktafake.NewServer(org, serverOptions(s))
	mux := http.NewServeMux()
	mux.HandleFunc(statsPath, func(rw http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(rw).Encode(srv.Stats())
	})
	mux.HandleFunc(cpuPath, func(rw http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(rw, "%d\n", int64(cpuTime()))
	})
	mux.Handle("/", srv)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	// Render the users' and factors' JSON now, as the org was built: the
	// benchmark measures the collector against a server whose answers
	// cost little to produce, as Okta's do to Okta's clients.
	srv.Prerender("http://" + ln.Addr().String())
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		_ = hs.Close()
	}()
	fmt.Fprintf(w, "listening http://%s\n", ln.Addr())
	if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

type child struct {
	cmd *exec.Cmd
	url string
}

// ChildFake returns a Host that runs the fake in a child process: exe with
// args followed by the spec as JSON; the child must call ServeFake.
func ChildFake(exe string, args ...string) func(ctx context.Context, s FakeSpec) (FakeHost, error) {
	return func(ctx context.Context, s FakeSpec) (FakeHost, error) {
		spec, err := json.Marshal(s)
		if err != nil {
			return nil, err
		}
		cmd := exec.CommandContext(ctx, exe, append(append([]string{}, args...), string(spec))...)
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			return nil, err
		}
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		line, err := bufio.NewReader(out).ReadString('\n')
		if err != nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			return nil, fmt.Errorf("fake child did not start: %w", err)
		}
		url, ok := strings.CutPrefix(strings.TrimSpace(line), "listening ")
		if !ok {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			return nil, fmt.Errorf("fake child said %q", line)
		}
		return &child{cmd: cmd, url: url}, nil
	}
}

func (c *child) URL() string { return c.url }

func (c *child) Stats(ctx context.Context) (oktafake.Stats, error) {
	var st oktafake.Stats
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url+statsPath, nil)
	if err != nil {
		return st, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	err = json.NewDecoder(resp.Body).Decode(&st)
	return st, err
}

func (c *child) CPU(ctx context.Context) (time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url+cpuPath, nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var ns int64
	if _, err := fmt.Fscan(resp.Body, &ns); err != nil {
		return 0, fmt.Errorf("%s: %w", cpuPath, err)
	}
	return time.Duration(ns), nil
}

func (c *child) Close() error {
	_ = c.cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- c.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = c.cmd.Process.Kill()
		<-done
	}
	return nil
}

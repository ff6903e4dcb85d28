package sdktest

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// spyTB records failures instead of failing the real test, so the kit's
// own failure paths can be asserted. Cleanups run when capture returns.
type spyTB struct {
	testing.TB
	mu       sync.Mutex
	errs     []string
	fatal    bool
	cleanups []func()
}

func (s *spyTB) Helper() {}

func (s *spyTB) Errorf(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errs = append(s.errs, fmt.Sprintf(format, args...))
}

func (s *spyTB) Error(args ...any) { s.Errorf("%s", fmt.Sprint(args...)) }

func (s *spyTB) Fatalf(format string, args ...any) {
	s.Errorf(format, args...)
	s.mu.Lock()
	s.fatal = true
	s.mu.Unlock()
	runtime.Goexit()
}

func (s *spyTB) Fatal(args ...any) { s.Fatalf("%s", fmt.Sprint(args...)) }

func (s *spyTB) Failed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.errs) > 0
}

func (s *spyTB) Cleanup(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cleanups = append(s.cleanups, f)
}

// messages returns every recorded failure, joined.
func (s *spyTB) messages() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.errs, "\n")
}

// capture runs fn with a spy in its own goroutine (Fatalf exits it), then
// the spy's cleanups, and returns the spy.
func capture(t *testing.T, fn func(tb testing.TB)) *spyTB {
	t.Helper()
	s := &spyTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			for i := len(s.cleanups) - 1; i >= 0; i-- {
				s.cleanups[i]()
			}
		}()
		fn(s)
	}()
	<-done
	return s
}

// wantFailure asserts the spy recorded a failure containing every fragment.
func wantFailure(t *testing.T, s *spyTB, fragments ...string) {
	t.Helper()
	msg := s.messages()
	if msg == "" {
		t.Fatalf("expected a failure, got none")
	}
	for _, f := range fragments {
		if !strings.Contains(msg, f) {
			t.Errorf("failure does not mention %q:\n%s", f, msg)
		}
	}
}

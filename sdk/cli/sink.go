package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
)

// Sink is a database a binary lets collect --sink and push load a
// collection into. sdk/cli imports no database driver: a binary registers
// the sinks it wants in App.Sinks (PostgreSQL: sdk/cli/pgsink).
type Sink struct {
	// Name names the sink in help and messages, e.g. "PostgreSQL".
	Name string
	// Schemes are the URL schemes --sink accepts for it, e.g. "postgres".
	Schemes []string
	// URLEnv is the environment variable push reads the URL from when
	// --sink is not given ("" for none).
	URLEnv string
	// Push loads the committed collection folder req.Dir. It returns a
	// one-line account of the load. An error that means another run holds
	// the instance wraps ErrSinkBusy.
	Push func(ctx context.Context, req SinkRequest) (fmt.Stringer, error)
}

// SinkRequest is one load of a collection into a sink.
type SinkRequest struct {
	// URL is the --sink value; Dir the committed collection folder.
	URL, Dir string
	// Integration and Instance name the instance the collection is of.
	Integration, Instance string
	// Schema is --schema ("" for the sink's default).
	Schema string
	// AllowOlder loads a collection older than the instance's last one.
	AllowOlder bool
	// Logger receives the sink's records; secrets are masked.
	Logger *slog.Logger
}

// ErrSinkBusy is wrapped by a Sink's error when another run is loading the
// same instance; collect --sink and push then exit ExitBusy.
var ErrSinkBusy = errors.New("sink busy")

// sinkFor returns the registered sink serving rawURL's scheme.
func (a *App[C]) sinkFor(rawURL string) (*Sink, error) {
	var schemes []string
	for _, s := range a.Sinks {
		schemes = append(schemes, s.Schemes...)
	}
	if len(schemes) == 0 {
		return nil, errors.New("this program registers no database sink")
	}
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme == "" {
		return nil, fmt.Errorf("not a URL with a scheme (sinks: %s)", strings.Join(schemes, ", "))
	}
	for i := range a.Sinks {
		if slices.Contains(a.Sinks[i].Schemes, strings.ToLower(u.Scheme)) {
			return &a.Sinks[i], nil
		}
	}
	return nil, fmt.Errorf("no sink for scheme %q (sinks: %s)", u.Scheme, strings.Join(schemes, ", "))
}

// sinkURLEnv is the environment variable of the first sink that has one.
func (a *App[C]) sinkURLEnv() string {
	for _, s := range a.Sinks {
		if s.URLEnv != "" {
			return s.URLEnv
		}
	}
	return ""
}

// sinkExitCode is the exit code of a failed load.
func sinkExitCode(err error, otherwise int) int {
	if errors.Is(err, ErrSinkBusy) {
		return ExitBusy
	}
	return otherwise
}

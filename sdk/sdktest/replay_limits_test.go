package sdktest

import (
	"context"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"gopkg.in/dnaeon/go-vcr.v4/pkg/cassette"

	"github.com/stepgraph/stepgraph/sdk/httpclient"
)

// rateLimitedInteraction is a recorded 200 whose headers say the bucket is
// used up until a minute after the recording's Date.
func rateLimitedInteraction(url string, recorded time.Time) *cassette.Interaction {
	in := okInteraction(http.MethodGet, url, `{}`)
	in.Response.Headers.Set("Date", recorded.UTC().Format(http.TimeFormat))
	in.Response.Headers.Set("X-Rate-Limit-Limit", "3")
	in.Response.Headers.Set("X-Rate-Limit-Remaining", "0")
	in.Response.Headers.Set("X-Rate-Limit-Reset", "1700000060")
	in.Response.Headers.Set("Retry-After", "60")
	return in
}

// TestReplayDoesNotSleepOnRecordedRateLimits: a cassette whose every
// response says "budget used up for a minute" replays without a single
// rate-limit wait, unless the test opts in to the recorded headers.
func TestReplayDoesNotSleepOnRecordedRateLimits(t *testing.T) {
	t.Setenv(RecordEnv, "")
	dir := t.TempDir()
	recorded := time.Unix(1700000000, 0)
	var ins []*cassette.Interaction
	for _, p := range []string{"/a", "/b", "/c", "/d"} {
		ins = append(ins, rateLimitedInteraction("https://api.example.com"+p, recorded))
	}
	writeCassette(t, filepath.Join(dir, "limits.yaml"), ins...)

	rec := NewRecorder(t, RecorderOptions{Integration: "kit", Dir: dir, Cassette: "limits"})
	var waits atomic.Int32
	c, err := httpclient.New(httpclient.Config{
		BaseURL:   "https://api.example.com",
		Transport: rec,
		Share:     1,
		OnEvent: func(e httpclient.Event) {
			if e.Kind == httpclient.EventRateLimitWait {
				waits.Add(1)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/a", "/b", "/c", "/d"} {
		resp, err := c.Do(context.Background(), http.MethodGet, p, nil)
		if err != nil {
			t.Fatal(err)
		}
		if v := resp.Header.Get("X-Rate-Limit-Remaining"); v != "" {
			t.Errorf("%s: replayed X-Rate-Limit-Remaining %q", p, v)
		}
	}
	if n := waits.Load(); n != 0 {
		t.Errorf("%d rate-limit waits during replay, want 0", n)
	}

	t.Run("opt in", func(t *testing.T) {
		rec := NewRecorder(t, RecorderOptions{Integration: "kit", Dir: dir, Cassette: "limits", ReplayRateLimits: true})
		req, _ := http.NewRequest(http.MethodGet, "https://api.example.com/a", nil)
		resp, err := rec.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.Header.Get("X-Rate-Limit-Remaining") != "0" || resp.Header.Get("Retry-After") != "60" {
			t.Errorf("opted in, but the recorded headers are gone: %v", resp.Header)
		}
	})
}

package oktafake

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestAuth(t *testing.T) {
	s := NewServer(NewOrg(OrgSpec{Users: 20}), ServerOptions{})
	for _, tok := range []string{"", "wrong"} {
		rec := doToken(t, s, "/api/v1/users?limit=1", tok)
		if rec.Code != http.StatusUnauthorized {
			t.Fatalf("token %q: %d", tok, rec.Code)
		}
		e := decodeError(t, rec.Body.Bytes())
		if e.ErrorCode != "E0000011" || e.ErrorSummary != "Invalid token provided" {
			t.Fatalf("body %+v", e)
		}
		for _, h := range []string{"X-Rate-Limit-Limit", "X-Rate-Limit-Remaining", "X-Rate-Limit-Reset", "Date"} {
			if rec.Header().Get(h) == "" {
				t.Errorf("401 without %s", h)
			}
		}
	}
	custom := NewServer(NewOrg(OrgSpec{Users: 20}), ServerOptions{Token: "abc"})
	if doToken(t, custom, "/api/v1/users", "abc").Code != 200 || doToken(t, custom, "/api/v1/users", DefaultToken).Code != 401 {
		t.Fatal("custom token")
	}
	req := httptest.NewRequest(http.MethodPost, "/api/v1/users", nil)
	req.Header.Set("Authorization", "SSWS "+DefaultToken)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("POST: %d", rec.Code)
	}
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

func TestRateLimits(t *testing.T) {
	org := NewOrg(OrgSpec{Users: 50})
	base := time.Date(2026, 11, 28, 12, 0, 10, 0, time.UTC)
	tests := []struct {
		name       string
		opts       ServerOptions
		path       string
		bucket     string
		wantLimit  int
		wantReset  int64 // epoch seconds
		wantResetM int64
	}{
		{"users default", ServerOptions{}, "/api/v1/users/" + org.users[0].id + "/factors", BucketUsers, 600, base.Truncate(time.Minute).Add(time.Minute).Unix(), base.Truncate(time.Minute).Add(time.Minute).UnixMilli()},
		{"apps override", ServerOptions{Limits: map[string]int{BucketApps: 3}}, "/api/v1/apps/" + org.apps[0].id + "/users", BucketApps, 3, base.Truncate(time.Minute).Add(time.Minute).Unix(), base.Truncate(time.Minute).Add(time.Minute).UnixMilli()},
		{"scaled groups", ServerOptions{LimitScale: 0.01}, "/api/v1/groups/rules", BucketGroups, 5, base.Truncate(time.Minute).Add(time.Minute).Unix(), base.Truncate(time.Minute).Add(time.Minute).UnixMilli()},
		{"iam is other", ServerOptions{Limits: map[string]int{BucketOther: 2}}, "/api/v1/iam/assignees/users", BucketOther, 2, base.Truncate(time.Minute).Add(time.Minute).Unix(), base.Truncate(time.Minute).Add(time.Minute).UnixMilli()},
		{"sub-second window", ServerOptions{Window: 300 * time.Millisecond, Limits: map[string]int{BucketLogs: 2}}, "/api/v1/logs", BucketLogs, 2,
			base.Add(100 * time.Millisecond).Add(time.Second - 1).Truncate(time.Second).Unix(), base.Add(200 * time.Millisecond).UnixMilli()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := &fakeClock{t: base}
			tc.opts.Clock = clk.Now
			s := NewServer(org, tc.opts)
			if s.Limit(tc.bucket) != tc.wantLimit {
				t.Fatalf("limit %d", s.Limit(tc.bucket))
			}
			for i := 1; i <= tc.wantLimit+1; i++ {
				rec := do(t, s, tc.path)
				h := rec.Header()
				if h.Get("X-Rate-Limit-Limit") != strconv.Itoa(tc.wantLimit) {
					t.Fatalf("req %d: limit header %q", i, h.Get("X-Rate-Limit-Limit"))
				}
				if h.Get("X-Rate-Limit-Reset") != strconv.FormatInt(tc.wantReset, 10) || h.Get("X-Rate-Limit-Reset-Ms") != strconv.FormatInt(tc.wantResetM, 10) {
					t.Fatalf("reset %s / %s, want %d / %d", h.Get("X-Rate-Limit-Reset"), h.Get("X-Rate-Limit-Reset-Ms"), tc.wantReset, tc.wantResetM)
				}
				if h.Get("Date") != base.Format(http.TimeFormat) {
					t.Fatalf("Date %q", h.Get("Date"))
				}
				if i <= tc.wantLimit {
					if rec.Code != 200 || h.Get("X-Rate-Limit-Remaining") != strconv.Itoa(tc.wantLimit-i) {
						t.Fatalf("req %d: %d remaining %s", i, rec.Code, h.Get("X-Rate-Limit-Remaining"))
					}
					continue
				}
				if rec.Code != http.StatusTooManyRequests || h.Get("X-Rate-Limit-Remaining") != "0" {
					t.Fatalf("req %d: %d remaining %s", i, rec.Code, h.Get("X-Rate-Limit-Remaining"))
				}
				if decodeError(t, rec.Body.Bytes()).ErrorCode != "E0000047" {
					t.Fatal("429 body")
				}
			}
			// Another bucket is unaffected.
			if rec := do(t, s, "/api/v1/devices"); rec.Code != 200 {
				t.Fatalf("devices: %d", rec.Code)
			}
			// The next window resets.
			clk.Set(time.UnixMilli(tc.wantResetM))
			if rec := do(t, s, tc.path); rec.Code != 200 || rec.Header().Get("X-Rate-Limit-Remaining") != strconv.Itoa(tc.wantLimit-1) {
				t.Fatalf("after reset: %d", rec.Code)
			}
			st := s.Stats()
			b := st.Buckets[tc.bucket]
			if b.RateLimited != 1 || b.Requests != int64(tc.wantLimit+2) || b.Admitted != int64(tc.wantLimit+1) || st.RateLimited != 1 {
				t.Fatalf("stats %+v", b)
			}
		})
	}
	// Disabled: never 429, headers still sent.
	s := NewServer(org, ServerOptions{Limits: map[string]int{BucketUsers: 1}, DisableRateLimits: true})
	for i := 0; i < 3; i++ {
		if rec := do(t, s, "/api/v1/users"); rec.Code != 200 || rec.Header().Get("X-Rate-Limit-Remaining") != "0" && i > 0 {
			t.Fatalf("disabled: %d", rec.Code)
		}
	}
}

func TestBucketRouting(t *testing.T) {
	tests := map[string][2]string{
		"/api/v1/users":                   {EndpointUsers, BucketUsers},
		"/api/v1/users/x/factors":         {EndpointUserFactors, BucketUsers},
		"/api/v1/users/x/roles":           {EndpointUserRoles, BucketUsers},
		"/api/v1/users/x/appLinks":        {EndpointUnknown, BucketUsers},
		"/api/v1/groups":                  {EndpointGroups, BucketGroups},
		"/api/v1/groups/rules":            {EndpointGroupRules, BucketGroups},
		"/api/v1/groups/x/users":          {EndpointGroupUsers, BucketGroups},
		"/api/v1/groups/x/roles":          {EndpointGroupRoles, BucketGroups},
		"/api/v1/apps":                    {EndpointApps, BucketApps},
		"/api/v1/apps/x/users":            {EndpointAppUsers, BucketApps},
		"/api/v1/apps/x/groups":           {EndpointAppGroups, BucketApps},
		"/api/v1/apps/x/grants":           {EndpointUnknown, BucketApps},
		"/api/v1/logs":                    {EndpointLogs, BucketLogs},
		"/api/v1/devices":                 {EndpointDevices, BucketDevices},
		"/api/v1/iam/assignees/users":     {EndpointIAMAssignees, BucketOther},
		"/api/v1/org/privacy/oktaSupport": {EndpointOktaSupport, BucketOther},
		"/api/v1/meta/schemas":            {EndpointUnknown, BucketOther},
		"/":                               {EndpointUnknown, BucketOther},
	}
	for p, want := range tests {
		tpl, b := NewServer(NewOrg(OrgSpec{Users: 1}), ServerOptions{}).api.Route(http.MethodGet, p)
		if tpl != want[0] || b != want[1] {
			t.Errorf("%s: %s %s, want %v", p, tpl, b, want)
		}
	}
}

func TestConcurrencyLimit(t *testing.T) {
	for _, zero := range []bool{false, true} {
		s := NewServer(NewOrg(OrgSpec{Users: 20}), ServerOptions{ConcurrencyLimit: 1, ConcurrencyLimitZero: zero, Latency: time.Hour})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan int)
		go func() {
			req := httptest.NewRequest(http.MethodGet, "/api/v1/users", nil).WithContext(ctx)
			req.Header.Set("Authorization", "SSWS "+DefaultToken)
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			done <- rec.Code
		}()
		for deadline := time.Now().Add(5 * time.Second); s.api.InFlight() != 1; {
			if time.Now().After(deadline) {
				t.Fatal("first request never in flight")
			}
			time.Sleep(time.Millisecond)
		}
		rec := do(t, s, "/api/v1/users")
		h := rec.Header()
		if !zero {
			// Okta's documented form: the concurrent values.
			if rec.Code != http.StatusTooManyRequests || h.Get("X-Rate-Limit-Limit") != "1" || h.Get("X-Rate-Limit-Remaining") != "0" || h.Get("X-Rate-Limit-Reset") == "" {
				t.Fatalf("concurrency 429: %d %v", rec.Code, h)
			}
		} else if rec.Code != http.StatusTooManyRequests || h.Get("X-Rate-Limit-Limit") != "0" {
			t.Fatalf("concurrency 429, limit-0 form: %d %v", rec.Code, h)
		}
		if decodeError(t, rec.Body.Bytes()).ErrorCode != "E0000047" {
			t.Fatal("body")
		}
		cancel() // Latency honours cancellation.
		<-done
		st := s.Stats()
		if st.ConcurrencyLimited != 1 || st.Canceled != 1 || st.MaxInFlight != 1 || st.Buckets[BucketUsers].ConcurrencyLimited != 1 {
			t.Fatalf("stats %+v", st)
		}
		// The concurrency-limited request did not count against the bucket.
		if st.Buckets[BucketUsers].Admitted != 1 {
			t.Fatalf("admitted %d", st.Buckets[BucketUsers].Admitted)
		}
	}
}

func TestMaxInFlight(t *testing.T) {
	r, err := Start(NewOrg(OrgSpec{Users: 20}), ServerOptions{Latency: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodGet, r.URL+"/api/v1/groups", nil)
			req.Header.Set("Authorization", "SSWS "+DefaultToken)
			resp, err := r.Client().Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}()
	}
	wg.Wait()
	if m := r.Server.Stats().MaxInFlight; m < 2 || m > 4 {
		t.Fatalf("MaxInFlight %d", m)
	}
}

func statusPattern(t *testing.T, s *Server, paths []string) string {
	var b strings.Builder
	for _, p := range paths {
		rec := do(t, s, p)
		switch rec.Code {
		case 200:
			b.WriteByte('.')
		case 500:
			if decodeError(t, rec.Body.Bytes()).ErrorCode != "E0000009" {
				t.Fatal("500 body")
			}
			b.WriteByte('E')
		default:
			t.Fatalf("%s: %d", p, rec.Code)
		}
	}
	return b.String()
}

func TestFaultDeterminism(t *testing.T) {
	org := NewOrg(OrgSpec{Users: 300, Seed: 2})
	var paths []string
	for i := 0; i < 200; i++ {
		paths = append(paths, "/api/v1/users/"+org.users[i].id+"/factors")
	}
	mk := func(seed int64) *Server {
		return NewServer(org, ServerOptions{DisableRateLimits: true, Faults: Faults{Seed: seed, ErrorRate: 0.3}})
	}
	a, b, c := statusPattern(t, mk(1), paths), statusPattern(t, mk(1), paths), statusPattern(t, mk(2), paths)
	if a != b {
		t.Fatal("same fault seed, different failures")
	}
	if a == c {
		t.Fatal("different fault seeds, same failures")
	}
	if n := strings.Count(a, "E"); n < 30 || n > 90 {
		t.Fatalf("%d/200 failures for rate 0.3", n)
	}
	// Order does not matter, and retries eventually succeed.
	rev := make([]string, len(paths))
	for i, p := range paths {
		rev[len(paths)-1-i] = p
	}
	r := []byte(statusPattern(t, mk(1), rev))
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	if string(r) != a {
		t.Fatal("failures depend on request order")
	}
	s := mk(1)
	for _, p := range paths {
		ok := false
		for attempt := 0; attempt < 20 && !ok; attempt++ {
			ok = do(t, s, p).Code == 200
		}
		if !ok {
			t.Fatalf("%s never succeeded", p)
		}
	}
	if s.Stats().Injected5xx == 0 {
		t.Fatal("Injected5xx not counted")
	}
	// Endpoints restricts the faults.
	only := NewServer(org, ServerOptions{Faults: Faults{ErrorRate: 1, Endpoints: []string{EndpointLogs}}})
	if do(t, only, "/api/v1/users").Code != 200 || do(t, only, "/api/v1/logs").Code != 500 {
		t.Fatal("Faults.Endpoints not honoured")
	}
}

func TestDroppedConnections(t *testing.T) {
	org := NewOrg(OrgSpec{Users: 200})
	for _, tlsOn := range []bool{false, true} {
		start := Start
		if tlsOn {
			start = StartTLS
		}
		r, err := start(org, ServerOptions{Faults: Faults{DropRate: 1, Endpoints: []string{EndpointUsers}}})
		if err != nil {
			t.Fatal(err)
		}
		get := func(p string) ([]byte, int, error) {
			req, _ := http.NewRequest(http.MethodGet, r.URL+p, nil)
			req.Header.Set("Authorization", "SSWS "+DefaultToken)
			resp, err := r.Client().Do(req)
			if err != nil {
				return nil, 0, err
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			return b, resp.StatusCode, err
		}
		for i := 0; i < 3; i++ {
			b, _, err := get("/api/v1/users?limit=20")
			if err == nil {
				t.Fatalf("tls=%v: dropped response read fully (%d bytes)", tlsOn, len(b))
			}
			if !errors.Is(err, io.ErrUnexpectedEOF) && !strings.Contains(err.Error(), "EOF") && !strings.Contains(err.Error(), "reset") {
				t.Logf("tls=%v: error %v", tlsOn, err)
			}
		}
		if _, code, err := get("/api/v1/groups"); err != nil || code != 200 {
			t.Fatalf("tls=%v: groups %d %v", tlsOn, code, err)
		}
		if st := r.Server.Stats(); st.Dropped != 3 || st.OK != 1 {
			t.Fatalf("tls=%v: stats dropped %d ok %d", tlsOn, st.Dropped, st.OK)
		}
		if tlsOn && !strings.HasPrefix(r.URL, "https://") {
			t.Fatal("StartTLS URL")
		}
		r.Close()
	}
}

func TestDeletedAndForbidden(t *testing.T) {
	org := NewOrg(OrgSpec{Users: 300, Seed: 4})
	tr := org.Truth()
	explicit := tr.Apps[0].ID
	s := NewServer(org, ServerOptions{DisableRateLimits: true, Faults: Faults{
		Seed: 9, DeletedFraction: 0.1, DeletedIDs: []string{explicit},
		Forbidden:       AdminOnlyEndpoints,
		RulesNotEnabled: true, GroupStatsLimit: 100,
	}})
	del := map[string]bool{}
	for _, id := range s.DeletedIDs() {
		del[id] = true
	}
	if !del[explicit] || len(del) < 10 {
		t.Fatalf("%d deleted ids", len(del))
	}
	users, _ := collect[idOnly](t, s, "/api/v1/users")
	if len(users) != len(tr.LiveUserIDs()) {
		t.Fatal("deleted users must still be listed")
	}
	for _, u := range users {
		want := 200
		if del[u.ID] {
			want = 404
		}
		if rec := do(t, s, "/api/v1/users/"+u.ID+"/factors"); rec.Code != want {
			t.Fatalf("factors of %s: %d want %d", u.ID, rec.Code, want)
		}
	}
	apps, _ := collect[idOnly](t, s, "/api/v1/apps")
	if apps[0].ID != explicit || do(t, s, "/api/v1/apps/"+explicit+"/users").Code != 404 || do(t, s, "/api/v1/apps/"+explicit+"/groups").Code != 404 {
		t.Fatal("deleted app")
	}
	for _, p := range []string{"/api/v1/users/" + users[0].ID + "/roles", "/api/v1/groups/" + tr.Groups[1].ID + "/roles", "/api/v1/iam/assignees/users", "/api/v1/logs", "/api/v1/devices", "/api/v1/org/privacy/oktaSupport"} {
		rec := do(t, s, p)
		if rec.Code != 403 || decodeError(t, rec.Body.Bytes()).ErrorCode != "E0000006" {
			t.Errorf("%s: %d", p, rec.Code)
		}
	}
	if rec := do(t, s, "/api/v1/groups/rules"); rec.Code != 400 {
		t.Errorf("rules: %d", rec.Code)
	} else {
		decodeError(t, rec.Body.Bytes())
	}
	for p, want := range map[string]int{
		"/api/v1/groups?expand=stats":           500,
		"/api/v1/groups?expand=stats&limit=101": 500,
		"/api/v1/groups?expand=stats&limit=100": 200,
		"/api/v1/groups":                        200,
	} {
		if rec := do(t, s, p); rec.Code != want {
			t.Errorf("%s: %d want %d", p, rec.Code, want)
		}
	}
	st := s.Stats()
	if st.Forbidden != 6 || st.Injected5xx != 2 || st.NotFound == 0 {
		t.Fatalf("stats %+v", st)
	}
	// A bucket name forbids the whole bucket.
	b := NewServer(org, ServerOptions{Faults: Faults{Forbidden: []string{BucketApps}}})
	if do(t, b, "/api/v1/apps").Code != 403 || do(t, b, "/api/v1/users").Code != 200 {
		t.Fatal("bucket forbid")
	}
}

func TestStats(t *testing.T) {
	org := NewOrg(OrgSpec{Users: 50})
	s := NewServer(org, ServerOptions{Limits: map[string]int{BucketApps: 4}, Window: time.Hour})
	var wg sync.WaitGroup
	var ok atomic.Int64
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if do(t, s, "/api/v1/apps/"+org.apps[1].id+"/users").Code == 200 {
				ok.Add(1)
			}
			do(t, s, "/api/v1/users/"+org.users[1].id+"/factors")
		}()
	}
	wg.Wait()
	doToken(t, s, "/api/v1/users", "bad")
	do(t, s, "/api/v1/nope")
	st := s.Stats()
	if st.Requests != 22 || st.Endpoints[EndpointAppUsers] != 10 || st.Endpoints[EndpointUserFactors] != 10 || st.Endpoints[EndpointUnknown] != 1 {
		t.Fatalf("endpoints %v", st.Endpoints)
	}
	apps := st.Buckets[BucketApps]
	if ok.Load() != 4 || apps.RateLimited != 6 || apps.Admitted != 4 || apps.Limit != 4 || apps.Window != time.Hour || apps.MinWindows != 1 {
		t.Fatalf("apps bucket %+v", apps)
	}
	if st.Unauthorized != 1 || st.NotFound != 1 || st.OK != 14 || st.RateLimited != 6 {
		t.Fatalf("stats %+v", st)
	}
	users := st.Buckets[BucketUsers]
	if users.Admitted != 11 || users.MinWindows != 1 || st.Buckets[BucketOther].Requests != 1 {
		t.Fatalf("users bucket %+v", users)
	}
	if st.RateLimitFloor() != 0 || st.MinWindows() != 1 {
		t.Fatal("floor")
	}
	fl := Stats{Buckets: map[string]BucketStats{
		"a": {Window: time.Second, MinWindows: 5},
		"b": {Window: time.Second, MinWindows: 3},
	}}
	if fl.RateLimitFloor() != 4*time.Second || fl.MinWindows() != 5 {
		t.Fatal("RateLimitFloor")
	}
	s.ResetStats()
	if st := s.Stats(); st.Requests != 0 || len(st.Endpoints) != 0 || st.Buckets[BucketApps].Requests != 0 || st.Buckets[BucketApps].Limit != 4 {
		t.Fatalf("after reset %+v", st)
	}
	// Limits survive ResetStats; ResetLimits clears them.
	if do(t, s, "/api/v1/apps").Code != 429 {
		t.Fatal("bucket reset by ResetStats")
	}
	s.ResetLimits()
	if do(t, s, "/api/v1/apps").Code != 200 {
		t.Fatal("ResetLimits")
	}
}

func TestStartTLSAndBaseURL(t *testing.T) {
	org := NewOrg(OrgSpec{Users: 30, SupportEnabled: true})
	r, err := StartTLS(org, ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	req, _ := http.NewRequest(http.MethodGet, r.URL+"/api/v1/users?limit=5", nil)
	req.Header.Set("Authorization", "SSWS "+DefaultToken)
	resp, err := r.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	l := links(t, resp.Header)
	if !strings.HasPrefix(l["next"], r.URL+"/api/v1/users?") || !strings.HasPrefix(l["self"], "https://") {
		t.Fatalf("links %v", l)
	}
	s := NewServer(org, ServerOptions{BaseURL: "https://acme.okta.com/"})
	rec := do(t, s, "/api/v1/users?limit=5")
	if l := links(t, rec.Header()); !strings.HasPrefix(l["next"], "https://acme.okta.com/api/v1/users?") || l["self"] != "https://acme.okta.com/api/v1/users?limit=5" {
		t.Fatalf("BaseURL links %v", l)
	}
	var sup struct {
		Support    string
		Expiration *string
	}
	json.Unmarshal(do(t, s, "/api/v1/org/privacy/oktaSupport").Body.Bytes(), &sup)
	if sup.Support != "ENABLED" || sup.Expiration == nil || *sup.Expiration != "2026-11-01T08:00:00.000Z" {
		t.Fatalf("support %+v", sup)
	}
}

func TestListenAndServe(t *testing.T) {
	s := NewServer(NewOrg(OrgSpec{Users: 10}), ServerOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- s.ListenAndServe(ctx, "127.0.0.1:0") }()
	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ListenAndServe did not stop")
	}
	if err := s.ListenAndServe(context.Background(), "not-an-address"); err == nil {
		t.Fatal("bad address accepted")
	}
}

func TestDateOffset(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 10, 0, time.UTC)
	s := NewServer(NewOrg(OrgSpec{Users: 5}), ServerOptions{Clock: func() time.Time { return now }, DateOffset: -90 * time.Second})
	rec := do(t, s, "/api/v1/users")
	if rec.Code != 200 || rec.Header().Get("Date") != now.Add(-90*time.Second).Format(http.TimeFormat) {
		t.Fatalf("Date %q, want 90 s stale", rec.Header().Get("Date"))
	}
	// The resets stay on the server's clock: a client that trusts Date sees
	// the window end 90 s further away than it is.
	if got := rec.Header().Get("X-Rate-Limit-Reset"); got != strconv.FormatInt(now.Truncate(time.Minute).Add(time.Minute).Unix(), 10) {
		t.Fatalf("reset %s", got)
	}
}

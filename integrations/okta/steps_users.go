package okta

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	fastjson "github.com/segmentio/encoding/json"

	"github.com/stepgraph/stepgraph/sdk/graph"
	"github.com/stepgraph/stepgraph/sdk/httpclient"
	"github.com/stepgraph/stepgraph/sdk/integration"
)

// accountData is what fetch-account hands to later steps.
type accountData struct {
	Key, URL string
}

func (r *run) account() (accountData, error) {
	if v, ok := integration.Get(r.sc, keyAccount); ok {
		return v, nil
	}
	// fetch-account was replayed from a previous run's output.
	var a accountData
	err := r.sc.IterateEntities(context.Background(), typeAccount, func(e *graph.Entity) error {
		a = accountData{Key: e.Key, URL: r.org.URL}
		return nil
	})
	if err != nil || a.Key == "" {
		return accountData{}, fmt.Errorf("okta: the account was not collected (fetch-account did not run): %v", err)
	}
	return a, nil
}
func (x *Collector) fetchAccount(ctx context.Context, sc *integration.StepContext[Config]) error {
	r, err := x.begin(sc)
	if err != nil {
		return err
	}
	acct := accountEntity(r.org)
	var support struct {
		Support    string  `json:"support"`
		Expiration *string `json:"expiration"`
	}
	if _, err := r.c.GetJSON(ctx, pathOktaSupport, &support); err != nil {
		if integration.IsFatal(err) || ctx.Err() != nil {
			return err
		}
		acct.Set("supportEnabled", false)
		sc.Warn(ctx, "could not read the Okta support access setting; supportEnabled is reported as false",
			"endpoint", pathOktaSupport, "error", err.Error())
		sc.MarkPartial("oktaSupport setting not readable by the token", typeAccount)
	} else {
		acct.Set("supportEnabled", support.Support == "ENABLED")
		setTime(acct, support.Expiration, "supportExpiresOn")
	}
	sso, mfa := serviceEntity(r.org, "SSO"), serviceEntity(r.org, "MFA")
	if err := sc.AddEntities(ctx, acct, sso, mfa); err != nil {
		return err
	}
	if err := sc.AddRelationships(ctx,
		graph.Direct(acct, graph.HAS, sso), graph.Direct(acct, graph.HAS, mfa)); err != nil {
		return err
	}
	integration.Put(sc, keyAccount, accountData{Key: acct.Key, URL: r.org.URL})
	return nil
}

// userIndex is the compact per-user state handed from fetch-users to later
// steps (persisted with its output, so it survives --use-cache): email (for
// userEmail on app assignments), every user id in listing order (for the
// Everyone group) and the ids of users not deprovisioned (who can hold
// factors and roles).
type userIndex struct {
	Email map[string]string `json:"email"`
	All   []string          `json:"all"`
	Live  []string          `json:"live"`
}

func (r *run) users() *userIndex {
	if v, ok := integration.Get(r.sc, keyUsers); ok {
		return v
	}
	if r.usersIdx != nil {
		return r.usersIdx
	}
	// fetch-users was replayed from an output that kept no data: rebuild
	// the index from the collected users.
	idx := &userIndex{Email: map[string]string{}}
	_ = r.sc.IterateEntities(context.Background(), typeUser, func(e *graph.Entity) error {
		email, _ := e.Properties["email"].(string)
		idx.Email[e.Key] = email
		idx.All = append(idx.All, e.Key)
		if e.Properties["status"] != "deprovisioned" {
			idx.Live = append(idx.Live, e.Key)
		}
		return nil
	})
	r.usersIdx = idx
	return idx
}

// factorSpill is a temporary JSON Lines file of every non-deprovisioned
// user's factors, written by fetch-users and consumed (then removed) by
// fetch-mfa-devices, so neither step holds all factors in memory.
type factorSpill struct {
	Path string
}

func (x *Collector) fetchUsers(ctx context.Context, sc *integration.StepContext[Config]) error {
	r, err := x.begin(sc)
	if err != nil {
		return err
	}
	acct, err := r.account()
	if err != nil {
		return err
	}
	// Factors are read with the users so mfaEnabled is right on the stored
	// user; fetch-mfa-devices emits them from the spill without requests.
	withFactors := sc.Config.SourceEnabled(SourceMFADevices) && sc.WillRun(StepMFADevices)
	var sp *spill
	if withFactors {
		if sp, err = r.newSpill("factor"); err != nil {
			return err
		}
		defer func() {
			if sp != nil { // not handed over: remove it
				sp.discard()
			}
		}()
	}
	idx := &userIndex{Email: map[string]string{}}
	total := 0
	schemas := graph.DefaultSchemas()
	droppedBy := map[string][]string{} // profile property -> users stored without it
	var unread unreadFactors
	// emit stores one page of users once its factors are known.
	emit := func(p *userPage) error {
		es := make([]*graph.Entity, 0, len(p.users))
		rs := make([]*graph.Relationship, 0, len(p.users))
		for i := range p.users {
			u := &p.users[i]
			if _, dup := idx.Email[u.ID]; dup {
				continue // listed twice (deprovisioned between the two listings)
			}
			var mfa *bool
			if withFactors && p.failed[i] {
				if err := sp.write(u.ID, tagUnreadable, nil); err != nil {
					return err
				}
				unread.add(u.ID)
			}
			if withFactors && p.known[i] {
				for _, f := range p.factors[i] {
					if err := sp.write(u.ID, "factor", f); err != nil {
						return err
					}
				}
				on := p.active[i]
				mfa = &on
			}
			e := userEntity(r.org, u, mfa)
			for _, p := range dropInvalidProfileProperties(schemas, e, u) {
				droppedBy[p] = append(droppedBy[p], u.ID)
			}
			es = append(es, e)
			rs = append(rs, graph.DirectByKey(acct.Key, typeAccount, graph.HAS, u.ID, typeUser))
			email, _ := e.Properties["email"].(string)
			idx.Email[u.ID] = email
			idx.All = append(idx.All, u.ID)
			if u.Status != "DEPROVISIONED" {
				idx.Live = append(idx.Live, u.ID)
			}
		}
		if _, err := r.em.entities(ctx, es); err != nil {
			return err
		}
		if _, err := r.em.relationships(ctx, rs); err != nil {
			return err
		}
		total += len(es)
		sc.Progress("users", int64(len(es)))
		return nil
	}
	if err := r.pipelineUsers(ctx, withFactors, emit); err != nil {
		return err
	}
	integration.Put(sc, keyUsers, idx)
	if withFactors {
		path, err := sp.finish()
		sp = nil
		if err != nil {
			return err
		}
		integration.Put(sc, keyFactorSpill, factorSpill{Path: path})
	}
	if len(unread.ids) > 0 {
		slices.Sort(unread.ids)
		sc.Warn(ctx, fmt.Sprintf("the factors of %d users could not be read: mfaEnabled is left unset for them", len(unread.ids)),
			"users", idList(unread.ids, 100))
	}
	for _, p := range slices.Sorted(maps.Keys(droppedBy)) {
		ids := droppedBy[p]
		sc.Warn(ctx, fmt.Sprintf("profile attribute %q breaks the data model's rules for users: %d users stored without it", p, len(ids)),
			"users", idList(ids, 100))
	}
	r.sk.warn(ctx, sc)
	sc.Logger.Info("users collected", "count", total, "factorsRead", withFactors)
	return nil
}

// fetchMFADevices emits the factors fetch-users spilled, without requests.
func (x *Collector) fetchMFADevices(ctx context.Context, sc *integration.StepContext[Config]) error {
	r, err := x.begin(sc)
	if err != nil {
		return err
	}
	v, ok := integration.Get(sc, keyFactorSpill)
	if !ok || v.Path == "" {
		// fetch-users was replayed from a previous run's output, so the
		// factors were not read with the users: read them now.
		path, err := r.readFactors(ctx, r.users().Live)
		if err != nil {
			return err
		}
		v = factorSpill{Path: path}
	}
	path := v.Path
	var unreadMu sync.Mutex
	var unread []string // users whose factors could not be read
	err = readSpillBatches(ctx, path, decodeWorkers, 500, func(recs []spillRecord) ([]*graph.Entity, []*graph.Relationship, error) {
		es := make([]*graph.Entity, 0, len(recs))
		rs := make([]*graph.Relationship, 0, len(recs))
		for _, rec := range recs {
			if rec.tag == tagUnreadable {
				unreadMu.Lock()
				unread = append(unread, rec.key)
				unreadMu.Unlock()
				continue
			}
			var fac oktaFactor
			if err := fastjson.Unmarshal(rec.payload, &fac); err != nil || fac.ID == "" {
				r.sk.add("factors without an id", 1)
				continue
			}
			es = append(es, factorEntity(&fac, rec.payload))
			rs = append(rs, graph.DirectByKey(rec.key, typeUser, graph.ASSIGNED, fac.ID, typeMFADevice,
				graph.WithType(relUserAssignedFactor),
				graph.WithProperties(map[string]any{"userId": rec.key, "factorId": fac.ID})))
		}
		return es, rs, nil
	}, func(ctx context.Context, es []*graph.Entity, rs []*graph.Relationship) error {
		sc.Progress("factors", int64(len(es)))
		return r.emit(ctx, es, rs)
	})
	if err != nil {
		return err
	}
	if len(unread) > 0 {
		slices.Sort(unread)
		sc.MarkPartial(fmt.Sprintf("the factors of %d users could not be read (users: %s)", len(unread), idList(unread, 100)),
			typeMFADevice, relUserAssignedFactor)
	}
	r.sk.warn(ctx, sc)
	return nil
}

// tagUnreadable marks a factor spill record of a user whose factors could
// not be read (retries ran out): the consumer marks the factor types
// partial and names the user.
const tagUnreadable = "unreadable"

// idList joins up to max ids, saying how many more there are.
func idList(ids []string, max int) string {
	if len(ids) <= max {
		return strings.Join(ids, ", ")
	}
	return strings.Join(ids[:max], ", ") + fmt.Sprintf(" and %d more", len(ids)-max)
}

// unreadFactors collects the users whose factors fetch-users could not read.
type unreadFactors struct {
	mu  sync.Mutex
	ids []string
}

func (u *unreadFactors) add(id string) {
	u.mu.Lock()
	u.ids = append(u.ids, id)
	u.mu.Unlock()
}

// userPage is one listed page of users and, as they arrive, their factors.
type userPage struct {
	seq     int // listing order
	users   []oktaUser
	factors [][]json.RawMessage
	known   []bool // factors read (or known empty: deprovisioned)
	failed  []bool // reading the factors failed
	active  []bool // the user has an ACTIVE factor (mfaEnabled)
	pending atomic.Int32
}

// pipelineUsers lists users (active, then deprovisioned) and reads every
// listed user's factors with a pool of workers fed across page boundaries,
// so the users bucket never idles while a page waits for its slowest
// factor call or for the next list page. Completed pages go to emit, one
// at a time, in listing order (so identical input gives identical output).
// Memory holds a few pages at most: the task queue bounds how far listing
// runs ahead of the slowest page.
func (r *run) pipelineUsers(ctx context.Context, withFactors bool, emit func(*userPage) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g := r.sc.Group(ctx) // factor reads run on the run's fan-out budget
	done := make(chan *userPage, 4)
	finishOne := func(p *userPage) {
		if p.pending.Add(-1) == 0 {
			done <- p
		}
	}
	read := func(ctx context.Context, p *userPage, i int) error {
		defer finishOne(p)
		u := &p.users[i]
		fs, active, err := getFactors(ctx, r.c, u.ID)
		switch {
		case err == nil:
			p.factors[i], p.known[i], p.active[i] = fs, true, active
		case isNotFound(err), integration.IsFatal(err), ctx.Err() != nil:
			// A 404 is skipped by the policy (mfaEnabled left unset).
			return fmt.Errorf("okta: listing factors of user %s: %w", u.ID, err)
		default:
			// One user's factors are lost, not the users: the user is
			// written with mfaEnabled unset and named.
			p.failed[i] = true
			r.sc.Logger.Warn("factors of a user could not be read", "user", u.ID, "error", err.Error())
		}
		return nil
	}
	// The lister runs up to two pages ahead of the reads (queue), so the
	// next page is listed while this one's factors are read; the feeder
	// starts queued reads as the run's budget allows.
	type task struct {
		p *userPage
		i int
	}
	queue := make(chan task, 2*200)
	fed := make(chan struct{})
	go func() {
		defer close(fed)
		stopped := false
		for t := range queue {
			if stopped || !g.Go(func(ctx context.Context) error { return read(ctx, t.p, t.i) }) {
				if !stopped {
					stopped = true
					cancel() // the group failed: stop listing
				}
				finishOne(t.p) // never started
			}
		}
	}()
	var listErr error
	go func() { // lister
		seq := 0
		page := func(items []oktaUser) error {
			p := &userPage{seq: seq, users: items[:0]}
			seq++
			for _, u := range items {
				if u.ID != "" {
					p.users = append(p.users, u)
				}
			}
			p.factors = make([][]json.RawMessage, len(p.users))
			p.known = make([]bool, len(p.users))
			p.failed = make([]bool, len(p.users))
			p.active = make([]bool, len(p.users))
			// One extra count, released below, keeps the page open
			// while its reads are queued.
			p.pending.Store(int32(len(p.users)) + 1)
			defer finishOne(p)
			for i := range p.users {
				if !withFactors || p.users[i].Status == "DEPROVISIONED" {
					p.known[i] = withFactors // Okta removes a deprovisioned user's factors
					finishOne(p)
					continue
				}
				select {
				case queue <- task{p, i}:
				case <-ctx.Done():
					for range len(p.users) - i { // never queued
						finishOne(p)
					}
					return ctx.Err()
				}
			}
			return nil
		}
		listErr = listPagesOf(ctx, r.c, pathUsers+"?limit=200", page)
		if listErr != nil {
			listErr = fmt.Errorf("okta: listing users: %w", listErr)
		} else {
			q := url.Values{"limit": {"200"}, "search": {deprovisionedSearch}}
			if listErr = listPagesOf(ctx, r.c, pathUsers+"?"+q.Encode(), page); listErr != nil {
				listErr = fmt.Errorf("okta: listing deprovisioned users: %w", listErr)
			}
		}
		close(queue)
		<-fed
		if werr := g.Wait(); werr != nil {
			listErr = werr
		}
		close(done)
	}()
	var emitErr error
	waiting := map[int]*userPage{}
	next := 0
	for p := range done {
		waiting[p.seq] = p
		for emitErr == nil {
			q, ok := waiting[next]
			if !ok {
				break
			}
			delete(waiting, next)
			next++
			if emitErr = emit(q); emitErr != nil {
				cancel() // stop listing and reading factors
			}
		}
	}
	if emitErr != nil {
		return emitErr
	}
	return listErr
}

// getFactors reads a user's factors as raw JSON, and whether one is ACTIVE
// (mfaEnabled), decoding the response with the fast decoder.
func getFactors(ctx context.Context, c *httpclient.Client, userID string) (fs []json.RawMessage, active bool, err error) {
	resp, err := c.Do(ctx, http.MethodGet, pathUsers+"/"+seg(userID)+"/factors", nil)
	if err != nil {
		return nil, false, err
	}
	var statuses []struct {
		Status string `json:"status"`
	}
	if err := fastjson.Unmarshal(resp.Body, &fs); err != nil {
		return nil, false, fmt.Errorf("okta: decoding %s: %w", endpointOf(resp), err)
	}
	err = fastjson.Unmarshal(resp.Body, &statuses)
	resp.Release() // fs and statuses hold copies
	if err != nil {
		return nil, false, fmt.Errorf("okta: decoding %s: %w", endpointOf(resp), err)
	}
	for _, s := range statuses {
		active = active || s.Status == "ACTIVE"
	}
	return fs, active, nil
}

// readFactors reads the factors of the given users into a new spill and
// returns its path.
func (r *run) readFactors(ctx context.Context, userIDs []string) (string, error) {
	sp, err := r.newSpill("factor")
	if err != nil {
		return "", err
	}
	err = integration.ForEach(ctx, r.sc, indexes(len(userIDs)), func(ctx context.Context, i int) error {
		fs, _, err := getFactors(ctx, r.c, userIDs[i])
		if isNotFound(err) {
			r.sk.add("factors of users deleted since they were listed", 1)
			return nil
		}
		if err != nil && !integration.IsFatal(err) && ctx.Err() == nil {
			r.sc.Logger.Warn("factors of a user could not be read", "user", userIDs[i], "error", err.Error())
			return sp.write(userIDs[i], tagUnreadable, nil)
		}
		if err != nil {
			return fmt.Errorf("okta: listing factors of user %s: %w", userIDs[i], err)
		}
		for _, f := range fs {
			if err := sp.write(userIDs[i], "factor", f); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		sp.discard()
		return "", err
	}
	return sp.finish()
}

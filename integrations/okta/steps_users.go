package okta

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/stepgraph/stepgraph/sdk/graph"
	"github.com/stepgraph/stepgraph/sdk/integration"
)

// accountData is what fetch-account hands to later steps.
type accountData struct {
	Key, URL string
}

func (r *run) account() (accountData, error) {
	v, ok := r.sc.GetData(dataAccount)
	if !ok {
		return accountData{}, errors.New("okta: the account was not collected (fetch-account did not run)")
	}
	return v.(accountData), nil
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
	sc.SetData(dataAccount, accountData{Key: acct.Key, URL: r.org.URL})
	return nil
}

// userIndex is the compact per-user state handed from fetch-users to later
// steps: email (for userEmail on app assignments) and whether the user is
// deprovisioned. Live ids are kept in listing order for the Everyone group.
type userIndex struct {
	email map[string]string
	live  []string
}

func (r *run) users() *userIndex {
	if v, ok := r.sc.GetData(dataUsers); ok {
		return v.(*userIndex)
	}
	return &userIndex{email: map[string]string{}}
}

// factorSpill is a temporary JSON Lines file of every non-deprovisioned
// user's factors, written by fetch-users and consumed (then removed) by
// fetch-mfa-devices, so neither step holds all factors in memory.
type factorSpill struct {
	Path string
}

type spillLine struct {
	User   string          `json:"u"`
	Factor json.RawMessage `json:"f"`
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
	withFactors := sc.Config.SourceEnabled(SourceMFADevices)
	var spill *os.File
	var sw *bufio.Writer
	if withFactors {
		removeStaleSpills(tempDir(x.opts))
		spill, err = os.CreateTemp(tempDir(x.opts), "okta-factors-*.jsonl")
		if err != nil {
			return fmt.Errorf("okta: creating the factor spill file: %w", err)
		}
		sw = bufio.NewWriterSize(spill, 256<<10)
		defer func() {
			if spill != nil { // not handed over: remove it
				spill.Close()
				os.Remove(spill.Name())
			}
		}()
	}
	idx := &userIndex{email: map[string]string{}}
	total := 0
	page := func(items []json.RawMessage) error {
		users := make([]oktaUser, 0, len(items))
		for _, raw := range items {
			var u oktaUser
			if err := json.Unmarshal(raw, &u); err != nil {
				return fmt.Errorf("okta: decoding a user: %w", err)
			}
			if u.ID == "" || sc.HasKey(u.ID) {
				continue // listed twice (deprovisioned between the two listings)
			}
			users = append(users, u)
		}
		factors := make([][]json.RawMessage, len(users))
		known := make([]bool, len(users))
		if withFactors {
			err := fanOut(ctx, len(users), x.opts.FanOut, func(ctx context.Context, i int) error {
				if users[i].Status == "DEPROVISIONED" {
					known[i] = true // Okta removes a deprovisioned user's factors
					return nil
				}
				fs, err := getList(ctx, r.c, pathUsers+"/"+seg(users[i].ID)+"/factors")
				if err != nil {
					if isNotFound(err) {
						r.sk.add("factors of users deleted since they were listed (mfaEnabled left unset)", 1)
						return nil
					}
					return fmt.Errorf("okta: listing factors of user %s: %w", users[i].ID, err)
				}
				factors[i], known[i] = fs, true
				return nil
			})
			if err != nil {
				return err
			}
		}
		es := make([]*graph.Entity, 0, len(users))
		rs := make([]*graph.Relationship, 0, len(users))
		for i := range users {
			u := &users[i]
			var mfa *bool
			if withFactors && known[i] {
				on := false
				for _, f := range factors[i] {
					var st struct {
						Status string `json:"status"`
					}
					if json.Unmarshal(f, &st) == nil && st.Status == "ACTIVE" {
						on = true
					}
					line, err := json.Marshal(spillLine{User: u.ID, Factor: f})
					if err != nil {
						return fmt.Errorf("okta: spilling a factor of user %s: %w", u.ID, err)
					}
					sw.Write(line)
					sw.WriteByte('\n')
				}
				mfa = &on
			}
			e := userEntity(r.org, u, mfa)
			es = append(es, e)
			rs = append(rs, graph.DirectByKey(acct.Key, typeAccount, graph.HAS, u.ID, typeUser))
			email, _ := e.Properties["email"].(string)
			idx.email[u.ID] = email
			if u.Status != "DEPROVISIONED" {
				idx.live = append(idx.live, u.ID)
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
	if err := listPages(ctx, r.c, pathUsers+"?limit=200", page); err != nil {
		return fmt.Errorf("okta: listing users: %w", err)
	}
	q := url.Values{"limit": {"200"}, "search": {deprovisionedSearch}}
	if err := listPages(ctx, r.c, pathUsers+"?"+q.Encode(), page); err != nil {
		return fmt.Errorf("okta: listing deprovisioned users: %w", err)
	}
	sc.SetData(dataUsers, idx)
	if withFactors {
		if err := sw.Flush(); err != nil {
			return fmt.Errorf("okta: writing the factor spill file: %w", err)
		}
		if err := spill.Close(); err != nil {
			return fmt.Errorf("okta: closing the factor spill file: %w", err)
		}
		sc.SetData(dataFactorSpill, factorSpill{Path: spill.Name()})
		spill = nil
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
	v, ok := sc.GetData(dataFactorSpill)
	if !ok {
		return errors.New("okta: no factor data from fetch-users")
	}
	path := v.(factorSpill).Path
	defer os.Remove(path)
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("okta: opening the factor spill file: %w", err)
	}
	defer f.Close()
	sc.SetData(dataFactorSpill, factorSpill{}) // consumed
	br := bufio.NewReaderSize(f, 256<<10)
	var es []*graph.Entity
	var rs []*graph.Relationship
	flush := func() error {
		if _, err := r.em.entities(ctx, es); err != nil {
			return err
		}
		if _, err := r.em.relationships(ctx, rs); err != nil {
			return err
		}
		sc.Progress("factors", int64(len(es)))
		es, rs = es[:0], rs[:0]
		return nil
	}
	for {
		line, err := br.ReadBytes('\n')
		if len(strings.TrimSpace(string(line))) > 0 {
			var sl spillLine
			if jerr := json.Unmarshal(line, &sl); jerr != nil {
				return fmt.Errorf("okta: reading the factor spill file: %w", jerr)
			}
			var fac oktaFactor
			if jerr := json.Unmarshal(sl.Factor, &fac); jerr != nil || fac.ID == "" {
				r.sk.add("factors without an id", 1)
			} else {
				es = append(es, factorEntity(&fac, sl.Factor))
				rs = append(rs, graph.DirectByKey(sl.User, typeUser, graph.ASSIGNED, fac.ID, typeMFADevice,
					graph.WithType(relUserAssignedFactor),
					graph.WithProperties(map[string]any{"userId": sl.User, "factorId": fac.ID})))
				if len(es) >= 500 {
					if err := flush(); err != nil {
						return err
					}
				}
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("okta: reading the factor spill file: %w", err)
		}
	}
	if err := flush(); err != nil {
		return err
	}
	r.sk.warn(ctx, sc)
	return nil
}

// removeStaleSpills deletes factor spill files older than a day, left by
// runs that collected users but never ran fetch-mfa-devices (e.g. a run
// limited to fetch-users, or a crash).
func removeStaleSpills(dir string) {
	matches, _ := filepath.Glob(filepath.Join(dir, "okta-factors-*.jsonl"))
	for _, m := range matches {
		if fi, err := os.Stat(m); err == nil && time.Since(fi.ModTime()) > 24*time.Hour {
			_ = os.Remove(m)
		}
	}
}

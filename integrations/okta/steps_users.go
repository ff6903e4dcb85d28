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

	fastjson "github.com/segmentio/encoding/json"

	"github.com/stepgraph/stepgraph/sdk/graph"
	"github.com/stepgraph/stepgraph/sdk/httpclient"
	"github.com/stepgraph/stepgraph/sdk/integration"
)

func (x *Collector) fetchAccount(ctx context.Context, sc *integration.StepContext[Config]) error {
	api := integration.MustGet(sc, keyAPI)
	acct := accountEntity(api.org)
	var support struct {
		Support    string  `json:"support"`
		Expiration *string `json:"expiration"`
	}
	if _, err := api.c.GetJSON(ctx, pathOktaSupport, &support); err != nil {
		if integration.IsFatal(err) || ctx.Err() != nil {
			return err
		}
		acct.Set("supportEnabled", false)
		sc.Warn(ctx, "could not read the Okta support access setting; supportEnabled is reported as false",
			"endpoint", pathOktaSupport, "error", err.Error())
		sc.MarkPartial("oktaSupport setting not readable by the token", typeAccount)
	} else {
		acct.Set("supportEnabled", support.Support == "ENABLED")
		acct.SetTimes(support.Expiration, "supportExpiresOn")
	}
	sso, mfa := serviceEntity(api.org, "SSO"), serviceEntity(api.org, "MFA")
	err := sc.Emit(ctx, []*graph.Entity{acct, sso, mfa}, []*graph.Relationship{graph.Direct(acct, graph.HAS, sso), graph.Direct(acct, graph.HAS, mfa)})
	if err == nil {
		integration.Put(sc, keyAccount, acct.Key)
	}
	return err
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

// factorData is what fetch-users hands to fetch-mfa-devices: the factors
// it read (for mfaEnabled), by user id, and the users whose factors could
// not be read.
type factorData struct {
	Factors *integration.Scratch[json.RawMessage]
	Unread  []string
}

// userItem is one listed user and, once read, its factors.
type userItem struct {
	oktaUser
	factors []json.RawMessage
	known   bool // factors read (or known empty: deprovisioned)
	failed  bool // reading the factors failed
	active  bool // the user has an ACTIVE factor (mfaEnabled)
}

// fetchUsers lists users (active, then deprovisioned) and, when the
// mfa-devices source is on, reads every listed user's factors on the run's
// fan-out before storing the user, so the stored user carries mfaEnabled.
// The factor requests are this step's (its output needs them); the
// factors are handed to fetch-mfa-devices, which makes no request.
func (x *Collector) fetchUsers(ctx context.Context, sc *integration.StepContext[Config]) error {
	api := integration.MustGet(sc, keyAPI)
	acct := integration.MustGet(sc, keyAccount)
	withFactors := sc.SourceEnabled(SourceMFADevices)
	fd, idx := &factorData{}, &userIndex{Email: map[string]string{}}
	if withFactors {
		var err error
		if fd.Factors, err = integration.NewScratch[json.RawMessage](sc, "factors"); err != nil {
			return err
		}
		integration.Put(sc, keyFactors, fd) // the factors of the stored users
	}
	// What is collected is handed over as it is collected, also on failure.
	integration.Put(sc, keyUsers, idx)
	schemas := graph.DefaultSchemas()
	droppedBy := map[string][]string{} // profile property -> users stored without it
	read := func(ctx context.Context, it *userItem) error {
		if !withFactors || it.Status == "DEPROVISIONED" || it.ID == "" {
			it.known = withFactors // Okta removes a deprovisioned user's factors
			return nil
		}
		fs, active, err := getFactors(ctx, api.c, it.ID)
		switch {
		case err == nil:
			it.factors, it.known, it.active = fs, true, active
		case integration.IsNotFound(err), integration.IsFatal(err), ctx.Err() != nil:
			// A 404 is skipped by the policy (mfaEnabled left unset).
			return fmt.Errorf("okta: listing factors of user %s: %w", it.ID, err)
		default:
			// One user's factors are lost, not the users: the user is
			// written with mfaEnabled unset and named.
			it.failed = true
			sc.Logger.Warn("factors of a user could not be read", "user", it.ID, "error", err.Error())
		}
		return nil
	}
	// emit stores one page of users once its factors are known.
	emit := func(page []userItem) error {
		return integration.EmitItems(ctx, sc, "users", page, func(u *userItem) (*graph.Entity, []*graph.Relationship, error) {
			if _, dup := idx.Email[u.ID]; dup || u.ID == "" {
				return nil, nil, nil // listed twice (deprovisioned between the two listings)
			}
			var mfa *bool
			if u.failed {
				fd.Unread = append(fd.Unread, u.ID)
			}
			if u.known {
				for _, f := range u.factors {
					if err := fd.Factors.Add(u.ID, f); err != nil {
						return nil, nil, err
					}
				}
				mfa = &u.active
			}
			e := userEntity(api.org, &u.oktaUser, mfa)
			for _, p := range u.Profile.DropInvalid(schemas, e) {
				droppedBy[p] = append(droppedBy[p], u.ID)
			}
			email, _ := e.Properties["email"].(string)
			idx.Email[u.ID] = email
			idx.All = append(idx.All, u.ID)
			if u.Status != "DEPROVISIONED" {
				idx.Live = append(idx.Live, u.ID)
			}
			return e, []*graph.Relationship{graph.DirectByKey(acct, typeAccount, graph.HAS, u.ID, typeUser)}, nil
		})
	}
	q := url.Values{"limit": {"200"}, "search": {deprovisionedSearch}}
	pages := httpclient.ConcatPages(
		httpclient.PageItems[userItem](ctx, api.c, pathUsers+"?limit=200"),
		httpclient.PageItems[userItem](ctx, api.c, pathUsers+"?"+q.Encode()))
	if err := integration.ForEachInBatches(ctx, sc, pages, 4, read, emit); err != nil {
		return err
	}
	if len(fd.Unread) > 0 {
		slices.Sort(fd.Unread)
		sc.Warn(ctx, fmt.Sprintf("the factors of %d users could not be read: mfaEnabled is left unset for them", len(fd.Unread)),
			"users", idList(fd.Unread, 100))
	}
	for _, p := range slices.Sorted(maps.Keys(droppedBy)) {
		ids := droppedBy[p]
		sc.Warn(ctx, fmt.Sprintf("profile attribute %q breaks the data model's rules for users: %d users stored without it", p, len(ids)),
			"users", idList(ids, 100))
	}
	sc.Logger.Info("users collected", "count", len(idx.All), "factorsRead", withFactors)
	return nil
}

// fetchMFADevices emits the factors fetch-users read (the runtime runs
// fetch-users rather than reuse it, since they are run-local).
func (x *Collector) fetchMFADevices(ctx context.Context, sc *integration.StepContext[Config]) error {
	fd := integration.MustGet(sc, keyFactors)
	// Batches of 500 factors and their relationships.
	err := fd.Factors.EmitEach(ctx, sc, "factors", 1000, func(user string, raw json.RawMessage) ([]*graph.Entity, []*graph.Relationship, error) {
		var fac oktaFactor
		if err := fastjson.Unmarshal(raw, &fac); err != nil || fac.ID == "" {
			sc.Skip("factors without an id", 1)
			return nil, nil, nil
		}
		return []*graph.Entity{factorEntity(&fac, raw)}, []*graph.Relationship{graph.DirectByKey(user, typeUser, graph.ASSIGNED, fac.ID, typeMFADevice,
			graph.WithType(relUserAssignedFactor),
			graph.WithProperties(map[string]any{"userId": user, "factorId": fac.ID}))}, nil
	})
	if err != nil {
		return err
	}
	if len(fd.Unread) > 0 {
		slices.Sort(fd.Unread)
		sc.MarkPartial(fmt.Sprintf("the factors of %d users could not be read (users: %s)", len(fd.Unread), idList(fd.Unread, 100)),
			typeMFADevice, relUserAssignedFactor)
	}
	return nil
}

// idList joins up to max ids, saying how many more there are.
func idList(ids []string, max int) string {
	if len(ids) <= max {
		return strings.Join(ids, ", ")
	}
	return strings.Join(ids[:max], ", ") + fmt.Sprintf(" and %d more", len(ids)-max)
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
		return nil, false, c.DecodeError(resp, err)
	}
	err = fastjson.Unmarshal(resp.Body, &statuses)
	resp.Release() // fs and statuses hold copies
	if err != nil {
		return nil, false, c.DecodeError(resp, err)
	}
	for _, s := range statuses {
		active = active || s.Status == "ACTIVE"
	}
	return fs, active, nil
}

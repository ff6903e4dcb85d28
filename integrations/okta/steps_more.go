package okta

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sync/atomic"

	"github.com/stepgraph/stepgraph/sdk/graph"
	"github.com/stepgraph/stepgraph/sdk/httpclient"
	"github.com/stepgraph/stepgraph/sdk/integration"
)

func (x *Collector) fetchRules(ctx context.Context, sc *integration.StepContext[Config]) error {
	api := integration.MustGet(sc, keyAPI)
	acct := integration.MustGet(sc, keyAccount)
	rules := httpclient.PageItems[httpclient.Raw[oktaRule]](ctx, api.c, pathRules+"?limit=200")
	err := integration.EmitPages(ctx, sc, "rules", rules, func(it *httpclient.Raw[oktaRule]) (*graph.Entity, []*graph.Relationship, error) {
		ru := &it.Value
		if ru.ID == "" {
			return nil, nil, nil
		}
		rs := []*graph.Relationship{graph.DirectByKey(acct, typeAccount, graph.HAS, ru.ID, typeRule)}
		for _, gid := range ru.groupIDs() {
			if !sc.HasKey(gid) {
				sc.Skip("rule targets whose group was not collected", 1)
				continue
			}
			rs = append(rs, graph.DirectByKey(ru.ID, typeRule, graph.MANAGES, gid, typeUserGroup))
		}
		return ruleEntity(ru, it.JSON), rs, nil
	})
	if err != nil {
		return fmt.Errorf("okta: listing group rules: %w", err) // the policy may degrade it
	}
	return nil
}

// roleResult holds one principal's roles, fetched concurrently and emitted
// in a fixed order so the first label seen (which names the role entity's
// id) does not depend on timing.
type roleResult struct {
	principal, from, path string // from: the principal's entity type
	roles                 []httpclient.Raw[oktaRole]
	err                   error
}

func (x *Collector) fetchRoles(ctx context.Context, sc *integration.StepContext[Config]) error {
	api := integration.MustGet(sc, keyAPI)
	users := integration.MustGet(sc, keyUsers)
	groups := integration.MustGet(sc, keyGroups)
	assignees, err := roleAssignees(ctx, api.c)
	if err != nil {
		if !integration.IsForbidden(err) {
			return fmt.Errorf("okta: listing role assignees: %w", err)
		}
		sc.Warn(ctx, "the API token cannot list role assignees; asking every user for roles", "error", err.Error())
		assignees = users.Live
	}
	var todo []*roleResult
	for _, id := range assignees {
		if !sc.HasKey(id) {
			sc.Skip("role assignees whose user was not collected", 1)
			continue
		}
		todo = append(todo, &roleResult{principal: id, from: typeUser, path: pathUsers + "/" + seg(id) + "/roles"})
	}
	for _, g := range groups {
		if g.Type == "APP_GROUP" || g.Admin == 0 {
			continue // no admin roles (stats), or not an okta_user_group
		}
		todo = append(todo, &roleResult{principal: g.ID, from: typeUserGroup, path: pathGroups + "/" + seg(g.ID) + "/roles"})
	}
	// Roles are read on the run's fan-out; the first missing permission
	// stops further reads (the policy marks the role types partial).
	var denied atomic.Bool
	err = integration.ForEach(ctx, sc, slices.Values(todo), func(ctx context.Context, t *roleResult) error {
		if denied.Load() {
			return nil
		}
		_, t.err = api.c.GetJSON(ctx, t.path, &t.roles)
		if integration.IsForbidden(t.err) {
			denied.Store(true)
		}
		if t.err != nil {
			return fmt.Errorf("okta: listing roles of %s: %w", t.principal, t.err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, t := range todo {
		if t.err != nil {
			continue // skipped or degraded by the policy
		}
		err := integration.EmitItems(ctx, sc, "roles", t.roles, func(it *httpclient.Raw[oktaRole]) (*graph.Entity, []*graph.Relationship, error) {
			ro := &it.Value
			if ro.Label == "" {
				return nil, nil, nil
			}
			re := roleEntity(ro, it.JSON)
			if t.from == typeUser && ro.AssignmentType != "USER" {
				return re, nil, nil // held through a group
			}
			return re, []*graph.Relationship{graph.DirectByKey(t.principal, t.from, graph.ASSIGNED, re.Key, typeRole)}, nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// roleAssignees lists /api/v1/iam/assignees/users: the users holding admin
// roles. Its items are in the body's value, its next page in _links.next.href.
func roleAssignees(ctx context.Context, c *httpclient.Client) ([]string, error) {
	var ids []string
	err := httpclient.EachPage(ctx, c, pathAssignees+"?limit=100", func(items []idOnly) error {
		for _, v := range items {
			if v.ID != "" {
				ids = append(ids, v.ID)
			}
		}
		return nil
	}, httpclient.WithNextFunc(httpclient.NextFromBodyLinks), httpclient.WithItemsIn("value"))
	return ids, err
}

// logEvent is what build-application-creation-relationship reads of a
// System Log event.
type logEvent struct {
	Actor struct {
		ID string `json:"id"`
	} `json:"actor"`
	Target []struct {
		ID   string `json:"id"`
		Type string `json:"type"`
	} `json:"target"`
}

func (x *Collector) buildApplicationCreation(ctx context.Context, sc *integration.StepContext[Config]) error {
	api := integration.MustGet(sc, keyAPI)
	now := x.opts.Now().UTC()
	q := url.Values{
		"since":  {now.Add(-systemLogWindow).Format("2006-01-02T15:04:05.000Z")},
		"until":  {now.Format("2006-01-02T15:04:05.000Z")},
		"filter": {appCreationFilter},
		"limit":  {"1000"},
	}
	events := httpclient.PageItems[logEvent](ctx, api.c, pathLogs+"?"+q.Encode())
	err := integration.EmitPages(ctx, sc, "", events, func(ev *logEvent) (*graph.Entity, []*graph.Relationship, error) {
		appID := ""
		for _, t := range ev.Target {
			if t.Type == "AppInstance" {
				appID = t.ID
				break
			}
		}
		if appID == "" && len(ev.Target) > 0 {
			appID = ev.Target[0].ID
		}
		if ev.Actor.ID == "" || appID == "" || !sc.HasKey(ev.Actor.ID) || !sc.HasKey(appID) {
			sc.Skip("app creation events whose user or application was not collected", 1)
			return nil, nil, nil
		}
		return nil, []*graph.Relationship{graph.DirectByKey(ev.Actor.ID, typeUser, graph.CREATED, appID, typeApp)}, nil
	})
	if err != nil {
		return fmt.Errorf("okta: listing app creation events in the System Log: %w", err) // the policy may degrade it
	}
	return nil
}

func (x *Collector) fetchDevices(ctx context.Context, sc *integration.StepContext[Config]) error {
	api := integration.MustGet(sc, keyAPI)
	acct := integration.MustGet(sc, keyAccount)
	devices := httpclient.PageItems[httpclient.Raw[oktaDevice]](ctx, api.c, pathDevices+"?limit=200&expand=user")
	err := integration.EmitPages(ctx, sc, "devices", devices, func(it *httpclient.Raw[oktaDevice]) (*graph.Entity, []*graph.Relationship, error) {
		d := &it.Value
		if d.ID == "" {
			return nil, nil, nil
		}
		// The embedded users are full user objects: keep them out of
		// the device's raw data (users' raw data is never kept).
		clean, err := graph.WithoutFields(it.JSON, "_embedded")
		if err != nil {
			return nil, nil, fmt.Errorf("okta: decoding device %s: %w", d.ID, err)
		}
		rs := []*graph.Relationship{graph.DirectByKey(acct, typeAccount, graph.HAS, d.ID, typeDevice)}
		for _, u := range d.Embedded.Users {
			if u.User.ID == "" || !sc.HasKey(u.User.ID) {
				sc.Skip("device users who were not collected", 1)
				continue
			}
			rs = append(rs, graph.DirectByKey(u.User.ID, typeUser, graph.HAS, d.ID, typeDevice))
		}
		return deviceEntity(d, clean), rs, nil
	})
	if integration.StatusOf(err) == http.StatusUnauthorized && ctx.Err() == nil {
		// Not the run's credentials failing: Classic orgs answer 401.
		return &devicesUnavailable{msg: "okta: listing devices: " + err.Error()}
	}
	if err != nil {
		return fmt.Errorf("okta: listing devices: %w", err) // the policy may degrade it
	}
	return nil
}

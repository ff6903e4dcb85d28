package okta

import (
	"context"
	"fmt"
	"iter"
	"net/url"
	"slices"
	"strconv"

	"github.com/stepgraph/stepgraph/sdk/graph"
	"github.com/stepgraph/stepgraph/sdk/httpclient"
	"github.com/stepgraph/stepgraph/sdk/integration"
)

// groupInfo is the compact per-group state handed to later steps.
type groupInfo struct {
	ID   string
	Type string // OKTA_GROUP, APP_GROUP, BUILT_IN
	// Members is usersCount from expand=stats, -1 when unknown.
	Members int
	// Admin is hasAdminPrivilege from expand=stats: 1 yes, 0 no, -1 unknown.
	Admin int8
}

// groupPageSizes are the limits tried with expand=stats; a 500 on a page
// (Okta's timeout computing stats) moves to the next, and after the last
// the listing continues without expand.
var groupPageSizes = []int{10000, 1000, 200}

func (x *Collector) fetchGroups(ctx context.Context, sc *integration.StepContext[Config]) error {
	api := integration.MustGet(sc, keyAPI)
	acct := integration.MustGet(sc, keyAccount)
	var infos []groupInfo
	err := integration.EmitPages(ctx, sc, "groups", listGroups(ctx, sc, api.c), func(it *httpclient.Raw[oktaGroup]) (*graph.Entity, []*graph.Relationship, error) {
		g := &it.Value
		if g.ID == "" || sc.HasKey(g.ID) {
			return nil, nil, nil
		}
		gi := groupInfo{ID: g.ID, Type: g.Type, Members: -1, Admin: -1}
		if g.Embedded != nil && g.Embedded.Stats != nil {
			if n := g.Embedded.Stats.UsersCount; n != nil {
				gi.Members = *n
			}
			if a := g.Embedded.Stats.HasAdminPrivilege; a != nil {
				gi.Admin = 0
				if *a {
					gi.Admin = 1
				}
			}
		}
		infos = append(infos, gi)
		e := groupEntity(api.org, g, it.JSON)
		return e, []*graph.Relationship{graph.DirectByKey(acct, typeAccount, graph.HAS, g.ID, e.Type,
			graph.WithType(relAccountHasGroup),
			graph.WithProperties(map[string]any{"accountUrl": api.org.URL, "groupId": g.ID}))}, nil
	})
	integration.Put(sc, keyGroups, infos) // what was collected, also on failure
	if err != nil {
		return fmt.Errorf("okta: listing groups: %w", err)
	}
	return nil
}

// memberPages holds pages of group member ids by group id, for the groups
// of one entity type.
type memberPages = integration.Scratch[[]string]

// fetchGroupMembers pages the members of every group that has some (by
// stats; Everyone is built from the users), in parallel with the users
// listing, for the build steps to emit once users are collected.
func (x *Collector) fetchGroupMembers(ctx context.Context, sc *integration.StepContext[Config]) error {
	api := integration.MustGet(sc, keyAPI)
	groups := integration.MustGet(sc, keyGroups)
	user, err := integration.NewScratchFor(sc, keyUserGroupMembers, "group members")
	if err != nil {
		return err
	}
	app, err := integration.NewScratchFor(sc, keyAppGroupMembers, "app group members")
	if err != nil {
		return err
	}
	todo := slices.DeleteFunc(slices.Clone(groups), func(g groupInfo) bool {
		return g.Type == "BUILT_IN" || g.Members == 0
	})
	return integration.ForEach(ctx, sc, slices.Values(todo), func(ctx context.Context, g groupInfo) error {
		s := user
		if g.Type == "APP_GROUP" {
			s = app
		}
		err := httpclient.EachPage(ctx, api.c, pathGroups+"/"+seg(g.ID)+"/users?limit=1000", func(items []idOnly) error {
			ids := make([]string, 0, len(items))
			for _, u := range items {
				if u.ID != "" {
					ids = append(ids, u.ID)
				}
			}
			return s.Add(g.ID, ids)
		}, httpclient.WithExpectedItems(g.Members, 1000)) // stats give the member count
		if err != nil { // the policy skips a deleted group, may degrade others
			return integration.PartialTypes(fmt.Errorf("okta: listing members of group %s: %w", g.ID, err), relGroupHasUser)
		}
		return nil
	})
}

// idOnly decodes just the id of a listed object.
type idOnly struct {
	ID string `json:"id"`
}

// listGroups pages /api/v1/groups with expand=stats, shrinking the page
// size on 500s and finally dropping expand, resuming from the same cursor.
func listGroups(ctx context.Context, sc *integration.StepContext[Config], c *httpclient.Client) iter.Seq2[[]httpclient.Raw[oktaGroup], error] {
	return func(yield func([]httpclient.Raw[oktaGroup], error) bool) {
		size, expand, after := 0, true, ""
		for {
			q := url.Values{}
			if expand {
				q.Set("limit", strconv.Itoa(groupPageSizes[size]))
				q.Set("expand", "stats")
			} else {
				q.Set("limit", strconv.Itoa(groupPageSizes[0]))
			}
			if after != "" {
				q.Set("after", after)
			}
			var err error
			for items, e := range httpclient.PageItems[httpclient.Raw[oktaGroup]](ctx, c, pathGroups+"?"+q.Encode()) {
				if err = e; err != nil {
					break
				}
				if !yield(items, nil) {
					return
				}
				if id := items[len(items)-1].Value.ID; id != "" {
					after = id
				}
			}
			switch {
			case err == nil:
				return
			case !expand || integration.StatusOf(err) < 500 || ctx.Err() != nil:
				yield(nil, err)
				return
			case size+1 < len(groupPageSizes):
				size++
				sc.Warn(ctx, "listing groups with stats timed out; retrying with a smaller page", "limit", groupPageSizes[size])
			default:
				expand = false
				sc.Warn(ctx, "listing groups with stats keeps timing out; continuing without stats (every group's members will be listed)")
			}
		}
	}
}

// buildGroupUsers is the step emitting group HAS user for the groups of
// one entity type (the app groups when appGroups): the Everyone group
// from the collected users, the others from the members
// fetch-group-members paged (groups known empty were never paged).
func buildGroupUsers(appGroups bool) func(context.Context, *integration.StepContext[Config]) error {
	return func(ctx context.Context, sc *integration.StepContext[Config]) error {
		groups := integration.MustGet(sc, keyGroups)
		if !appGroups {
			// Everyone (BUILT_IN) holds every collected user: built from
			// them, never paged, emitted in batches of 1000.
			users := integration.MustGet(sc, keyUsers)
			for _, g := range groups {
				if g.Type != "BUILT_IN" {
					continue
				}
				for ids := range slices.Chunk(users.All, 1000) {
					if err := sc.Emit(ctx, nil, memberships(sc, g.ID, typeUserGroup, ids)); err != nil {
						return err
					}
				}
			}
		}
		key, from := keyUserGroupMembers, typeUserGroup
		if appGroups {
			key, from = keyAppGroupMembers, typeAppUserGroup
		}
		return integration.MustGet(sc, key).EmitEach(ctx, sc, "", 1000, func(group string, ids []string) ([]*graph.Entity, []*graph.Relationship, error) {
			return nil, memberships(sc, group, from, ids), nil
		})
	}
}

// memberships returns group HAS user for the members that were collected.
func memberships(sc *integration.StepContext[Config], group, from string, userIDs []string) []*graph.Relationship {
	rs := make([]*graph.Relationship, 0, len(userIDs))
	for _, uid := range userIDs {
		if !sc.HasKey(uid) {
			sc.Skip("group members whose user was not collected", 1)
			continue
		}
		rs = append(rs, graph.DirectByKey(group, from, graph.HAS, uid, typeUser,
			graph.WithKey(group+"|has_user|"+uid), graph.WithType(relGroupHasUser),
			graph.WithProperties(map[string]any{"groupId": group, "userId": uid})))
	}
	return rs
}

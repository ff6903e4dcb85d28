package okta

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	fastjson "github.com/segmentio/encoding/json"

	"github.com/stepgraph/stepgraph/sdk/graph"
	"github.com/stepgraph/stepgraph/sdk/httpclient"
	"github.com/stepgraph/stepgraph/sdk/integration"
)

// appInfo is the compact per-application state handed to later steps.
type appInfo struct {
	ID           string
	AWSAccountID string
}

func (x *Collector) fetchApplications(ctx context.Context, sc *integration.StepContext[Config]) error {
	api := integration.MustGet(sc, keyAPI)
	acct := integration.MustGet(sc, keyAccount)
	var infos []appInfo
	apps := httpclient.PageItems[httpclient.Raw[oktaApp]](ctx, api.c, pathApps+"?limit=200")
	err := integration.EmitPages(ctx, sc, "applications", apps, func(it *httpclient.Raw[oktaApp]) (*graph.Entity, []*graph.Relationship, error) {
		a := &it.Value
		if a.ID == "" || sc.HasKey(a.ID) {
			return nil, nil, nil
		}
		clean, err := graph.WithoutFields(it.JSON, "credentials") // may hold OAuth client secrets
		if err != nil {
			return nil, nil, fmt.Errorf("okta: decoding application %s: %w", a.ID, err)
		}
		e := appEntity(api.org, a, clean)
		aws, _ := e.Properties["awsAccountId"].(string)
		infos = append(infos, appInfo{ID: a.ID, AWSAccountID: aws})
		return e, []*graph.Relationship{graph.DirectByKey(acct, typeAccount, graph.HAS, a.ID, typeApp,
			graph.WithProperties(map[string]any{"accountUrl": api.org.URL, "applicationId": a.ID, "applicationName": e.Properties["name"]}))}, nil
	})
	integration.Put(sc, keyApps, infos) // what was collected, also on failure
	if err != nil {
		return fmt.Errorf("okta: listing applications: %w", err)
	}
	return nil
}

// assignments holds the entries of applications' user (or group) lists
// by application id.
type assignments = integration.Scratch[json.RawMessage]

// fetchAppUsers pages every application's users, in parallel with the
// users listing (the apps bucket is separate), for
// build-user-app-relationships to emit once users are collected.
func (x *Collector) fetchAppUsers(ctx context.Context, sc *integration.StepContext[Config]) error {
	s, err := integration.NewScratchFor(sc, keyAppUsers, "application users")
	if err != nil {
		return err
	}
	return pageAssignments(ctx, sc, s, integration.MustGet(sc, keyApps), false)
}

// pageAssignments pages every application's users (or groups) into s.
func pageAssignments(ctx context.Context, sc *integration.StepContext[Config], s *assignments, apps []appInfo, groups bool) error {
	api := integration.MustGet(sc, keyAPI)
	what, sub := "users", "/users?limit=500"
	if groups {
		what, sub = "groups", "/groups?limit=200"
	}
	return integration.ForEach(ctx, sc, slices.Values(apps), func(ctx context.Context, a appInfo) error {
		err := httpclient.EachPage(ctx, api.c, pathApps+"/"+seg(a.ID)+sub, func(items []json.RawMessage) error {
			for _, raw := range items {
				if err := s.Add(a.ID, raw); err != nil {
					return err
				}
			}
			return nil
		})
		if err == nil {
			return nil
		}
		// The policy skips a deleted application, may degrade others.
		err = fmt.Errorf("okta: listing the application %s of application %s: %w", what, a.ID, err)
		if groups {
			return integration.PartialTypes(err, relGroupAssignedApp, relUserGroupAssignedAWSRole)
		}
		return integration.PartialTypes(err, relUserAssignedApp, relUserAssignedAWSRole)
	})
}

// assignment is an app user or app group entry.
type assignment struct {
	ID      string        `json:"id"`
	Profile assignProfile `json:"profile"`
}

// buildAssignments is the step emitting the ASSIGNED relationships of
// every application's groups (or users), with mapped relationships to AWS
// IAM roles for AWS apps.
func buildAssignments(groups bool) func(context.Context, *integration.StepContext[Config]) error {
	return func(ctx context.Context, sc *integration.StepContext[Config]) error {
		apps := integration.MustGet(sc, keyApps)
		what, groupTypes := "user", map[string]string{}
		var users *userIndex
		if groups {
			what = "group"
			for _, g := range integration.MustGet(sc, keyGroups) {
				groupTypes[g.ID] = groupType(g.Type)
			}
		} else {
			users = integration.MustGet(sc, keyUsers)
		}
		byID := make(map[string]appInfo, len(apps))
		for _, a := range apps {
			byID[a.ID] = a
		}
		// relationships builds the relationships of one assignment entry.
		relationships := func(appID string, raw json.RawMessage) ([]*graph.Entity, []*graph.Relationship, error) {
			app := byID[appID]
			var a assignment
			if err := fastjson.Unmarshal(raw, &a); err != nil {
				return nil, nil, fmt.Errorf("okta: decoding an assignment of application %s: %w", app.ID, err)
			}
			if a.ID == "" || !sc.HasKey(a.ID) {
				sc.Skip("application assignments whose "+what+" was not collected", 1)
				return nil, nil, nil
			}
			props := map[string]any{"applicationId": app.ID}
			assignProps.SetMap(props, &a.Profile) // role, roles
			var fromType, relType, awsType string
			if groups {
				fromType, relType, awsType = groupTypes[a.ID], relGroupAssignedApp, relUserGroupAssignedAWSRole
				if fromType == "" {
					fromType = typeUserGroup
				}
				props["groupId"] = a.ID
			} else {
				fromType, relType, awsType = typeUser, relUserAssignedApp, relUserAssignedAWSRole
				props["userId"] = a.ID
				email := a.Profile.Email
				if email == "" {
					email = users.Email[a.ID]
				}
				if email != "" {
					props["userEmail"] = email
				}
			}
			rs := []*graph.Relationship{graph.DirectByKey(a.ID, fromType, graph.ASSIGNED, app.ID, typeApp,
				graph.WithType(relType), graph.WithProperties(props))}
			if app.AWSAccountID != "" {
				for _, v := range a.Profile.awsRoleValues(func(string) { sc.Skip("AWS role values that are not strings", 1) }) {
					if m, ok := awsRoleRelationship(awsType, a.ID, fromType, v, app.AWSAccountID); ok {
						rs = append(rs, m)
					}
				}
			}
			return nil, rs, nil
		}
		if !groups { // paged by fetch-application-users
			return integration.MustGet(sc, keyAppUsers).EmitEach(ctx, sc, "", 500, relationships)
		}
		// The group assignments are paged here (groups are collected).
		s, err := integration.NewScratch[json.RawMessage](sc, "application groups")
		if err == nil {
			err = pageAssignments(ctx, sc, s, apps, true)
		}
		if err != nil {
			return err
		}
		return s.EmitEach(ctx, sc, "", 500, relationships)
	}
}

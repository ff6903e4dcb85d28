package okta

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/stepgraph/stepgraph/sdk/graph"
	"github.com/stepgraph/stepgraph/sdk/integration"
)

// appInfo is the compact per-application state handed to later steps.
type appInfo struct {
	ID           string
	AWSAccountID string
}

func (r *run) apps() []appInfo {
	if v, ok := r.sc.GetData(dataApps); ok {
		return v.([]appInfo)
	}
	return nil
}

func (x *Collector) fetchApplications(ctx context.Context, sc *integration.StepContext[Config]) error {
	r, err := x.begin(sc)
	if err != nil {
		return err
	}
	acct, err := r.account()
	if err != nil {
		return err
	}
	var infos []appInfo
	err = listPages(ctx, r.c, pathApps+"?limit=200", func(items []json.RawMessage) error {
		es := make([]*graph.Entity, 0, len(items))
		rs := make([]*graph.Relationship, 0, len(items))
		for _, raw := range items {
			var a oktaApp
			if err := json.Unmarshal(raw, &a); err != nil {
				return fmt.Errorf("okta: decoding an application: %w", err)
			}
			if a.ID == "" || sc.HasKey(a.ID) {
				continue
			}
			clean, err := withoutFields(raw, "credentials") // may hold OAuth client secrets
			if err != nil {
				return fmt.Errorf("okta: decoding application %s: %w", a.ID, err)
			}
			e := appEntity(r.org, &a, clean)
			es = append(es, e)
			rs = append(rs, graph.DirectByKey(acct.Key, typeAccount, graph.HAS, a.ID, typeApp,
				graph.WithProperties(map[string]any{"accountUrl": acct.URL, "applicationId": a.ID, "applicationName": e.Properties["name"]})))
			aws, _ := e.Properties["awsAccountId"].(string)
			infos = append(infos, appInfo{ID: a.ID, AWSAccountID: aws})
		}
		if _, err := r.em.entities(ctx, es); err != nil {
			return err
		}
		_, err := r.em.relationships(ctx, rs)
		sc.Progress("applications", int64(len(es)))
		return err
	})
	if err != nil {
		return fmt.Errorf("okta: listing applications: %w", err)
	}
	sc.SetData(dataApps, infos)
	return nil
}

// assignment is an app user or app group entry.
type assignment struct {
	ID      string        `json:"id"`
	Profile assignProfile `json:"profile"`
}

func (x *Collector) buildGroupApps(ctx context.Context, sc *integration.StepContext[Config]) error {
	return x.buildAssignments(ctx, sc, true)
}

func (x *Collector) buildUserApps(ctx context.Context, sc *integration.StepContext[Config]) error {
	return x.buildAssignments(ctx, sc, false)
}

// buildAssignments pages every application's groups (or users)
// concurrently and emits the ASSIGNED relationships, with mapped
// relationships to AWS IAM roles for AWS apps.
func (x *Collector) buildAssignments(ctx context.Context, sc *integration.StepContext[Config], groups bool) error {
	r, err := x.begin(sc)
	if err != nil {
		return err
	}
	apps := r.apps()
	var users *userIndex
	groupTypes := map[string]string{}
	if groups {
		for _, g := range r.groups() {
			groupTypes[g.ID] = groupType(g.Type)
		}
	} else {
		users = r.users()
	}
	sub, what := "/users?limit=500", "user"
	if groups {
		sub, what = "/groups?limit=200", "group"
	}
	err = fanOut(ctx, len(apps), x.opts.FanOut, func(ctx context.Context, i int) error {
		app := apps[i]
		err := listPages(ctx, r.c, pathApps+"/"+seg(app.ID)+sub, func(items []json.RawMessage) error {
			var rs []*graph.Relationship
			for _, raw := range items {
				var a assignment
				if err := json.Unmarshal(raw, &a); err != nil {
					return fmt.Errorf("okta: decoding an assignment of application %s: %w", app.ID, err)
				}
				if a.ID == "" || !sc.HasKey(a.ID) {
					r.sk.add("application assignments whose "+what+" was not collected", 1)
					continue
				}
				role, roles := a.Profile.roleProps()
				props := map[string]any{"applicationId": app.ID}
				if role != nil {
					props["role"] = role
				}
				if roles != nil {
					props["roles"] = roles
				}
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
						email = users.email[a.ID]
					}
					if email != "" {
						props["userEmail"] = email
					}
				}
				rs = append(rs, graph.DirectByKey(a.ID, fromType, graph.ASSIGNED, app.ID, typeApp,
					graph.WithType(relType), graph.WithProperties(props)))
				if app.AWSAccountID != "" {
					for _, v := range a.Profile.awsRoleValues(func(string) { r.sk.add("AWS role values that are not strings", 1) }) {
						if m, ok := awsRoleRelationship(awsType, a.ID, fromType, v, app.AWSAccountID); ok {
							rs = append(rs, m)
						}
					}
				}
			}
			_, err := r.em.relationships(ctx, rs)
			return err
		})
		if err != nil && isNotFound(err) {
			r.sk.add("applications deleted since they were listed", 1)
			return nil
		}
		if err != nil {
			return fmt.Errorf("okta: listing %ss of application %s: %w", what, app.ID, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	r.sk.warn(ctx, sc)
	return nil
}

package okta

import (
	"context"
	"encoding/json"
	"fmt"

	fastjson "github.com/segmentio/encoding/json"

	"github.com/stepgraph/stepgraph/sdk/graph"
	"github.com/stepgraph/stepgraph/sdk/integration"
)

// appInfo is the compact per-application state handed to later steps.
type appInfo struct {
	ID           string
	AWSAccountID string
}

func (r *run) apps() []appInfo {
	if v, ok := integration.Get(r.sc, keyApps); ok {
		return v
	}
	if r.appsIx != nil {
		return r.appsIx
	}
	// fetch-applications was replayed from a previous run's output.
	var infos []appInfo
	_ = r.sc.IterateEntities(context.Background(), typeApp, func(e *graph.Entity) error {
		aws, _ := e.Properties["awsAccountId"].(string)
		infos = append(infos, appInfo{ID: e.Key, AWSAccountID: aws})
		return nil
	})
	r.appsIx = infos
	return infos
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
	integration.Put(sc, keyApps, infos)
	paths, err := r.prefetchAssignments(ctx, infos, sc.WillRun(StepUserApps), sc.WillRun(StepGroupApps))
	if err != nil {
		return err
	}
	for key, path := range paths {
		integration.Put(sc, key, spillRef{Path: path})
	}
	return nil
}

// spillRef hands a finished spill file to the step that consumes it.
type spillRef struct{ Path string }

// Assignment spill records: key = application id, tag tagAssignment with
// the entry's raw JSON, or tagGone when the application was deleted since
// it was listed.
const (
	tagAssignment = "assignment"
	tagGone       = "gone"
)

// prefetchAssignments pages every application's users (when users) and
// groups (when groups) into spills the build steps emit from. fetch-
// applications calls it for the build steps of this run, in parallel with
// the users and groups listings (the apps bucket is separate); a build step
// calls it itself when fetch-applications was replayed from a previous run.
// It returns the finished spills' paths by data key.
func (r *run) prefetchAssignments(ctx context.Context, apps []appInfo, users, groups bool) (map[integration.Key[spillRef]]string, error) {
	type job struct {
		app    string
		groups bool
	}
	var jobs []job
	var spills [2]*spill // users, groups
	for k, want := range []bool{users, groups} {
		if !want {
			continue
		}
		sp, err := r.newSpill("application assignment")
		if err != nil {
			return nil, err
		}
		defer func() {
			if spills[k] != nil {
				spills[k].discard()
			}
		}()
		spills[k] = sp
		for _, a := range apps {
			jobs = append(jobs, job{app: a.ID, groups: k == 1})
		}
	}
	err := integration.ForEach(ctx, r.sc, indexes(len(jobs)), func(ctx context.Context, i int) error {
		j := jobs[i]
		sp, sub := spills[0], "/users?limit=500"
		if j.groups {
			sp, sub = spills[1], "/groups?limit=200"
		}
		err := listPages(ctx, r.c, pathApps+"/"+seg(j.app)+sub, func(items []json.RawMessage) error {
			for _, raw := range items {
				if err := sp.write(j.app, tagAssignment, raw); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil && isNotFound(err) {
			return sp.write(j.app, tagGone, nil)
		}
		if err != nil { // the policy may degrade it: the assignments are then partial
			err = fmt.Errorf("okta: listing assignments of application %s: %w", j.app, err)
			if j.groups {
				return integration.PartialTypes(err, relGroupAssignedApp, relUserGroupAssignedAWSRole)
			}
			return integration.PartialTypes(err, relUserAssignedApp, relUserAssignedAWSRole)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	paths := map[integration.Key[spillRef]]string{}
	for k, key := range []integration.Key[spillRef]{keyAppUserSpill, keyAppGroupSpill} {
		if spills[k] == nil {
			continue
		}
		path, err := spills[k].finish()
		spills[k] = nil
		if err != nil {
			return nil, err
		}
		paths[key] = path
	}
	return paths, nil
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

// buildAssignments emits the ASSIGNED relationships of every application's
// groups (or users) from the spill fetch-applications wrote, with mapped
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
	what, key := "user", keyAppUserSpill
	if groups {
		what, key = "group", keyAppGroupSpill
	}
	// relationships builds the relationships of one assignment entry.
	relationships := func(app appInfo, raw json.RawMessage) ([]*graph.Relationship, error) {
		var a assignment
		if err := fastjson.Unmarshal(raw, &a); err != nil {
			return nil, fmt.Errorf("okta: decoding an assignment of application %s: %w", app.ID, err)
		}
		if a.ID == "" || !sc.HasKey(a.ID) {
			r.sk.add("application assignments whose "+what+" was not collected", 1)
			return nil, nil
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
				email = users.Email[a.ID]
			}
			if email != "" {
				props["userEmail"] = email
			}
		}
		rs := []*graph.Relationship{graph.DirectByKey(a.ID, fromType, graph.ASSIGNED, app.ID, typeApp,
			graph.WithType(relType), graph.WithProperties(props))}
		if app.AWSAccountID != "" {
			for _, v := range a.Profile.awsRoleValues(func(string) { r.sk.add("AWS role values that are not strings", 1) }) {
				if m, ok := awsRoleRelationship(awsType, a.ID, fromType, v, app.AWSAccountID); ok {
					rs = append(rs, m)
				}
			}
		}
		return rs, nil
	}
	var path string
	if v, ok := integration.Get(sc, key); ok {
		path = v.Path
	} else {
		// fetch-applications was replayed from a previous run's output:
		// page the assignments now.
		paths, err := r.prefetchAssignments(ctx, apps, !groups, groups)
		if err != nil {
			return err
		}
		path = paths[key]
	}
	byID := make(map[string]appInfo, len(apps))
	for _, a := range apps {
		byID[a.ID] = a
	}
	err = readSpillBatches(ctx, path, decodeWorkers, 500, func(recs []spillRecord) ([]*graph.Entity, []*graph.Relationship, error) {
		var batch []*graph.Relationship
		for _, rec := range recs {
			if rec.tag == tagGone {
				r.sk.add("applications deleted since they were listed", 1)
				continue
			}
			rs, err := relationships(byID[rec.key], rec.payload)
			if err != nil {
				return nil, nil, err
			}
			batch = append(batch, rs...)
		}
		return nil, batch, nil
	}, r.emit)
	if err != nil {
		return err
	}
	r.sk.warn(ctx, sc)
	return nil
}

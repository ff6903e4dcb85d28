package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"testing"

	"github.com/stepgraph/stepgraph/sdk/cli"
	"github.com/stepgraph/stepgraph/sdk/graph"
	"github.com/stepgraph/stepgraph/sdk/sdktest/datamodel"
	"github.com/stepgraph/stepgraph/sdk/store"
)

// TestDemoOrgPassesTheDataModel collects the bundled demo org with every
// source on (devices included) and validates every entity with JupiterOne's
// own validator (validateEntityWithSchema of @jupiterone/data-model, the
// version integration SDK 8.41 ships): none may be rejected.
func TestDemoOrgPassesTheDataModel(t *testing.T) {
	dm := datamodel.Load(t)
	out := filepath.Join(t.TempDir(), "out")
	var stderr bytes.Buffer
	code := run(context.Background(), []string{"collect", "--enableDevices=true", "--output", out, "--progress", "off", "--env-file", ""}, noEnv, io.Discard, &stderr)
	if code != cli.ExitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	d, err := store.OpenDir(out)
	if err != nil {
		t.Fatal(err)
	}
	var entities []*graph.Entity
	platforms := map[any]bool{}
	for _, typ := range d.EntityTypes() {
		if err := d.IterateEntities(context.Background(), typ, func(e *graph.Entity) error {
			entities = append(entities, e)
			if typ == "okta_device" {
				platforms[e.Prop("platform")] = true
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"mfa_device", "okta_account", "okta_app_user_group", "okta_application", "okta_device", "okta_role", "okta_rule", "okta_service", "okta_user", "okta_user_group"}
	for _, typ := range want {
		if d.Count(typ) == 0 {
			t.Errorf("no %s collected: every source must be on", typ)
		}
	}
	for _, p := range []string{"darwin", "windows", "ios", "android"} {
		if !platforms[p] {
			t.Errorf("no device with platform %s (have %v)", p, platforms)
		}
	}
	fails := dm.Validate(t, entities)
	for i, f := range fails {
		if i == 10 {
			t.Errorf("... and %d more", len(fails)-10)
			break
		}
		t.Errorf("rejected by %s@%s: %v", datamodel.Name, dm.Version, f)
	}
	t.Logf("%d entities of %d types checked by %s@%s: %d invalid", len(entities), len(d.EntityTypes()), datamodel.Name, dm.Version, len(fails))
}

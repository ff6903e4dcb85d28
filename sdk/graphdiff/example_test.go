package graphdiff_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/stepgraph/stepgraph/sdk/graph"
	"github.com/stepgraph/stepgraph/sdk/graphdiff"
	"github.com/stepgraph/stepgraph/sdk/store"
)

// collect writes a collection holding users, as a run would.
func collect(root string, users map[string]string) *store.Dir {
	ctx := context.Background()
	fs, err := store.NewFilesystem(root, store.FilesystemOptions{})
	if err != nil {
		log.Fatal(err)
	}
	for key, status := range users {
		u := &graph.Entity{Key: key, Type: "acme_user", Class: []string{"User"}, DisplayName: key}
		if err := fs.AddEntities(ctx, "fetch-users", []*graph.Entity{u.Set("status", status)}); err != nil {
			log.Fatal(err)
		}
	}
	if err := fs.Commit(ctx, nil); err != nil {
		log.Fatal(err)
	}
	d, err := store.OpenDir(root)
	if err != nil {
		log.Fatal(err)
	}
	return d
}

// Compare yesterday's collection with today's and alert on new users and
// on any change to an admin's account.
func Example() {
	dir, _ := os.MkdirTemp("", "graphdiff")
	defer os.RemoveAll(dir)
	yesterday := collect(filepath.Join(dir, "old"), map[string]string{"acme-user-ann": "ACTIVE", "acme-user-bob": "ACTIVE"})
	today := collect(filepath.Join(dir, "new"), map[string]string{"acme-user-ann": "SUSPENDED", "acme-user-cat": "ACTIVE"})

	rep, err := graphdiff.Diff(context.Background(), yesterday, today, graphdiff.Options{Limit: 10})
	if err != nil {
		log.Fatal(err)
	}
	for _, td := range rep.Types {
		fmt.Printf("%s: +%d -%d ~%d\n", td.Type, td.Added, td.Removed, td.Changed)
		for _, c := range td.ChangedObjects {
			for _, p := range c.Properties {
				fmt.Printf("  %s %s: %v -> %v\n", c.Key, p.Name, p.Old, p.New)
			}
		}
	}
	rules, err := graphdiff.ParseRules("acme_user:added,acme_admin_*:*")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("alert:", rep.Match(rules))
	// Output:
	// acme_user: +1 -1 ~1
	//   acme-user-ann status: ACTIVE -> SUSPENDED
	// alert: [acme_user:added]
}

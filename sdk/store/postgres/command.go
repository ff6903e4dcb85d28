package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/stepgraph/stepgraph/sdk/store"
)

// URLEnv is the environment variable a CLI may read the sink URL from when
// no flag gives it.
const URLEnv = "STEPGRAPH_POSTGRES_URL"

// IsURL reports whether s names a PostgreSQL database (a postgres:// or
// postgresql:// URL), as the value of `collect --sink` would.
func IsURL(s string) bool {
	l := strings.ToLower(s)
	return strings.HasPrefix(l, "postgres://") || strings.HasPrefix(l, "postgresql://")
}

// PushURL is the `push` command: it opens the database at url, loads the
// .j1-integration folder root as a run of inst and closes the database.
// An empty inst.Integration is taken from the folder's summary.json.
func PushURL(ctx context.Context, url, root string, inst Instance, opts Options) (*PushResult, error) {
	dir, err := store.OpenDir(root)
	if err != nil {
		return nil, err
	}
	if inst.Integration == "" {
		sum, err := readSummary(dir)
		if err != nil {
			return nil, err
		}
		if sum == nil || sum.Integration == "" {
			return nil, fmt.Errorf("postgres: %s names no integration (no summary.json): give the instance as integration/name", root)
		}
		inst.Integration = sum.Integration
	}
	db, err := Open(ctx, url, opts)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return db.Push(ctx, dir, inst)
}

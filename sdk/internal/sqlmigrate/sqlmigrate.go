// Package sqlmigrate reads a package's embedded, numbered SQL migrations.
//
// Migration files are named NNNN_name.sql; the number orders them and is the
// schema version the file brings the database to. Applying them (under which
// lock, recorded in which table) stays with each package that owns a schema.
package sqlmigrate

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Migration is one numbered SQL file.
type Migration struct {
	Version int    // the NNNN of NNNN_name.sql
	Name    string // the name of NNNN_name.sql
	SQL     string // the file's contents
}

// Load returns the migrations in folder dir of fsys, ordered by version.
// A file name without a number, without ".sql", or a version used twice is
// an error naming the file.
func Load(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var out []Migration
	seen := map[int]string{}
	for _, e := range entries {
		v, rest, ok := strings.Cut(e.Name(), "_")
		n, err := strconv.Atoi(v)
		if !ok || err != nil || !strings.HasSuffix(rest, ".sql") {
			return nil, fmt.Errorf("bad migration file name %q (want NNNN_name.sql)", e.Name())
		}
		if other, dup := seen[n]; dup {
			return nil, fmt.Errorf("migrations %q and %q share version %d", other, e.Name(), n)
		}
		seen[n] = e.Name()
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		out = append(out, Migration{Version: n, Name: strings.TrimSuffix(rest, ".sql"), SQL: string(b)})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no migrations in %s", dir)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

package sqlmigrate

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoadOrdersByVersion(t *testing.T) {
	fsys := fstest.MapFS{
		"m/0010_later.sql":  {Data: []byte("select 10")},
		"m/0002_second.sql": {Data: []byte("select 2")},
		"m/0001_first.sql":  {Data: []byte("select 1")},
	}
	ms, err := Load(fsys, "m")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range ms {
		got = append(got, m.Name+"="+m.SQL)
	}
	if want := "first=select 1,second=select 2,later=select 10"; strings.Join(got, ",") != want {
		t.Errorf("Load = %v, want %s", got, want)
	}
	if ms[2].Version != 10 {
		t.Errorf("version %d, want 10", ms[2].Version)
	}
}

func TestLoadRejectsBadNames(t *testing.T) {
	for name, fsys := range map[string]fstest.MapFS{
		"no number":    {"m/first.sql": {}},
		"not sql":      {"m/0001_first.txt": {}},
		"same version": {"m/0001_a.sql": {}, "m/0001_b.sql": {}},
		"stray file":   {"m/0001_a.sql": {}, "m/.keep": {}},
	} {
		if _, err := Load(fsys, "m"); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

package store_test

import (
	"path/filepath"
	"testing"

	"github.com/stepgraph/stepgraph/sdk/store"
	"github.com/stepgraph/stepgraph/sdk/store/storetest"
)

func TestMemoryConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return store.NewMemory() })
}

func TestFilesystemConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		st, err := store.NewFilesystem(filepath.Join(t.TempDir(), "out"), store.FilesystemOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return st
	})
}

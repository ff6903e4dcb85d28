// Package scratch provides the temporary folders of a run that has no
// staging folder of its own, and tells whether the process that left a
// folder behind is still alive, so a later run removes only what dead
// processes left (the scratch folders here, and the filesystem store's
// staging folders). It is not API: the runtime and the store use it.
package scratch

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// Temp is scratch space for a run whose store keeps nothing on disk
// (store.Memory, or a store that is no store.Scratcher): a folder in the
// system temp folder named stepgraph-scratch-<pid>-*, created on first use
// and removed by Remove. NewTemp removes the folders of processes that are
// gone.
type Temp struct {
	mu  sync.Mutex
	dir string
}

const tempScratchPrefix = "stepgraph-scratch-"

// NewTemp returns an unused scratch space after removing the leftovers of
// dead runs.
func NewTemp() *Temp {
	entries, _ := os.ReadDir(os.TempDir())
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), tempScratchPrefix)
		if !ok || !e.IsDir() {
			continue
		}
		pidStr, _, _ := strings.Cut(rest, "-")
		if pid, err := strconv.Atoi(pidStr); err == nil && pid != os.Getpid() && !Alive(pid) {
			_ = os.RemoveAll(filepath.Join(os.TempDir(), e.Name()))
		}
	}
	return &Temp{}
}

// ScratchDir returns the folder, creating it on first use (it implements
// store.Scratcher).
func (t *Temp) ScratchDir() (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.dir == "" {
		dir, err := os.MkdirTemp("", tempScratchPrefix+strconv.Itoa(os.Getpid())+"-")
		if err != nil {
			return "", fmt.Errorf("scratch: create folder: %w", err)
		}
		t.dir = dir
	}
	return t.dir, nil
}

// Remove deletes the scratch folder, if it was created.
func (t *Temp) Remove() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.dir == "" {
		return nil
	}
	err := os.RemoveAll(t.dir)
	t.dir = ""
	return err
}

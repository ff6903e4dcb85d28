package store

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// Scratcher is implemented by stores that lend a run disk space for its
// temporary files (spills of data one step fetches and a later one reads).
// The folder lives inside the run's staging area: it goes when the run
// ends, however it ends, and what a killed run left behind is removed when
// the next run starts. The runtime hands it to steps
// (integration.JobState.ScratchDir).
type Scratcher interface {
	// ScratchDir returns the run's scratch folder, creating it on first use.
	ScratchDir() (string, error)
}

// scratchName is the scratch folder inside a Filesystem's staging folder.
const scratchName = ".scratch"

// ScratchDir implements Scratcher: <staging>/.scratch, removed before the
// output is published and with the staging folder on Abort; the staging
// folders of dead processes (and so their scratch) are removed by
// NewFilesystem.
func (s *Filesystem) ScratchDir() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return "", fmt.Errorf("store: scratch after commit or abort")
	}
	dir := filepath.Join(s.staging, scratchName)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("store: create scratch folder: %w", err)
	}
	return dir, nil
}

// TempScratch is scratch space for a run whose store keeps nothing on disk
// (Memory, or a store without Scratcher): a folder in the system temp
// folder named stepgraph-scratch-<pid>-*, created on first use and removed
// by Remove. NewTempScratch removes the folders of processes that are gone.
type TempScratch struct {
	mu  sync.Mutex
	dir string
}

const tempScratchPrefix = "stepgraph-scratch-"

// NewTempScratch returns an unused scratch space after removing the
// leftovers of dead runs.
func NewTempScratch() *TempScratch {
	entries, _ := os.ReadDir(os.TempDir())
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), tempScratchPrefix)
		if !ok || !e.IsDir() {
			continue
		}
		pidStr, _, _ := strings.Cut(rest, "-")
		if pid, err := strconv.Atoi(pidStr); err == nil && pid != os.Getpid() && !processAlive(pid) {
			_ = os.RemoveAll(filepath.Join(os.TempDir(), e.Name()))
		}
	}
	return &TempScratch{}
}

// ScratchDir implements Scratcher.
func (t *TempScratch) ScratchDir() (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.dir == "" {
		dir, err := os.MkdirTemp("", tempScratchPrefix+strconv.Itoa(os.Getpid())+"-")
		if err != nil {
			return "", fmt.Errorf("store: create scratch folder: %w", err)
		}
		t.dir = dir
	}
	return t.dir, nil
}

// Remove deletes the scratch folder, if it was created.
func (t *TempScratch) Remove() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.dir == "" {
		return nil
	}
	err := os.RemoveAll(t.dir)
	t.dir = ""
	return err
}

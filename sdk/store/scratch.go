package store

import (
	"fmt"
	"os"
	"path/filepath"
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

// Package atomicfile replaces a file's contents in one step, so a reader
// (or a crash) never sees half a file: the data goes to a temporary file
// in the same folder, which is then renamed over the target.
package atomicfile

import (
	"os"
	"path/filepath"
)

// Write replaces path with data via a temporary file and a rename,
// keeping the file's permissions (0644 for a new file).
func Write(path string, data []byte) error {
	mode := os.FileMode(0o644)
	if st, err := os.Stat(path); err == nil {
		mode = st.Mode().Perm()
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

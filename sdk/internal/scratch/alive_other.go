//go:build !unix

package scratch

import "os"

// Alive reports whether a process with this id exists. Where there
// are no signals (Windows), finding the process opens a handle to it,
// which fails for a process that is gone.
func Alive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	_ = p.Release()
	return true
}

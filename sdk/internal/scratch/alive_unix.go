//go:build unix

package scratch

import "syscall"

// Alive reports whether a process with this id exists (signal 0
// checks without signalling).
func Alive(pid int) bool { return syscall.Kill(pid, 0) == nil }

//go:build unix

package store

import "syscall"

// processAlive reports whether a process with this id exists (signal 0
// checks without signalling).
func processAlive(pid int) bool { return syscall.Kill(pid, 0) == nil }

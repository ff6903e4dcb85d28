//go:build !unix

package postgres

import "time"

// clientCPU is unknown here (reported as 0).
func clientCPU() time.Duration { return 0 }

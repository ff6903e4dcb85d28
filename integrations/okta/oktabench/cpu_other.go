//go:build !unix

package oktabench

import "time"

// cpuTime is not measured where getrusage is missing (Windows): the
// benchmark reports 0 CPU seconds there.
func cpuTime() time.Duration { return 0 }

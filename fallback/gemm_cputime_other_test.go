//go:build !linux

package fallback_test

import "time"

// processCPUTime is not available here: the benchmarks report wall time only.
func processCPUTime() (time.Duration, bool) { return 0, false }

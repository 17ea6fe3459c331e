//go:build !linux

package kernels

import "time"

// threadCPUTime reports that this platform has no per-thread CPU clock.
func threadCPUTime() (time.Duration, bool) { return 0, false }

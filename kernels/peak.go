package kernels

import (
	"sync"
	"time"
)

var (
	peakOnce  sync.Once
	peakValue float64
)

// PeakGFLOPS returns the single-core float32 FMA peak of this machine in
// GFLOP/s, measured by running a loop of independent fused multiply-adds for
// about d (the best of several short runs, so that a busy machine lowers it as
// little as possible). It returns 0 where no probe exists (the generic build).
// Benchmarks report GEMM speed as a percentage of it, measured in the same run.
func PeakGFLOPS(d time.Duration) float64 {
	const chunk = 1 << 16 // iterations per run (about 60 µs at 3 GHz)
	if !havePeakProbe() {
		return 0
	}
	best := 0.0
	deadline := time.Now().Add(d)
	for {
		t0 := time.Now()
		fmaPeak(chunk)
		dt := time.Since(t0).Seconds()
		if g := float64(chunk) * peakFlopsPerIter / dt / 1e9; g > best {
			best = g
		}
		if time.Now().After(deadline) {
			return best
		}
	}
}

// Peak returns PeakGFLOPS(200 ms), measured once per process.
func Peak() float64 {
	peakOnce.Do(func() { peakValue = PeakGFLOPS(200 * time.Millisecond) })
	return peakValue
}

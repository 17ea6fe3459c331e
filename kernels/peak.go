package kernels

import (
	"sync"
	"time"
)

// probe is an implementation's FMA peak probe: run executes n iterations of
// flops independent fused multiply-adds on full vectors.
type probe struct {
	run   func(n int)
	flops int
}

var (
	peakMu     sync.Mutex
	peakValues = map[string]float64{}
)

// PeakGFLOPS returns the single-core float32 FMA peak of the implementation
// in use, in GFLOP/s, at its vector width (ymm for avx2, zmm for avx512),
// measured by running a loop of independent fused multiply-adds for about
// d (the best of several short runs, so that a busy machine lowers it as
// little as possible). It returns 0 where the implementation has no probe
// (generic). Benchmarks report GEMM speed as a percentage of it, measured
// in the same run.
func PeakGFLOPS(d time.Duration) float64 { return peakOf(active.Load(), d) }

// WidestPeakGFLOPS returns the best single-core FMA peak of every
// implementation this machine can run (see PeakGFLOPS): the peak of its
// widest vectors, against which a reader sees width the implementation in
// use leaves idle.
func WidestPeakGFLOPS(d time.Duration) float64 {
	best := 0.0
	for _, im := range impls {
		best = max(best, peakOf(im, d))
	}
	return best
}

func peakOf(im *impl, d time.Duration) float64 {
	if im.peak.run == nil {
		return 0
	}
	const chunk = 1 << 16 // iterations per run (about 60 µs at 3 GHz)
	best := 0.0
	deadline := time.Now().Add(d)
	for {
		t0 := time.Now()
		im.peak.run(chunk)
		dt := time.Since(t0).Seconds()
		if g := float64(chunk) * float64(im.peak.flops) / dt / 1e9; g > best {
			best = g
		}
		if time.Now().After(deadline) {
			return best
		}
	}
}

// Peak returns PeakGFLOPS(200 ms) of the implementation in use, measured
// once per process and implementation.
func Peak() float64 { return cachedPeak(active.Load()) }

// WidestPeak returns WidestPeakGFLOPS(200 ms), each implementation's peak
// measured once per process.
func WidestPeak() float64 {
	best := 0.0
	for _, im := range impls {
		best = max(best, cachedPeak(im))
	}
	return best
}

func cachedPeak(im *impl) float64 {
	peakMu.Lock()
	defer peakMu.Unlock()
	g, ok := peakValues[im.name]
	if !ok {
		g = peakOf(im, 200*time.Millisecond)
		peakValues[im.name] = g
	}
	return g
}

package bench

import (
	"math"
	"time"

	"github.com/actfuse/actfuse/kernels"
)

// This file holds the two places where the suites depend on optional
// facilities of package kernels: the FMA-peak probe and the thread count.

// Peak is the measured FMA peak of one core.
type Peak struct {
	Impl   string  `json:"impl"` // the implementation whose probe ran ("" for the scalar loop)
	GFLOPS float64 `json:"gflops"`
	// Probe says what was measured: the kernels' SIMD FMA loop, or a scalar
	// Go loop of math.FMA where no SIMD probe exists (then GEMM percentages
	// are relative to scalar code and exceed 100%).
	Probe string `json:"probe"`
	// SIMD is true when the probe is the SIMD loop, i.e. the true peak.
	SIMD bool `json:"simd"`
}

// MeasurePeak measures the FMA peak of one core for about d, with the SIMD
// probe of the kernels' implementation impl (kernels.PeakGFLOPS, at its
// vector width) where it has one, else with a scalar Go loop.
func MeasurePeak(d time.Duration, impl string) Peak {
	prev := kernels.ISA()
	defer kernels.Use(prev)
	if kernels.Use(impl) == nil {
		if g := kernels.PeakGFLOPS(d); g > 0 {
			return Peak{Impl: impl, GFLOPS: g, Probe: simdProbe(impl), SIMD: true}
		}
	}
	return Peak{GFLOPS: goFMAPeak(d), Probe: "scalar Go math.FMA loop (float64, one lane; not the SIMD peak)"}
}

// simdProbe is the Probe of the SIMD peak of implementation impl, by which
// the figures find each implementation's row of the Peak table.
func simdProbe(impl string) string { return "SIMD FMA loop (kernels.PeakGFLOPS, " + impl + ")" }

// MeasurePeaks measures the peak of each implementation of impls and of
// every implementation this machine runs, and returns the peaks of impls
// by name and the widest one (the largest SIMD peak; the scalar loop where
// the build has no SIMD probe).
func MeasurePeaks(d time.Duration, impls []string) (map[string]Peak, Peak) {
	all := map[string]Peak{}
	var widest Peak
	for _, im := range kernels.Implementations() {
		p := MeasurePeak(d, im)
		if !p.SIMD {
			continue
		}
		all[im] = p
		if p.GFLOPS > widest.GFLOPS {
			widest = p
		}
	}
	if widest.GFLOPS == 0 {
		widest = MeasurePeak(d, "generic")
	}
	peaks := map[string]Peak{}
	for _, im := range impls {
		if p, ok := all[im]; ok {
			peaks[im] = p
		} else {
			peaks[im] = widest // the generic implementation: against the machine's peak
		}
	}
	return peaks, widest
}

// goFMAPeak measures a loop of eight independent scalar math.FMA chains,
// the best of short runs for about d, in GFLOP/s (2 flops per FMA).
func goFMAPeak(d time.Duration) float64 {
	const iters = 1 << 16
	best := 0.0
	deadline := time.Now().Add(d)
	var sink float64
	for {
		a0, a1, a2, a3, a4, a5, a6, a7 := 0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7
		const m, c = 0.9999999, 1e-7
		t0 := time.Now()
		for range iters {
			a0 = math.FMA(a0, m, c)
			a1 = math.FMA(a1, m, c)
			a2 = math.FMA(a2, m, c)
			a3 = math.FMA(a3, m, c)
			a4 = math.FMA(a4, m, c)
			a5 = math.FMA(a5, m, c)
			a6 = math.FMA(a6, m, c)
			a7 = math.FMA(a7, m, c)
		}
		dt := time.Since(t0).Seconds()
		sink += a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7
		if g := iters * 8 * 2 / dt / 1e9; g > best {
			best = g
		}
		if time.Now().After(deadline) {
			break
		}
	}
	if sink == 42 {
		best += 0 // keeps sink alive
	}
	return best
}

// setThreads sets the number of goroutines Gemm may use (n <= 0 restores
// the default) and reports whether the kernels support it.
func setThreads(n int) bool {
	kernels.SetThreads(n)
	return true
}

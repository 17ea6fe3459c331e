package kernels

import (
	"sync"
	"time"
)

// probe is an implementation's FMA peak probe: run executes n iterations of
// flops independent fused multiply-adds on full vectors; clock, when not
// nil, is its clock probe under FMA load (FMAClock in package asm), which
// returns the cycles it ran; div, when not nil, is its divider probe
// (DivPeak in package asm), n iterations of divs independent divisions of
// full vectors of lanes floats.
type probe struct {
	run         func(n int)
	flops       int
	clock       func(n int) int
	div         func(n int)
	divs, lanes int
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

// ClockGHz returns the clock of the core the calling goroutine runs on, in
// GHz, measured for about d (at least one run of about 20 µs, the best of
// several, so that a busy machine lowers it as little as possible) by a
// chain of dependent integer additions, one per cycle: the clock of a core
// running scalar code (LoadedClockGHz gives it under vector load, lower on
// Xeons that slow down for wide vectors). It returns 0 where the
// build has no probe (purego, architectures other than amd64 and arm64); under
// an emulator the figure is meaningless.
func ClockGHz(d time.Duration) float64 { return clockOf(clockProbe, d) }

// LoadedClockGHz is ClockGHz measured while the core also runs fused
// multiply-adds at the vector width of the implementation in use (24 beside
// every 32 cycles of the chain): the clock of a core busy with that
// implementation's vector code, below ClockGHz on cores that lower their
// clock for wide vectors. It returns 0 where the implementation has no such
// probe (generic, neon).
func LoadedClockGHz(d time.Duration) float64 { return clockOf(active.Load().peak.clock, d) }

// clockOf measures the clock with probe for about d (see ClockGHz).
func clockOf(probe func(n int) int, d time.Duration) float64 {
	if probe == nil {
		return 0
	}
	const chunk = 1 << 10 // iterations per run (64 Ki cycles)
	best := 0.0
	deadline := time.Now().Add(d)
	for {
		t0 := time.Now()
		cycles := probe(chunk)
		if g := float64(cycles) / float64(time.Since(t0).Nanoseconds()); g > best {
			best = g
		}
		if time.Now().After(deadline) {
			return best
		}
	}
}

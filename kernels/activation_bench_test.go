package kernels

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/actfuse/actfuse/internal/cputime"
)

// Benchmarks of the elementwise activation kernels, reporting ns/elem (one
// element is one output value). Reproduce the figures with
//
//	go test ./kernels -run '^$' -bench 'Forward|Backward' -cpu 1 -count 5
//
// Names: BenchmarkForward/<act>/<n>/<impl>, BenchmarkBackward/<act>/<n>/<impl>
// and BenchmarkBackwardBias/<act>/<m>x<n>/<impl>, where <impl> is an
// implementation name (avx512, avx2, neon, generic). The sizes are L1 (4096
// elements, 16 KiB per slice), L2 (65536) and DRAM (16777216, 64 MiB per
// slice). Forward writes a separate output; Backward reads dy and y and
// writes dx.
//
// Besides ns/elem (wall time), each benchmark reports cpu-ns/elem where the
// platform has a per-thread CPU clock (Linux): the CPU time of the
// benchmarking thread, which stays meaningful on a machine shared with
// other processes.

// benchActivations are the activations benchmarked, with the usual alphas.
var benchActivations = []Activation{
	{Func: Identity},
	{Func: ReLU},
	{Func: LeakyReLU, Alpha: 0.01},
	{Func: ELU, Alpha: 1},
	{Func: Sigmoid},
	{Func: Tanh},
	{Func: ScaledSigmoid, Slope: 0.5},
	LeCunTanh,
}

var benchSizes = []int{16, 4096, 65536, 16777216}

// benchInput returns n pre-activations: normal with standard deviation 3,
// so that both sides of every activation (and its exp branches) are taken.
func benchInput(seed uint64, n int) []float32 {
	r := rand.New(rand.NewPCG(seed, 7))
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(3 * r.NormFloat64())
	}
	return x
}

// benchOutput returns an output slice of n elements whose pages are
// already mapped. A fresh slice of 64 MiB is 16,384 pages the operating
// system maps at their first write: left to the benchmark loop, the first
// implementation measured on it (avx512) would pay for them and the next ones
// not (on a Zen 4 guest Forward/identity/16777216/avx512, the first case of
// a run, took 0.96 and 6.0 ns/element in two runs, and 0.21–0.26 with its
// pages mapped).
func benchOutput(n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = 1
	}
	return s
}

// forEachImpl runs body as a sub-benchmark per implementation, with that
// implementation active and the goroutine locked to its thread (for the
// thread CPU clock), and restores the default afterwards.
func forEachImpl(b *testing.B, body func(b *testing.B)) {
	defer Use(ISA())
	for _, name := range Implementations() {
		b.Run(name, func(b *testing.B) {
			if err := Use(name); err != nil {
				b.Fatal(err)
			}
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			body(b)
		})
	}
}

// elemTimer measures a benchmark loop in wall and thread CPU time.
type elemTimer struct {
	cpu0 time.Duration
	ok   bool
}

// startElemTimer reads the thread CPU clock; call it just before b.Loop.
func startElemTimer() elemTimer {
	c, ok := cputime.Thread()
	return elemTimer{c, ok}
}

// report reports ns/elem and cpu-ns/elem for b.N calls of n elements.
func (t elemTimer) report(b *testing.B, n int) {
	elems := float64(b.N) * float64(n)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/elems, "ns/elem")
	if c, ok := cputime.Thread(); ok && t.ok {
		b.ReportMetric(float64((c-t.cpu0).Nanoseconds())/elems, "cpu-ns/elem")
	}
}

// BenchmarkDivider reports the throughput of the vector divider of every
// implementation with a probe (BenchmarkDivider/<impl>): ns/elem per float
// divided, and cycles/div per full-vector division at the clock of the
// implementation's FMA load. sigmoid and tanh divide once per element, so
// ns/elem bounds their forward kernels from below.
func BenchmarkDivider(b *testing.B) {
	for _, im := range impls {
		b.Run(im.name, func(b *testing.B) {
			p := im.peak
			if p.div == nil {
				b.Skip("no divider probe for " + im.name)
			}
			const chunk = 1 << 12
			for b.Loop() {
				p.div(chunk)
			}
			divs := float64(b.N) * chunk * float64(p.divs)
			ns := float64(b.Elapsed().Nanoseconds()) / divs
			b.ReportMetric(ns/float64(p.lanes), "ns/elem")
			b.ReportMetric(ns*clockOf(p.clock, 50*time.Millisecond), "cycles/div")
		})
	}
}

// BenchmarkForward measures dst = f(x) for every activation, size and
// implementation.
func BenchmarkForward(b *testing.B) {
	for _, a := range benchActivations {
		for _, n := range benchSizes {
			b.Run(fmt.Sprintf("%v/%d", a.Func, n), func(b *testing.B) {
				x := benchInput(1, n)
				dst := benchOutput(n)
				forEachImpl(b, func(b *testing.B) {
					b.SetBytes(int64(8 * n))
					t := startElemTimer()
					for b.Loop() {
						Forward(a, dst, x)
					}
					t.report(b, n)
				})
			})
		}
	}
}

// BenchmarkBackward measures dx = dy ⊙ f'(y), with y a real forward output.
func BenchmarkBackward(b *testing.B) {
	for _, a := range benchActivations {
		for _, n := range benchSizes {
			b.Run(fmt.Sprintf("%v/%d", a.Func, n), func(b *testing.B) {
				y := benchInput(2, n)
				Forward(a, y, y)
				dy := benchInput(3, n)
				dx := benchOutput(n)
				forEachImpl(b, func(b *testing.B) {
					b.SetBytes(int64(12 * n))
					t := startElemTimer()
					for b.Loop() {
						Backward(a, dx, dy, y)
					}
					t.report(b, n)
				})
			})
		}
	}
}

// BenchmarkBackwardBias measures dz = dy ⊙ f'(y) with the bias gradient
// for the layer shapes of an MLP (batch 128).
func BenchmarkBackwardBias(b *testing.B) {
	const m = 128
	for _, a := range benchActivations {
		for _, n := range []int{512, 4096} {
			b.Run(fmt.Sprintf("%v/%dx%d", a.Func, m, n), func(b *testing.B) {
				y := benchInput(2, m*n)
				Forward(a, y, y)
				dy := benchInput(3, m*n)
				dz := benchOutput(m * n)
				db := make([]float32, n)
				forEachImpl(b, func(b *testing.B) {
					b.SetBytes(int64(12 * m * n))
					t := startElemTimer()
					for b.Loop() {
						BackwardBias(a, m, n, dy, n, y, n, dz, n, db)
					}
					t.report(b, m*n)
				})
			})
		}
	}
}

// BenchmarkMaxout measures the maxout forward (groups of k) and backward
// passes over 65536 groups.
func BenchmarkMaxout(b *testing.B) {
	const groups = 65536
	for _, k := range []int{2, 4} {
		b.Run(fmt.Sprintf("forward/k=%d", k), func(b *testing.B) {
			x := benchInput(4, groups*k)
			dst, am := benchOutput(groups), make([]int32, groups)
			forEachImpl(b, func(b *testing.B) {
				t := startElemTimer()
				for b.Loop() {
					MaxoutForward(k, dst, am, x)
				}
				t.report(b, groups*k)
			})
		})
		b.Run(fmt.Sprintf("backward/k=%d", k), func(b *testing.B) {
			x := benchInput(4, groups*k)
			dst, am := benchOutput(groups), make([]int32, groups)
			MaxoutForward(k, dst, am, x)
			dx := benchOutput(groups * k)
			forEachImpl(b, func(b *testing.B) {
				t := startElemTimer()
				for b.Loop() {
					MaxoutBackward(k, dx, dst, am)
				}
				t.report(b, groups*k)
			})
		})
	}
}

// BenchmarkMomentumUpdate measures the SGD-momentum parameter update per
// parameter, at L1, L2 and beyond-L2 sizes (two arrays read and written).
func BenchmarkMomentumUpdate(b *testing.B) {
	for _, n := range []int{2048, 65536, 669706} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			w, v := benchInput(4, n), benchInput(5, n)
			forEachImpl(b, func(b *testing.B) {
				b.SetBytes(int64(16 * n))
				t := startElemTimer()
				for b.Loop() {
					MomentumUpdate(w, v, 1e-3, 0.9, 1e-4)
				}
				t.report(b, n)
			})
		})
	}
}

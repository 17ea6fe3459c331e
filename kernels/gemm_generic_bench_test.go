package kernels_test

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/actfuse/actfuse/internal/cputime"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/actfuse/actfuse/kernels"
)

// These benchmarks compare the generic implementation's Gemm (the driver
// around the Go micro-kernel, what platforms without assembly run) with
// gonum's Sgemm (gonum.org/v1/gonum/blas/gonum; Go code whose inner loops
// call SSE assembly on amd64) on one thread. gonum splits a product into
// 64×64 blocks run by up to GOMAXPROCS goroutines, so every benchmark here
// sets GOMAXPROCS to 1 and kernels.SetThreads(1) for its duration: both
// sides then run on one core. Reproduce with
//
//	go test ./kernels -run '^$' -bench 'GenericGemm512Ratio' -benchtime 20x -count 5
//
// BenchmarkGemm512Ratio alternates the two calls inside one loop, so both
// see the same machine, and reports the gonum/fallback time ratio (x-gonum,
// above 1 when the fallback is faster); on Linux it also reports the ratio
// of process CPU times (x-gonum-cpu), which ignores the time other processes
// hold the core. BenchmarkGemm512 times each side on its own (its
// sub-benchmarks run one after the other, so on a busy machine compare the
// ratio instead).

func genericOperands(m, n, k int) (a, b, c []float32) {
	rng := rand.New(rand.NewPCG(7, 8))
	return gemmRandSlice(rng, m*k), gemmRandSlice(rng, k*n), make([]float32, m*n)
}

// genericOneThread switches to the generic implementation on one thread,
// with GOMAXPROCS 1, until the returned function is called.
func genericOneThread() (restore func()) {
	old, isa := runtime.GOMAXPROCS(1), kernels.ISA()
	kernels.ForceGeneric()
	kernels.SetThreads(1)
	return func() {
		runtime.GOMAXPROCS(old)
		kernels.SetThreads(0)
		kernels.Use(isa)
	}
}

func gflops(m, n, k int, d time.Duration, calls int) float64 {
	return 2 * float64(m) * float64(n) * float64(k) * float64(calls) / d.Seconds() / 1e9
}

func BenchmarkGenericGemm512(b *testing.B) {
	const m, n, k = 512, 512, 512
	a, bm, c := genericOperands(m, n, k)
	b.Run("actfuse", func(b *testing.B) {
		defer genericOneThread()()
		for b.Loop() {
			kernels.Gemm(false, false, m, n, k, a, k, bm, n, c, n, nil)
		}
		b.ReportMetric(gflops(m, n, k, b.Elapsed(), b.N), "GFLOP/s")
	})
	b.Run("gonum", func(b *testing.B) {
		defer genericOneThread()()
		for b.Loop() {
			gonum.Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, a, k, bm, n, 0, c, n)
		}
		b.ReportMetric(gflops(m, n, k, b.Elapsed(), b.N), "GFLOP/s")
	})
}

func BenchmarkGenericGemm512Ratio(b *testing.B) {
	const m, n, k = 512, 512, 512
	a, bm, c := genericOperands(m, n, k)
	defer genericOneThread()()
	var ours, theirs, oursCPU, theirsCPU time.Duration
	_, cpuOK := cputime.Process()
	for b.Loop() {
		c0, _ := cputime.Process()
		t0 := time.Now()
		kernels.Gemm(false, false, m, n, k, a, k, bm, n, c, n, nil)
		t1 := time.Now()
		c1, _ := cputime.Process()
		gonum.Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, a, k, bm, n, 0, c, n)
		t2 := time.Now()
		c2, _ := cputime.Process()
		ours += t1.Sub(t0)
		theirs += t2.Sub(t1)
		oursCPU += c1 - c0
		theirsCPU += c2 - c1
	}
	b.ReportMetric(gflops(m, n, k, ours, b.N), "actfuse-GFLOP/s")
	b.ReportMetric(gflops(m, n, k, theirs, b.N), "gonum-GFLOP/s")
	b.ReportMetric(theirs.Seconds()/ours.Seconds(), "x-gonum")
	if cpuOK {
		// The same ratio in process CPU time, insensitive to other
		// processes taking the core away.
		b.ReportMetric(gflops(m, n, k, oursCPU, b.N), "actfuse-cpu-GFLOP/s")
		b.ReportMetric(theirsCPU.Seconds()/oursCPU.Seconds(), "x-gonum-cpu")
	}
}

// BenchmarkGenericGemm measures the generic Gemm on other shapes, layouts
// and epilogues (one thread).
func BenchmarkGenericGemm(b *testing.B) {
	type shape struct{ m, n, k int }
	for _, s := range []shape{{64, 64, 64}, {256, 256, 256}, {1024, 128, 784}, {128, 1024, 128}, {1, 512, 512}} {
		for _, tr := range []struct{ a, b bool }{{false, false}, {true, false}, {false, true}, {true, true}} {
			name := fmt.Sprintf("%dx%dx%d/%s%s", s.m, s.n, s.k, map[bool]string{false: "N", true: "T"}[tr.a], map[bool]string{false: "N", true: "T"}[tr.b])
			b.Run(name, func(b *testing.B) {
				defer genericOneThread()()
				a, bm, c := genericOperands(s.m, s.n, s.k)
				lda, ldb := s.k, s.n
				if tr.a {
					lda = s.m
				}
				if tr.b {
					ldb = s.k
				}
				ep := &kernels.Epilogue{Act: kernels.Activation{Func: kernels.ReLU}, Bias: make([]float32, s.n)}
				for b.Loop() {
					kernels.Gemm(tr.a, tr.b, s.m, s.n, s.k, a, lda, bm, ldb, c, s.n, ep)
				}
				b.ReportMetric(gflops(s.m, s.n, s.k, b.Elapsed(), b.N), "GFLOP/s")
			})
		}
	}
}

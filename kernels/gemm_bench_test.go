package kernels

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"
)

// Benchmarks of the GEMM, reporting GFLOP/s and the percentage of the FMA
// peak measured by Peak in the same process. Reproduce the figures with
//
//	go test ./kernels -run '^$' -bench 'Peak|MicroKernel|MatMul' -cpu 2 -count 5 | tee gemm.txt
//	benchstat gemm.txt
//
// Names: BenchmarkMatMul/<act>/<M>x<K>x<N>[-<variant>]/<impl>[/threads=<t>],
// where <variant> is tA (op(A) = Aᵀ), tB (op(B) = Bᵀ) or tB-bwd (op(B) = Bᵀ
// with the backward epilogue C = Z ⊙ act'(Y)), and <impl> is an
// implementation name (avx2, generic, ...), so that -bench 'MatMul/.*/.*/avx2'
// selects one implementation. Forward cases add a bias. The
// threads=<t> sub-name appears for the cases measured on several threads
// (SetThreads(t)); the others run on one. threads=t is skipped when
// GOMAXPROCS < t, so run with -cpu 2 (or more) for the parallel figures.
// %peak is relative to one core's peak at the vector width of the
// implementation measured (Peak under it), %widest to the peak of the
// widest implementation the machine has (WidestPeak): the two differ where
// an implementation leaves width idle (avx2 on an AVX-512 core with two
// 512-bit FMA units). Both are single-core, so threads=2 can approach 200.

// BenchmarkPeak reports the single-core FMA peak (GFLOP/s) of every
// implementation with a probe: BenchmarkPeak/<impl>.
func BenchmarkPeak(b *testing.B) {
	for _, im := range impls {
		b.Run(im.name, func(b *testing.B) {
			if im.peak.run == nil {
				b.Skip("no FMA peak probe for " + im.name)
			}
			const chunk = 1 << 14
			for b.Loop() {
				im.peak.run(chunk)
			}
			b.ReportMetric(float64(b.N)*chunk*float64(im.peak.flops)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkMicroKernel reports the GFLOP/s of each implementation's main
// micro-kernel (the MR×NR tile, no epilogue) on packed panels that stay in
// the caches: one call sweeps 8 tiles down one B panel of the
// implementation's KC (cacheBlocks) into a C of NR columns, with no packing,
// no edge tiles and no C rows far apart. It is the ceiling of
// BenchmarkMatMul: what the tile's instruction mix (its FMAs, the NR/Lanes
// loads of B and MR broadcasts of A per k step) reaches on this core, so
// that %peak here against %peak there separates the core's limit from
// the driver's and the memory's share. BenchmarkMicroKernel/<impl>.
func BenchmarkMicroKernel(b *testing.B) {
	widest := WidestPeak()
	for _, im := range impls {
		b.Run(im.name, func(b *testing.B) {
			mk := im.gemm
			kc, m := mk.blocks.kc, 8*mk.mr
			r := rand.New(rand.NewPCG(1, 1))
			a, bp := randSlice(r, m*kc), randSlice(r, mk.nr*kc)
			c := make([]float32, m*mk.nr)
			var p [4]float32
			for b.Loop() {
				mk.kernel(kc, m, mk.nr, a, 0, bp, nil, 0, c, mk.nr, nil, nil, 0, 0, &p)
			}
			reportGFLOPS(b, 2*float64(m*mk.nr*kc), cachedPeak(im), widest)
		})
	}
}

// reportGFLOPS reports the GFLOP/s of a benchmark of flops per iteration and,
// where the implementation has a peak, its percentage of peak and of widest.
func reportGFLOPS(b *testing.B, flops, peak, widest float64) {
	gf := flops * float64(b.N) / b.Elapsed().Seconds() / 1e9
	b.ReportMetric(gf, "GFLOP/s")
	if peak > 0 {
		b.ReportMetric(100*gf/peak, "%peak")
		b.ReportMetric(100*gf/widest, "%widest")
	}
}

type matmulCase struct {
	act     Func
	m, k, n int
	variant string // "", "tA", "tB", "bwd"
	threads []int  // thread counts to run; nil: 1
}

func matmulCases() []matmulCase {
	var cs []matmulCase
	for _, act := range []Func{Identity, ReLU, Sigmoid, ELU, Tanh} {
		cs = append(cs, matmulCase{act: act, m: 256, k: 1024, n: 1024, threads: []int{1, 2}})
	}
	cs = append(cs,
		matmulCase{act: Identity, m: 1024, k: 1024, n: 1024, threads: []int{1, 2}},
		matmulCase{act: ReLU, m: 128, k: 784, n: 512},
		matmulCase{act: ReLU, m: 128, k: 512, n: 512},
		matmulCase{act: Identity, m: 128, k: 512, n: 10, threads: []int{1, 2}},
		matmulCase{act: Identity, m: 784, k: 128, n: 512, variant: "tA"},
		matmulCase{act: Identity, m: 128, k: 512, n: 784, variant: "tB"},
		matmulCase{act: ReLU, m: 128, k: 512, n: 784, variant: "tB-bwd"},
	)
	return cs
}

// BenchmarkMatMul reports GFLOP/s and %peak of Gemm for the shapes of an MLP
// (forward, and the two backward products) for every implementation.
func BenchmarkMatMul(b *testing.B) {
	widest := WidestPeak()
	defer Use(ISA())
	defer SetThreads(0)
	for _, c := range matmulCases() {
		name := fmt.Sprintf("%v/%dx%dx%d", c.act, c.m, c.k, c.n)
		if c.variant != "" {
			name += "-" + c.variant
		}
		b.Run(name, func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 1))
			tA := c.variant == "tA"
			tB := c.variant == "tB" || c.variant == "tB-bwd"
			bwd := c.variant == "tB-bwd"
			a := randSlice(r, c.m*c.k)
			bb := randSlice(r, c.k*c.n)
			cc := benchOutput(c.m * c.n)
			lda, ldb := c.k, c.n
			if tA {
				lda = c.m
			}
			if tB {
				ldb = c.k
			}
			ep := &Epilogue{Act: Activation{Func: c.act, Alpha: 1}}
			if bwd {
				ep.Y, ep.LdY = randSlice(r, c.m*c.n), c.n
			} else {
				ep.Bias = randSlice(r, c.n)
			}
			for _, im := range Implementations() {
				b.Run(im, func(b *testing.B) {
					if err := Use(im); err != nil {
						b.Fatal(err)
					}
					peak := Peak()
					ths := c.threads
					if ths == nil {
						ths = []int{1}
					}
					for _, th := range ths {
						run := func(b *testing.B) {
							SetThreads(th)
							flops := 2 * float64(c.m) * float64(c.k) * float64(c.n)
							if th > runtime.GOMAXPROCS(0) {
								b.Skipf("threads=%d needs GOMAXPROCS >= %d (-cpu %d)", th, th, th)
							}
							for b.Loop() {
								Gemm(tA, tB, c.m, c.n, c.k, a, lda, bb, ldb, cc, c.n, ep)
							}
							reportGFLOPS(b, flops, peak, widest)
						}
						if len(c.threads) == 0 {
							run(b)
						} else {
							b.Run(fmt.Sprintf("threads=%d", th), run)
						}
					}
				})
			}
		})
	}
}

// BenchmarkEpilogueOverhead measures what each fused activation adds to a
// GEMM of 256×1024×1024 on one thread: every iteration times the product
// with the identity epilogue and with the activation, in alternating
// order, and the benchmark reports the median of the ratios of the pairs
// minus one (%overhead), which a shared machine's drift does not bias.
// The data are those of the peers' fused benchmark (../shared/peers,
// dnnl_matmul.c): A uniform on [-1, 1], B on [-0.05, 0.05], the bias on
// [-0.1, 0.1], so that the pre-activations are those of a layer (standard
// deviation 0.5). BenchmarkEpilogueOverhead/<act>/<impl>.
func BenchmarkEpilogueOverhead(b *testing.B) {
	const m, k, n = 256, 1024, 1024
	r := rand.New(rand.NewPCG(2, 2))
	uniform := func(n int, lo, hi float32) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = lo + (hi-lo)*r.Float32()
		}
		return s
	}
	epilogueOverhead(b, m, k, n, uniform(m*k, -1, 1), uniform(k*n, -0.05, 0.05), uniform(n, -0.1, 0.1))
}

// BenchmarkEpilogueOverheadWide is BenchmarkEpilogueOverhead on standard
// normal A, B and bias: pre-activations of standard deviation 32, which
// reach the inputs where an exp passes through subnormal numbers (see
// TestNoSubnormalIntermediates in internal/desc).
// BenchmarkEpilogueOverheadWide/<act>/<impl>.
func BenchmarkEpilogueOverheadWide(b *testing.B) {
	const m, k, n = 256, 1024, 1024
	r := rand.New(rand.NewPCG(2, 2))
	epilogueOverhead(b, m, k, n, randSlice(r, m*k), randSlice(r, k*n), randSlice(r, n))
}

// epilogueOverhead runs the sub-benchmarks of BenchmarkEpilogueOverhead on
// the m×k A, the k×n B and the bias.
func epilogueOverhead(b *testing.B, m, k, n int, a, bb, bias []float32) {
	cc := benchOutput(m * n)
	defer Use(ISA())
	defer SetThreads(0)
	for _, act := range []Activation{{Func: ReLU}, {Func: LeakyReLU, Alpha: 0.5}, {Func: ELU, Alpha: 0.5}, {Func: Sigmoid}, {Func: Tanh},
		{Func: ScaledSigmoid, Slope: 0.5}, LeCunTanh} {
		b.Run(act.Func.String(), func(b *testing.B) {
			for _, im := range Implementations() {
				if im == "generic" {
					continue
				}
				b.Run(im, func(b *testing.B) {
					if err := Use(im); err != nil {
						b.Fatal(err)
					}
					SetThreads(1)
					plain := &Epilogue{Bias: bias}
					fused := &Epilogue{Bias: bias, Act: act}
					var ratios []float64
					for i := 0; b.Loop(); i++ {
						var d [2]time.Duration
						for j := range 2 {
							ep := plain
							if (i+j)%2 == 1 {
								ep = fused
							}
							t0 := time.Now()
							Gemm(false, false, m, n, k, a, k, bb, n, cc, n, ep)
							d[(i+j)%2] += time.Since(t0)
						}
						ratios = append(ratios, d[1].Seconds()/d[0].Seconds())
					}
					slices.Sort(ratios)
					b.ReportMetric(100*(ratios[len(ratios)/2]-1), "%overhead")
				})
			}
		})
	}
}

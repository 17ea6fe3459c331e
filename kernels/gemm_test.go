package kernels_test

import (
	"flag"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/actfuse/actfuse/fallback"
	"github.com/actfuse/actfuse/internal/ref"
	"github.com/actfuse/actfuse/kernels"
)

var gemmExhaustive = flag.Bool("gemm-exhaustive", false, "run every Gemm shape with every epilogue (slow)")

// gemmEachImpl runs f under every implementation (see eachImpl), passing
// the implementation's name, and once more, as "spec", with fallback.Gemm,
// the specification.
func gemmEachImpl(t *testing.T, f func(t *testing.T, name string)) {
	t.Helper()
	eachImpl(t, func(t *testing.T) { f(t, kernels.ISA()) })
	t.Run("spec", func(t *testing.T) { f(t, "spec") })
}

// gemmOf returns the Gemm under test: fallback.Gemm for "spec".
func gemmOf(name string) ref.GemmFunc {
	if name == "spec" {
		return fallback.Gemm
	}
	return kernels.Gemm
}

// TestGemm checks kernels.Gemm, for every implementation, and fallback.Gemm
// against the float64 reference on the standard cases (all transposes, edge
// shapes, padded leading dimensions with guards, every activation, bias,
// accumulation and the backward epilogue).
func TestGemm(t *testing.T) {
	gemmEachImpl(t, func(t *testing.T, name string) {
		rng := rand.New(rand.NewPCG(11, 12))
		for _, tc := range ref.GemmCases(*gemmExhaustive) {
			if err := tc.Run(rng, gemmOf(name)); err != nil {
				t.Error(err)
			}
		}
	})
}

// TestGemmScales checks the error bound with entries of very different
// magnitudes, where cancellation makes the relative error of the result
// large.
func TestGemmScales(t *testing.T) {
	gemmEachImpl(t, func(t *testing.T, name string) {
		rng := rand.New(rand.NewPCG(13, 14))
		for _, scale := range []float32{1e-20, 1e-3, 1e3, 1e15} {
			for _, act := range ref.GemmActivations {
				for tr := range 4 {
					tc := ref.GemmCase{TransA: tr&1 != 0, TransB: tr&2 != 0, M: 13, N: 19, K: 37, PadA: 1, PadC: 2,
						Act: act, HasBias: true, Scale: scale}
					if err := tc.Run(rng, gemmOf(name)); err != nil {
						t.Error(err)
					}
				}
			}
		}
	})
}

// TestGemmThreadCountsBitwise checks, for every implementation, that the result
// of Gemm is bitwise the same for every thread count.
func TestGemmThreadCountsBitwise(t *testing.T) {
	defer kernels.SetThreads(0)
	eachImpl(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(17, 18))
		// 16 Mflop each: large enough to be split across up to 4 threads.
		shapes := []struct{ m, n, k int }{{128, 400, 160}, {40, 1031, 200}}
		acts := []fallback.Activation{{Func: fallback.Sigmoid}, {Func: fallback.Tanh}, {Func: fallback.ELU, Alpha: 1}}
		for tr := range 4 {
			s := shapes[tr/2]
			bwd := tr%2 == 1
			g := newGemmInputs(rng, tr&1 != 0, tr&2 != 0, s.m, s.n, s.k, acts[tr%len(acts)], bwd)
			kernels.SetThreads(1)
			want := g.run(kernels.Gemm)
			for _, th := range []int{2, 3, 4} {
				kernels.SetThreads(th)
				got := g.run(kernels.Gemm)
				if i, ok := gemmSameBits(got, want); !ok {
					t.Errorf("%v: %d threads: C[%d] = %g, 1 thread: %g", g, th, i, got[i], want[i])
				}
			}
		}
		// The dot kernels split the rows only.
		for _, tB := range []bool{false, true} {
			g := newGemmInputs(rng, false, tB, 3001, 10, 540, acts[0], tB)
			kernels.SetThreads(1)
			want := g.run(kernels.Gemm)
			for _, th := range []int{2, 3} {
				kernels.SetThreads(th)
				got := g.run(kernels.Gemm)
				if i, ok := gemmSameBits(got, want); !ok {
					t.Errorf("%v: %d threads: C[%d] = %g, 1 thread: %g", g, th, i, got[i], want[i])
				}
			}
		}
	})
}

// gemmInputs is one Gemm call with its operands; run computes C from a
// fixed initial C (the call accumulates), so calls can be compared.
type gemmInputs struct {
	transA, transB bool
	m, n, k        int
	a, b           []float32
	lda, ldb, ldc  int
	c0             []float32
	ep             fallback.Epilogue
}

func newGemmInputs(rng *rand.Rand, transA, transB bool, m, n, k int, act fallback.Activation, bwd bool) *gemmInputs {
	g := &gemmInputs{transA: transA, transB: transB, m: m, n: n, k: k, lda: k + 1, ldb: n + 3, ldc: n + 2}
	if transA {
		g.lda = m + 2
	}
	if transB {
		g.ldb = k + 1
	}
	g.a = gemmRandSlice(rng, max(m, k)*g.lda)
	g.b = gemmRandSlice(rng, max(n, k)*g.ldb)
	g.c0 = gemmRandSlice(rng, m*g.ldc)
	g.ep = fallback.Epilogue{Act: act, Accumulate: true}
	if bwd {
		g.ep.Y, g.ep.LdY = gemmRandSlice(rng, m*n), n
		fallback.Forward(act, g.ep.Y, g.ep.Y)
	} else {
		g.ep.Bias = gemmRandSlice(rng, n)
	}
	return g
}

func (g *gemmInputs) run(gemm ref.GemmFunc) []float32 {
	c := append([]float32(nil), g.c0...)
	ep := g.ep
	gemm(g.transA, g.transB, g.m, g.n, g.k, g.a, g.lda, g.b, g.ldb, c, g.ldc, &ep)
	return c
}

func (g *gemmInputs) String() string {
	return ref.GemmCase{TransA: g.transA, TransB: g.transB, M: g.m, N: g.n, K: g.k, Act: g.ep.Act,
		HasBias: g.ep.Bias != nil, Accumulate: true, Backward: g.ep.Y != nil}.String()
}

func gemmSameBits(got, want []float32) (int, bool) {
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			return i, false
		}
	}
	return 0, true
}

func gemmRandSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = 2*rng.Float32() - 1
	}
	return s
}

// TestGemmPanics checks that kernels.Gemm rejects bad shapes, with a message
// naming the argument and the sizes, whatever the implementation.
func TestGemmPanics(t *testing.T) {
	a := make([]float32, 12)
	b := make([]float32, 12)
	c := make([]float32, 12)
	gemmEachImpl(t, func(t *testing.T, name string) {
		for _, tc := range []struct {
			name string
			call func()
			want string
		}{
			{"m<0", func() { kernels.Gemm(false, false, -1, 2, 2, a, 2, b, 2, c, 2, nil) }, "m = -1 < 0"},
			{"n<0", func() { kernels.Gemm(false, false, 2, -2, 2, a, 2, b, 2, c, 2, nil) }, "n = -2 < 0"},
			{"k<0", func() { kernels.Gemm(false, false, 2, 2, -3, a, 2, b, 2, c, 2, nil) }, "k = -3 < 0"},
			{"lda", func() { kernels.Gemm(false, false, 2, 2, 3, a, 2, b, 2, c, 2, nil) }, "lda = 2 < max(1, 3)"},
			{"ldb transB", func() { kernels.Gemm(false, true, 2, 2, 3, a, 3, b, 2, c, 2, nil) }, "ldb = 2 < max(1, 3)"},
			{"ldc", func() { kernels.Gemm(false, false, 2, 3, 2, a, 2, b, 3, c, 2, nil) }, "ldc = 2 < max(1, 3)"},
			{"len(a)", func() { kernels.Gemm(false, false, 5, 2, 3, a, 3, b, 2, c, 2, nil) }, "len(a) = 12 < 15"},
			{"len(c)", func() { kernels.Gemm(false, false, 3, 4, 2, a, 2, b, 4, c, 5, nil) }, "len(c) = 12 < 14"},
			{"bias", func() {
				kernels.Gemm(false, false, 2, 3, 2, a, 2, b, 3, c, 3, &kernels.Epilogue{Bias: make([]float32, 2)})
			}, "len(Bias) = 2 < n = 3"},
			{"Y with bias", func() {
				kernels.Gemm(false, false, 2, 2, 2, a, 2, b, 2, c, 2, &kernels.Epilogue{Bias: a, Y: b, LdY: 2})
			}, "backward epilogue (Y != nil) with a bias"},
			{"len(Y)", func() {
				kernels.Gemm(false, false, 3, 3, 2, a, 2, b, 3, c, 3, &kernels.Epilogue{Y: b[:5], LdY: 3})
			}, "len(Y) = 5 < 9"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				defer func() {
					r := recover()
					msg, _ := r.(string)
					if r == nil || !strings.Contains(msg, tc.want) || !strings.Contains(msg, "Gemm") {
						t.Errorf("panic %v, want a message containing Gemm and %q", r, tc.want)
					}
				}()
				tc.call()
			})
		}
	})
}

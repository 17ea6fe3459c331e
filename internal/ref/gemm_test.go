package ref

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/actfuse/actfuse/fallback"
)

// TestGemmSmall checks the reference on a product small enough to work out
// by hand, in every layout and with every part of the epilogue.
func TestGemmSmall(t *testing.T) {
	// op(A) = [1 2 3; 4 5 6], op(B) = [1 0; 0 1; 1 1], Z = [4 5; 10 11].
	aN := []float32{1, 2, 3, 4, 5, 6}
	aT := []float32{1, 4, 2, 5, 3, 6}
	bN := []float32{1, 0, 0, 1, 1, 1}
	bT := []float32{1, 0, 1, 0, 1, 1}
	z := []float64{4, 5, 10, 11}
	for tr := range 4 {
		transA, transB := tr&1 != 0, tr&2 != 0
		a, lda := aN, 3
		if transA {
			a, lda = aT, 2
		}
		b, ldb := bN, 2
		if transB {
			b, ldb = bT, 3
		}
		c := []float32{1, -1, 0.5, 2}
		y := []float32{0.5, -0.25, 0.75, 0}
		for _, tc := range []struct {
			ep   *fallback.Epilogue
			want func(i int) float64
		}{
			{nil, func(i int) float64 { return z[i] }},
			{&fallback.Epilogue{Bias: []float32{-4, 1}}, func(i int) float64 { return z[i] + []float64{-4, 1}[i%2] }},
			{&fallback.Epilogue{Accumulate: true}, func(i int) float64 { return z[i] + float64(c[i]) }},
			{&fallback.Epilogue{Act: fallback.Activation{Func: fallback.Tanh}, Bias: []float32{-4, -5}},
				func(i int) float64 { return math.Tanh(z[i] - []float64{4, 5}[i%2]) }},
			{&fallback.Epilogue{Act: fallback.Activation{Func: fallback.Sigmoid}, Y: y, LdY: 2},
				func(i int) float64 { return z[i] * float64(y[i]) * (1 - float64(y[i])) }},
			{&fallback.Epilogue{Act: fallback.Activation{Func: fallback.ELU, Alpha: 2}, Y: y, LdY: 2, Accumulate: true},
				func(i int) float64 {
					d := 1.0
					if y[i] <= 0 {
						d = float64(y[i]) + 2
					}
					return (z[i] + float64(c[i])) * d
				}},
		} {
			r := Gemm(transA, transB, 2, 2, 3, a, lda, b, ldb, c, 2, tc.ep)
			for i := range 4 {
				if w := tc.want(i); math.Abs(r.Want[i]-w) > 1e-15 {
					t.Errorf("transA=%v transB=%v %+v: Want[%d] = %g, want %g", transA, transB, tc.ep, i, r.Want[i], w)
				}
				if !(r.Bound[i] > 0 && r.Bound[i] < 1e-4*(math.Abs(r.Want[i])+1)) {
					t.Errorf("transA=%v transB=%v %+v: Bound[%d] = %g for %g", transA, transB, tc.ep, i, r.Bound[i], r.Want[i])
				}
			}
		}
	}
}

// TestGemmBoundScales checks that the bound follows k and the magnitudes
// |A|·|B| (not |A·B|): with cancellation the bound stays at the scale of
// the terms.
func TestGemmBoundScales(t *testing.T) {
	a := []float32{1e6, 1e6}
	b := []float32{1, -1}
	r := Gemm(false, false, 1, 1, 2, a, 2, b, 1, []float32{0}, 1, nil)
	if r.Want[0] != 0 {
		t.Fatalf("Want = %g, want 0", r.Want[0])
	}
	want := 2 * 4 * Eps32 * 2e6
	if got := r.Bound[0]; math.Abs(got-want) > 1e-3*want {
		t.Errorf("Bound = %g, want about %g (2·(k+2)·eps·Σ|a·b|)", got, want)
	}
}

// TestGemmCheck checks that Check accepts results within the bound and
// rejects those outside it, NaNs and wrong infinities.
func TestGemmCheck(t *testing.T) {
	r := GemmResult{M: 1, N: 3, Want: []float64{1, math.NaN(), math.Inf(-1)}, Bound: []float64{0.5, math.Inf(1), math.Inf(1)}}
	nan, inf := float32(math.NaN()), float32(math.Inf(-1))
	for _, tc := range []struct {
		c  []float32
		ok bool
		j  int
	}{
		{[]float32{1.4, nan, inf}, true, 0},
		{[]float32{1.6, nan, inf}, false, 0},
		{[]float32{nan, nan, inf}, false, 0},
		{[]float32{1, 0, inf}, false, 1},
		{[]float32{1, nan, -3e38}, false, 2},
		{[]float32{1, nan, float32(math.Inf(1))}, false, 2},
	} {
		_, j, _, _, _, ok := r.Check(tc.c, 3)
		if ok != tc.ok || (!ok && j != tc.j) {
			t.Errorf("Check(%v) = column %d, ok %v; want column %d, ok %v", tc.c, j, ok, tc.j, tc.ok)
		}
	}
}

// exactGemm is a float64 implementation of Gemm with float32 rounding only
// at the end: well within the bound.
func exactGemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, ep *fallback.Epilogue) {
	r := Gemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, ep)
	for i := range m {
		for j := range n {
			c[i*ldc+j] = float32(r.Want[i*n+j])
		}
	}
}

// TestGemmCaseRun checks the harness both ways: a correct implementation
// passes every standard case, and each kind of defect is reported.
func TestGemmCaseRun(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, tc := range GemmCases(false) {
		if tc.M*tc.N*tc.K > 1e6 {
			continue
		}
		if err := tc.Run(rng, exactGemm); err != nil {
			t.Errorf("correct implementation rejected: %v", err)
		}
	}
	tc := GemmCase{M: 5, N: 6, K: 7, PadA: 1, PadB: 2, PadC: 3, PadY: 1, Act: fallback.Activation{Func: fallback.Tanh},
		HasBias: true, Accumulate: true}
	for _, bug := range []struct {
		name string
		want string
		gemm GemmFunc
	}{
		{"writes the padding of C", "guard", func(tA, tB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, ep *fallback.Epilogue) {
			exactGemm(tA, tB, m, n, k, a, lda, b, ldb, c, ldc, ep)
			c[ldc+n] = 0
		}},
		{"ignores the bias", "C[", func(tA, tB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, ep *fallback.Epilogue) {
			e := *ep
			e.Bias = nil
			exactGemm(tA, tB, m, n, k, a, lda, b, ldb, c, ldc, &e)
		}},
		{"reads the padding of A", "C[", func(tA, tB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, ep *fallback.Epilogue) {
			exactGemm(tA, tB, m, n, k, a, lda, b, ldb, c, ldc, ep)
			c[0] += 0 * a[lda-1] // the padding of row 0 holds a NaN guard
		}},
		{"is off by 1e-3 in column 0", "C[", func(tA, tB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, ep *fallback.Epilogue) {
			exactGemm(tA, tB, m, n, k, a, lda, b, ldb, c, ldc, ep)
			for i := range m {
				c[i*ldc] = math.Nextafter32(c[i*ldc], 10) + 1e-3
			}
		}},
		{"modifies A", "operand A", func(tA, tB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, ep *fallback.Epilogue) {
			exactGemm(tA, tB, m, n, k, a, lda, b, ldb, c, ldc, ep)
			a[0]++
		}},
	} {
		err := tc.Run(rng, bug.gemm)
		if err == nil || !strings.Contains(err.Error(), bug.want) {
			t.Errorf("implementation that %s: Run = %v, want an error containing %q", bug.name, err, bug.want)
		}
	}
}

package fallback_test

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/actfuse/actfuse/fallback"
)

// The cases of internal/ref run on fallback.Gemm, beside every
// implementation of package kernels, in kernels/gemm_test.go.

// TestGemmSumOrder pins the summation order of the specification: Z is the
// float32 sum of the products in increasing k, from zero, then C, then the
// bias. The products are exact here (small integers times powers of two), so
// only the order of the additions decides the result.
func TestGemmSumOrder(t *testing.T) {
	// 1 + 2^-24 + 2^-24 + ... rounds back to 1 at every step in order;
	// summed in another order the small terms would add up first.
	const k = 9
	a := make([]float32, k)
	b := make([]float32, k)
	for p := range k {
		a[p], b[p] = 1, 0x1p-24
	}
	b[0] = 1
	c := []float32{0x1p-24}
	bias := []float32{0x1p-24}
	fallback.Gemm(false, false, 1, 1, k, a, k, b, 1, c, 1, &fallback.Epilogue{Accumulate: true, Bias: bias})
	if c[0] != 1 {
		t.Errorf("sequential sum: got 1%+g, want 1", c[0]-1)
	}
	// Starting from the small terms, they do add up: 8·2^-24 + 1.
	copy(b, []float32{0x1p-24, 0x1p-24, 0x1p-24, 0x1p-24, 0x1p-24, 0x1p-24, 0x1p-24, 0x1p-24, 1})
	c[0] = 0
	fallback.Gemm(false, false, 1, 1, k, a, k, b, 1, c, 1, nil)
	if c[0] != 1+8*0x1p-24 {
		t.Errorf("sequential sum: got 1%+g, want 1+2^-21", c[0]-1)
	}
}

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = 2*rng.Float32() - 1
	}
	return s
}

// TestGemmSpecialValues checks that NaN and Inf propagate like in the
// sequential sum: a NaN in A poisons its row of C, 0·Inf is NaN, an Inf
// product gives Inf, and nothing leaks into other rows or columns.
func TestGemmSpecialValues(t *testing.T) {
	const m, n, k = 5, 6, 7
	a := make([]float32, m*k)
	b := make([]float32, k*n)
	for i := range a {
		a[i] = 1
	}
	for i := range b {
		b[i] = 0.5
	}
	a[1*k+3] = float32(math.NaN())   // row 1: NaN
	a[2*k+4] = float32(math.Inf(1))  // row 2: +Inf ...
	b[4*n+5] = 0                     // ... except column 5: Inf·0 = NaN
	a[3*k+0] = float32(math.Inf(-1)) // row 3: -Inf
	c := make([]float32, m*n)
	fallback.Gemm(false, false, m, n, k, a, k, b, n, c, n, nil)
	for i := range m {
		for j := range n {
			got := c[i*n+j]
			var ok bool
			switch {
			case i == 1 || (i == 2 && j == 5):
				ok = math.IsNaN(float64(got))
			case i == 2:
				ok = math.IsInf(float64(got), 1)
			case i == 3:
				ok = math.IsInf(float64(got), -1)
			case j == 5:
				ok = got == 3 // one product is 1·0
			default:
				ok = got == 3.5
			}
			if !ok {
				t.Errorf("C[%d,%d] = %g", i, j, got)
			}
		}
	}
}

func TestGemmPanics(t *testing.T) {
	a := make([]float32, 12)
	b := make([]float32, 12)
	c := make([]float32, 12)
	for _, tc := range []struct {
		name string
		call func()
		want string
	}{
		{"m<0", func() { fallback.Gemm(false, false, -1, 2, 2, a, 2, b, 2, c, 2, nil) }, "m = -1 < 0"},
		{"n<0", func() { fallback.Gemm(false, false, 2, -2, 2, a, 2, b, 2, c, 2, nil) }, "n = -2 < 0"},
		{"k<0", func() { fallback.Gemm(false, false, 2, 2, -3, a, 2, b, 2, c, 2, nil) }, "k = -3 < 0"},
		{"lda", func() { fallback.Gemm(false, false, 2, 2, 3, a, 2, b, 2, c, 2, nil) }, "lda = 2 < max(1, 3)"},
		{"lda transA", func() { fallback.Gemm(true, false, 4, 2, 2, a, 3, b, 2, c, 2, nil) }, "lda = 3 < max(1, 4)"},
		{"ldb", func() { fallback.Gemm(false, false, 2, 3, 2, a, 2, b, 2, c, 3, nil) }, "ldb = 2 < max(1, 3)"},
		{"ldb transB", func() { fallback.Gemm(false, true, 2, 2, 3, a, 3, b, 2, c, 2, nil) }, "ldb = 2 < max(1, 3)"},
		{"ldc", func() { fallback.Gemm(false, false, 2, 3, 2, a, 2, b, 3, c, 2, nil) }, "ldc = 2 < max(1, 3)"},
		{"len(a)", func() { fallback.Gemm(false, false, 5, 2, 3, a, 3, b, 2, c, 2, nil) }, "len(a) = 12 < 15"},
		{"len(b)", func() { fallback.Gemm(false, false, 2, 2, 7, make([]float32, 14), 7, b, 2, c, 2, nil) }, "len(b) = 12 < 14"},
		{"len(c)", func() { fallback.Gemm(false, false, 3, 4, 2, a, 2, b, 4, c, 5, nil) }, "len(c) = 12 < 14"},
		{"bias", func() {
			fallback.Gemm(false, false, 2, 3, 2, a, 2, b, 3, c, 3, &fallback.Epilogue{Bias: make([]float32, 2)})
		}, "len(Bias) = 2 < n = 3"},
		{"Y with bias", func() {
			fallback.Gemm(false, false, 2, 2, 2, a, 2, b, 2, c, 2, &fallback.Epilogue{Bias: a, Y: b, LdY: 2})
		}, "backward epilogue (Y != nil) with a bias"},
		{"LdY", func() {
			fallback.Gemm(false, false, 2, 3, 2, a, 2, b, 3, c, 3, &fallback.Epilogue{Y: b, LdY: 2})
		}, "LdY = 2 < max(1, 3)"},
		{"len(Y)", func() {
			fallback.Gemm(false, false, 3, 3, 2, a, 2, b, 3, c, 3, &fallback.Epilogue{Y: b[:5], LdY: 3})
		}, "len(Y) = 5 < 9"},
		{"activation", func() {
			fallback.Gemm(false, false, 2, 2, 2, a, 2, b, 2, c, 2, &fallback.Epilogue{Act: fallback.Activation{Func: fallback.NumFuncs}})
		}, "unknown activation"},
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
}

// TestGemmAllocs checks that Gemm reuses its packing buffers: in steady
// state a call allocates nothing (a garbage collection may empty the pool,
// hence an average below one rather than zero).
func TestGemmAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	rng := rand.New(rand.NewPCG(9, 10))
	const m, n, k = 33, 70, 129
	a, b, c := randSlice(rng, m*k), randSlice(rng, k*n), make([]float32, m*n)
	ep := &fallback.Epilogue{Act: fallback.Activation{Func: fallback.Sigmoid}, Bias: randSlice(rng, n)}
	if avg := testing.AllocsPerRun(50, func() {
		fallback.Gemm(false, true, m, n, k, a, k, b, k, c, n, ep)
	}); avg >= 1 {
		t.Errorf("Gemm allocates %.2f times per call", avg)
	}
}

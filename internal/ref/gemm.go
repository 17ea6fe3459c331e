package ref

import (
	"fmt"
	"math"

	"github.com/actfuse/actfuse/fallback"
)

// Eps32 is the unit roundoff of float32, 2^-24.
const Eps32 = 0x1p-24

// GemmResult is the float64 reference of one Gemm call: the exact-as-float64
// result of every element of C and the error bound a float32 implementation
// must meet, both m×n with leading dimension n.
type GemmResult struct {
	M, N  int
	Want  []float64 // the float64 result
	Bound []float64 // the largest allowed |C - Want|
}

// Gemm computes, in float64, what fallback.Gemm computes in float32 for the
// same arguments (see fallback.Epilogue), reading C as the previous content
// when ep.Accumulate is set; C itself is not modified. ep may be nil.
//
// The bound of each element follows the standard error analysis of a
// floating-point dot product, |Z - Z64| <= γ·(|op(A)|·|op(B)|)[i,j] with
// γ = c·(k+2)·eps (eps = 2^-24, c = 2 as a safety factor; the +2 counts the
// additions of C and of the bias, whose magnitudes join the sum), carried
// through the epilogue:
//
//   - forward, C = act(Z'): |C - C64| <= L·γ·S + 4·eps·|C64| + 2^-126, where
//     Z' is Z [+ C] [+ bias], S = |op(A)|·|op(B)| [+ |C|] [+ |bias|], L the
//     largest slope of the activation (1, or Alpha for LeakyReLU and ELU if
//     larger) and the relative term is the activation's own error (at most 2
//     ULP); 2^-126 lets results below the normal range flush to zero;
//   - backward, C = Z'·d with d = act'(Y): |C - C64| <= |d|·γ·S +
//     |Z'64|·4·eps·(|d| + |y| + y²) + 2·eps·|C64| + 2^-126, the middle term
//     covering the float32 evaluation of d from y (for example (1-y)·(1+y),
//     or y - y·y for y·(1-y)).
//
// Inputs are expected finite; where Want is not finite Bound is +Inf and the
// comparison is up to the caller.
func Gemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, ep *fallback.Epilogue) GemmResult {
	if ep == nil {
		ep = &fallback.Epilogue{}
	}
	fallback.CheckGemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, ep)
	r := GemmResult{M: m, N: n, Want: make([]float64, m*n), Bound: make([]float64, m*n)}
	gamma := 2 * float64(k+2) * Eps32
	act := Forward(ep.Act)
	// slope bounds |f'|, which scales the error of z into the result.
	slope := 1.0
	p := ep.Act.Params()
	switch f := ep.Act.Func; f {
	case fallback.LeakyReLU, fallback.ELU:
		slope = max(1, float64(ep.Act.Alpha))
	case fallback.ScaledSigmoid:
		slope = max(1, float64(p[0])/4)
	case fallback.ScaledTanh:
		slope = max(1, float64(p[0])*float64(p[1]))
	}
	for i := range m {
		for j := range n {
			var z, s float64
			for p := range k {
				var av, bv float32
				if transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if transB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				prod := float64(av) * float64(bv)
				z += prod
				s += math.Abs(prod)
			}
			if ep.Accumulate {
				old := float64(c[i*ldc+j])
				z += old
				s += math.Abs(old)
			}
			var want, bound float64
			if ep.Y != nil {
				y := float64(ep.Y[i*ep.LdY+j])
				d := Derivative(ep.Act, y)
				if ep.Act.Func == fallback.Identity {
					d = 1
				}
				want = z * d
				// The roundings of f'(y): of its factors (1 ± y, or gain ± y,
				// and the scale) and their products.
				fe := math.Abs(y) + y*y
				switch ep.Act.Func {
				case fallback.ScaledSigmoid:
					fe *= float64(p[0])
				case fallback.ScaledTanh:
					gain := float64(p[0])
					fe = float64(p[3]) * (gain*gain + gain*math.Abs(y) + y*y)
				}
				bound = math.Abs(d)*gamma*s + math.Abs(z)*4*Eps32*(math.Abs(d)+fe) + 2*Eps32*math.Abs(want)
			} else {
				if ep.Bias != nil {
					z += float64(ep.Bias[j])
					s += math.Abs(float64(ep.Bias[j]))
				}
				want = act(z)
				bound = slope*gamma*s + 4*Eps32*math.Abs(want)
			}
			bound += 0x1p-126
			if math.IsNaN(want) || math.IsInf(want, 0) {
				bound = math.Inf(1)
			}
			r.Want[i*n+j], r.Bound[i*n+j] = want, bound
		}
	}
	return r
}

// Check compares the m×n float32 matrix c (leading dimension ldc) with the
// reference and returns the first element outside its bound, ok = false if
// there is one. NaN matches only NaN; where the reference is not finite, c
// must equal it (NaN for NaN).
func (r GemmResult) Check(c []float32, ldc int) (i, j int, got float32, want, bound float64, ok bool) {
	for i := range r.M {
		for j := range r.N {
			got := c[i*ldc+j]
			w, bd := r.Want[i*r.N+j], r.Bound[i*r.N+j]
			g := float64(got)
			var bad bool
			switch {
			case math.IsNaN(w):
				bad = !math.IsNaN(g)
			case math.IsInf(w, 0):
				bad = g != w
			default:
				bad = math.IsNaN(g) || !(math.Abs(g-w) <= bd)
			}
			if bad {
				return i, j, got, w, bd, false
			}
		}
	}
	return 0, 0, 0, 0, 0, true
}

// GemmFunc is the signature of fallback.Gemm and kernels.Gemm.
type GemmFunc func(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, ep *fallback.Epilogue)

// GemmCase describes one Gemm call to test: the shape, the padding of every
// leading dimension beyond its minimum, and the epilogue (Bias and Y are
// generated: Bias when HasBias, Y when Backward).
type GemmCase struct {
	TransA, TransB bool
	M, N, K        int
	PadA, PadB     int // lda, ldb beyond the number of columns of A, B
	PadC, PadY     int // ldc, LdY beyond n
	Act            fallback.Activation
	HasBias        bool
	Accumulate     bool
	Backward       bool // Y != nil: C = (Z [+ C]) ⊙ act'(Y)
	// Scale multiplies the random entries of A and B, uniform in
	// [-Scale, Scale) (1 if zero).
	Scale float32
}

// gemmGuard is the value written around and between the rows of C, and in
// the padding of every operand; a NaN with a payload, so that a read of the
// padding of A, B or Y poisons the result and a write is visible.
var gemmGuard = math.Float32frombits(0x7fc0beef)

// gemmGuardC is the number of guard values before and after C.
const gemmGuardC = 7

// Rand is the random source GemmCase.Run draws from (math/rand/v2's
// *rand.Rand satisfies it).
type Rand interface {
	Float32() float32
}

// Run performs the call described by tc on gemm with random operands drawn
// from rng, and checks C against the float64 reference (see Gemm) and every
// guard value (the padding of each row of C, the values before and after C,
// and the operands, which must not change). It returns nil or an error that
// names the case and the first mismatch.
func (tc GemmCase) Run(rng Rand, gemm GemmFunc) error {
	m, n, k := tc.M, tc.N, tc.K
	scale := tc.Scale
	if scale == 0 {
		scale = 1
	}
	ar, ac := m, k
	if tc.TransA {
		ar, ac = k, m
	}
	br, bc := k, n
	if tc.TransB {
		br, bc = n, k
	}
	lda, ldb := max(1, ac)+tc.PadA, max(1, bc)+tc.PadB
	ldc, ldy := max(1, n)+tc.PadC, max(1, n)+tc.PadY
	a := gemmMatrix(rng, ar, ac, lda, scale)
	b := gemmMatrix(rng, br, bc, ldb, scale)
	full := gemmMatrix(rng, m, n, ldc, 1)
	for range gemmGuardC {
		full = append([]float32{gemmGuard}, full...)
		full = append(full, gemmGuard)
	}
	c := full[gemmGuardC : len(full)-gemmGuardC]
	ep := &fallback.Epilogue{Act: tc.Act, Accumulate: tc.Accumulate}
	if tc.HasBias && !tc.Backward {
		ep.Bias = gemmMatrix(rng, 1, n, max(1, n), 1)
	}
	if tc.Backward {
		// Y holds outputs of the activation, so that act'(Y) is meaningful.
		ep.Y = gemmMatrix(rng, m, n, ldy, 4)
		f := Forward(tc.Act)
		for i := range m {
			for j := range n {
				ep.Y[i*ldy+j] = float32(f(float64(ep.Y[i*ldy+j])))
			}
		}
		ep.LdY = ldy
	}
	want := Gemm(tc.TransA, tc.TransB, m, n, k, a, lda, b, ldb, c, ldc, ep)
	a0, b0, full0 := append([]float32(nil), a...), append([]float32(nil), b...), append([]float32(nil), full...)
	var bias0, y0 []float32
	bias0 = append(bias0, ep.Bias...)
	y0 = append(y0, ep.Y...)

	gemm(tc.TransA, tc.TransB, m, n, k, a, lda, b, ldb, c, ldc, ep)

	if i, j, got, w, bound, ok := want.Check(c, ldc); !ok {
		return fmt.Errorf("%v: C[%d,%d] = %g, want %g ± %.3g (error %.3g)", tc, i, j, got, w, bound, math.Abs(float64(got)-w))
	}
	for i, v := range full {
		if o := i - gemmGuardC; o >= 0 && o < len(c) && o%ldc < n && o/ldc < m {
			continue
		}
		if math.Float32bits(v) != math.Float32bits(full0[i]) {
			return fmt.Errorf("%v: guard at offset %d from the start of C changed: %g (bits %#x), was %g", tc, i-gemmGuardC, v, math.Float32bits(v), full0[i])
		}
	}
	for _, s := range []struct {
		name      string
		now, then []float32
	}{{"A", a, a0}, {"B", b, b0}, {"Bias", ep.Bias, bias0}, {"Y", ep.Y, y0}} {
		for i := range s.now {
			if math.Float32bits(s.now[i]) != math.Float32bits(s.then[i]) {
				return fmt.Errorf("%v: operand %s changed at %d", tc, s.name, i)
			}
		}
	}
	return nil
}

// String describes the case in one line.
func (tc GemmCase) String() string {
	t := func(b bool) string {
		if b {
			return "T"
		}
		return "N"
	}
	s := fmt.Sprintf("%s%s m=%d n=%d k=%d pad=%d/%d/%d/%d %v", t(tc.TransA), t(tc.TransB), tc.M, tc.N, tc.K, tc.PadA, tc.PadB, tc.PadC, tc.PadY, tc.Act)
	if tc.HasBias && !tc.Backward {
		s += " bias"
	}
	if tc.Accumulate {
		s += " accumulate"
	}
	if tc.Backward {
		s += " backward"
	}
	if tc.Scale != 0 && tc.Scale != 1 {
		s += fmt.Sprintf(" scale=%g", tc.Scale)
	}
	return s
}

// gemmMatrix returns a rows×cols matrix with leading dimension ld, uniform in
// [-scale, scale), with the guard value in the padding of each row; its
// length is exactly (rows-1)·ld + cols (the minimum Gemm accepts), or 0 for
// an empty matrix.
func gemmMatrix(rng Rand, rows, cols, ld int, scale float32) []float32 {
	if rows == 0 || cols == 0 {
		return []float32{}
	}
	s := make([]float32, (rows-1)*ld+cols)
	for i := range s {
		if i%ld < cols {
			s[i] = (2*rng.Float32() - 1) * scale
		} else {
			s[i] = gemmGuard
		}
	}
	return s
}

// GemmActivations lists every activation, with parameters for those that take one.
var GemmActivations = []fallback.Activation{
	{Func: fallback.Identity},
	{Func: fallback.ReLU},
	{Func: fallback.LeakyReLU, Alpha: 0.01},
	{Func: fallback.ELU, Alpha: 1},
	{Func: fallback.ELU, Alpha: 1.7},
	{Func: fallback.Sigmoid},
	{Func: fallback.Tanh},
	{Func: fallback.ScaledSigmoid, Slope: 4},
	fallback.LeCunTanh,
	{Func: fallback.ScaledTanh, Gain: 2.5, Slope: 0.25},
}

// gemmEpilogues returns the epilogue variants: every activation forward with
// and without bias and accumulation, and backward with and without
// accumulation.
func gemmEpilogues() []GemmCase {
	var eps []GemmCase
	for _, act := range GemmActivations {
		for _, v := range []struct{ bias, acc, bwd bool }{
			{false, false, false}, {true, false, false}, {true, true, false}, {false, true, false},
			{false, false, true}, {false, true, true},
		} {
			eps = append(eps, GemmCase{Act: act, HasBias: v.bias, Accumulate: v.acc, Backward: v.bwd})
		}
	}
	return eps
}

// GemmCases returns the standard test cases: all four transposes over shapes
// that include 0 and 1, odd and prime sizes, and sizes around the register
// tiles (2×4 in package fallback, 6×16, 6×64, 16×16 and 8×12 in the SIMD
// kernels), the k unrolling and k blocks, and the cache blocks (64 rows, 512
// columns, and the smaller blocks of a large k), each with padded leading
// dimensions. Small shapes run every epilogue, and so does a shape of
// several full 6×64 tiles per column panel with k >= 96, where the AVX-512
// kernel activates a tile during the next tile's sweep, and shapes of the
// dot kernels (few columns: see kernels/gemm_dot.go);
// larger ones rotate through them unless exhaustive.
func GemmCases(exhaustive bool) []GemmCase {
	type shape struct{ m, n, k int }
	small := []shape{
		{0, 0, 0}, {0, 3, 2}, {3, 0, 2}, {2, 3, 0}, {1, 1, 0}, {1, 1, 1}, {1, 1, 2},
		{1, 5, 3}, {5, 1, 3}, {2, 4, 4}, {3, 5, 7}, {4, 8, 5}, {7, 3, 11}, {5, 9, 13},
	}
	large := []shape{
		{13, 17, 19}, {31, 33, 9}, {64, 16, 8}, {65, 12, 3}, {67, 5, 31}, {1, 513, 2},
		{3, 517, 5}, {129, 7, 1}, {35, 9, 1001}, {3, 263, 1001}, {33, 9, 1026}, {2, 3, 4099},
		{17, 31, 64}, {6, 16, 17}, {7, 17, 256}, {12, 33, 257}, {18, 48, 513}, {25, 25, 129},
		{97, 20, 300}, {45, 14, 70}, {13, 65, 40}, {7, 127, 20}, {12, 191, 33},
		{21, 12, 1601}, {130, 11, 512}, {9, 1, 2050}, {17, 6, 129}, {11, 8, 4000},
		{128, 64, 40}, {44, 130, 300}, {8, 17, 9}, {8, 200, 100},
		{10, 2, 40}, {6, 4, 100}, {9, 7, 50},
	}
	// Every epilogue also runs on these: the first three with several tiles
	// per sweep (14 rows: two 4-row tail tiles of avx512 after a 6-row one),
	// the others in the dot kernels (avx512 and avx2: one to four rows at a
	// time, with rows left over, k ending inside a chunk, and beyond 8
	// columns the second vector of an avx2 row).
	tiles := []shape{{37, 70, 100}, {14, 70, 100}, {24, 127, 100}, {19, 10, 150}, {8, 9, 133}, {7, 3, 61},
		{9, 2, 45}, {11, 6, 77}, {5, 12, 141}}
	eps := gemmEpilogues()
	var cases []GemmCase
	add := func(s shape, tr int, ep GemmCase) {
		tc := ep
		tc.TransA, tc.TransB = tr&1 != 0, tr&2 != 0
		tc.M, tc.N, tc.K = s.m, s.n, s.k
		// Padding varies with the case: 0 for some, up to 5 for others.
		tc.PadA, tc.PadB, tc.PadC, tc.PadY = (s.m+tr)%3, (s.n+2*tr)%4, (s.k+tr)%6, (s.m+s.n)%3
		cases = append(cases, tc)
	}
	for _, s := range append(small, tiles...) {
		for tr := range 4 {
			for _, ep := range eps {
				add(s, tr, ep)
			}
		}
	}
	i := 0
	for _, s := range large {
		for tr := range 4 {
			if exhaustive {
				for _, ep := range eps {
					add(s, tr, ep)
				}
				continue
			}
			add(s, tr, eps[i%len(eps)])
			i += 5 // coprime with len(eps): every epilogue comes round
		}
	}
	return cases
}

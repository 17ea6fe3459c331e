package actfuseblas_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/actfuse/actfuse/actfuseblas"
	"github.com/actfuse/actfuse/kernels"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/gonum"
)

// u32 is the unit roundoff of float32, 2^-24.
const u32 = 0x1p-24

// guard fills everything of C outside its m×n block; a NaN with a payload,
// compared by its bits, so that no computed value can match it by chance.
var guard = math.Float32frombits(0x7fc0dead)

// sgemmCase is one Sgemm call: the shapes, the scalars and the operands,
// laid out with leading dimensions that may exceed the columns. A and B are
// exactly as long as gonum requires, so that a read past the last element
// panics; their padding holds NaN, so that a read of the padding shows in
// the result. C is followed by a tail of guard values, and its padding holds
// guard values too.
type sgemmCase struct {
	tA, tB       blas.Transpose
	m, n, k      int
	alpha, beta  float32
	a            []float32
	lda          int
	b            []float32
	ldb          int
	c            []float32 // C before the call
	ldc          int
	aRows, aCols int
	bRows, bCols int
	cTail        int
	name         string
}

func (tc *sgemmCase) String() string { return tc.name }

// newCase builds a case with random operands in [-1, 1).
func newCase(r *rand.Rand, tA, tB blas.Transpose, m, n, k int, alpha, beta float32) *sgemmCase {
	tc := &sgemmCase{tA: tA, tB: tB, m: m, n: n, k: k, alpha: alpha, beta: beta, cTail: 5}
	tc.aRows, tc.aCols = m, k
	if tA != blas.NoTrans {
		tc.aRows, tc.aCols = k, m
	}
	tc.bRows, tc.bCols = k, n
	if tB != blas.NoTrans {
		tc.bRows, tc.bCols = n, k
	}
	pads := []int{0, 0, 1, 3, 16}
	tc.lda = max(1, tc.aCols) + pads[r.IntN(len(pads))]
	tc.ldb = max(1, tc.bCols) + pads[r.IntN(len(pads))]
	tc.ldc = max(1, n) + pads[r.IntN(len(pads))]
	tc.a = operand(r, tc.aRows, tc.aCols, tc.lda)
	tc.b = operand(r, tc.bRows, tc.bCols, tc.ldb)
	tc.c = make([]float32, sgemmLen(m, n, tc.ldc)+tc.cTail)
	for i := range tc.c {
		tc.c[i] = guard
	}
	for i := range m {
		for j := range n {
			if beta == 0 {
				tc.c[i*tc.ldc+j] = float32(math.NaN())
			} else {
				tc.c[i*tc.ldc+j] = 2*r.Float32() - 1
			}
		}
	}
	tc.name = fmt.Sprintf("%c%c m=%d n=%d k=%d alpha=%v beta=%v lda=%d ldb=%d ldc=%d",
		tA, tB, m, n, k, alpha, beta, tc.lda, tc.ldb, tc.ldc)
	return tc
}

// sgemmLen is the length gonum requires of a rows×cols matrix with leading
// dimension ld, (rows-1)·ld + cols, or 0 if that is negative: a matrix with
// no columns may still need (rows-1)·ld elements.
func sgemmLen(rows, cols, ld int) int {
	return max(0, (rows-1)*ld+cols)
}

// operand returns a rows×cols matrix of random values in [-1, 1) with
// leading dimension ld and NaN in its padding.
func operand(r *rand.Rand, rows, cols, ld int) []float32 {
	s := make([]float32, sgemmLen(rows, cols, ld))
	for i := range s {
		if i%ld < cols {
			s[i] = 2*r.Float32() - 1
		} else {
			s[i] = float32(math.NaN())
		}
	}
	return s
}

// run calls impl's Sgemm on copies of the operands and returns C, after
// checking that A and B were not modified.
func (tc *sgemmCase) run(t *testing.T, impl blas.Float32) []float32 {
	t.Helper()
	a, b, c := slices.Clone(tc.a), slices.Clone(tc.b), slices.Clone(tc.c)
	impl.Sgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, a, tc.lda, b, tc.ldb, tc.beta, c, tc.ldc)
	if !sameBits(a, tc.a) || !sameBits(b, tc.b) {
		t.Fatalf("%v: %T modified A or B", tc, impl)
	}
	return c
}

// sameBits reports whether x and y hold the same bit patterns.
func sameBits(x, y []float32) bool {
	return slices.EqualFunc(x, y, func(p, q float32) bool { return math.Float32bits(p) == math.Float32bits(q) })
}

// reference is the float64 result of the case and the error bound of each
// element of C, both m×n with leading dimension n:
//
//	want  = alpha·Σ_p op(A)[i,p]·op(B)[p,j] + beta·C[i,j]   (no C term when beta = 0)
//	bound = γ·(|alpha|·Σ_p |op(A)[i,p]·op(B)[p,j]| + |beta|·|C[i,j]|)
//
// with γ = 2·(k+2)·u, u = 2^-24: the standard bound k·u of a dot product of
// length k, two more roundings for the scaling by alpha and beta and the
// final addition, and a factor of 2 as a margin.
func (tc *sgemmCase) reference() (want, bound []float64) {
	want, bound = make([]float64, tc.m*tc.n), make([]float64, tc.m*tc.n)
	gamma := 2 * float64(tc.k+2) * u32
	alpha, beta := float64(tc.alpha), float64(tc.beta)
	for i := range tc.m {
		for j := range tc.n {
			var z, s float64
			for p := range tc.k {
				var av, bv float32
				if tc.tA == blas.NoTrans {
					av = tc.a[i*tc.lda+p]
				} else {
					av = tc.a[p*tc.lda+i]
				}
				if tc.tB == blas.NoTrans {
					bv = tc.b[p*tc.ldb+j]
				} else {
					bv = tc.b[j*tc.ldb+p]
				}
				prod := float64(av) * float64(bv)
				z += prod
				s += math.Abs(prod)
			}
			w, e := alpha*z, math.Abs(alpha)*s
			if tc.beta != 0 {
				old := float64(tc.c[i*tc.ldc+j])
				w += beta * old
				e += math.Abs(beta * old)
			}
			want[i*tc.n+j], bound[i*tc.n+j] = w, gamma*e
		}
	}
	return want, bound
}

// check reports the first element of got that is farther than scale×bound
// from want, or an element outside the m×n block that is no longer its
// guard value.
func (tc *sgemmCase) check(got []float32, want, bound []float64, scale float64) error {
	for i := range tc.m {
		for j := range tc.n {
			g, w, e := float64(got[i*tc.ldc+j]), want[i*tc.n+j], scale*bound[i*tc.n+j]
			if !(math.Abs(g-w) <= e) {
				return fmt.Errorf("C[%d,%d] = %v, want %v within %.3g (error %.3g)", i, j, g, w, e, math.Abs(g-w))
			}
		}
	}
	for idx, v := range got {
		inBlock := idx < sgemmLen(tc.m, tc.n, tc.ldc) && idx%tc.ldc < tc.n
		if !inBlock && math.Float32bits(v) != math.Float32bits(guard) {
			return fmt.Errorf("c[%d] outside the %d×%d block (ldc = %d) changed to %v", idx, tc.m, tc.n, tc.ldc, v)
		}
	}
	return nil
}

var (
	sizes       = []int{0, 1, 5, 17, 64, 129}
	scalars     = []float32{0, 1, -1, 0.5, 2.5}
	transposes  = []blas.Transpose{blas.NoTrans, blas.Trans, blas.ConjTrans}
	casesPerSet = 6
)

// TestSgemmMatchesGonum compares Sgemm with gonum's Sgemm and with a float64
// reference on random shapes drawn from sizes, for every pair of transposes
// (ConjTrans included), every alpha and beta of scalars, and random leading
// dimensions. Each result must lie within the bound of reference (gonum's
// too: that checks the reference), the two within twice the bound of each
// other, and nothing of C outside its m×n block may change.
func TestSgemmMatchesGonum(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 3))
	var ours actfuseblas.Implementation
	var theirs gonum.Implementation
	for _, tA := range transposes {
		for _, tB := range transposes {
			for _, alpha := range scalars {
				for _, beta := range scalars {
					for range casesPerSet {
						m, n, k := sizes[r.IntN(len(sizes))], sizes[r.IntN(len(sizes))], sizes[r.IntN(len(sizes))]
						tc := newCase(r, tA, tB, m, n, k, alpha, beta)
						want, bound := tc.reference()
						got, ref := tc.run(t, ours), tc.run(t, theirs)
						if err := tc.check(ref, want, bound, 1); err != nil {
							t.Fatalf("%v: gonum: %v (the reference or its bound is wrong)", tc, err)
						}
						if err := tc.check(got, want, bound, 1); err != nil {
							t.Errorf("%v: %v", tc, err)
							continue
						}
						refAsWant := make([]float64, len(want))
						for i := range tc.m {
							for j := range tc.n {
								refAsWant[i*tc.n+j] = float64(ref[i*tc.ldc+j])
							}
						}
						if err := tc.check(got, refAsWant, bound, 2); err != nil {
							t.Errorf("%v: against gonum's result: %v", tc, err)
						}
					}
				}
			}
		}
	}
}

// TestCheckFindsErrors makes sure that the comparison of
// TestSgemmMatchesGonum can fail: a product with the wrong transpose, a
// result off by a few bound widths, and a write into the padding of C are
// all reported.
func TestCheckFindsErrors(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	tc := newCase(r, blas.Trans, blas.NoTrans, 17, 17, 17, 1, 0.5)
	for tc.ldc == tc.n {
		tc = newCase(r, blas.Trans, blas.NoTrans, 17, 17, 17, 1, 0.5)
	}
	want, bound := tc.reference()
	var impl actfuseblas.Implementation
	if err := tc.check(tc.run(t, impl), want, bound, 1); err != nil {
		t.Fatalf("the right result was rejected: %v", err)
	}
	wrong := *tc
	wrong.tA = blas.NoTrans
	if err := tc.check(wrong.run(t, impl), want, bound, 1); err == nil {
		t.Error("a product of A instead of Aᵀ passed the check")
	}
	off := tc.run(t, impl)
	off[3*tc.ldc+4] = float32(want[3*tc.n+4] + 4*bound[3*tc.n+4])
	if err := tc.check(off, want, bound, 1); err == nil {
		t.Error("a result 4 bounds away passed the check")
	}
	pad := tc.run(t, impl)
	pad[tc.n] = 0
	if err := tc.check(pad, want, bound, 1); err == nil {
		t.Error("a write into the padding of C passed the check")
	}
}

// TestSgemmAlphaZeroIgnoresAB checks that alpha = 0 leaves C = beta·C,
// exactly, whatever A and B hold, as the reference BLAS specifies: A and B
// are all NaN here (gonum's Sgemm would multiply them by 0 and return NaN).
func TestSgemmAlphaZeroIgnoresAB(t *testing.T) {
	const m, n, k = 5, 7, 3
	nan := float32(math.NaN())
	a, b := make([]float32, m*k), make([]float32, k*n)
	for i := range a {
		a[i] = nan
	}
	for i := range b {
		b[i] = nan
	}
	r := rand.New(rand.NewPCG(2, 2))
	for _, beta := range scalars {
		c := make([]float32, m*n)
		for i := range c {
			c[i] = 2*r.Float32() - 1
		}
		want := make([]float32, len(c)) // beta = 0: zeros, whatever C held
		if beta != 0 {
			for i, v := range c {
				want[i] = beta * v
			}
		}
		actfuseblas.Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, m, n, k, 0, a, k, b, n, beta, c, n)
		if !sameBits(c, want) {
			t.Errorf("alpha = 0, beta = %v: C = %v, want %v", beta, c, want)
		}
	}
}

// TestSgemmIsKernelsGemm checks that with alpha = 1 Sgemm returns, bit for
// bit, what kernels.Gemm computes: C = op(A)·op(B) for beta = 0, and
// op(A)·op(B) accumulated onto beta·C otherwise.
func TestSgemmIsKernelsGemm(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 1))
	for _, tA := range []blas.Transpose{blas.NoTrans, blas.Trans} {
		for _, tB := range []blas.Transpose{blas.NoTrans, blas.Trans} {
			for _, beta := range scalars {
				tc := newCase(r, tA, tB, 37, 41, 129, 1, beta)
				got := tc.run(t, actfuseblas.Implementation{})
				want := slices.Clone(tc.c)
				var ep *kernels.Epilogue
				if beta != 0 {
					ep = &kernels.Epilogue{Accumulate: true}
					for i := range tc.m {
						for j := range tc.n {
							want[i*tc.ldc+j] *= beta
						}
					}
				}
				kernels.Gemm(tA == blas.Trans, tB == blas.Trans, tc.m, tc.n, tc.k, tc.a, tc.lda, tc.b, tc.ldb, want, tc.ldc, ep)
				if !sameBits(got, want) {
					t.Errorf("%v: the result differs from kernels.Gemm's", tc)
				}
			}
		}
	}
}

// TestSgemmAllocs checks that Sgemm allocates nothing once warm, on every
// path: alpha and beta equal to 0, 1 or neither (the scratch product).
func TestSgemmAllocs(t *testing.T) {
	const m, n, k = 48, 40, 32
	r := rand.New(rand.NewPCG(4, 4))
	a, b, c := operand(r, m, k, k), operand(r, k, n, n), operand(r, m, n, n)
	for _, alpha := range scalars {
		for _, beta := range scalars {
			call := func() {
				actfuseblas.Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, m, n, k, alpha, a, k, b, n, beta, c, n)
			}
			call()
			if got := testing.AllocsPerRun(10, call); got != 0 {
				t.Errorf("alpha = %v, beta = %v: %v allocations per call", alpha, beta, got)
			}
		}
	}
}

// TestBlas32Use checks that blas32.Use accepts Implementation and that
// blas32.Gemm then computes with it, within the error bound of a float64
// reference.
func TestBlas32Use(t *testing.T) {
	prev := blas32.Implementation()
	defer blas32.Use(prev)
	blas32.Use(actfuseblas.Implementation{})
	if _, ok := blas32.Implementation().(actfuseblas.Implementation); !ok {
		t.Fatalf("blas32.Implementation() = %T after Use", blas32.Implementation())
	}
	r := rand.New(rand.NewPCG(8, 8))
	tc := newCase(r, blas.NoTrans, blas.Trans, 17, 64, 129, 2.5, -1)
	want, bound := tc.reference()
	c := slices.Clone(tc.c)
	blas32.Gemm(tc.tA, tc.tB, tc.alpha,
		blas32.General{Rows: tc.aRows, Cols: tc.aCols, Data: tc.a, Stride: tc.lda},
		blas32.General{Rows: tc.bRows, Cols: tc.bCols, Data: tc.b, Stride: tc.ldb},
		tc.beta,
		blas32.General{Rows: tc.m, Cols: tc.n, Data: c, Stride: tc.ldc})
	if err := tc.check(c, want, bound, 1); err != nil {
		t.Errorf("%v: %v", tc, err)
	}
}

// TestSgemmConcurrent runs Sgemm on several goroutines at once, on the path
// that uses a scratch product, and checks that every result is bitwise the
// one of the same call made alone.
func TestSgemmConcurrent(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 6))
	var cases []*sgemmCase
	var want [][]float32
	for i := range 4 {
		tc := newCase(r, blas.NoTrans, blas.Trans, 17+i, 64-i, 33, 0.5, 2.5)
		cases = append(cases, tc)
		want = append(want, tc.run(t, actfuseblas.Implementation{}))
	}
	got := make([][]float32, len(cases))
	var wg sync.WaitGroup
	for i, tc := range cases {
		wg.Go(func() {
			for range 20 {
				c := slices.Clone(tc.c)
				actfuseblas.Implementation{}.Sgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, tc.a, tc.lda, tc.b, tc.ldb, tc.beta, c, tc.ldc)
				if !sameBits(c, want[i]) {
					got[i] = c
				}
			}
		})
	}
	wg.Wait()
	for i, tc := range cases {
		if got[i] != nil {
			t.Errorf("%v: a concurrent call returned a different result", tc)
		}
	}
}

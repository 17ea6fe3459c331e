package actfuseblas

import (
	"github.com/actfuse/actfuse/internal/scratch"
	"github.com/actfuse/actfuse/kernels"
	"gonum.org/v1/gonum/blas"
)

// Sgemm performs one of the matrix-matrix operations
//
//	C = alpha * A * B + beta * C
//	C = alpha * Aᵀ * B + beta * C
//	C = alpha * A * Bᵀ + beta * C
//	C = alpha * Aᵀ * Bᵀ + beta * C
//
// where A is an m×k or k×m dense matrix, B is an n×k or k×n dense matrix, C is
// an m×n matrix, and alpha and beta are scalars. tA and tB specify whether A or
// B are transposed (blas.Trans and blas.ConjTrans are the same for real
// matrices). All matrices are row-major with leading dimensions lda, ldb and
// ldc; only the m×n block of C is written. C must not overlap A or B.
//
// The arguments are checked as gonum's Sgemm checks them, and a bad one
// panics with gonum's message. The product runs on kernels.Gemm: with
// alpha = 1 the result is kernels.Gemm's, bit for bit (beta = 0 overwrites C,
// beta = 1 adds to it, any other beta scales C first). With alpha ≠ 1 the
// product is formed first and then scaled by alpha, as optimized BLAS
// kernels do; when beta is neither 0 nor 1 as well, the product goes to a
// scratch buffer of m×n values (kept for later calls, so a program that
// repeats its calls does not allocate) and each element of C becomes
// alpha·p + beta·c, evaluated in float64 and rounded to float32 once.
//
// alpha = 0 or k = 0 sets C to beta·C without reading A or B, as the
// reference BLAS does; gonum's Sgemm multiplies A and B by alpha = 0
// instead, so NaN or Inf in them makes NaN in its C.
func (Implementation) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	aTrans, bTrans := checkSgemm(tA, tB, m, n, k, a, lda, b, ldb, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	if alpha == 0 || k == 0 {
		// C = beta·C, without reading A or B, as the reference BLAS does.
		if beta != 1 {
			scale(m, n, beta, c, ldc)
		}
		return
	}
	switch {
	case alpha == 1 && beta == 0:
		kernels.Gemm(aTrans, bTrans, m, n, k, a, lda, b, ldb, c, ldc, nil)
	case alpha == 1:
		if beta != 1 {
			scale(m, n, beta, c, ldc)
		}
		kernels.Gemm(aTrans, bTrans, m, n, k, a, lda, b, ldb, c, ldc, &accumulate)
	case beta == 0:
		kernels.Gemm(aTrans, bTrans, m, n, k, a, lda, b, ldb, c, ldc, nil)
		scale(m, n, alpha, c, ldc)
	default:
		buf := products.Get()
		if cap(*buf) < m*n {
			*buf = make([]float32, m*n)
		}
		p := (*buf)[:m*n]
		kernels.Gemm(aTrans, bTrans, m, n, k, a, lda, b, ldb, p, n, nil)
		combine(m, n, alpha, p, beta, c, ldc)
		products.Put(buf)
	}
}

// accumulate is the epilogue of C += op(A)·op(B); kernels.Gemm does not
// modify it.
var accumulate = kernels.Epilogue{Accumulate: true}

// products holds the scratch buffers of the products that Sgemm scales by
// an alpha ≠ 1 before adding them to beta·C. A buffer grows to the largest
// m×n it has served and stays allocated.
var products scratch.List[[]float32]

// checkSgemm panics unless the arguments describe a valid Sgemm call, with
// the checks, their order and the messages of gonum's Sgemm; the slice
// lengths are checked only when m and n are both positive, as gonum does.
// It returns whether A and B are transposed.
func checkSgemm(tA, tB blas.Transpose, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) (aTrans, bTrans bool) {
	switch tA {
	default:
		panic(badTranspose)
	case blas.NoTrans, blas.Trans, blas.ConjTrans:
	}
	switch tB {
	default:
		panic(badTranspose)
	case blas.NoTrans, blas.Trans, blas.ConjTrans:
	}
	if m < 0 {
		panic(mLT0)
	}
	if n < 0 {
		panic(nLT0)
	}
	if k < 0 {
		panic(kLT0)
	}
	aTrans = tA == blas.Trans || tA == blas.ConjTrans
	if aTrans {
		if lda < max(1, m) {
			panic(badLdA)
		}
	} else {
		if lda < max(1, k) {
			panic(badLdA)
		}
	}
	bTrans = tB == blas.Trans || tB == blas.ConjTrans
	if bTrans {
		if ldb < max(1, k) {
			panic(badLdB)
		}
	} else {
		if ldb < max(1, n) {
			panic(badLdB)
		}
	}
	if ldc < max(1, n) {
		panic(badLdC)
	}
	if m == 0 || n == 0 {
		return aTrans, bTrans
	}
	if aTrans {
		if len(a) < (k-1)*lda+m {
			panic(shortA)
		}
	} else {
		if len(a) < (m-1)*lda+k {
			panic(shortA)
		}
	}
	if bTrans {
		if len(b) < (n-1)*ldb+k {
			panic(shortB)
		}
	} else {
		if len(b) < (k-1)*ldb+n {
			panic(shortB)
		}
	}
	if len(c) < (m-1)*ldc+n {
		panic(shortC)
	}
	return aTrans, bTrans
}

// scale sets the m×n matrix C to s·C; s = 0 writes zeros without reading C,
// so that NaN and Inf in C do not survive.
func scale(m, n int, s float32, c []float32, ldc int) {
	for i := range m {
		row := c[i*ldc : i*ldc+n]
		if s == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= s
		}
	}
}

// combine sets C to alpha·P + beta·C, P being m×n with leading dimension n.
// Each element is evaluated in float64, where both products are exact and
// the sum is rounded at 2^-53, then rounded to float32: the result is within
// a float32 rounding (and 2^-53 relative) of the exact alpha·p + beta·c,
// whether or not the compiler fuses the multiply and the add.
func combine(m, n int, alpha float32, p []float32, beta float32, c []float32, ldc int) {
	a64, b64 := float64(alpha), float64(beta)
	for i := range m {
		prow := p[i*n : i*n+n]
		crow := c[i*ldc : i*ldc+n]
		for j, v := range prow {
			crow[j] = float32(a64*float64(v) + b64*float64(crow[j]))
		}
	}
}

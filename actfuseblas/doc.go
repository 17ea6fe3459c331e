// Package actfuseblas is a gonum BLAS implementation whose float32 matrix
// multiply, Sgemm, runs on actfuse's kernels.Gemm. One line switches a
// program that uses gonum's blas32 package (or anything built on it):
//
//	blas32.Use(actfuseblas.Implementation{})
//
// Implementation satisfies blas.Float32, blas.Float64, blas.Complex64 and
// blas.Complex128, so it also plugs into libraries that take all four, such
// as Gorgonia's gorgonia.Use. Only Sgemm is accelerated; every other routine,
// of every precision, is gonum's own (gonum.Implementation, embedded).
//
// Sgemm follows gonum's conventions: row-major matrices with leading
// dimensions, blas.Trans and blas.ConjTrans alike for real matrices, and the
// same argument checks, in the same order and with the same panic messages,
// as gonum's Sgemm. Its numerics are kernels.Gemm's: every element of op(A)·op(B)
// within the standard error bound of a float64 reference, bitwise the same for
// every thread count (kernels.SetThreads). As in the reference BLAS, beta = 0
// overwrites C without reading it (NaN and Inf already in C are ignored), and
// alpha = 0 or k = 0 scales C by beta without reading A or B.
package actfuseblas

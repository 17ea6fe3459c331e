//go:build !purego

package kernels

// neonGemm computes a block of a Gemm call with the NEON micro-kernel.
func neonGemm(g *gemmCall, i0, i1, j0, j1 int) { genericGemm(g, i0, i1, j0, j1) }

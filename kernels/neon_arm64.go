//go:build !purego

package kernels

// neonImpl wires the NEON assembly of package asm into the dispatch table:
// the activation and optimizer kernels (simd.go) and the GEMM micro-kernel
// (gemm_arm64.go).
func neonImpl() *impl {
	return simdActivations(&impl{name: "neon", gemm: neonGemm})
}

//go:build !purego

package kernels

// avx2Impl wires the AVX2+FMA assembly of package asm into the dispatch
// table: the activation and optimizer kernels (simd.go) and the GEMM
// micro-kernels (gemm_amd64.go).
func avx2Impl() *impl {
	return simdActivations(&impl{name: "avx2", gemm: avx2Gemm})
}

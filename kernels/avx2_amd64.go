//go:build !purego

package kernels

import "github.com/actfuse/actfuse/kernels/asm"

// avx2Impl wires the AVX2+FMA assembly of package asm into the dispatch
// table: the activation kernels (simd.go), the GEMM micro-kernels
// (gemm_amd64.go) and the momentum update.
func avx2Impl() *impl {
	return simdActivations(&impl{name: "avx2", gemm: avx2Gemm, momentumUpdate: asm.MomentumUpdate})
}

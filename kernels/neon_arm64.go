//go:build !purego

package kernels

import "github.com/actfuse/actfuse/kernels/asm"

// neonImpl wires the NEON assembly of package asm into the dispatch table:
// the activation kernels (simd.go), the GEMM micro-kernel (gemm_arm64.go)
// and the momentum update.
func neonImpl() *impl {
	return simdActivations(&impl{name: "neon", gemm: neonGemm, momentumUpdate: asm.MomentumUpdate})
}

//go:build !purego

package kernels

import "github.com/actfuse/actfuse/kernels/asm"

// avx2Impl wires the AVX2+FMA assembly of package asm into the dispatch
// table: the activation kernels (simd.go), the GEMM micro-kernels
// (gemm_amd64.go) and the optimizer updates.
func avx2Impl() *impl {
	return simdActivations(&impl{
		name:           "avx2",
		gemm:           avx2Gemm,
		momentumUpdate: asm.MomentumUpdate,
		sgdUpdate:      avx2SGDUpdate,
		adamUpdate:     avx2AdamUpdate,
	})
}

// avx2SGDUpdate picks the SGD kernel of the momentum variant.
func avx2SGDUpdate(w, v, g []float32, lr, mu, wd float32, nesterov bool) bool {
	switch {
	case mu == 0:
		return asm.SGDUpdate(w, g, lr, wd)
	case nesterov:
		return asm.SGDNesterovUpdate(w, v, g, lr, mu, wd)
	}
	return asm.SGDMomentumUpdate(w, v, g, lr, mu, wd)
}

// avx2AdamUpdate forms 1-beta1 and 1-beta2 as fallback.AdamUpdate does.
func avx2AdamUpdate(w, m, v, g []float32, lr, beta1, beta2, eps, wd float32) bool {
	return asm.AdamUpdate(w, m, v, g, lr, beta1, beta2, 1-beta1, 1-beta2, eps, wd)
}

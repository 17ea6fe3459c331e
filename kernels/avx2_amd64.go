//go:build !purego

package kernels

import "github.com/actfuse/actfuse/fallback"

// avx2Impl wires the AVX2+FMA assembly of package asm into the dispatch
// table; kernels without an assembly version yet use package fallback.
func avx2Impl() *impl {
	return &impl{
		name:     "avx2",
		forward:  fallback.Forward,
		backward: fallback.Backward,
		gemm:     avx2Gemm,
	}
}

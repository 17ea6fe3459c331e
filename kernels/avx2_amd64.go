//go:build !purego

package kernels

import (
	"github.com/actfuse/actfuse/fallback"
	"github.com/actfuse/actfuse/kernels/asm"
)

// avx2Impl wires the AVX2+FMA assembly of package asm into the dispatch
// table; kernels without an assembly version use package fallback.
func avx2Impl() *impl {
	return &impl{
		name:     "avx2",
		forward:  avx2Forward,
		backward: fallback.Backward,
		gemm:     avx2Gemm,
	}
}

// avx2Forward computes dst = f(x) with one assembly call over the whole slice.
func avx2Forward(a Activation, dst, x []float32) {
	switch a.Func {
	case ReLU:
		asm.ForwardReLU(dst, x)
	default:
		fallback.Forward(a, dst, x)
	}
}

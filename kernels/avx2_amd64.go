//go:build !purego

package kernels

import (
	"fmt"

	"github.com/actfuse/actfuse/fallback"
	"github.com/actfuse/actfuse/kernels/asm"
)

// avx2Impl wires the AVX2+FMA assembly of package asm into the dispatch
// table. Every activation kernel makes one assembly call per slice or
// matrix.
func avx2Impl() *impl {
	return &impl{
		name:         "avx2",
		forward:      avx2Forward,
		backward:     avx2Backward,
		backwardBias: avx2BackwardBias,
		maxoutForward: func(k int, dst []float32, argmax []int32, x []float32) {
			if k > maxGatherK {
				fallback.MaxoutForward(k, dst, argmax, x)
				return
			}
			asm.MaxoutForward(k, dst, argmax, x)
		},
		maxoutBackward: func(k int, dx, dy []float32, argmax []int32) {
			if i := asm.MaxoutBackward(k, dx, dy, argmax); i >= 0 {
				panic(fmt.Sprintf("actfuse: MaxoutBackward: argmax[%d] = %d outside [0, k = %d)", i, argmax[i], k))
			}
		},
		gemm: avx2Gemm,
	}
}

// maxGatherK is the largest group size of asm.MaxoutForward, whose gather
// indices 7·k must fit in an int32.
const maxGatherK = 1 << 28

// avx2Forward computes dst = f(x).
func avx2Forward(a Activation, dst, x []float32) {
	switch a.Func {
	case Identity:
		copy(dst, x)
	case ReLU:
		asm.ReLUForward(dst, x)
	case LeakyReLU:
		asm.LeakyReLUForward(dst, x, a.Alpha)
	case ELU:
		asm.ELUForward(dst, x, a.Alpha)
	case Sigmoid:
		asm.SigmoidForward(dst, x)
	case Tanh:
		asm.TanhForward(dst, x)
	default:
		fallback.Forward(a, dst, x)
	}
}

// avx2Backward computes dx = dy ⊙ f'(y).
func avx2Backward(a Activation, dx, dy, y []float32) {
	switch a.Func {
	case Identity:
		copy(dx, dy)
	case ReLU:
		asm.ReLUBackward(dx, dy, y)
	case LeakyReLU:
		asm.LeakyReLUBackward(dx, dy, y, a.Alpha)
	case ELU:
		asm.ELUBackward(dx, dy, y, a.Alpha)
	case Sigmoid:
		asm.SigmoidBackward(dx, dy, y)
	case Tanh:
		asm.TanhBackward(dx, dy, y)
	default:
		fallback.Backward(a, dx, dy, y)
	}
}

// avx2BackwardBias computes dz = dy ⊙ f'(y) and the column sums of dz into
// db (when not nil) with one assembly call over the whole matrix.
func avx2BackwardBias(a Activation, m, n int, dy []float32, lddy int, y []float32, ldy int, dz []float32, lddz int, db []float32) {
	if db != nil {
		db = db[:n]
		clear(db)
	}
	if m == 0 || n == 0 {
		return
	}
	switch a.Func {
	case Identity:
		asm.IdentityBackwardBias(m, n, dy, lddy, y, ldy, dz, lddz, db)
	case ReLU:
		asm.ReLUBackwardBias(m, n, dy, lddy, y, ldy, dz, lddz, db)
	case LeakyReLU:
		asm.LeakyReLUBackwardBias(m, n, dy, lddy, y, ldy, dz, lddz, db, a.Alpha)
	case ELU:
		asm.ELUBackwardBias(m, n, dy, lddy, y, ldy, dz, lddz, db, a.Alpha)
	case Sigmoid:
		asm.SigmoidBackwardBias(m, n, dy, lddy, y, ldy, dz, lddz, db)
	case Tanh:
		asm.TanhBackwardBias(m, n, dy, lddy, y, ldy, dz, lddz, db)
	default:
		fallback.BackwardBias(a, m, n, dy, lddy, y, ldy, dz, lddz, db)
	}
}

//go:build !purego

package kernels

import (
	"fmt"

	"github.com/actfuse/actfuse/fallback"
	"github.com/actfuse/actfuse/kernels/asm"
)

// neonImpl wires the NEON assembly of package asm into the dispatch table;
// kernels without an assembly version use package fallback.
func neonImpl() *impl {
	return &impl{
		name:     "neon",
		forward:  neonForward,
		backward: neonBackward,
		gemm:     neonGemm,

		backwardBias:  neonBackwardBias,
		maxoutForward: asm.MaxoutForward,
		maxoutBackward: func(k int, dx, dy []float32, argmax []int32) {
			if i := asm.MaxoutBackward(k, dx, dy, argmax); i >= 0 {
				panic(fmt.Sprintf("actfuse: MaxoutBackward: argmax[%d] = %d outside [0, k = %d)", i, argmax[i], k))
			}
		},
	}
}

// neonForward computes dst = f(x) with the NEON kernel of a.Func.
func neonForward(a Activation, dst, x []float32) {
	switch a.Func {
	case fallback.Identity:
		copy(dst, x)
	case fallback.ReLU:
		asm.ReLUForward(dst, x)
	case fallback.LeakyReLU:
		asm.LeakyReLUForward(dst, x, a.Alpha)
	case fallback.ELU:
		asm.ELUForward(dst, x, a.Alpha)
	case fallback.Sigmoid:
		asm.SigmoidForward(dst, x)
	case fallback.Tanh:
		asm.TanhForward(dst, x)
	default:
		fallback.Forward(a, dst, x)
	}
}

// neonBackward computes dx = dy ⊙ f'(y) with the NEON kernel of a.Func.
func neonBackward(a Activation, dx, dy, y []float32) {
	switch a.Func {
	case fallback.Identity:
		copy(dx, dy)
	case fallback.ReLU:
		asm.ReLUBackward(dx, dy, y)
	case fallback.LeakyReLU:
		asm.LeakyReLUBackward(dx, dy, y, a.Alpha)
	case fallback.ELU:
		asm.ELUBackward(dx, dy, y, a.Alpha)
	case fallback.Sigmoid:
		asm.SigmoidBackward(dx, dy, y)
	case fallback.Tanh:
		asm.TanhBackward(dx, dy, y)
	default:
		fallback.Backward(a, dx, dy, y)
	}
}

// neonBackwardBias computes dz = dy ⊙ f'(y) and the column sums of dz into db
// (when not nil) with one assembly call over the whole matrix.
func neonBackwardBias(a Activation, m, n int, dy []float32, lddy int, y []float32, ldy int, dz []float32, lddz int, db []float32) {
	if db != nil {
		db = db[:n]
		clear(db)
	}
	if m == 0 || n == 0 {
		return
	}
	switch a.Func {
	case fallback.Identity:
		asm.IdentityBackwardBias(m, n, dy, lddy, y, ldy, dz, lddz, db)
	case fallback.ReLU:
		asm.ReLUBackwardBias(m, n, dy, lddy, y, ldy, dz, lddz, db)
	case fallback.LeakyReLU:
		asm.LeakyReLUBackwardBias(m, n, dy, lddy, y, ldy, dz, lddz, db, a.Alpha)
	case fallback.ELU:
		asm.ELUBackwardBias(m, n, dy, lddy, y, ldy, dz, lddz, db, a.Alpha)
	case fallback.Sigmoid:
		asm.SigmoidBackwardBias(m, n, dy, lddy, y, ldy, dz, lddz, db)
	case fallback.Tanh:
		asm.TanhBackwardBias(m, n, dy, lddy, y, ldy, dz, lddz, db)
	default:
		fallback.BackwardBias(a, m, n, dy, lddy, y, ldy, dz, lddz, db)
	}
}

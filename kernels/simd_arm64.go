//go:build !purego

package kernels

import (
	"fmt"

	"github.com/actfuse/actfuse/fallback"
	"github.com/actfuse/actfuse/kernels/asm"
)

// The wrappers of the NEON activation and optimizer kernels. Every wrapper
// makes one assembly call per slice or matrix.

// simdActivations fills the activation and optimizer fields of im with the
// assembly kernels.
func simdActivations(im *impl) *impl {
	im.forward = simdForward
	im.backward = simdBackward
	im.backwardBias = simdBackwardBias
	im.maxoutForward = simdMaxoutForward
	im.maxoutBackward = simdMaxoutBackward
	im.momentumUpdate = asm.MomentumUpdate
	im.sgdUpdate = simdSGDUpdate
	im.adamUpdate = simdAdamUpdate
	return im
}

// simdSGDUpdate picks the SGD kernel of the momentum variant.
func simdSGDUpdate(w, v, g []float32, lr, mu, wd float32, nesterov bool) bool {
	switch {
	case mu == 0:
		return asm.SGDUpdate(w, g, lr, wd)
	case nesterov:
		return asm.SGDNesterovUpdate(w, v, g, lr, mu, wd)
	}
	return asm.SGDMomentumUpdate(w, v, g, lr, mu, wd)
}

// simdAdamUpdate forms 1-beta1 and 1-beta2 as fallback.AdamUpdate does.
func simdAdamUpdate(w, m, v, g []float32, lr, beta1, beta2, eps, wd float32) bool {
	return asm.AdamUpdate(w, m, v, g, lr, beta1, beta2, 1-beta1, 1-beta2, eps, wd)
}

// simdForward computes dst = f(x).
func simdForward(a Activation, dst, x []float32) {
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

// simdBackward computes dx = dy ⊙ f'(y).
func simdBackward(a Activation, dx, dy, y []float32) {
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

// simdBackwardBias computes dz = dy ⊙ f'(y) and the column sums of dz into
// db (when not nil) with one assembly call over the whole matrix.
func simdBackwardBias(a Activation, m, n int, dy []float32, lddy int, y []float32, ldy int, dz []float32, lddz int, db []float32) {
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

// simdMaxoutForward computes the maxima and argmaxima of groups of k.
func simdMaxoutForward(k int, dst []float32, argmax []int32, x []float32) {
	asm.MaxoutForward(k, dst, argmax, x)
}

// simdMaxoutBackward routes dy to the winners; the kernel reports the first
// argmax outside [0, k), which becomes a panic here.
func simdMaxoutBackward(k int, dx, dy []float32, argmax []int32) {
	if i := asm.MaxoutBackward(k, dx, dy, argmax); i >= 0 {
		panic(fmt.Sprintf("actfuse: MaxoutBackward: argmax[%d] = %d outside [0, k = %d)", i, argmax[i], k))
	}
}

//go:build !purego && (amd64 || arm64)

package kernels

import (
	"fmt"

	"github.com/actfuse/actfuse/fallback"
	"github.com/actfuse/actfuse/internal/desc"
	"github.com/actfuse/actfuse/kernels/asm"
)

// simdImpl returns the implementation name made of the elementwise kernels
// of s (asm.AVX2, asm.NEON) and the GEMM context gemm. Every wrapper makes one
// assembly call per slice or matrix.
func simdImpl(name string, s *asm.Set, gemm *gemmContext) *impl {
	return &impl{
		name: name,
		forward: func(a Activation, dst, x []float32) {
			if !s.Forward(a.Func, dst, x, setParams(a)) {
				copy(dst, x)
			}
		},
		backward: func(a Activation, dx, dy, y []float32) {
			if !s.Backward(a.Func, dx, dy, y, setParams(a)) {
				copy(dx, dy)
			}
		},
		backwardBias: func(a Activation, m, n int, dy []float32, lddy int, y []float32, ldy int, dz []float32, lddz int, db []float32) {
			if db != nil {
				db = db[:n]
				clear(db)
			}
			if m == 0 || n == 0 {
				return
			}
			s.BackwardBias(a.Func, m, n, dy, lddy, y, ldy, dz, lddz, db, setParams(a))
		},
		maxoutForward: func(k int, dst []float32, argmax []int32, x []float32) {
			if k > maxGatherK {
				fallback.MaxoutForward(k, dst, argmax, x)
				return
			}
			s.MaxoutForward(k, dst, argmax, x)
		},
		maxoutBackward: func(k int, dx, dy []float32, argmax []int32) {
			// The kernel reports the first argmax outside [0, k).
			if i := s.MaxoutBackward(k, dx, dy, argmax); i >= 0 {
				panic(fmt.Sprintf("actfuse: MaxoutBackward: argmax[%d] = %d outside [0, k = %d)", i, argmax[i], k))
			}
		},
		momentumUpdate: s.MomentumUpdate,
		sgdUpdate: func(w, v, g []float32, lr, mu, wd float32, nesterov bool) bool {
			switch {
			case mu == 0:
				return s.SGDUpdate(w, g, lr, wd)
			case nesterov:
				return s.SGDNesterovUpdate(w, v, g, lr, mu, wd)
			}
			return s.SGDMomentumUpdate(w, v, g, lr, mu, wd)
		},
		adamUpdate: func(w, m, v, g []float32, lr, beta1, beta2, eps, wd float32) bool {
			// 1-beta1 and 1-beta2 as fallback.AdamUpdate forms them.
			return s.AdamUpdate(w, m, v, g, lr, beta1, beta2, 1-beta1, 1-beta2, eps, wd)
		},
		gemm: gemm,
	}
}

// setParams returns the parameters of a (Activation.Params) as the
// kernels of an asm.Set take them, without a call for a function that has
// none (a, checked by its entry point, names a function).
func setParams(a Activation) (p asm.Params) {
	if len(desc.Funcs[a.Func].Params) > 0 {
		p.P0, p.P1, p.P2, p.P3 = a.ParamValues()
	}
	return p
}

// maxGatherK is the largest group size the maxout kernels take: they index
// with int32 offsets up to 7·k.
const maxGatherK = 1 << 28

// ptr returns the address of s[0], or nil for an empty slice: the form in
// which the assembly kernels take their matrices.
func ptr(s []float32) *float32 {
	if len(s) == 0 {
		return nil
	}
	return &s[0]
}

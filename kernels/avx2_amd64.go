//go:build !purego

package kernels

import (
	"fmt"

	"github.com/actfuse/actfuse/fallback"
	"github.com/actfuse/actfuse/kernels/asm"
)

// avx2Impl wires the AVX2+FMA assembly of package asm into the dispatch
// table: the activation and optimizer kernels through the generated
// switches (asm/act_switch_amd64.go), the GEMM through its context
// (gemm_amd64.go).
func avx2Impl() *impl {
	return &impl{
		name: "avx2",
		forward: func(a Activation, dst, x []float32) {
			p := a.Params()
			if !asm.ForwardAVX2(a.Func, dst, x, &p) {
				copy(dst, x)
			}
		},
		backward: func(a Activation, dx, dy, y []float32) {
			p := a.Params()
			if !asm.BackwardAVX2(a.Func, dx, dy, y, &p) {
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
			p := a.Params()
			asm.BackwardBiasAVX2(a.Func, m, n, dy, lddy, y, ldy, dz, lddz, db, &p)
		},
		maxoutForward: func(k int, dst []float32, argmax []int32, x []float32) {
			if k > maxGatherK {
				fallback.MaxoutForward(k, dst, argmax, x)
				return
			}
			asm.MaxoutForwardAVX2(k, dst, argmax, x)
		},
		maxoutBackward: func(k int, dx, dy []float32, argmax []int32) {
			if i := asm.MaxoutBackwardAVX2(k, dx, dy, argmax); i >= 0 {
				panic(fmt.Sprintf("actfuse: MaxoutBackward: argmax[%d] = %d outside [0, k = %d)", i, argmax[i], k))
			}
		},
		momentumUpdate: asm.MomentumUpdateAVX2,
		sgdUpdate: func(w, v, g []float32, lr, mu, wd float32, nesterov bool) bool {
			switch {
			case mu == 0:
				return asm.SGDUpdateAVX2(w, g, lr, wd)
			case nesterov:
				return asm.SGDNesterovUpdateAVX2(w, v, g, lr, mu, wd)
			}
			return asm.SGDMomentumUpdateAVX2(w, v, g, lr, mu, wd)
		},
		adamUpdate: func(w, m, v, g []float32, lr, beta1, beta2, eps, wd float32) bool {
			// 1-beta1 and 1-beta2 as fallback.AdamUpdate forms them.
			return asm.AdamUpdateAVX2(w, m, v, g, lr, beta1, beta2, 1-beta1, 1-beta2, eps, wd)
		},
		gemm: avx2Gemm,
	}
}

// maxGatherK is the largest group size the AVX2 maxout kernel takes: it
// gathers with int32 indices up to 7·k.
const maxGatherK = 1 << 28

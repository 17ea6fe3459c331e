package kernels

import (
	"fmt"

	"github.com/actfuse/actfuse/fallback"
)

// MomentumUpdate finishes a step of SGD with momentum in place: v holds
// μ·v_old + g on entry (a weight-gradient Gemm with Accumulate into v adds g
// to the velocity scaled by the previous call), and for each i, with L2 weight
// decay wd,
//
//	u = v[i] + wd·w[i],   w[i] -= lr·u,   v[i] = mu·u
//
// so that v leaves holding μ times the new velocity. Every implementation
// gives the bits of fallback.MomentumUpdate (no fused multiply-add). It
// reports whether every updated weight is finite, the check a trainer needs
// to stop on divergence, at no extra pass over w. It panics if len(v) !=
// len(w).
func MomentumUpdate(w, v []float32, lr, mu, wd float32) bool {
	if len(v) != len(w) {
		panic(fmt.Sprintf("actfuse: MomentumUpdate: len(v) = %d != len(w) = %d", len(v), len(w)))
	}
	if f := active.Load().momentumUpdate; f != nil {
		return f(w, v, lr, mu, wd)
	}
	return fallback.MomentumUpdate(w, v, lr, mu, wd)
}

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

// SGDUpdate applies a step of stochastic gradient descent to w in place from
// the gradient g, with momentum mu (0 for none, and then v is not used), the
// Nesterov form when nesterov is set, and L2 weight decay wd; see
// fallback.SGDUpdate for the exact arithmetic, which every implementation
// reproduces bit for bit. It reports whether every updated weight is finite.
// It panics if len(g) != len(w), or len(v) != len(w) with mu != 0.
func SGDUpdate(w, v, g []float32, lr, mu, wd float32, nesterov bool) bool {
	if len(g) != len(w) {
		panic(fmt.Sprintf("actfuse: SGDUpdate: len(g) = %d != len(w) = %d", len(g), len(w)))
	}
	if mu != 0 && len(v) != len(w) {
		panic(fmt.Sprintf("actfuse: SGDUpdate: len(v) = %d != len(w) = %d", len(v), len(w)))
	}
	if f := active.Load().sgdUpdate; f != nil {
		return f(w, v, g, lr, mu, wd, nesterov)
	}
	return fallback.SGDUpdate(w, v, g, lr, mu, wd, nesterov)
}

// AdamUpdate applies a step of Adam to w in place from the gradient g, with
// the moment estimates m and v, L2 weight decay wd, and lr and eps that
// already carry the step's bias corrections; see fallback.AdamUpdate for
// the exact arithmetic, which every implementation reproduces bit for bit.
// It reports whether every updated weight is finite. It panics unless m, v
// and g have the length of w.
func AdamUpdate(w, m, v, g []float32, lr, beta1, beta2, eps, wd float32) bool {
	for _, s := range []struct {
		name string
		n    int
	}{{"m", len(m)}, {"v", len(v)}, {"g", len(g)}} {
		if s.n != len(w) {
			panic(fmt.Sprintf("actfuse: AdamUpdate: len(%s) = %d != len(w) = %d", s.name, s.n, len(w)))
		}
	}
	if f := active.Load().adamUpdate; f != nil {
		return f(w, m, v, g, lr, beta1, beta2, eps, wd)
	}
	return fallback.AdamUpdate(w, m, v, g, lr, beta1, beta2, eps, wd)
}

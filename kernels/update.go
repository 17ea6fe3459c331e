package kernels

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/actfuse/actfuse/fallback"
	"github.com/actfuse/actfuse/internal/scratch"
)

// The update functions split a large update into contiguous chunks over the
// goroutines of the pool (see SetThreads and updateJob.run); every element
// is updated by the same operations whatever the split.

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
	if parts := updateParts(len(w)); parts > 1 {
		j := updateJobs.Get()
		j.op, j.w, j.v, j.lr, j.mu, j.wd = opMomentum, w, v, lr, mu, wd
		return j.run(parts)
	}
	return momentumUpdate(w, v, lr, mu, wd)
}

func momentumUpdate(w, v []float32, lr, mu, wd float32) bool {
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
	if parts := updateParts(len(w)); parts > 1 {
		j := updateJobs.Get()
		j.op, j.w, j.v, j.g, j.lr, j.mu, j.wd, j.nesterov = opSGD, w, v, g, lr, mu, wd, nesterov
		return j.run(parts)
	}
	return sgdUpdate(w, v, g, lr, mu, wd, nesterov)
}

func sgdUpdate(w, v, g []float32, lr, mu, wd float32, nesterov bool) bool {
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
	if parts := updateParts(len(w)); parts > 1 {
		j := updateJobs.Get()
		j.op, j.w, j.m, j.v, j.g, j.lr, j.beta1, j.beta2, j.eps, j.wd = opAdam, w, m, v, g, lr, beta1, beta2, eps, wd
		return j.run(parts)
	}
	return adamUpdate(w, m, v, g, lr, beta1, beta2, eps, wd)
}

func adamUpdate(w, m, v, g []float32, lr, beta1, beta2, eps, wd float32) bool {
	if f := active.Load().adamUpdate; f != nil {
		return f(w, m, v, g, lr, beta1, beta2, eps, wd)
	}
	return fallback.AdamUpdate(w, m, v, g, lr, beta1, beta2, eps, wd)
}

// The optimizer updates an updateJob applies.
const (
	opMomentum = iota
	opSGD
	opAdam
)

// updateJob is one call of an update function split over goroutines, pooled
// so that calls do not allocate.
type updateJob struct {
	op                            int
	w, m, v, g                    []float32 // v: the velocity, or Adam's second moment
	lr, mu, wd, beta1, beta2, eps float32
	nesterov                      bool

	bounds []int                // chunk boundaries, reused across calls
	ok     [maxUpdateParts]bool // finiteness of each worker's chunk
	wg     sync.WaitGroup
	left   atomic.Int32 // chunks not yet done, which the caller polls (spinWait)
}

var updateJobs scratch.List[updateJob]

// chunk applies the update to the elements [lo, hi) and reports whether
// their new weights are finite.
func (j *updateJob) chunk(lo, hi int) bool {
	w := j.w[lo:hi]
	switch j.op {
	case opMomentum:
		return momentumUpdate(w, j.v[lo:hi], j.lr, j.mu, j.wd)
	case opSGD:
		v := j.v // not used without momentum, and then of any length
		if j.mu != 0 {
			v = v[lo:hi]
		}
		return sgdUpdate(w, v, j.g[lo:hi], j.lr, j.mu, j.wd, j.nesterov)
	}
	return adamUpdate(w, j.m[lo:hi], j.v[lo:hi], j.g[lo:hi], j.lr, j.beta1, j.beta2, j.eps, j.wd)
}

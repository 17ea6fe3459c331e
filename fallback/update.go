package fallback

import "math"

// MomentumUpdate finishes a step of SGD with momentum in place, for a
// velocity v that already holds μ·v_old + g, the gradient added to the
// scaled velocity of the previous step (a weight-gradient Gemm with
// Accumulate into v does that). For each i, with L2 weight decay wd,
//
//	u = v[i] + wd·w[i],   w[i] -= lr·u,   v[i] = mu·u
//
// so v leaves holding μ times the new velocity, ready for the next
// gradient. Each operation is rounded to float32 on its own (no fused
// multiply-add), which every implementation reproduces bit for bit.
// It reports whether every updated w[i] is finite; the whole slice is
// updated either way. len(v) must equal len(w).
func MomentumUpdate(w, v []float32, lr, mu, wd float32) bool {
	v = v[:len(w)]
	// w - w is +0 for a finite w and NaN otherwise; the sums stay 0 only
	// if every new weight is finite. Two chains halve the add latency.
	var s0, s1 float32
	i := 0
	for ; i+2 <= len(w); i += 2 {
		u0 := v[i] + float32(wd*w[i])
		u1 := v[i+1] + float32(wd*w[i+1])
		w0 := w[i] - float32(lr*u0)
		w1 := w[i+1] - float32(lr*u1)
		w[i], w[i+1] = w0, w1
		v[i], v[i+1] = mu*u0, mu*u1
		s0 += w0 - w0
		s1 += w1 - w1
	}
	for ; i < len(w); i++ {
		u := v[i] + float32(wd*w[i])
		wi := w[i] - float32(lr*u)
		w[i] = wi
		v[i] = mu * u
		s0 += wi - wi
	}
	return s0+s1 == 0
}

// SGDUpdate applies a step of stochastic gradient descent to w in place,
// from the gradient g with L2 weight decay wd. With g' = g[i] + wd·w[i]:
//
//	mu = 0:     w[i] -= lr·g'                      (v is not used)
//	classical:  v[i] = mu·v[i] + g',  w[i] -= lr·v[i]
//	nesterov:   v[i] = mu·v[i] + g',  w[i] -= lr·(g' + mu·v[i])
//
// Each operation is rounded to float32 on its own (no fused multiply-add),
// which every implementation reproduces bit for bit. It reports whether
// every new w[i] is finite. len(g) must equal len(w), and so must len(v)
// unless mu = 0.
func SGDUpdate(w, v, g []float32, lr, mu, wd float32, nesterov bool) bool {
	g = g[:len(w)]
	var s float32 // w - w is +0 for a finite w, NaN otherwise
	switch {
	case mu == 0:
		for i, wi := range w {
			gi := g[i] + float32(wd*wi)
			wi -= float32(lr * gi)
			w[i] = wi
			s += wi - wi
		}
	case nesterov:
		v = v[:len(w)]
		for i, wi := range w {
			gi := g[i] + float32(wd*wi)
			vi := float32(mu*v[i]) + gi
			v[i] = vi
			wi -= float32(lr * (gi + float32(mu*vi)))
			w[i] = wi
			s += wi - wi
		}
	default:
		v = v[:len(w)]
		for i, wi := range w {
			gi := g[i] + float32(wd*wi)
			vi := float32(mu*v[i]) + gi
			v[i] = vi
			wi -= float32(lr * vi)
			w[i] = wi
			s += wi - wi
		}
	}
	return s == 0
}

// AdamUpdate applies a step of Adam to w in place, from the gradient g with
// L2 weight decay wd; m and v are the first and second moment estimates,
// and lr and eps already carry the bias corrections of the step. With
// g' = g[i] + wd·w[i]:
//
//	m[i] = beta1·m[i] + (1-beta1)·g'
//	v[i] = beta2·v[i] + (1-beta2)·g'·g'
//	w[i] -= lr·m[i] / (sqrt(v[i]) + eps)
//
// Each operation is rounded to float32 on its own (the square root is
// correctly rounded), which every implementation reproduces bit for bit.
// It reports whether every new w[i] is finite. m, v and g must have the
// length of w.
func AdamUpdate(w, m, v, g []float32, lr, beta1, beta2, eps, wd float32) bool {
	m, v, g = m[:len(w)], v[:len(w)], g[:len(w)]
	c1, c2 := 1-beta1, 1-beta2
	var s float32
	for i, wi := range w {
		gi := g[i] + float32(wd*wi)
		mi := float32(beta1*m[i]) + float32(c1*gi)
		vi := float32(beta2*v[i]) + float32(float32(c2*gi)*gi)
		m[i], v[i] = mi, vi
		wi -= float32(lr*mi) / (float32(math.Sqrt(float64(vi))) + eps)
		w[i] = wi
		s += wi - wi
	}
	return s == 0
}

package fallback

// finite reports whether every w[i] is finite: w - w is +0 for a finite w
// and NaN otherwise, so the sum stays 0 only if all are.
func finite(w []float32) bool {
	var s0, s1 float32
	i := 0
	for ; i+2 <= len(w); i += 2 {
		s0 += w[i] - w[i]
		s1 += w[i+1] - w[i+1]
	}
	for ; i < len(w); i++ {
		s0 += w[i] - w[i]
	}
	return s0+s1 == 0
}

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
	momentumUpdate(w, v, &[8]float32{lr, mu, wd})
	return finite(w)
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
	switch {
	case mu == 0:
		sgdUpdate(w, g, &[8]float32{lr, wd})
	case nesterov:
		v = v[:len(w)]
		sgdNesterovUpdate(w, v, g, &[8]float32{lr, mu, wd})
	default:
		v = v[:len(w)]
		sgdMomentumUpdate(w, v, g, &[8]float32{lr, mu, wd})
	}
	return finite(w)
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
	adamUpdate(w, m, v, g, &[8]float32{lr, beta1, beta2, 1 - beta1, 1 - beta2, eps, wd})
	return finite(w)
}

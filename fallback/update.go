package fallback

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

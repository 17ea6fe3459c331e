package fallback

// PLACEHOLDER: replaced by the real implementation.

// BackwardBias computes, for the m×n matrices dy, y and dz, dz = dy ⊙ f'(y)
// for the activation act (y is the saved forward output), and, when db is not
// nil, the bias gradient db[j] = Σ_i dz[i,j]. dz may be dy itself.
func BackwardBias(act Activation, m, n int, dy []float32, lddy int, y []float32, ldy int, dz []float32, lddz int, db []float32) {
	CheckBackwardBias(act, m, n, dy, lddy, y, ldy, dz, lddz, db)
	if db != nil {
		clear(db[:n])
	}
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			v := dy[i*lddy+j] * deriv(act, y[i*ldy+j])
			dz[i*lddz+j] = v
			if db != nil {
				db[j] += v
			}
		}
	}
}

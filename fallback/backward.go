package fallback

// bbColumns is the width of the column blocks of BackwardBias: a block of db
// (4 KiB) stays in L1 while the rows stream past.
const bbColumns = 1024

// BackwardBias computes, for the m×n matrices dy, y and dz, dz = dy ⊙ f'(y)
// for the activation act (y is the saved forward output; each element exactly
// as Backward computes it), and, when db is not nil, the bias gradient
// db[j] = Σ_i dz[i,j]. dz may be dy itself.
//
// Summation order: db[j] is accumulated in float32 in row order,
// ((dz[0,j] + dz[1,j]) + dz[2,j]) + ..., which is what a vectorized kernel
// adding whole rows does, so implementations can agree bit for bit. Its
// error is at most (m-1)·2^-24·Σ_i |dz[i,j]| (typically √m times the
// rounding of one addition).
func BackwardBias(act Activation, m, n int, dy []float32, lddy int, y []float32, ldy int, dz []float32, lddz int, db []float32) {
	CheckBackwardBias(act, m, n, dy, lddy, y, ldy, dz, lddz, db)
	if db != nil {
		clear(db[:n])
	}
	if m == 0 || n == 0 {
		return
	}
	for j0 := 0; j0 < n; j0 += bbColumns {
		j1 := min(j0+bbColumns, n)
		for i := range m {
			row := dz[i*lddz+j0 : i*lddz+j1]
			backwardRow(act, row, dy[i*lddy+j0:i*lddy+j1], y[i*ldy+j0:i*ldy+j1])
			if db != nil {
				acc := db[j0:j1]
				acc = acc[:len(row)]
				for j, v := range row {
					acc[j] += v
				}
			}
		}
	}
}

package ref

import (
	"fmt"
	"math"
)

// Minimax returns the coefficients c[0..deg] (lowest degree first) of the
// polynomial p(t) = Σ c[k]·t^k that approximately minimizes
//
//	max over t in [lo, hi] of |w(t)·(g(t) - p(t))|,
//
// together with that maximum weighted error measured on the fitting grid.
//
// The fit is Lawson's algorithm: iteratively reweighted least squares on
// 4000 Chebyshev-distributed points of [lo, hi], each least-squares problem
// solved by Householder QR in the variable scaled to [-1, 1] so that the
// monomial basis stays well conditioned. It converges to the discrete minimax
// polynomial; 500 iterations bring it within a few percent of the optimum,
// which is far below the rounding of the coefficients to float32. Points
// where w is zero or not finite are skipped.
func Minimax(g, w func(t float64) float64, lo, hi float64, deg int) (coef []float64, maxErr float64) {
	const npts, iters = 4000, 500
	if deg < 0 || !(lo < hi) {
		panic(fmt.Sprintf("ref: Minimax: bad arguments deg = %d, [lo, hi] = [%g, %g]", deg, lo, hi))
	}
	mid, half := (lo+hi)/2, (hi-lo)/2
	var ts, gs, ws []float64
	for i := range npts {
		s := -math.Cos(math.Pi * (float64(i) + 0.5) / npts)
		t := mid + half*s
		wt := w(t)
		gt := g(t)
		if wt == 0 || math.IsNaN(wt) || math.IsInf(wt, 0) || math.IsNaN(gt) || math.IsInf(gt, 0) {
			continue
		}
		ts, gs, ws = append(ts, s), append(gs, gt), append(ws, math.Abs(wt))
	}
	n, m := len(ts), deg+1
	if n < 2*m {
		panic("ref: Minimax: too few valid points")
	}
	u := make([]float64, n) // Lawson weights
	for i := range u {
		u[i] = 1 / float64(n)
	}
	a := make([]float64, n*m)
	b := make([]float64, n)
	var cs []float64 // coefficients in the scaled variable s
	for range iters {
		for i := range n {
			r := math.Sqrt(u[i]) * ws[i]
			p := 1.0
			for k := range m {
				a[i*m+k] = r * p
				p *= ts[i]
			}
			b[i] = r * gs[i]
		}
		cs = leastSquares(a, b, n, m)
		sum := 0.0
		for i := range n {
			e := math.Abs(ws[i] * (gs[i] - horner(cs, ts[i])))
			u[i] *= e
			sum += u[i]
		}
		if sum == 0 {
			break
		}
		for i := range u {
			u[i] /= sum
		}
	}
	for i := range n {
		maxErr = max(maxErr, math.Abs(ws[i]*(gs[i]-horner(cs, ts[i]))))
	}
	return unscale(cs, mid, half), maxErr
}

// horner evaluates Σ c[k]·t^k.
func horner(c []float64, t float64) float64 {
	p := 0.0
	for k := len(c) - 1; k >= 0; k-- {
		p = p*t + c[k]
	}
	return p
}

// unscale turns the coefficients of p(s), s = (t-mid)/half, into those of
// the same polynomial in t.
func unscale(cs []float64, mid, half float64) []float64 {
	m := len(cs)
	out := make([]float64, m)
	// (t-mid)^k / half^k expanded with binomial coefficients.
	for k, c := range cs {
		scale := c / math.Pow(half, float64(k))
		binom := 1.0
		for j := 0; j <= k; j++ {
			// term binom(k, j)·t^j·(-mid)^(k-j)
			out[j] += scale * binom * math.Pow(-mid, float64(k-j))
			binom = binom * float64(k-j) / float64(j+1)
		}
	}
	return out
}

// leastSquares solves min ||A·x - b|| for the n×m row-major matrix A (n >= m)
// by Householder QR. A and b are overwritten.
func leastSquares(a, b []float64, n, m int) []float64 {
	for k := range m {
		norm := 0.0
		for i := k; i < n; i++ {
			norm = math.Hypot(norm, a[i*m+k])
		}
		if a[k*m+k] > 0 {
			norm = -norm
		}
		// v = a[k:,k] - norm·e1, stored in place.
		a[k*m+k] -= norm
		vv := 0.0
		for i := k; i < n; i++ {
			vv += a[i*m+k] * a[i*m+k]
		}
		if vv == 0 {
			continue
		}
		for j := k + 1; j < m; j++ {
			d := 0.0
			for i := k; i < n; i++ {
				d += a[i*m+k] * a[i*m+j]
			}
			f := 2 * d / vv
			for i := k; i < n; i++ {
				a[i*m+j] -= f * a[i*m+k]
			}
		}
		d := 0.0
		for i := k; i < n; i++ {
			d += a[i*m+k] * b[i]
		}
		f := 2 * d / vv
		for i := k; i < n; i++ {
			b[i] -= f * a[i*m+k]
		}
		a[k*m+k] = norm // R's diagonal
	}
	x := make([]float64, m)
	for k := m - 1; k >= 0; k-- {
		s := b[k]
		for j := k + 1; j < m; j++ {
			s -= a[k*m+j] * x[j]
		}
		x[k] = s / a[k*m+k]
	}
	return x
}

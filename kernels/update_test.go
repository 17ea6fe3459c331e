package kernels_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/actfuse/actfuse/fallback"
	"github.com/actfuse/actfuse/kernels"
)

// TestMomentumUpdate checks MomentumUpdate for lengths 0..70 at several
// offsets, with guards around both slices: every implementation gives the
// bits of the fallback, whose results agree with a float64 evaluation of the
// same rounding steps, and the finiteness report matches the new weights.
func TestMomentumUpdate(t *testing.T) {
	var lr, mu, wd float32 = 0.05, 0.9, 1e-4
	eachImpl(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(7, 7))
		for n := 0; n <= 70; n++ {
			for _, off := range []int{0, 1, 5, 8} {
				w0 := testInputs(rng, n)
				v0 := testInputs(rng, n)
				if rng.IntN(2) == 0 { // half the cases all finite
					for i := range w0 {
						w0[i], v0[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
					}
				}
				wbuf, w, wcheck := guarded(n, off)
				vbuf, v, vcheck := guarded(n, off+3)
				copy(w, w0)
				copy(v, v0)
				finite := kernels.MomentumUpdate(w, v, lr, mu, wd)
				what := fmt.Sprintf("n=%d off=%d", n, off)
				wcheck(t, what+" w")
				vcheck(t, what+" v")
				_, _ = wbuf, vbuf

				fw, fv := append([]float32(nil), w0...), append([]float32(nil), v0...)
				fFinite := fallback.MomentumUpdate(fw, fv, lr, mu, wd)
				allFinite := true
				for i := range w0 {
					if !sameBits(w[i], fw[i]) || !sameBits(v[i], fv[i]) {
						t.Fatalf("%s i=%d: w, v = %g, %g from (%g, %g), fallback gives %g, %g", what, i, w[i], v[i], w0[i], v0[i], fw[i], fv[i])
					}
					// Each step rounded to float32, evaluated in float64.
					u := float64(float32(float64(v0[i]) + float64(float32(float64(wd)*float64(w0[i])))))
					ww := float32(float64(w0[i]) - float64(float32(float64(lr)*u)))
					vv := float32(float64(mu) * u)
					if !sameBits(w[i], ww) || !sameBits(v[i], vv) {
						t.Fatalf("%s i=%d: w, v = %g, %g, float64 steps give %g, %g", what, i, w[i], v[i], ww, vv)
					}
					allFinite = allFinite && !math.IsNaN(float64(ww)) && !math.IsInf(float64(ww), 0)
				}
				if finite != allFinite || fFinite != allFinite {
					t.Fatalf("%s: finite = %v (fallback %v), want %v", what, finite, fFinite, allFinite)
				}
			}
		}
	})
}

// TestMomentumUpdateLengths checks that mismatched lengths panic with both
// lengths named.
func TestMomentumUpdateLengths(t *testing.T) {
	eachImpl(t, func(t *testing.T) {
		defer func() {
			if r := recover(); r == nil || fmt.Sprint(r) != "actfuse: MomentumUpdate: len(v) = 3 != len(w) = 4" {
				t.Fatalf("panic %v, want the lengths named", r)
			}
		}()
		kernels.MomentumUpdate(make([]float32, 4), make([]float32, 3), 1, 1, 0)
	})
}

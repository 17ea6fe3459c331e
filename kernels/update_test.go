package kernels_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
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
				in := updateInputs(rng, 2, n) // w, v
				what := fmt.Sprintf("n=%d off=%d", n, off)
				updateCase(t, what, off, in,
					func(s [][]float32) bool { return kernels.MomentumUpdate(s[0], s[1], lr, mu, wd) },
					func(s [][]float32) bool { return fallback.MomentumUpdate(s[0], s[1], lr, mu, wd) })
				w, v := append([]float32(nil), in[0]...), append([]float32(nil), in[1]...)
				fallback.MomentumUpdate(w, v, lr, mu, wd)
				for i := range w {
					// Each step rounded to float32, evaluated in float64.
					u := float64(float32(float64(in[1][i]) + float64(float32(float64(wd)*float64(in[0][i])))))
					ww := float32(float64(in[0][i]) - float64(float32(float64(lr)*u)))
					vv := float32(float64(mu) * u)
					if !sameBits(w[i], ww) || !sameBits(v[i], vv) {
						t.Fatalf("%s i=%d: fallback w, v = %g, %g, float64 steps give %g, %g", what, i, w[i], v[i], ww, vv)
					}
				}
			}
		}
	})
}

// updateCase runs an optimizer update on guarded copies of the slices in0
// (w first, slice j at offset off+2j+1 in its buffer) under the active
// implementation and under package fallback, and
// checks that both give the same bits, write nothing outside the slices, and
// report finiteness as the new weights are.
func updateCase(t *testing.T, what string, off int, in0 [][]float32, run, ref func(s [][]float32) bool) {
	t.Helper()
	n := len(in0[0])
	got := make([][]float32, len(in0))
	checks := make([]func(*testing.T, string), len(in0))
	want := make([][]float32, len(in0))
	for j, s := range in0 {
		_, got[j], checks[j] = guarded(n, off+2*j+1)
		copy(got[j], s)
		want[j] = append([]float32(nil), s...)
	}
	finite := run(got)
	wantFinite := ref(want)
	for j := range got {
		checks[j](t, fmt.Sprintf("%s slice %d", what, j))
		for i := range got[j] {
			if !sameBits(got[j][i], want[j][i]) {
				t.Fatalf("%s: slice %d [%d] = %g, fallback gives %g (inputs %v)", what, j, i, got[j][i], want[j][i], column(in0, i))
			}
		}
	}
	allFinite := true
	for _, x := range want[0] {
		allFinite = allFinite && !math.IsNaN(float64(x)) && !math.IsInf(float64(x), 0)
	}
	if finite != allFinite || wantFinite != allFinite {
		t.Fatalf("%s: finite = %v (fallback %v), the new weights say %v", what, finite, wantFinite, allFinite)
	}
}

func column(s [][]float32, i int) []float32 {
	c := make([]float32, len(s))
	for j := range s {
		c[j] = s[j][i]
	}
	return c
}

// updateInputs returns k slices of n values: normal values, or half the
// time the mixed special values of testInputs.
func updateInputs(rng *rand.Rand, k, n int) [][]float32 {
	s := make([][]float32, k)
	special := rng.IntN(2) == 0
	for j := range s {
		if special {
			s[j] = testInputs(rng, n)
			continue
		}
		s[j] = make([]float32, n)
		for i := range s[j] {
			s[j][i] = float32(rng.NormFloat64())
		}
	}
	return s
}

// TestSGDUpdate checks the three forms of SGDUpdate against the fallback
// for lengths 0..70, with guards, and the fallback against float64 steps.
func TestSGDUpdate(t *testing.T) {
	var lr, wd float32 = 0.05, 1e-3
	eachImpl(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(9, 9))
		for _, mu := range []float32{0, 0.9} {
			for _, nesterov := range []bool{false, true} {
				for n := 0; n <= 70; n++ {
					in := updateInputs(rng, 3, n) // w, v, g
					what := fmt.Sprintf("mu=%v nesterov=%v n=%d", mu, nesterov, n)
					updateCase(t, what, 1, in,
						func(s [][]float32) bool { return kernels.SGDUpdate(s[0], s[1], s[2], lr, mu, wd, nesterov) },
						func(s [][]float32) bool { return fallback.SGDUpdate(s[0], s[1], s[2], lr, mu, wd, nesterov) })
					// The fallback against the same steps in float64, each rounded.
					w, v := append([]float32(nil), in[0]...), append([]float32(nil), in[1]...)
					fallback.SGDUpdate(w, v, in[2], lr, mu, wd, nesterov)
					for i := range w {
						gi := float32(float64(in[2][i]) + float64(float32(float64(wd)*float64(in[0][i]))))
						step, vi := gi, in[1][i]
						if mu != 0 {
							vi = float32(float64(float32(float64(mu)*float64(in[1][i]))) + float64(gi))
							step = vi
							if nesterov {
								step = float32(float64(gi) + float64(float32(float64(mu)*float64(vi))))
							}
						}
						ww := float32(float64(in[0][i]) - float64(float32(float64(lr)*float64(step))))
						if !sameBits(w[i], ww) || !sameBits(v[i], vi) {
							t.Fatalf("%s [%d]: fallback w, v = %g, %g; float64 steps %g, %g", what, i, w[i], v[i], ww, vi)
						}
					}
				}
			}
		}
	})
}

// TestAdamUpdate checks AdamUpdate against the fallback for lengths 0..70,
// with guards, and the fallback against float64 steps.
func TestAdamUpdate(t *testing.T) {
	var lr, b1, b2, eps, wd float32 = 1e-3, 0.9, 0.999, 1e-8, 1e-4
	eachImpl(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(10, 10))
		for n := 0; n <= 70; n++ {
			in := updateInputs(rng, 4, n) // w, m, v, g
			for i := range in[2] {
				in[2][i] = float32(math.Abs(float64(in[2][i])))
			}
			what := fmt.Sprintf("n=%d", n)
			updateCase(t, what, 1, in,
				func(s [][]float32) bool { return kernels.AdamUpdate(s[0], s[1], s[2], s[3], lr, b1, b2, eps, wd) },
				func(s [][]float32) bool { return fallback.AdamUpdate(s[0], s[1], s[2], s[3], lr, b1, b2, eps, wd) })
			// eps = 0 with v > 0: every weight stays finite, whatever the
			// lanes past the end of the slice compute.
			pos := updateInputs(rng, 4, n)
			for i := range pos[2] {
				pos[2][i] = float32(math.Abs(rng.NormFloat64())) + 0.1
				for j := range pos {
					if x := pos[j][i]; x != x || math.IsInf(float64(x), 0) || math.Abs(float64(x)) > 1e30 {
						pos[j][i] = 1
					}
				}
			}
			updateCase(t, what+" eps=0", 1, pos,
				func(s [][]float32) bool { return kernels.AdamUpdate(s[0], s[1], s[2], s[3], lr, b1, b2, 0, wd) },
				func(s [][]float32) bool { return fallback.AdamUpdate(s[0], s[1], s[2], s[3], lr, b1, b2, 0, wd) })
			w, m, v := append([]float32(nil), in[0]...), append([]float32(nil), in[1]...), append([]float32(nil), in[2]...)
			fallback.AdamUpdate(w, m, v, in[3], lr, b1, b2, eps, wd)
			r := func(x float64) float64 { return float64(float32(x)) }
			for i := range w {
				gi := r(float64(in[3][i]) + r(float64(wd)*float64(in[0][i])))
				mi := r(r(float64(b1)*float64(in[1][i])) + r(float64(1-b1)*gi))
				vi := r(r(float64(b2)*float64(in[2][i])) + r(r(float64(1-b2)*gi)*gi))
				ww := r(float64(in[0][i]) - r(r(float64(lr)*mi)/r(r(math.Sqrt(vi))+float64(eps))))
				if !sameBits(w[i], float32(ww)) || !sameBits(m[i], float32(mi)) || !sameBits(v[i], float32(vi)) {
					t.Fatalf("%s [%d]: fallback w, m, v = %g, %g, %g; float64 steps %g, %g, %g", what, i, w[i], m[i], v[i], ww, mi, vi)
				}
			}
		}
	})
}

// TestUpdateLengths checks that mismatched lengths panic with the lengths
// named.
func TestUpdateLengths(t *testing.T) {
	s3, s4 := make([]float32, 3), make([]float32, 4)
	for _, c := range []struct {
		want string
		f    func()
	}{
		{"SGDUpdate: len(g) = 3 != len(w) = 4", func() { kernels.SGDUpdate(s4, s4, s3, 1, 0.9, 0, false) }},
		{"SGDUpdate: len(v) = 3 != len(w) = 4", func() { kernels.SGDUpdate(s4, s3, s4, 1, 0.9, 0, false) }},
		{"AdamUpdate: len(v) = 3 != len(w) = 4", func() { kernels.AdamUpdate(s4, s4, s3, s4, 1, 0.9, 0.99, 1e-8, 0) }},
		{"MomentumUpdate: len(v) = 3 != len(w) = 4", func() { kernels.MomentumUpdate(s4, s3, 1, 1, 0) }},
	} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), c.want) {
					t.Fatalf("panic %v, want %q", r, c.want)
				}
			}()
			c.f()
		}()
	}
	kernels.SGDUpdate(s4, nil, s4, 1, 0, 0, false) // v is not used without momentum
}

// FuzzUpdate runs the optimizer updates under every implementation on
// arbitrary weights, states, gradients and hyperparameters, at arbitrary
// offsets inside guard values, and checks the bits against package fallback
// and the finiteness report against the new weights.
//
//	go test ./kernels -run '^$' -fuzz FuzzUpdate -fuzztime 1m
func FuzzUpdate(f *testing.F) {
	f.Add([]byte{0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64}, uint8(0), float32(0.1), float32(0.9), float32(0.01))
	f.Add(make([]byte, 4*4*37), uint8(3), float32(1e-3), float32(0.99), float32(0))
	f.Fuzz(func(t *testing.T, data []byte, kind uint8, lr, mu, wd float32) {
		x := fuzzFloats(data)
		n := len(x) / 4
		in := [][]float32{x[:n], x[n : 2*n], x[2*n : 3*n], x[3*n : 4*n]}
		prev := kernels.ISA()
		defer kernels.Use(prev)
		for _, name := range kernels.Implementations() {
			if err := kernels.Use(name); err != nil {
				t.Fatal(err)
			}
			switch kind % 4 {
			case 0:
				updateCase(t, name+" momentum", 1, in[:2],
					func(s [][]float32) bool { return kernels.MomentumUpdate(s[0], s[1], lr, mu, wd) },
					func(s [][]float32) bool { return fallback.MomentumUpdate(s[0], s[1], lr, mu, wd) })
			case 1, 2:
				nesterov := kind%4 == 2
				updateCase(t, name+" sgd", 1, in[:3],
					func(s [][]float32) bool { return kernels.SGDUpdate(s[0], s[1], s[2], lr, mu, wd, nesterov) },
					func(s [][]float32) bool { return fallback.SGDUpdate(s[0], s[1], s[2], lr, mu, wd, nesterov) })
			case 3:
				updateCase(t, name+" adam", 1, in,
					func(s [][]float32) bool { return kernels.AdamUpdate(s[0], s[1], s[2], s[3], lr, mu, 1-wd, wd, wd) },
					func(s [][]float32) bool { return fallback.AdamUpdate(s[0], s[1], s[2], s[3], lr, mu, 1-wd, wd, wd) })
			}
		}
	})
}

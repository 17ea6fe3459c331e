package fallback

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestLoopsMatchLanes checks the fast form of every generated activation
// kernel, which takes the float64 route for its fused multiply-adds and
// fma32 only where roundsTwice says so, against its Lane
// function, which rounds every fused multiply-add by fma32 (itself checked
// against an exact sum by TestFMA32): a slice shorter than a group of lanes
// runs the Lane function alone. The inputs are normal samples of three
// scales, special values and values near the cut-offs, with parameters
// that make exact halfway sums common (a slope of 1: the error of slope·x
// is an exact zero).
func TestLoopsMatchLanes(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var x []float32
	for _, scale := range []float64{0.1, 3, 30} {
		for range 4096 {
			x = append(x, float32(scale*rng.NormFloat64()))
		}
	}
	negZero := float32(math.Copysign(0, -1))
	inf := float32(math.Inf(1))
	x = append(x, 0, negZero, inf, -inf, float32(math.NaN()), 0x1p-149, -0x1p-149, 0x1p-126, -0x1p-126,
		0.625, -0.625, 10, -10, -17.5, -87.33654, -88, 88, 9.01, -9.01, math.MaxFloat32, -math.MaxFloat32)
	acts := []Activation{
		{Func: ReLU}, {Func: LeakyReLU, Alpha: 0.01}, {Func: LeakyReLU}, {Func: ELU, Alpha: 1}, {Func: ELU, Alpha: 0.5},
		{Func: Sigmoid}, {Func: Tanh}, {Func: ScaledSigmoid}, {Func: ScaledSigmoid, Slope: 0.7},
		{Func: ScaledTanh}, {Func: ScaledTanh, Gain: 1, Slope: 1}, {Func: ScaledTanh, Gain: 3, Slope: 1.5},
	}
	same := func(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) || a != a && b != b }
	for _, a := range acts {
		p := a.Params()
		loop := make([]float32, len(x))
		forwardKernel(a.Func, loop, x, &p)
		y := make([]float32, len(x))
		for i := range x {
			forwardKernel(a.Func, y[i:i+1], x[i:i+1], &p)
			if !same(loop[i], y[i]) {
				t.Fatalf("%v forward at x = %g (%#x): the loop gives %g (%#x), the lane %g (%#x)",
					a, x[i], math.Float32bits(x[i]), loop[i], math.Float32bits(loop[i]), y[i], math.Float32bits(y[i]))
			}
		}
		dy := x
		bl := make([]float32, len(x))
		backwardKernel(a.Func, bl, dy, y, &p)
		for i := range x {
			var d [1]float32
			backwardKernel(a.Func, d[:], dy[i:i+1], y[i:i+1], &p)
			if !same(bl[i], d[0]) {
				t.Fatalf("%v backward at dy = %g, y = %g: the loop gives %g, the lane %g", a, dy[i], y[i], bl[i], d[0])
			}
		}
	}
}

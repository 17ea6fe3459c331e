package kernels_test

import (
	"flag"
	"math"
	"testing"

	"github.com/actfuse/actfuse/internal/ref"
	"github.com/actfuse/actfuse/kernels"
)

// exhaustive enables TestAccuracyExhaustive, the sweep of every float32
// input of every exp-based activation under every implementation:
//
//	go test ./kernels -run TestAccuracyExhaustive -exhaustive -timeout 3h
//
// The sweep runs on every core; all functions of one implementation take
// about an hour on 2 cores. Select one with the subtest name, e.g.
// -run 'TestAccuracyExhaustive/generic/sigmoid'.
var exhaustive = flag.Bool("exhaustive", false, "run TestAccuracyExhaustive over all 2^32 float32 inputs")

// accuracyStride is the stride of the default sweep: a prime near 2^12, so
// about a million inputs per function, spread over every exponent.
const accuracyStride = 4093

// accuracyActs are the activations measured in ULP by the sweeps; the
// first exhaustiveActs of them also by the exhaustive one.
var accuracyActs = []kernels.Activation{
	{Func: kernels.Sigmoid},
	{Func: kernels.Tanh},
	{Func: kernels.ELU, Alpha: 1},
	{Func: kernels.ELU, Alpha: 1.7},
	kernels.LeCunTanh,
	{Func: kernels.ScaledTanh, Gain: kernels.LeCunGain, Slope: 0.25},
	{Func: kernels.ScaledTanh, Gain: kernels.LeCunGain, Slope: 4},
	{Func: kernels.ScaledSigmoid, Slope: 0.25},
	{Func: kernels.ScaledSigmoid, Slope: 4},
	{Func: kernels.ELU, Alpha: 0.3},
	{Func: kernels.ScaledTanh, Gain: 1, Slope: 0.1},
	{Func: kernels.ScaledTanh, Gain: 3, Slope: 1.5},
	{Func: kernels.ScaledSigmoid, Slope: 0.01},
	{Func: kernels.ScaledSigmoid, Slope: 30},
}

const exhaustiveActs = 9

func kernelForward(a kernels.Activation) func(dst, x []float32) {
	return func(dst, x []float32) { kernels.Forward(a, dst, x) }
}

// TestAccuracy sweeps every activation over float32 bit patterns with
// accuracyStride under every implementation: the exp-based ones within
// maxULP of the float64 reference (results below 2^-126 may be flushed to
// zero), the piecewise-linear ones bit for bit.
func TestAccuracy(t *testing.T) {
	eachImpl(t, func(t *testing.T) {
		for _, a := range accuracyActs {
			r := ref.Sweep(kernelForward(a), ref.Forward(a), ref.SweepOptions{Stride: accuracyStride, Skip: subnormalResult(a)})
			t.Logf("%v: max %.3f ULP at x = %g (got %g, want %g); %d of %d inputs above 1 ULP",
				a, r.MaxULP, r.Worst, r.Got, r.Want, r.Over1, r.Count)
			if r.MaxULP > maxULP {
				t.Errorf("%v: %.3f ULP at x = %g (%#x): got %g, want %g; %d inputs above %d ULP",
					a, r.MaxULP, r.Worst, math.Float32bits(r.Worst), r.Got, r.Want, r.Over2, maxULP)
			}
		}
		for _, a := range testActs {
			if !ref.IsExact(a.Func) {
				continue
			}
			checkExactSweep(t, a, accuracyStride)
		}
	})
}

// subnormalResult returns, for ScaledTanh, the inputs x for which slope·x
// or the result is below 2^-126 (|slope·x|·min(1, gain) < 2^-126, as tanh
// is its argument there), which TestScaledTanhSubnormal checks with its own
// tolerance; nil for the other functions, whose every result is measured
// against maxULP.
func subnormalResult(a kernels.Activation) func(float32) bool {
	if a.Func != kernels.ScaledTanh {
		return nil
	}
	p := a.Params()
	lim := ref.MinNormal32 / (float64(p[1]) * min(1, float64(p[0])))
	return func(x float32) bool { return math.Abs(float64(x)) < lim }
}

// subnormalTolerance is the error allowed to ScaledTanh, in units of the
// float32 spacing at the result, where slope·x or the result is below
// 2^-126: maxULP and half the gain. A subnormal slope·x has a rounding
// error that is not a float32, which escapes the compensation, and the
// gain multiplies it.
func subnormalTolerance(a kernels.Activation) float64 { return maxULP + float64(a.Params()[0])/2 }

// TestScaledTanhSubnormal checks the inputs of the scaled tanh up to twice
// the bound of subnormalResult (every 7th bit pattern, both signs) under
// every implementation: within subnormalTolerance below the bound, within
// maxULP above it.
func TestScaledTanhSubnormal(t *testing.T) {
	acts := []kernels.Activation{kernels.LeCunTanh, {Func: kernels.ScaledTanh, Gain: 5, Slope: 4.53125},
		{Func: kernels.ScaledTanh, Gain: 0.25, Slope: 3}, {Func: kernels.ScaledTanh, Gain: 3, Slope: 0.01}}
	eachImpl(t, func(t *testing.T) {
		for _, a := range acts {
			want := ref.Forward(a)
			p := a.Params()
			top := math.Float32bits(float32(2 * ref.MinNormal32 / (float64(p[1]) * min(1, float64(p[0])))))
			tol := subnormalTolerance(a)
			loose := subnormalResult(a)
			worst := 0.0
			x := make([]float32, 0, 1<<14)
			y := make([]float32, cap(x))
			// Every 7th pattern up to twice the boundary, both signs.
			for b := uint32(0); b <= top; b += 7 {
				x = append(x, math.Float32frombits(b), math.Float32frombits(b|1<<31))
				if len(x) < cap(x)-1 && b+7 <= top {
					continue
				}
				kernels.Forward(a, y[:len(x)], x)
				for i, v := range x {
					w := want(float64(v))
					e := ref.ULP(y[i], w)
					worst = max(worst, e)
					if lim := tol; e > lim || !loose(v) && math.Abs(w) >= ref.MinNormal32 && e > maxULP {
						t.Fatalf("%v(%g) = %g, want %g: %.2f units of the float32 spacing", a, v, y[i], w, e)
					}
				}
				x = x[:0]
			}
			t.Logf("%v: worst %.2f units below and around 2^-126 (allowed %.2f)", a, worst, tol)
		}
	})
}

// checkExactSweep compares Forward of a with its reference bit for bit over
// the bit patterns 0, stride, 2·stride, ...
func checkExactSweep(t *testing.T, a kernels.Activation, stride uint64) {
	t.Helper()
	want := ref.Forward(a)
	x := make([]float32, 0, 1<<14)
	dst := make([]float32, cap(x))
	bad := 0
	for b := uint64(0); b < 1<<32; b += stride {
		x = append(x, math.Float32frombits(uint32(b)))
		if len(x) < cap(x) && b+stride < 1<<32 {
			continue
		}
		d := dst[:len(x)]
		kernels.Forward(a, d, x)
		for i, v := range x {
			if w := float32(want(float64(v))); !sameBits(d[i], w) {
				if bad++; bad <= 5 {
					t.Errorf("%v(%g) = %g (%#x), want %g (%#x)", a, v, d[i], math.Float32bits(d[i]), w, math.Float32bits(w))
				}
			}
		}
		x = x[:0]
	}
}

// TestAccuracyExhaustive is TestAccuracy over all 2^32 inputs for sigmoid,
// tanh, ELU(1) and ELU(1.7), LeCun's tanh, the scaled tanh with LeCun's
// gain and slopes 0.25 and 4, and the scaled sigmoid with slopes 0.25 and
// 4 (and the exact functions), enabled by -exhaustive.
func TestAccuracyExhaustive(t *testing.T) {
	if !*exhaustive {
		t.Skip("needs -exhaustive (see the flag's documentation)")
	}
	eachImpl(t, func(t *testing.T) {
		for _, a := range accuracyActs[:exhaustiveActs] {
			t.Run(a.String(), func(t *testing.T) {
				r := ref.Sweep(kernelForward(a), ref.Forward(a), ref.SweepOptions{Stride: 1, Skip: subnormalResult(a)})
				t.Logf("%v: max %.3f ULP at x = %g (%#x): got %g, want %.9g; above 1 ULP: %d, above 2 ULP: %d, of %d",
					a, r.MaxULP, r.Worst, math.Float32bits(r.Worst), r.Got, r.Want, r.Over1, r.Over2, r.Count)
				if r.MaxULP > maxULP {
					t.Errorf("%v: %.3f ULP exceeds the %d ULP target", a, r.MaxULP, maxULP)
				}
			})
		}
		t.Run("exact", func(t *testing.T) {
			for _, a := range testActs {
				if ref.IsExact(a.Func) {
					checkExactSweep(t, a, 1)
				}
			}
		})
	})
}

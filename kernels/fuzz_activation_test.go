package kernels_test

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/actfuse/actfuse/fallback"
	"github.com/actfuse/actfuse/internal/ref"
	"github.com/actfuse/actfuse/kernels"
)

// fuzzFuncs is the number of activation functions.
const fuzzFuncs = uint8(fallback.NumFuncs)

// fuzzActivation decodes the activation of a fuzz input: fn picks the
// function, alpha is made a valid parameter (finite, >= 0); for the scaled
// forms it gives the slope (in [1/64, 64], 0 for the default) and the gain
// (1 + alpha).
func fuzzActivation(fn uint8, alpha float32) kernels.Activation {
	alpha = float32(math.Abs(float64(alpha)))
	if alpha != alpha || alpha > 1e6 {
		alpha = 1
	}
	a := kernels.Activation{Func: kernels.Func(fn % fuzzFuncs)}
	switch a.Func {
	case kernels.ScaledSigmoid, kernels.ScaledTanh:
		if alpha != 0 {
			a.Slope = min(max(alpha, 1.0/64), 64)
		}
		a.Gain = 1 + min(alpha, 4)
		if a.Func == kernels.ScaledSigmoid {
			a.Gain = 0
		}
	default:
		a.Alpha = alpha
	}
	return a
}

// fuzzFloats reads little-endian float32 values from data.
func fuzzFloats(data []byte) []float32 {
	x := make([]float32, len(data)/4)
	for i := range x {
		x[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
	}
	return x
}

// forwardTolerance is the ULP tolerance of Forward for a: maxULP, plus half
// an ULP for ELU with Alpha != 1, whose product by Alpha adds one rounding.
func forwardTolerance(a kernels.Activation) float64 {
	if a.Func == kernels.ELU && a.Alpha != 1 {
		return maxULP + 0.5
	}
	return maxULP
}

// FuzzForward runs Forward under every implementation on arbitrary inputs
// (at an arbitrary offset, in place and not) and checks each result against
// the float64 reference: exact for Identity, ReLU, LeakyReLU, within
// maxULP (+0.5 for ELU with Alpha != 1) for the others; and Backward on the
// resulting y within its tolerance.
//
//	go test ./kernels -run '^$' -fuzz FuzzForward -fuzztime 1m
func FuzzForward(f *testing.F) {
	seed := func(fn uint8, alpha float32, xs ...float32) {
		b := make([]byte, 4*len(xs))
		for i, v := range xs {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
		}
		f.Add(b, fn, alpha, uint8(1))
	}
	inf := float32(math.Inf(1))
	for fn := range uint8(fuzzFuncs) {
		seed(fn, 1, 0, -1, 1, 0.5, -0.5, 9.5, -9.5, 88, -88, inf, -inf, float32(math.NaN()), 1e-40, -1e-40, 3, -17)
		seed(fn, 0.25, -0.0001, 0.7, -3, 2, 1, 2, 3, 4, 5, 6, 7, 8, 9)
	}
	f.Fuzz(func(t *testing.T, data []byte, fn uint8, alpha float32, off uint8) {
		a := fuzzActivation(fn, alpha)
		x := fuzzFloats(data)
		o := int(off % 16)
		tol := forwardTolerance(a)
		prev := kernels.ISA()
		defer kernels.Use(prev)
		for _, name := range kernels.Implementations() {
			if err := kernels.Use(name); err != nil {
				t.Fatal(err)
			}
			buf, out, check := guarded(len(x), o)
			kernels.Forward(a, out, x)
			check(t, name+" "+a.String())
			for i, v := range x {
				want := ref.Forward(a)(float64(v))
				lim := tol
				if loose := subnormalResult(a); loose != nil && (loose(v) || math.Abs(want) < ref.MinNormal32) {
					lim = subnormalTolerance(a)
				}
				ok := ref.ULP(out[i], want) <= lim
				if ref.IsExact(a.Func) {
					ok = sameBits(out[i], float32(want))
				}
				if !ok {
					t.Fatalf("%s %v(%g) = %g, want %g (%.2f ULP)", name, a, v, out[i], want, ref.ULP(out[i], want))
				}
			}
			inPlace := append([]float32(nil), x...)
			kernels.Forward(a, inPlace, inPlace)
			for i := range inPlace {
				if !sameBits(inPlace[i], out[i]) {
					t.Fatalf("%s %v in place differs at %d: %g vs %g", name, a, i, inPlace[i], out[i])
				}
			}
			// Backward with dy = the inputs reversed.
			dy := make([]float32, len(x))
			for i := range dy {
				dy[i] = x[len(x)-1-i]
			}
			_, dx, checkDx := guarded(len(x), o)
			kernels.Backward(a, dx, dy, out)
			checkDx(t, name+" backward "+a.String())
			for i := range dx {
				if ok, want := backwardOK(a, dy[i], out[i], dx[i]); !ok {
					t.Fatalf("%s %v backward dy=%g y=%g: %g, want %g", name, a, dy[i], out[i], dx[i], want)
				}
			}
			_ = buf
		}
	})
}

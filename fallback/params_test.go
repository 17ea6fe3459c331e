package fallback

import (
	"math"
	"testing"
)

// TestParamsFastPaths checks that the fast paths of Params, Validate and
// CheckActivation (paramShapes) agree with reading the parameters by name,
// for every function and for valid and invalid values of every field.
func TestParamsFastPaths(t *testing.T) {
	values := []float32{0, 0.01, 1, 2.5, -0.5, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), math.MaxFloat32}
	for f := Func(0); f < NumFuncs+2; f++ {
		for _, alpha := range values {
			for _, gs := range values {
				a := Activation{Func: f, Alpha: alpha, Gain: gs, Slope: gs}
				errFast, errName := a.Validate(), a.validateByName()
				if (errFast == nil) != (errName == nil) {
					t.Fatalf("%v (Alpha %v, Gain = Slope = %v): Validate %v, by name %v", f, alpha, gs, errFast, errName)
				}
				if errName != nil {
					if catchPanic(func() { CheckActivation("Forward", a) }) == nil {
						t.Fatalf("%v (Alpha %v, Gain = Slope = %v): CheckActivation passed, Validate says %v", f, alpha, gs, errName)
					}
				}
				if f >= NumFuncs || errName != nil {
					continue
				}
				var q [4]float32
				q[0], q[1], q[2], q[3] = paramsByName(&a)
				if p := a.Params(); p != q {
					t.Fatalf("%v: Params %v, by name %v", a, p, q)
				}
				if err := catchPanic(func() { CheckActivation("Forward", a) }); err != nil {
					t.Fatalf("%v: CheckActivation panicked (%v) where Validate passed", a, err)
				}
			}
		}
	}
}

// catchPanic returns the value f panics with, or nil.
func catchPanic(f func()) (r any) {
	defer func() { r = recover() }()
	f()
	return nil
}

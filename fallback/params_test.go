package fallback

import (
	"math"
	"testing"
)

// TestParamsFastPaths checks that the fast paths of Params and Validate
// (paramShapes) agree with reading the parameters by name, for every
// function and for valid and invalid values of every field.
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
				if f >= NumFuncs || errName != nil {
					continue
				}
				if p, q := a.Params(), a.paramsByName(); p != q {
					t.Fatalf("%v: Params %v, by name %v", a, p, q)
				}
			}
		}
	}
}

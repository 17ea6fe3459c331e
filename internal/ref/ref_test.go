package ref

import (
	"math"
	"testing"
)

func TestUlp(t *testing.T) {
	cases := []struct{ v, want float64 }{
		{1, 0x1p-23},
		{-1, 0x1p-23},
		{1.5, 0x1p-23},
		{0.999, 0x1p-24},
		{2, 0x1p-22},
		{0x1p-126, 0x1p-149},
		{0x1p-127, 0x1p-149},
		{0, 0x1p-149},
		{math.MaxFloat32, 0x1p104},
		{1e39, 0x1p104},
	}
	for _, c := range cases {
		if got := Ulp(c.v); got != c.want {
			t.Errorf("Ulp(%g) = %g, want %g", c.v, got, c.want)
		}
	}
}

func TestULP(t *testing.T) {
	inf, nan := math.Inf(1), math.NaN()
	next := math.Nextafter32(1, 2)
	cases := []struct {
		got  float32
		want float64
		ulp  float64
	}{
		{1, 1, 0},
		{next, 1, 1},
		{1, 1 + 0x1p-24, 0.5},
		{math.Nextafter32(1, 0), 1, 0.5}, // spacing at 1 is 2^-23; 1 - 2^-24 is half of it
		{float32(nan), nan, 0},
		{1, nan, inf},
		{float32(nan), 1, inf},
		{float32(inf), inf, 0},
		{float32(inf), 3.5e38, 0}, // rounds to +Inf
		{float32(inf), 3.3e38, inf},
		{-float32(inf), inf, inf},
		{math.MaxFloat32, inf, inf},
		{0, 1e-40, 0}, // flush to zero allowed below 2^-126
		{float32(math.Copysign(0, -1)), 1e-40, inf},
		{0, -1e-40, inf},
		{float32(math.Copysign(0, -1)), -1e-40, 0},
		{0, 0x1p-126, 0x1p23}, // a normal result may not be flushed
		{0x1p-149, 0x1p-148, 1},
		{0, 0, 0},
	}
	for _, c := range cases {
		if got := ULP(c.got, c.want); got != c.ulp {
			t.Errorf("ULP(%g, %g) = %g, want %g", c.got, c.want, got, c.ulp)
		}
	}
}

// TestSweep checks Sweep on a correctly rounded kernel (at most 0.5 ULP) and
// on one with a planted error, which it must find, for several worker counts.
func TestSweep(t *testing.T) {
	exact := Unary(func(x float32) float32 { return float32(math.Exp(float64(x))) })
	for _, workers := range []int{1, 3} {
		r := Sweep(exact, math.Exp, SweepOptions{Stride: 65537, Workers: workers})
		if r.MaxULP > 0.5 || r.Over1 != 0 || r.Count != (1<<32+65536)/65537 {
			t.Errorf("workers %d: correctly rounded exp: %+v", workers, r)
		}
	}
	bad := math.Float32frombits(0x3f800000 + 3*65537) // in the sweep with Start 0x3f800000
	planted := Unary(func(x float32) float32 {
		y := float32(math.Exp(float64(x)))
		if x == bad {
			y = math.Nextafter32(math.Nextafter32(math.Nextafter32(y, 0), 0), 0)
		}
		return y
	})
	var prev SweepResult
	for i, workers := range []int{1, 2, 4} {
		r := Sweep(planted, math.Exp, SweepOptions{Stride: 65537, Start: 0x3f800000, Workers: workers})
		if r.Worst != bad || r.MaxULP < 2.5 || r.Over2 != 1 || r.Over1 != 1 {
			t.Errorf("workers %d: planted 3-ULP error at %g not found: %+v", workers, bad, r)
		}
		if i > 0 && r != prev {
			t.Errorf("result depends on the worker count: %+v vs %+v", r, prev)
		}
		prev = r
	}
	skipAll := Sweep(exact, math.Exp, SweepOptions{Stride: 1 << 20, Skip: func(float32) bool { return true }})
	if skipAll.Count != 0 {
		t.Errorf("Skip ignored: %+v", skipAll)
	}
}

// TestMinimax fits e^t on [-1, 1] with a cubic: the minimax relative error of
// that fit is known to be about 5.5e-3 (absolute weight) and a polynomial
// must be reproduced exactly.
func TestMinimax(t *testing.T) {
	c, e := Minimax(func(t float64) float64 { return 1 - 2*t + 3*t*t }, func(float64) float64 { return 1 }, -0.5, 2, 2)
	if e > 1e-12 || math.Abs(c[0]-1) > 1e-12 || math.Abs(c[1]+2) > 1e-12 || math.Abs(c[2]-3) > 1e-12 {
		t.Errorf("quadratic not reproduced: %v, err %g", c, e)
	}
	// The minimax cubic for e^t on [-1, 1] has error 5.53e-3 (equioscillation
	// at 5 points); least squares alone gives about 1e-2 at the ends.
	_, e = Minimax(math.Exp, func(float64) float64 { return 1 }, -1, 1, 3)
	if e < 5.4e-3 || e > 5.7e-3 {
		t.Errorf("cubic minimax error of exp on [-1, 1] = %g, want about 5.53e-3", e)
	}
}

func TestReferences(t *testing.T) {
	if Sigmoid(-800) != 0 || Sigmoid(800) != 1 || Sigmoid(0) != 0.5 || !math.IsNaN(Sigmoid(math.NaN())) {
		t.Error("Sigmoid limits")
	}
	if math.Abs(Sigmoid(-30)-math.Exp(-30)) > 1e-26 {
		t.Error("Sigmoid(-30) tail")
	}
	if ELU(2, math.Inf(-1)) != -2 || !math.Signbit(ELU(1, math.Copysign(0, -1))) || ELU(1, 3) != 3 {
		t.Error("ELU limits")
	}
	if ReLU(-1) != 0 || !math.Signbit(ReLU(math.Copysign(0, -1))) || !math.IsNaN(ReLU(math.NaN())) {
		t.Error("ReLU")
	}
	if v := LeakyReLU(0, math.Inf(-1)); v != 0 || !math.Signbit(v) {
		t.Error("LeakyReLU(0, -Inf) must be -0")
	}
}

package fallback_test

import (
	"flag"
	"math"
	"testing"

	"github.com/actfuse/actfuse/fallback"
	"github.com/actfuse/actfuse/internal/ref"
)

// exhaustive enables the sweeps over all 2^32 float32 inputs:
//
//	go test ./fallback -run Exhaustive -exhaustive -timeout 3h
var exhaustive = flag.Bool("exhaustive", false, "run the accuracy sweeps over all 2^32 float32 inputs (minutes per function)")

// sweepStride is the stride of the default sweeps: a prime, so every exponent
// is visited with varied mantissas (4.3 million inputs per function).
const sweepStride = 1009

// TestExpCoefficients refits the polynomials as their comments say and checks
// that the constants in the code are that fit rounded to float32 (within a
// few float32 units: Lawson's iteration stops close to, not at, the optimum),
// and that the fit reaches the documented error.
func TestExpCoefficients(t *testing.T) {
	R := math.Ln2/2 + 1e-4
	c, e := ref.Minimax(func(r float64) float64 { return (math.Expm1(r) - r) / (r * r) },
		func(r float64) float64 { return r * r / math.Abs(math.Expm1(r)) }, -R, R, 5)
	if e > math.Exp2(-31.5) {
		t.Errorf("exp fit error 2^%.2f, documented 2^-32.0", math.Log2(e))
	}
	checkCoefficients(t, "exp", fallback.ExpCoefficients, c)

	U := fallback.TanhPolyMax * fallback.TanhPolyMax
	c, e = ref.Minimax(func(u float64) float64 { x := math.Sqrt(u); return (math.Tanh(x) - x) / (u * x) },
		func(u float64) float64 { x := math.Sqrt(u); return u * x / math.Tanh(x) }, 0, U, 4)
	if e > 0x1p-29 {
		t.Errorf("tanh fit error 2^%.2f, documented 2^-29.5", math.Log2(e))
	}
	checkCoefficients(t, "tanh", fallback.TanhCoefficients, c)
}

func checkCoefficients(t *testing.T, name string, got []float32, fit []float64) {
	t.Helper()
	if len(got) != len(fit) {
		t.Fatalf("%s: %d coefficients in the code, %d in the fit", name, len(got), len(fit))
	}
	for i, g := range got {
		if d := math.Abs(float64(g)-fit[i]) / float64(ref.Ulp(fit[i])); d > 8 {
			t.Errorf("%s coefficient %d = %g, fit gives %g (%.1f float32 units apart)", name, i, g, fit[i], d)
		}
	}
}

// expNormalMin is ln(2^-126): below it e^x is denormal.
const expNormalMin = -87.33654

// expMaxULP is the error bound of Exp where its result is normal.
const expMaxULP = 0.7

// TestExp sweeps Exp against math.Exp: at most expMaxULP where the result is
// normal, at most 1 unit of the denormal spacing below.
func TestExp(t *testing.T) {
	testExpSweep(t, sweepStride)
	for _, c := range []struct{ x, want float32 }{
		{0, 1},
		{float32(math.Copysign(0, -1)), 1},
		{0x1p-149, 1},
		{-0x1p-149, 1},
		{1, 2.7182817},
		{float32(math.Inf(1)), float32(math.Inf(1))},
		{float32(math.Inf(-1)), 0},
		{89, float32(math.Inf(1))},
		{88.72284, float32(math.Inf(1))}, // e^88.72284 > MaxFloat32 + half an ulp
		{-104, 0},
		{-103.97, 0x1p-149},
		{-math.MaxFloat32, 0},
		{math.MaxFloat32, float32(math.Inf(1))},
	} {
		if got := fallback.Exp(c.x); got != c.want || math.Signbit(float64(got)) {
			t.Errorf("Exp(%g) = %g, want %g", c.x, got, c.want)
		}
	}
	top := float32(88.72283) // the largest input with a finite result
	if got, want := fallback.Exp(top), math.Exp(float64(top)); math.IsInf(float64(got), 0) || ref.ULP(got, want) > expMaxULP {
		t.Errorf("Exp(%g) = %g, want %g", top, got, want)
	}
	for _, bits := range []uint32{0x7fc00000, 0xffc00000, 0x7f800001, 0x7fbfffff, 0xffffffff} {
		if x := math.Float32frombits(bits); !isNaN32(fallback.Exp(x)) {
			t.Errorf("Exp(NaN %#x) = %g, want NaN", bits, fallback.Exp(x))
		}
	}
}

// TestExpExhaustive is TestExp over every float32 (needs -exhaustive).
func TestExpExhaustive(t *testing.T) {
	if !*exhaustive {
		t.Skip("needs -exhaustive")
	}
	testExpSweep(t, 1)
}

func testExpSweep(t *testing.T, stride uint32) {
	f := ref.Unary(fallback.Exp)
	normal := ref.Sweep(f, ref.Exp, ref.SweepOptions{Stride: stride, Skip: func(x float32) bool { return x < expNormalMin }})
	t.Logf("Exp, normal results: %+v", normal)
	if normal.MaxULP > expMaxULP {
		t.Errorf("Exp: max error %.3f ULP at x = %g (got %g, want %g), bound %g", normal.MaxULP, normal.Worst, normal.Got, normal.Want, expMaxULP)
	}
	denormal := ref.Sweep(f, ref.Exp, ref.SweepOptions{Stride: stride, Skip: func(x float32) bool { return !(x < expNormalMin) }})
	t.Logf("Exp, denormal results: %+v", denormal)
	if denormal.MaxULP > 1 {
		t.Errorf("Exp: denormal result off by %.3f units at x = %g (got %g, want %g)", denormal.MaxULP, denormal.Worst, denormal.Got, denormal.Want)
	}
}

func isNaN32(v float32) bool { return v != v }

package fallback_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/actfuse/actfuse/fallback"
	"github.com/actfuse/actfuse/internal/ref"
)

// maxULP is DESIGN's accuracy target for the exp-based activations.
const maxULP = 2

var (
	inf32    = float32(math.Inf(1))
	negZero  = float32(math.Copysign(0, -1))
	denormal = float32(0x1p-140)
)

// approxActs are the exp-based activations, measured in ULP.
var approxActs = []fallback.Activation{
	{Func: fallback.Sigmoid},
	{Func: fallback.Tanh},
	{Func: fallback.ELU, Alpha: 1},
	{Func: fallback.ELU, Alpha: 0.5},
	{Func: fallback.ELU, Alpha: 1.7},
}

// exactActs must equal their reference bit for bit.
var exactActs = []fallback.Activation{
	{Func: fallback.Identity},
	{Func: fallback.ReLU},
	{Func: fallback.LeakyReLU, Alpha: 0.01},
	{Func: fallback.LeakyReLU, Alpha: 0},
	{Func: fallback.LeakyReLU, Alpha: 3},
}

func forward(a fallback.Activation) func(dst, x []float32) {
	return func(dst, x []float32) { fallback.Forward(a, dst, x) }
}

// TestForwardSweep measures the exp-based activations over a strided sweep
// of all float32 bit patterns (exhaustive with -exhaustive).
func TestForwardSweep(t *testing.T) {
	stride := uint32(sweepStride)
	if *exhaustive {
		stride = 1
	}
	for _, a := range approxActs {
		r := ref.Sweep(forward(a), ref.Forward(a), ref.SweepOptions{Stride: stride})
		t.Logf("%v: %+v", a, r)
		if r.MaxULP > maxULP {
			t.Errorf("%v: %.3f ULP at x = %g (got %g, want %g), target %d", a, r.MaxULP, r.Worst, r.Got, r.Want, maxULP)
		}
	}
}

// TestForwardExact checks the piecewise-linear activations bit for bit
// against their reference over a strided sweep (-0 and NaN included).
func TestForwardExact(t *testing.T) {
	stride := uint32(sweepStride)
	if *exhaustive {
		stride = 1
	}
	for _, a := range exactActs {
		want := ref.Forward(a)
		x := make([]float32, 0, 1<<16)
		dst := make([]float32, cap(x))
		bad := 0
		for b := uint64(0); b < 1<<32; b += uint64(stride) {
			x = append(x, math.Float32frombits(uint32(b)))
			if len(x) == cap(x) || b+uint64(stride) >= 1<<32 {
				d := dst[:len(x)]
				fallback.Forward(a, d, x)
				for i, v := range x {
					if w := float32(want(float64(v))); !sameBits(d[i], w) && bad < 5 {
						bad++
						t.Errorf("%v(%g) = %g (%#x), want %g (%#x)", a, v, d[i], math.Float32bits(d[i]), w, math.Float32bits(w))
					}
				}
				x = x[:0]
			}
		}
	}
}

// sameBits reports whether got and want are the same float32, with any NaN
// equal to any NaN.
func sameBits(got, want float32) bool {
	if want != want {
		return got != got
	}
	return math.Float32bits(got) == math.Float32bits(want)
}

// TestForwardSpecial checks the special values: NaN, ±Inf, ±0, denormals,
// the extremes, and the sign of zero results.
func TestForwardSpecial(t *testing.T) {
	nans := []float32{
		math.Float32frombits(0x7fc00000), math.Float32frombits(0xffc00000),
		math.Float32frombits(0x7f800001), math.Float32frombits(0xff812345),
	}
	type tc struct{ x, want float32 }
	cases := map[fallback.Activation][]tc{
		{Func: fallback.Sigmoid}: {
			{-inf32, 0}, {inf32, 1}, {0, 0.5}, {negZero, 0.5}, {denormal, 0.5}, {-denormal, 0.5},
			{-math.MaxFloat32, 0}, {math.MaxFloat32, 1}, {-88, 0}, {-200, 0}, {17, 1 - 0x1p-24}, {20, 1},
		},
		{Func: fallback.Tanh}: {
			{-inf32, -1}, {inf32, 1}, {0, 0}, {negZero, negZero}, {denormal, denormal}, {-denormal, -denormal},
			{0x1p-126, 0x1p-126}, {-math.MaxFloat32, -1}, {math.MaxFloat32, 1}, {9.1, 1}, {-20, -1},
		},
		{Func: fallback.ELU, Alpha: 1}: {
			{-inf32, -1}, {inf32, inf32}, {0, 0}, {negZero, negZero}, {denormal, denormal}, {-denormal, -denormal},
			{-math.MaxFloat32, -1}, {math.MaxFloat32, math.MaxFloat32}, {-30, -1},
		},
		{Func: fallback.ELU, Alpha: 0.25}: {{-inf32, -0.25}, {-100, -0.25}, {3, 3}},
		{Func: fallback.ELU, Alpha: 0}:    {{-inf32, negZero}, {-1, negZero}, {3, 3}},
		{Func: fallback.ReLU}: {
			{-inf32, 0}, {inf32, inf32}, {0, 0}, {negZero, negZero}, {-denormal, 0}, {denormal, denormal}, {-1, 0}, {2, 2},
		},
		{Func: fallback.LeakyReLU, Alpha: 0.5}: {
			{-inf32, -inf32}, {inf32, inf32}, {0, 0}, {negZero, negZero}, {-4, -2}, {-0x1p-149, negZero}, {-0x1p-148, -0x1p-149},
		},
		{Func: fallback.LeakyReLU, Alpha: 0}: {{-inf32, negZero}, {-1, negZero}, {negZero, negZero}, {inf32, inf32}},
		{Func: fallback.Identity}:            {{-inf32, -inf32}, {negZero, negZero}, {denormal, denormal}},
	}
	for a, cs := range cases {
		x := make([]float32, 0, len(cs)+len(nans))
		for _, c := range cs {
			x = append(x, c.x)
		}
		x = append(x, nans...)
		got := make([]float32, len(x))
		fallback.Forward(a, got, x)
		for i, c := range cs {
			if !sameBits(got[i], c.want) {
				t.Errorf("%v(%g) = %g (%#x), want %g (%#x)", a, c.x, got[i], math.Float32bits(got[i]), c.want, math.Float32bits(c.want))
			}
		}
		for i, v := range nans {
			if g := got[len(cs)+i]; g == g {
				t.Errorf("%v(NaN %#x) = %g, want NaN", a, math.Float32bits(v), g)
			}
		}
		if a.Func == fallback.Identity {
			for i, v := range nans {
				if g := got[len(cs)+i]; math.Float32bits(g) != math.Float32bits(v) {
					t.Errorf("Identity changed NaN %#x to %#x", math.Float32bits(v), math.Float32bits(g))
				}
			}
		}
	}
}

// TestForwardInPlace checks that dst == x gives the same result as separate
// slices, for every function.
func TestForwardInPlace(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := randomInputs(rng, 1000)
	for _, a := range append(append([]fallback.Activation{}, approxActs...), exactActs...) {
		want := make([]float32, len(x))
		fallback.Forward(a, want, x)
		got := append([]float32(nil), x...)
		fallback.Forward(a, got, got)
		for i := range got {
			if !sameBits(got[i], want[i]) {
				t.Fatalf("%v in place: [%d] = %g, want %g", a, i, got[i], want[i])
			}
		}
	}
}

// randomInputs returns n values spread over many binades, both signs, with
// some special values mixed in.
func randomInputs(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	specials := []float32{0, negZero, inf32, -inf32, float32(math.NaN()), denormal, -denormal, 1, -1}
	for i := range x {
		switch rng.IntN(10) {
		case 0:
			x[i] = specials[rng.IntN(len(specials))]
		case 1, 2:
			x[i] = math.Float32frombits(rng.Uint32())
		default:
			x[i] = float32(math.Exp(rng.Float64()*14-9)) * float32(1-2*rng.IntN(2))
		}
	}
	return x
}

// backwardTol is the tolerance of Backward against the float64 product
// dy·f'(y): f'(y) takes up to three float32 roundings (two factors and their
// product) and the product with dy one more, each at most 2^-24 relative.
func backwardTol(f fallback.Func) float64 {
	switch f {
	case fallback.Identity, fallback.ReLU, fallback.LeakyReLU:
		return 0 // f'(y) is exact, one rounding: correctly rounded
	case fallback.ELU:
		return 2
	}
	return 4
}

// TestBackward compares Backward with the float64 reference dy·f'(y) on
// outputs y of Forward and on arbitrary y, including special values.
func TestBackward(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const n = 20000
	for _, a := range append(append([]fallback.Activation{}, approxActs...), exactActs...) {
		x := randomInputs(rng, n)
		y := make([]float32, n)
		fallback.Forward(a, y, x)
		// Arbitrary y in the range of f too (outside it the float32 formula
		// may overflow where float64 does not).
		for i, v := range randomInputs(rng, n/2) {
			switch a.Func {
			case fallback.Sigmoid:
				v = float32(math.Mod(math.Abs(float64(v)), 1))
			case fallback.Tanh:
				v = float32(math.Mod(float64(v), 1))
			}
			y[n/2+i] = v
		}
		dy := randomInputs(rng, n)
		dx := make([]float32, n)
		fallback.Backward(a, dx, dy, y)
		tol := backwardTol(a.Func)
		bad := 0
		for i := range dx {
			want := ref.Backward(a, float64(dy[i]), float64(y[i]))
			ok := false
			if tol == 0 {
				ok = sameBits(dx[i], float32(want)) || dx[i] == float32(want) // ±0 from 0·negative
			} else {
				ok = ref.ULP(dx[i], want) <= tol
			}
			if !ok && bad < 5 {
				bad++
				t.Errorf("%v backward dy=%g y=%g: %g, want %g (%.2f ULP, tolerance %g)", a, dy[i], y[i], dx[i], want, ref.ULP(dx[i], want), tol)
			}
		}
		// In place, over dy and over y.
		got := append([]float32(nil), dy...)
		fallback.Backward(a, got, got, y)
		got2 := append([]float32(nil), y...)
		fallback.Backward(a, got2, dy, got2)
		for i := range got {
			if !sameBits(got[i], dx[i]) || !sameBits(got2[i], dx[i]) {
				t.Fatalf("%v backward in place differs at %d: %g, %g, want %g", a, i, got[i], got2[i], dx[i])
			}
		}
	}
}

// TestBackwardSpecial pins the IEEE product semantics of dx = dy·f'(y).
func TestBackwardSpecial(t *testing.T) {
	nan := float32(math.NaN())
	cases := []struct {
		a           fallback.Activation
		dy, y, want float32
	}{
		{fallback.Activation{Func: fallback.ReLU}, 3, 2, 3},
		{fallback.Activation{Func: fallback.ReLU}, 3, 0, 0},
		{fallback.Activation{Func: fallback.ReLU}, -3, 0, negZero},
		{fallback.Activation{Func: fallback.ReLU}, nan, 0, nan},
		{fallback.Activation{Func: fallback.ReLU}, inf32, 0, nan},
		{fallback.Activation{Func: fallback.ReLU}, 1, nan, 0},
		{fallback.Activation{Func: fallback.LeakyReLU, Alpha: 0.5}, 4, -1, 2},
		{fallback.Activation{Func: fallback.ELU, Alpha: 1}, 2, -1, 0},
		{fallback.Activation{Func: fallback.ELU, Alpha: 1}, 2, -0.5, 1},
		{fallback.Activation{Func: fallback.ELU, Alpha: 1}, 2, 5, 2},
		{fallback.Activation{Func: fallback.Sigmoid}, 4, 0.5, 1},
		{fallback.Activation{Func: fallback.Sigmoid}, 4, 1, 0},
		{fallback.Activation{Func: fallback.Sigmoid}, 4, 0, 0},
		{fallback.Activation{Func: fallback.Tanh}, 4, 0, 4},
		{fallback.Activation{Func: fallback.Tanh}, 4, 1, 0},
		{fallback.Activation{Func: fallback.Tanh}, 4, -1, 0},
		{fallback.Activation{Func: fallback.Tanh}, 4, nan, nan},
		{fallback.Activation{Func: fallback.Identity}, nan, 1, nan},
	}
	for _, c := range cases {
		dx := []float32{0}
		fallback.Backward(c.a, dx, []float32{c.dy}, []float32{c.y})
		if !sameBits(dx[0], c.want) {
			t.Errorf("%v backward dy=%g y=%g: %g, want %g", c.a, c.dy, c.y, dx[0], c.want)
		}
	}
}

func TestMaxout(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	nan := float32(math.NaN())
	pool := []float32{nan, -inf32, inf32, 0, negZero, 1, 1, -1, 2, denormal}
	for k := 1; k <= 9; k++ {
		for _, groups := range []int{0, 1, 7, 100} {
			x := make([]float32, groups*k)
			for i := range x {
				x[i] = pool[rng.IntN(len(pool))]
			}
			dst := make([]float32, groups)
			arg := make([]int32, groups)
			fallback.MaxoutForward(k, dst, arg, x)
			for i := range dst {
				wv, wa := ref.Maxout(x[i*k : i*k+k])
				if !sameBits(dst[i], wv) || arg[i] != wa {
					t.Fatalf("k=%d group %v: (%g, %d), want (%g, %d)", k, x[i*k:i*k+k], dst[i], arg[i], wv, wa)
				}
			}
			dy := make([]float32, groups)
			for i := range dy {
				dy[i] = float32(i + 1)
			}
			dx := make([]float32, len(x))
			for i := range dx {
				dx[i] = nan // must all be overwritten
			}
			fallback.MaxoutBackward(k, dx, dy, arg)
			for i := range dx {
				want := float32(0)
				if int32(i%k) == arg[i/k] {
					want = dy[i/k]
				}
				if !sameBits(dx[i], want) {
					t.Fatalf("k=%d MaxoutBackward dx[%d] = %g, want %g", k, i, dx[i], want)
				}
			}
		}
	}
	// Named cases: ties, signed zeros, NaN position.
	for _, c := range []struct {
		g    []float32
		want float32
		arg  int32
	}{
		{[]float32{1, 3, 3}, 3, 1},
		{[]float32{0, negZero}, 0, 0},
		{[]float32{negZero, 0}, negZero, 0},
		{[]float32{5, nan, 7}, nan, 1},
		{[]float32{nan, 7}, nan, 0},
		{[]float32{-inf32, -inf32}, -inf32, 0},
	} {
		dst, arg := []float32{0}, []int32{0}
		fallback.MaxoutForward(len(c.g), dst, arg, c.g)
		if !sameBits(dst[0], c.want) || arg[0] != c.arg {
			t.Errorf("MaxoutForward(%v) = (%g, %d), want (%g, %d)", c.g, dst[0], arg[0], c.want, c.arg)
		}
	}
}

// TestPanics checks that bad shapes panic with a message naming the argument.
func TestPanics(t *testing.T) {
	s := func(n int) []float32 { return make([]float32, n) }
	cases := []struct {
		name, want string
		f          func()
	}{
		{"Forward", "len(dst) = 3 != len(x) = 4", func() { fallback.Forward(fallback.Activation{Func: fallback.Tanh}, s(3), s(4)) }},
		{"Forward func", "unknown activation", func() { fallback.Forward(fallback.Activation{Func: 99}, s(3), s(3)) }},
		{"Backward dy", "len(dy) = 2 != len(dx) = 3", func() { fallback.Backward(fallback.Activation{Func: fallback.Sigmoid}, s(3), s(2), s(3)) }},
		{"Backward y", "len(y) = 4 != len(dx) = 3", func() { fallback.Backward(fallback.Activation{Func: fallback.Sigmoid}, s(3), s(3), s(4)) }},
		{"Backward func", "unknown activation", func() { fallback.Backward(fallback.Activation{Func: fallback.NumFuncs}, s(3), s(3), s(3)) }},
		{"MaxoutForward k", "k = 0 < 1", func() { fallback.MaxoutForward(0, s(0), nil, s(0)) }},
		{"MaxoutForward x", "len(x) = 5", func() { fallback.MaxoutForward(2, s(3), make([]int32, 3), s(5)) }},
		{"MaxoutForward argmax", "len(argmax) = 2", func() { fallback.MaxoutForward(2, s(3), make([]int32, 2), s(6)) }},
		{"MaxoutBackward argmax", "argmax[1] = 2 outside [0, k = 2)", func() { fallback.MaxoutBackward(2, s(4), s(2), []int32{0, 2}) }},
		{"MaxoutBackward negative", "argmax[0] = -1", func() { fallback.MaxoutBackward(2, s(4), s(2), []int32{-1, 0}) }},
		{"BackwardBias lddy", "lddy = 2 < max(1, 3)", func() {
			fallback.BackwardBias(fallback.Activation{}, 2, 3, s(6), 2, s(6), 3, s(6), 3, nil)
		}},
		{"BackwardBias dz", "len(dz) = 5 < 6", func() {
			fallback.BackwardBias(fallback.Activation{}, 2, 3, s(6), 3, s(6), 3, s(5), 3, nil)
		}},
		{"BackwardBias db", "len(db) = 2 < n = 3", func() {
			fallback.BackwardBias(fallback.Activation{}, 2, 3, s(6), 3, s(6), 3, s(6), 3, s(2))
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if r == nil || !strings.Contains(fmt.Sprint(r), c.want) {
					t.Errorf("panic %v, want one containing %q", r, c.want)
				}
			}()
			c.f()
		})
	}
}

func BenchmarkForward(b *testing.B) {
	rng := rand.New(rand.NewPCG(7, 8))
	x := make([]float32, 4096)
	for i := range x {
		x[i] = float32(rng.NormFloat64() * 3)
	}
	dst := make([]float32, len(x))
	for _, a := range append(append([]fallback.Activation{}, approxActs[:3]...), exactActs[:3]...) {
		b.Run(a.String(), func(b *testing.B) {
			for b.Loop() {
				fallback.Forward(a, dst, x)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(x)), "ns/elem")
		})
	}
}

func BenchmarkBackward(b *testing.B) {
	rng := rand.New(rand.NewPCG(9, 10))
	y := make([]float32, 4096)
	dy := make([]float32, len(y))
	for i := range y {
		y[i], dy[i] = rng.Float32(), rng.Float32()
	}
	dx := make([]float32, len(y))
	for _, a := range append(append([]fallback.Activation{}, approxActs[:3]...), exactActs[:3]...) {
		b.Run(a.String(), func(b *testing.B) {
			for b.Loop() {
				fallback.Backward(a, dx, dy, y)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(y)), "ns/elem")
		})
	}
}

// BenchmarkForwardNaive is the float64 baseline for BenchmarkForward on the
// same inputs: 1/(1+math.Exp(-x)), math.Tanh and math.Expm1, converted per
// element, each in its own loop (no call through a function value).
func BenchmarkForwardNaive(b *testing.B) {
	rng := rand.New(rand.NewPCG(7, 8))
	x := make([]float32, 4096)
	for i := range x {
		x[i] = float32(rng.NormFloat64() * 3)
	}
	dst := make([]float32, len(x))
	report := func(b *testing.B) {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(x)), "ns/elem")
	}
	b.Run("sigmoid", func(b *testing.B) {
		for b.Loop() {
			for i, v := range x {
				dst[i] = float32(1 / (1 + math.Exp(-float64(v))))
			}
		}
		report(b)
	})
	b.Run("tanh", func(b *testing.B) {
		for b.Loop() {
			for i, v := range x {
				dst[i] = float32(math.Tanh(float64(v)))
			}
		}
		report(b)
	})
	b.Run("elu(1)", func(b *testing.B) {
		for b.Loop() {
			for i, v := range x {
				if v <= 0 {
					v = float32(math.Expm1(float64(v)))
				}
				dst[i] = v
			}
		}
		report(b)
	})
}

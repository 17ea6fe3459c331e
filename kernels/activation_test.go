package kernels_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/actfuse/actfuse/fallback"
	"github.com/actfuse/actfuse/internal/desc"
	"github.com/actfuse/actfuse/internal/ref"
	"github.com/actfuse/actfuse/kernels"
)

// These tests run every kernel of the public API under every implementation
// this machine can run (kernels.Implementations), against the float64
// references of package internal/ref and, bit for bit, against package
// fallback: every implementation runs the programs of internal/desc
// operation for operation, so they agree on every input that is not a NaN.

// maxULP is the accuracy target of the exp-based activations
// (docs/ARCHITECTURE.md, "Accuracy targets").
const maxULP = 2

// guardBits is a NaN payload no kernel produces: the values around every
// output buffer are set to it and must survive bit for bit.
const guardBits = 0x7fa5a5a5

var (
	guard   = math.Float32frombits(guardBits)
	inf32   = float32(math.Inf(1))
	negZero = float32(math.Copysign(0, -1))
)

// testActs are the activations (with parameters) every test covers.
var testActs = []kernels.Activation{
	{Func: kernels.Identity},
	{Func: kernels.ReLU},
	{Func: kernels.LeakyReLU, Alpha: 0.01}, // the variant LeakyReLUMax, 0 < Alpha <= 1
	{Func: kernels.LeakyReLU, Alpha: 1},
	{Func: kernels.LeakyReLU, Alpha: 0x1p-149},
	{Func: kernels.LeakyReLU, Alpha: 0}, // the program LeakyReLU
	{Func: kernels.LeakyReLU, Alpha: 2.5},
	{Func: kernels.ELU, Alpha: 1},             // the variant ELUOne, Alpha = 1
	{Func: kernels.ELU, Alpha: 0x1.fffffep-1}, // the program ELU, just below
	{Func: kernels.ELU, Alpha: 0.3},
	{Func: kernels.Sigmoid},
	{Func: kernels.Tanh},
	{Func: kernels.ScaledSigmoid, Slope: 0.25},
	{Func: kernels.ScaledSigmoid, Slope: 4},
	kernels.LeCunTanh,
	{Func: kernels.ScaledTanh, Gain: 1, Slope: 0.25},
	{Func: kernels.ScaledTanh, Gain: 2.5, Slope: 4},
}

// eachImpl runs body as a subtest under every implementation and restores
// the implementation that was active. An implementation of this GOARCH
// that the machine cannot run (avx512 on a CPU without AVX-512) gets a
// skipped subtest, so that the test output says what was not tested.
func eachImpl(t *testing.T, body func(t *testing.T)) {
	t.Helper()
	prev := kernels.ISA()
	defer func() {
		if err := kernels.Use(prev); err != nil {
			t.Fatal(err)
		}
	}()
	have := kernels.Implementations()
	for _, im := range desc.Impls {
		if im.Arch == runtime.GOARCH && !slices.Contains(have, im.Name) {
			t.Run(im.Name, func(t *testing.T) {
				t.Skipf("%s is not available here (the CPU lacks it, %s=%s caps it, or the build is purego): not tested", im.Name, kernels.MaxISAEnv, os.Getenv(kernels.MaxISAEnv))
			})
		}
	}
	for _, name := range have {
		if err := kernels.Use(name); err != nil {
			t.Fatal(err)
		}
		t.Run(name, body)
	}
}

// sameBits reports whether got and want are the same float32, any NaN
// matching any NaN.
func sameBits(got, want float32) bool {
	if want != want {
		return got != got
	}
	return math.Float32bits(got) == math.Float32bits(want)
}

// forwardOK reports whether got is an acceptable Forward result for x:
// bit-exact for Identity, ReLU and LeakyReLU, within maxULP otherwise.
func forwardOK(a kernels.Activation, x, got float32) (bool, float64) {
	want := ref.Forward(a)(float64(x))
	if ref.IsExact(a.Func) {
		return sameBits(got, float32(want)), want
	}
	return ref.ULP(got, want) <= maxULP, want
}

// testInputs returns n inputs over many binades and both signs, with special
// values (NaN, ±Inf, ±0, denormals) mixed in.
func testInputs(rng *rand.Rand, n int) []float32 {
	specials := []float32{
		0, negZero, inf32, -inf32, float32(math.NaN()), math.Float32frombits(0xffc00001),
		0x1p-149, -0x1p-140, 0x1p-126, 1, -1, math.MaxFloat32, -math.MaxFloat32, 88.8, -88.8, 9.1, -17,
	}
	x := make([]float32, n)
	for i := range x {
		switch rng.IntN(8) {
		case 0:
			x[i] = specials[rng.IntN(len(specials))]
		case 1:
			x[i] = math.Float32frombits(rng.Uint32())
		default:
			x[i] = float32(math.Exp(rng.Float64()*12-8)) * float32(1-2*rng.IntN(2))
		}
	}
	return x
}

// guarded returns a buffer of n values at offset off inside guard values,
// and a check that the guards are intact.
func guarded(n, off int) (buf, out []float32, check func(t *testing.T, what string)) {
	return guardedIn(make([]float32, off+n+17), n, off)
}

// guardedAligned is guarded with the output starting skew elements past a
// 64-byte boundary, after at least 16 guard values.
func guardedAligned(n, skew int) (out []float32, check func(t *testing.T, what string)) {
	buf := make([]float32, 32+skew+n+17)
	off := 16 + int((64-uintptr(unsafe.Pointer(&buf[16]))%64)%64)/4 + skew
	_, out, check = guardedIn(buf, n, off)
	return out, check
}

// guardedIn fills buf with guard values and returns its n values at
// offset off as the output.
func guardedIn(buf []float32, n, off int) ([]float32, []float32, func(t *testing.T, what string)) {
	for i := range buf {
		buf[i] = guard
	}
	out := buf[off : off+n : off+n]
	return buf, out, func(t *testing.T, what string) {
		t.Helper()
		for i, v := range buf {
			if (i < off || i >= off+n) && math.Float32bits(v) != guardBits {
				t.Fatalf("%s: guard at %d (output [%d, %d)) overwritten with %g", what, i, off, off+n, v)
			}
		}
	}
}

// forwardLengths are the lengths TestForward checks: 0..70, and around the
// multiples of 16 up to 9 vectors, where the pipelined AVX-512 loops (from
// 3 or 4 vectors on) run their loop 1 to 6 times before the tail.
var forwardLengths = func() []int {
	var ns []int
	for n := 0; n <= 70; n++ {
		ns = append(ns, n)
	}
	for v := 5; v <= 9; v++ {
		ns = append(ns, 16*v-1, 16*v, 16*v+1, 16*v+9)
	}
	return ns
}()

// TestForward checks Forward for the forwardLengths at several offsets,
// with guards around the output, and in place.
func TestForward(t *testing.T) {
	eachImpl(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(1, 1))
		for _, a := range testActs {
			for _, n := range forwardLengths {
				for _, off := range []int{0, 1, 3, 8, 13} {
					xbuf := testInputs(rng, n+off+2)
					x := xbuf[off+1 : off+1+n]
					buf, out, check := guarded(n, off)
					kernels.Forward(a, out, x)
					what := fmt.Sprintf("%v n=%d off=%d", a, n, off)
					check(t, what)
					spec := make([]float32, n)
					fallback.Forward(a, spec, x)
					for i, v := range x {
						if ok, want := forwardOK(a, v, out[i]); !ok {
							t.Fatalf("%s: f(%g) = %g (%#x), want %g (%.2f ULP)", what, v, out[i], math.Float32bits(out[i]), want, ref.ULP(out[i], want))
						}
						if !sameBits(out[i], spec[i]) {
							t.Fatalf("%s: f(%g) = %g (%#x), the fallback gives %g (%#x)", what, v, out[i], math.Float32bits(out[i]), spec[i], math.Float32bits(spec[i]))
						}
					}
					// In place: the same bits.
					copy(out, x)
					kernels.Forward(a, out, out)
					check(t, what+" in place")
					kernels.Forward(a, xbuf[:n], x) // reference result in a fresh place
					for i := range out {
						if !sameBits(out[i], xbuf[i]) {
							t.Fatalf("%s in place: [%d] = %g, out of place %g", what, i, out[i], xbuf[i])
						}
					}
					_ = buf
				}
			}
		}
	})
}

// TestForwardSpecial pins the special values every implementation must
// give: ±Inf, ±0, denormals, the extremes, the saturation points, the sign
// of zero results, and NaNs of every kind in, NaN out (Identity keeps their
// bits).
func TestForwardSpecial(t *testing.T) {
	type tc struct{ x, want float32 }
	const den = 0x1p-140
	nans := []float32{
		math.Float32frombits(0x7fc00000), math.Float32frombits(0xffc00000),
		math.Float32frombits(0x7f800001), math.Float32frombits(0xff812345),
	}
	cases := []struct {
		a  kernels.Activation
		cs []tc
	}{
		{kernels.Activation{Func: kernels.Sigmoid}, []tc{
			{-inf32, 0}, {inf32, 1}, {0, 0.5}, {negZero, 0.5}, {0x1p-149, 0.5}, {den, 0.5}, {-den, 0.5},
			{-math.MaxFloat32, 0}, {math.MaxFloat32, 1}, {-88, 0}, {-200, 0}, {17, 1 - 0x1p-24}, {20, 1}, {30, 1},
			// Just beyond the cutoff, where the table's scale s would not be normal.
			{-87.35, 0}, {-87.37, 0}}},
		{kernels.Activation{Func: kernels.Tanh}, []tc{
			{-inf32, -1}, {inf32, 1}, {0, 0}, {negZero, negZero}, {den, den}, {-den, -den}, {-0x1p-149, -0x1p-149},
			{0x1p-126, 0x1p-126}, {-math.MaxFloat32, -1}, {math.MaxFloat32, 1}, {9.1, 1}, {20, 1}, {-20, -1}}},
		{kernels.Activation{Func: kernels.ELU, Alpha: 1}, []tc{
			{-inf32, -1}, {inf32, inf32}, {0, 0}, {negZero, negZero}, {den, den}, {-den, -den},
			{-math.MaxFloat32, -1}, {math.MaxFloat32, math.MaxFloat32}, {-30, -1}, {-50, -1}}},
		{kernels.Activation{Func: kernels.ELU, Alpha: 0.25}, []tc{{-inf32, -0.25}, {-100, -0.25}, {3, 3}}},
		{kernels.Activation{Func: kernels.ELU, Alpha: 0}, []tc{{-inf32, negZero}, {-1, negZero}, {3, 3}}},
		{kernels.Activation{Func: kernels.ReLU}, []tc{
			{-inf32, 0}, {inf32, inf32}, {0, 0}, {negZero, negZero}, {-den, 0}, {den, den}, {-3, 0}, {3, 3}, {-0x1p-149, 0}}},
		{kernels.Activation{Func: kernels.LeakyReLU, Alpha: 0.5}, []tc{
			{-inf32, -inf32}, {inf32, inf32}, {0, 0}, {negZero, negZero}, {-4, -2}, {-3, -1.5},
			{-0x1p-149, negZero}, {-0x1p-148, -0x1p-149}}},
		{kernels.Activation{Func: kernels.LeakyReLU, Alpha: 0}, []tc{{-inf32, negZero}, {-3, negZero}, {negZero, negZero}, {3, 3}, {inf32, inf32}}},
		{kernels.Activation{Func: kernels.LeakyReLU, Alpha: 1}, []tc{{-inf32, -inf32}, {-3, -3}, {negZero, negZero}, {0, 0}, {-0x1p-149, -0x1p-149}, {inf32, inf32}}},
		{kernels.Activation{Func: kernels.LeakyReLU, Alpha: 0x1p-149}, []tc{
			{-inf32, -inf32}, {-1, -0x1p-149}, {-0.4, negZero}, {-0.6, -0x1p-149}, {negZero, negZero}, {0.4, 0.4}, {-math.MaxFloat32, -0x1.fffffep-22}}},
		{kernels.Activation{Func: kernels.LeakyReLU, Alpha: 2.5}, []tc{{-inf32, -inf32}, {-2, -5}, {negZero, negZero}, {2, 2}, {-0x1p-149, -0x1p-148}}},
		{kernels.Activation{Func: kernels.Identity}, []tc{{-inf32, -inf32}, {negZero, negZero}, {den, den}}},
		{kernels.LeCunTanh, []tc{
			{-inf32, -kernels.LeCunGain}, {inf32, kernels.LeCunGain}, {0, 0}, {negZero, negZero},
			{-math.MaxFloat32, -kernels.LeCunGain}, {math.MaxFloat32, kernels.LeCunGain}, {30, kernels.LeCunGain}, {-30, -kernels.LeCunGain}}},
		{kernels.Activation{Func: kernels.ScaledTanh, Gain: 2.5, Slope: 4}, []tc{
			{-inf32, -2.5}, {inf32, 2.5}, {0, 0}, {negZero, negZero}, {1e30, 2.5}, {-1e30, -2.5}}},
		{kernels.Activation{Func: kernels.ScaledSigmoid, Slope: 0.25}, []tc{
			{-inf32, 0}, {inf32, 1}, {0, 0.5}, {negZero, 0.5}, {den, 0.5},
			{-math.MaxFloat32, 0}, {math.MaxFloat32, 1}, {-400, 0}, {120, 1}}},
		{kernels.Activation{Func: kernels.ScaledSigmoid, Slope: 30}, []tc{
			{-inf32, 0}, {inf32, 1}, {0, 0.5}, {-math.MaxFloat32, 0}, {math.MaxFloat32, 1}, {-3, 0}, {1e37, 1}}},
	}
	eachImpl(t, func(t *testing.T) {
		for _, c := range cases {
			x := make([]float32, 0, 3*(len(c.cs)+len(nans)))
			for range 3 { // repeat so that vector bodies, not only tails, see them
				for _, e := range c.cs {
					x = append(x, e.x)
				}
				x = append(x, nans...)
			}
			got := make([]float32, len(x))
			kernels.Forward(c.a, got, x)
			for i, v := range got {
				j := i % (len(c.cs) + len(nans))
				if j >= len(c.cs) {
					n := nans[j-len(c.cs)]
					if v == v || c.a.Func == kernels.Identity && math.Float32bits(v) != math.Float32bits(n) {
						t.Errorf("%v(NaN %#x) = %g (%#x), want a NaN", c.a, math.Float32bits(n), v, math.Float32bits(v))
					}
					continue
				}
				if e := c.cs[j]; !sameBits(v, e.want) {
					t.Errorf("%v(%g) = %g (%#x), want %g (%#x)", c.a, e.x, v, math.Float32bits(v), e.want, math.Float32bits(e.want))
				}
			}
		}
	})
}

// TestBackwardSpecial pins the IEEE product semantics of dx = dy·f'(y):
// a NaN or infinite dy gives NaN where f'(y) = 0.
func TestBackwardSpecial(t *testing.T) {
	nan := float32(math.NaN())
	cases := []struct {
		a           kernels.Activation
		dy, y, want float32
	}{
		{kernels.Activation{Func: kernels.ReLU}, 3, 2, 3},
		{kernels.Activation{Func: kernels.ReLU}, 3, 0, 0},
		{kernels.Activation{Func: kernels.ReLU}, -3, 0, negZero},
		{kernels.Activation{Func: kernels.ReLU}, nan, 0, nan},
		{kernels.Activation{Func: kernels.ReLU}, inf32, 0, nan},
		{kernels.Activation{Func: kernels.ReLU}, 1, nan, 0},
		{kernels.Activation{Func: kernels.LeakyReLU, Alpha: 0.5}, 4, -1, 2},
		{kernels.Activation{Func: kernels.ELU, Alpha: 1}, 2, -1, 0},
		{kernels.Activation{Func: kernels.ELU, Alpha: 1}, 2, -0.5, 1},
		{kernels.Activation{Func: kernels.ELU, Alpha: 1}, 2, 5, 2},
		{kernels.Activation{Func: kernels.Sigmoid}, 4, 0.5, 1},
		{kernels.Activation{Func: kernels.Sigmoid}, 4, 1, 0},
		{kernels.Activation{Func: kernels.Sigmoid}, 4, 0, 0},
		{kernels.Activation{Func: kernels.Tanh}, 4, 0, 4},
		{kernels.Activation{Func: kernels.Tanh}, 4, 1, 0},
		{kernels.Activation{Func: kernels.Tanh}, 4, -1, 0},
		{kernels.Activation{Func: kernels.Tanh}, 4, nan, nan},
		{kernels.Activation{Func: kernels.Identity}, nan, 1, nan},
	}
	eachImpl(t, func(t *testing.T) {
		for _, c := range cases {
			// Nine copies: a vector body and a tail.
			dy, y, dx := make([]float32, 9), make([]float32, 9), make([]float32, 9)
			for i := range dy {
				dy[i], y[i] = c.dy, c.y
			}
			kernels.Backward(c.a, dx, dy, y)
			for _, v := range dx {
				if !sameBits(v, c.want) {
					t.Errorf("%v backward dy=%g y=%g: %g, want %g", c.a, c.dy, c.y, v, c.want)
					break
				}
			}
		}
	})
}

// backwardTol is the tolerance of Backward against the float64 dy·f'(y):
// exact where f'(y) is exact (one rounding), otherwise up to four float32
// roundings of at most 2^-24 relative each.
func backwardTol(f kernels.Func) float64 {
	switch f {
	case kernels.Identity, kernels.ReLU, kernels.LeakyReLU:
		return 0
	case kernels.ELU:
		return 2
	}
	return 4
}

// backwardOK reports whether got is an acceptable dy·f'(y).
func backwardOK(a kernels.Activation, dy, y, got float32) (bool, float64) {
	want := ref.Backward(a, float64(dy), float64(y))
	if tol := backwardTol(a.Func); tol > 0 {
		return ref.ULP(got, want) <= tol, want
	}
	w := float32(want)
	return sameBits(got, w) || got == w && got == 0, want // a zero's sign may follow dy
}

// backwardInputs returns saved outputs y in the range of f (from Forward of
// test inputs) and gradients dy.
func backwardInputs(rng *rand.Rand, a kernels.Activation, n int) (dy, y []float32) {
	y = testInputs(rng, n)
	kernels.Forward(a, y, y)
	return testInputs(rng, n), y
}

// TestBackward checks Backward for lengths 0..70 at several offsets, with
// guards, and in place over dy and over y.
func TestBackward(t *testing.T) {
	eachImpl(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(2, 2))
		for _, a := range testActs {
			for n := 0; n <= 70; n++ {
				for _, off := range []int{0, 1, 5, 11} {
					dy, y := backwardInputs(rng, a, n)
					_, out, check := guarded(n, off)
					kernels.Backward(a, out, dy, y)
					what := fmt.Sprintf("%v backward n=%d off=%d", a, n, off)
					check(t, what)
					spec := make([]float32, n)
					fallback.Backward(a, spec, dy, y)
					for i := range out {
						if ok, want := backwardOK(a, dy[i], y[i], out[i]); !ok {
							t.Fatalf("%s: dy=%g y=%g: %g, want %g (%.2f ULP)", what, dy[i], y[i], out[i], want, ref.ULP(out[i], want))
						}
						if !sameBits(out[i], spec[i]) {
							t.Fatalf("%s: dy=%g y=%g: %g, the fallback gives %g", what, dy[i], y[i], out[i], spec[i])
						}
					}
					ref1 := append([]float32(nil), out...)
					copy(out, dy)
					kernels.Backward(a, out, out, y)
					check(t, what+" dx=dy")
					for i := range out {
						if !sameBits(out[i], ref1[i]) {
							t.Fatalf("%s dx=dy: [%d] = %g, want %g", what, i, out[i], ref1[i])
						}
					}
					copy(out, y)
					kernels.Backward(a, out, dy, out)
					check(t, what+" dx=y")
					for i := range out {
						if !sameBits(out[i], ref1[i]) {
							t.Fatalf("%s dx=y: [%d] = %g, want %g", what, i, out[i], ref1[i])
						}
					}
				}
			}
		}
	})
}

// TestMaxout checks MaxoutForward and MaxoutBackward for k = 1..17 and
// 0..40 groups, with ties, signed zeros, NaNs and guards around dst, argmax
// and dx.
func TestMaxout(t *testing.T) {
	eachImpl(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(3, 3))
		pool := []float32{float32(math.NaN()), -inf32, inf32, 0, negZero, 1, 1, -1, 2, 0x1p-149, 3}
		for k := 1; k <= 17; k++ {
			for groups := 0; groups <= 40; groups += 1 + groups/4 {
				x := make([]float32, groups*k)
				for i := range x {
					if rng.IntN(4) == 0 {
						x[i] = pool[rng.IntN(len(pool))]
					} else {
						x[i] = float32(rng.NormFloat64())
						if rng.IntN(30) == 0 {
							x[i] = float32(math.NaN())
						}
					}
				}
				off := 1 + rng.IntN(7)
				_, dst, check := guarded(groups, off)
				abuf := make([]int32, groups+off+9)
				for i := range abuf {
					abuf[i] = -7
				}
				arg := abuf[off : off+groups]
				kernels.MaxoutForward(k, dst, arg, x)
				what := fmt.Sprintf("maxout k=%d groups=%d", k, groups)
				check(t, what)
				for i, v := range abuf {
					if (i < off || i >= off+groups) && v != -7 {
						t.Fatalf("%s: argmax guard %d overwritten", what, i)
					}
				}
				for i := range dst {
					wv, wa := ref.Maxout(x[i*k : i*k+k])
					if !sameBits(dst[i], wv) || arg[i] != wa {
						t.Fatalf("%s: group %v gives (%g, %d), want (%g, %d)", what, x[i*k:i*k+k], dst[i], arg[i], wv, wa)
					}
				}
				dy := testInputs(rng, groups)
				_, dx, checkDx := guarded(groups*k, off)
				kernels.MaxoutBackward(k, dx, dy, arg)
				checkDx(t, what+" backward")
				for i := range dx {
					want := float32(0)
					if int32(i%k) == arg[i/k] {
						want = dy[i/k]
					}
					if !sameBits(dx[i], want) {
						t.Fatalf("%s backward: dx[%d] = %g, want %g", what, i, dx[i], want)
					}
				}
			}
		}
	})
}

// TestShapePanics checks that every kernel rejects inconsistent shapes with
// a message naming the argument, under every implementation.
func TestShapePanics(t *testing.T) {
	s := func(n int) []float32 { return make([]float32, n) }
	tanh := kernels.Activation{Func: kernels.Tanh}
	cases := []struct {
		name, want string
		f          func()
	}{
		{"Forward", "len(dst) = 3 != len(x) = 4", func() { kernels.Forward(tanh, s(3), s(4)) }},
		{"Forward func", "unknown activation", func() { kernels.Forward(kernels.Activation{Func: 42}, s(3), s(3)) }},
		{"Backward dy", "len(dy) = 2 != len(dx) = 3", func() { kernels.Backward(tanh, s(3), s(2), s(3)) }},
		{"Backward y", "len(y) = 5 != len(dx) = 3", func() { kernels.Backward(tanh, s(3), s(3), s(5)) }},
		{"MaxoutForward k", "k = 0 < 1", func() { kernels.MaxoutForward(0, s(2), make([]int32, 2), s(0)) }},
		{"MaxoutForward x", "len(x) = 7", func() { kernels.MaxoutForward(2, s(3), make([]int32, 3), s(7)) }},
		{"MaxoutForward argmax", "len(argmax) = 4", func() { kernels.MaxoutForward(2, s(3), make([]int32, 4), s(6)) }},
		{"MaxoutBackward dx", "len(x) = 5", func() { kernels.MaxoutBackward(2, s(5), s(3), make([]int32, 3)) }},
		{"MaxoutBackward argmax value", "argmax[2] = 3", func() { kernels.MaxoutBackward(3, s(9), s(3), []int32{0, 1, 3}) }},
		{"BackwardBias ldy", "ldy = 3 < max(1, 4)", func() { kernels.BackwardBias(tanh, 2, 4, s(8), 4, s(8), 3, s(8), 4, nil) }},
		{"BackwardBias dy", "len(dy) = 7 < 8", func() { kernels.BackwardBias(tanh, 2, 4, s(7), 4, s(8), 4, s(8), 4, nil) }},
		{"BackwardBias db", "len(db) = 3 < n = 4", func() { kernels.BackwardBias(tanh, 2, 4, s(8), 4, s(8), 4, s(8), 4, s(3)) }},
		{"BackwardBias m", "m = -1 < 0", func() { kernels.BackwardBias(tanh, -1, 4, s(8), 4, s(8), 4, s(8), 4, nil) }},
	}
	eachImpl(t, func(t *testing.T) {
		for _, c := range cases {
			func() {
				defer func() {
					r := recover()
					if r == nil || !strings.Contains(fmt.Sprint(r), c.want) {
						t.Errorf("%s: panic %v, want one containing %q", c.name, r, c.want)
					}
				}()
				c.f()
			}()
		}
	})
}

// TestLongRows checks Forward and Backward on rows long enough for the
// main loops of the amd64 activation kernels that prefetch (from 2^16
// elements; TestForward and TestBackward run the ones that do not, and
// TestBackwardBias a matrix of 2^16 elements or more in short rows) and
// for their streaming loops (desc.StreamMin elements on, with the output
// aligned to 64 bytes, and one element past it, which takes the
// prefetching loop), and MomentumUpdate on the first, split over the
// threads, with guards, against the fallback bit for bit.
func TestLongRows(t *testing.T) {
	const n = 1<<16 + 53
	rows := []struct{ n, skew int }{{n, 3}, {desc.StreamMin + 53, 0}, {desc.StreamMin + 53, 1}}
	rng := rand.New(rand.NewPCG(3, 3))
	x, dy := testInputs(rng, desc.StreamMin+53), testInputs(rng, desc.StreamMin+53)
	for _, a := range testActs {
		t.Run(fmt.Sprint(a), func(t *testing.T) {
			y, spec := make([]float32, len(x)), make([]float32, len(x))
			fallback.Forward(a, y, x)
			fallback.Backward(a, spec, dy, y)
			eachImpl(t, func(t *testing.T) {
				for _, r := range rows {
					out, check := guardedAligned(r.n, r.skew)
					what := fmt.Sprintf("n=%d skew=%d", r.n, r.skew)
					kernels.Forward(a, out, x[:r.n])
					check(t, what)
					for i := range out {
						if !sameBits(out[i], y[i]) {
							t.Fatalf("%s: f(%g) = %g, the fallback gives %g", what, x[i], out[i], y[i])
						}
					}
					kernels.Backward(a, out, dy[:r.n], y[:r.n])
					check(t, what+" backward")
					for i := range out {
						if !sameBits(out[i], spec[i]) {
							t.Fatalf("%s backward: dy=%g y=%g: %g, the fallback gives %g", what, dy[i], y[i], out[i], spec[i])
						}
					}
				}
			})
		})
	}
	eachImpl(t, func(t *testing.T) {
		in := updateInputs(rng, 2, n)
		updateCase(t, fmt.Sprintf("momentum n=%d", n), 1, in,
			func(s [][]float32) bool { return kernels.MomentumUpdate(s[0], s[1], 0.05, 0.9, 1e-4) },
			func(s [][]float32) bool { return fallback.MomentumUpdate(s[0], s[1], 0.05, 0.9, 1e-4) })
	})
}

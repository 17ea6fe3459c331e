package fallback

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// exactFMA returns a·b + c computed exactly and rounded once to float32.
func exactFMA(a, b, c float32) float32 {
	if math.IsNaN(float64(a)) || math.IsNaN(float64(b)) || math.IsNaN(float64(c)) ||
		math.IsInf(float64(a), 0) || math.IsInf(float64(b), 0) || math.IsInf(float64(c), 0) {
		return float32(float64(a)*float64(b) + float64(c))
	}
	x := new(big.Float).SetPrec(1000).SetFloat64(float64(a))
	x.Mul(x, new(big.Float).SetFloat64(float64(b)))
	x.Add(x, new(big.Float).SetFloat64(float64(c)))
	f, _ := x.Float32()
	if f == 0 {
		// big.Float has no signed zero from a sum: IEEE gives -0 only for
		// -0 + -0 (a·b and c both negative zeros).
		return float32(float64(a)*float64(b) + float64(c))
	}
	return f
}

// TestFMA32 checks fma32 against the exact a·b + c on the sums that the
// float64 route rounds twice (built to fall exactly halfway between two
// float32 numbers in float64), near the smallest normal and in the
// subnormal range, and on random operands; and that roundsTwice flags every
// sum where the float64 route alone would be wrong.
func TestFMA32(t *testing.T) {
	type tc struct{ a, b, c float32 }
	// (1 + 2^-12)² = 1 + 2^-11 + 2^-24 is halfway between two float32s; a
	// tiny c pushes the exact sum off the halfway point, which float64
	// cannot see.
	p := float32(1 + 0x1p-12)
	cases := []tc{
		{p, p, 0x1p-80}, {p, p, -0x1p-80}, {-p, p, 0x1p-80}, {p, -p, -0x1p-80},
		{p, p, 0}, {0x1p-70, 0x1p-70, 0x1p-126}, {0x1p-75, 0x1p-75, -0x1p-149},
		{3, 0x1p-150, 0}, {1.5, 0x1p-149, 0x1p-149}, {0, 0, float32(math.Copysign(0, -1))},
		{float32(math.Copysign(0, -1)), 1, float32(math.Copysign(0, -1))},
		{math.MaxFloat32, 2, -math.MaxFloat32}, {0x1p64, 0x1p64, 1},
		{3, 2, -6}, {-3, 2, 6}, {0x1p-75, 0x1p-74, -0x1p-149}, {0, -1, 0}, {float32(math.Copysign(0, -1)), -1, 0},
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for range 200000 {
		c := tc{math.Float32frombits(rng.Uint32()), math.Float32frombits(rng.Uint32()), math.Float32frombits(rng.Uint32())}
		if rng.IntN(2) == 0 { // comparable magnitudes: the interesting sums
			c.b = float32(rng.NormFloat64())
			c.c = -c.a * c.b * float32(1+rng.NormFloat64()*0x1p-20)
		}
		cases = append(cases, c)
	}
	for _, c := range cases {
		want := exactFMA(c.a, c.b, c.c)
		got := fma32(c.a, c.b, c.c)
		if math.Float32bits(got) != math.Float32bits(want) && !(got != got && want != want) {
			t.Fatalf("fma32(%g, %g, %g) = %g (%#x), want %g (%#x)", c.a, c.b, c.c, got, math.Float32bits(got), want, math.Float32bits(want))
		}
		s := float64(c.a)*float64(c.b) + float64(c.c)
		if fast := float32(s); math.Float32bits(fast) != math.Float32bits(want) && !(fast != fast && want != want) && !roundsTwice(s) {
			t.Fatalf("roundsTwice misses %g·%g + %g: the float64 route gives %g, the exact sum %g", c.a, c.b, c.c, fast, want)
		}
	}
	if !roundsTwice(float64(p)*float64(p) + 0x1p-80) {
		t.Error("roundsTwice does not flag the halfway sum")
	}
	// The boundaries of the flagged range below 2^-126, and zeros, which
	// are exact (the float64 route gives the fused operation's zero).
	for _, c := range []struct {
		s    float64
		want bool
	}{{0x1p-126, false}, {-0x1p-126, false}, {0x1.fffffp-127, true}, {0x1p-149, true}, {0x1p-298, true}, {0, false}, {math.Copysign(0, -1), false}} {
		if got := roundsTwice(c.s); got != c.want {
			t.Errorf("roundsTwice(%g) = %v, want %v", c.s, got, c.want)
		}
	}
}

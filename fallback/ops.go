package fallback

import "math"

// The operations of internal/desc's programs that Go has no single
// operator for, as the generated kernels (programs_gen.go) use them. Each
// is branch-free where the data decides: a branch on the sign of
// activations would be mispredicted half the time.

func bits(f float32) uint32     { return math.Float32bits(f) }
func fromBits(u uint32) float32 { return math.Float32frombits(u) }

// lanemask returns the all-ones mask for true, zero for false.
func lanemask(t bool) uint32 {
	var u uint32
	if t {
		u = ^uint32(0)
	}
	return u
}

// pick returns t ? a : b (the Min and Max operations).
func pick(t bool, a, b float32) float32 {
	m := lanemask(t)
	return fromBits(bits(a)&m | bits(b)&^m)
}

// maxNegAbs returns max(-|a|, b) for b < 0, b for a NaN a (the MaxNegAbs
// operation, whose result for a signaling NaN a is not specified).
func maxNegAbs(a, b float32) float32 {
	n := fromBits(bits(a) | 1<<31)
	return pick(n > b, n, b)
}

// sqrt32 is the correctly rounded float32 square root: the float64 root of
// a float32 rounds to float32 without a double-rounding error.
func sqrt32(a float32) float32 { return float32(math.Sqrt(float64(a))) }

// roundsTwice reports whether s, the float64 rounding of a·b + c for
// float32 a, b, c (whose product is exact in float64), may round to a
// float32 other than the correctly rounded a·b + c: only if s lies exactly
// halfway between two float32 numbers (the low 29 bits of its mantissa are
// 1<<28) or is a nonzero number below 2^-126 (where the halfway points lie
// elsewhere). A zero s is exact: a nonzero a·b + c is at least 2^-298 in
// magnitude, so s is zero only where the sum is, and float64 gives it the
// sign the fused operation gives (-0 for -0 + -0 only). The exact zeros of
// the programs (the error of a product that has none, as the scaled forms
// compute with a slope of 1) thus stay on the fast path.
func roundsTwice(s float64) bool {
	u := math.Float64bits(s)
	// (u>>52)&0x7ff - 1 is the biased exponent minus 1: all ones for a
	// zero, below 0x380 for the nonzero numbers under 2^-126.
	return u&(1<<29-1) == 1<<28 || (u>>52)&0x7ff-1 < 0x380
}

// fma32 returns a·b + c rounded once to float32, as a fused multiply-add
// instruction computes it.
func fma32(a, b, c float32) float32 {
	p, cc := float64(a)*float64(b), float64(c)
	s := p + cc
	r := float32(s)
	if float64(r) == s || math.IsNaN(s) || math.IsInf(s, 0) {
		return r
	}
	// e is the exact error of s (TwoSum): a·b + c = s + e.
	bb := s - p
	e := (p - (s - bb)) + (cc - bb)
	if e == 0 {
		return r
	}
	// r is wrong only if s is exactly halfway between r and its neighbour
	// on the other side of s, and then the exact sum lies on e's side.
	var other float64
	switch {
	case math.IsInf(float64(r), 0): // halfway beyond the largest float32
		if math.Abs(s) != math.MaxFloat32+0x1p103 {
			return r
		}
		other = math.Copysign(math.MaxFloat32, s)
	case float64(r) < s:
		other = float64(math.Nextafter32(r, float32(math.Inf(1))))
		if s-float64(r) != other-s {
			return r
		}
	default:
		other = float64(math.Nextafter32(r, float32(math.Inf(-1))))
		if float64(r)-s != s-other {
			return r
		}
	}
	if (e > 0) == (other > s) {
		return float32(other)
	}
	return r
}

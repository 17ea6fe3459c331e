package ref

import "math"

// MinNormal32 is 2^-126, the smallest normal float32: exact results of smaller
// magnitude may be flushed to zero.
const MinNormal32 = 0x1p-126

// Ulp returns the spacing of the float32 numbers at v: 2^(e-23) for
// 2^e <= |v| < 2^(e+1) (also beyond the largest float32, where the spacing of
// the top binade, 2^104, continues), and 2^-149 for |v| < 2^-126.
func Ulp(v float64) float64 {
	v = math.Abs(v)
	if v < MinNormal32 {
		return 0x1p-149
	}
	// The float64 exponent field of v, capped at that of 2^127, minus 23:
	// a power of two built directly in the bits.
	e := min(math.Float64bits(v)>>52, 1023+127)
	return math.Float64frombits((e - 23) << 52)
}

// overflow32 is the smallest magnitude that rounds to infinity in float32:
// the largest float32 plus half its spacing.
const overflow32 = math.MaxFloat32 + 0x1p103

// ULP returns the error of the float32 result got against the exact value
// want, in units of the float32 spacing at want (see Ulp):
//
//   - NaN want: 0 if got is a NaN, +Inf otherwise; a NaN got for a number
//     want is +Inf.
//   - Infinite got: 0 if want has the same sign and rounds to infinity in
//     float32 (|want| >= MaxFloat32 + 2^103), +Inf otherwise.
//   - Zero got for 0 < |want| < 2^-126: 0 if got has the sign of want (flush
//     to zero), +Inf otherwise. A zero got of the wrong sign for any nonzero
//     want is +Inf, so a negative result is never accepted for a positive one.
//   - Otherwise |got - want| / Ulp(want).
func ULP(got float32, want float64) float64 {
	g := float64(got)
	switch {
	case math.IsNaN(want):
		if math.IsNaN(g) {
			return 0
		}
		return math.Inf(1)
	case math.IsNaN(g):
		return math.Inf(1)
	case math.IsInf(g, 0):
		if math.Abs(want) >= overflow32 && math.Signbit(want) == math.Signbit(g) {
			return 0
		}
		return math.Inf(1)
	case g == 0 && want != 0:
		if math.Signbit(g) != math.Signbit(want) {
			return math.Inf(1)
		}
		if math.Abs(want) < MinNormal32 {
			return 0
		}
	}
	if math.IsInf(want, 0) {
		return math.Inf(1) // g is finite here
	}
	return math.Abs(g-want) / Ulp(want)
}

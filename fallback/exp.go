package fallback

import "math"

// The exponential of the exp-based activations.
//
// e^z is computed as 2^n · e^r with n = round(z·log2(e)) and r = z - n·ln2
// (Cody–Waite reduction with ln2 in two parts: ln2Hi has 16 significant bits,
// so n·ln2Hi is exact for |n| < 256 and z - n·ln2Hi is exact; the rounding
// error of r - n·ln2Lo is recovered as rLo). On |r| <= ln2/2,
//
//	e^r = 1 + r + r²·P(r),  P of degree 5 (coefficients expC2..expC7),
//
// and 1 + r + w, w = r²·P(r) + rLo, is summed with two Fast2Sum steps into
// an unevaluated pair h + l that holds that sum to about 48 bits. Its error
// is then that of w (|w| < 0.07, a few float32 roundings: about 2^-27
// relative to e^r) and of P, not that of rounding e^r. Callers combine h, l
// and 2^n (built in the exponent bits) so that their final rounding is the
// only large one: Exp rounds h + l once, the sigmoid divides the pair, ELU
// forms expm1 = (2^n·h - 1) + 2^n·l without cancellation.
//
// The coefficients are a minimax fit of P in float64, weighted for the
// relative error of expm1(r) = r + r²·P(r) (which also bounds the relative
// error of e^r), on |r| <= ln2/2 + 1e-4, made by ref.Minimax (Lawson's
// iteratively reweighted least squares) and rounded to float32:
//
//	ref.Minimax(func(r float64) float64 { return (math.Expm1(r) - r) / (r * r) },
//		func(r float64) float64 { return r * r / math.Abs(math.Expm1(r)) },
//		-(math.Ln2/2 + 1e-4), math.Ln2/2+1e-4, 5)
//
// Fit error 2^-32.0; with the float32 coefficients the relative error of
// r + r²·P(r) against expm1(r) is below 2^-28.8 (TestExpCoefficients checks
// both). The arithmetic is float32 throughout; no step needs a fused
// multiply-add, and where the compiler fuses one (arm64) the result is at
// least as accurate.
const (
	log2e    = 1.44269504088896341
	ln2Hi    = 0.693145751953125     // 0x3f317200
	ln2Lo    = 1.428606765330187e-06 // 0x35bfbe8e, ln2 - ln2Hi
	roundMag = 0x1.8p23              // adding it rounds |v| < 2^22 to an integer in the low mantissa bits

	expC2 = 0x1p-1         // 0.5
	expC3 = 0x1.555554p-3  // 0.166666657
	expC4 = 0x1.5554b2p-5  // 0.0416663624
	expC5 = 0x1.11118ap-7  // 0.00833338965
	expC6 = 0x1.6d7218p-10 // 0.00139406463
	expC7 = 0x1.a032c2p-13 // 0.000198458802
)

// expCore returns n, h, l with e^z ≈ 2^n·(h + l), h = 1 + r + r²·P(r) rounded
// to float32 and l the rounding error of h (|l| <= ulp(h)). z must satisfy
// |z| < 2^21 (callers clamp); a NaN z gives NaN h and l.
func expCore(z float32) (n int32, h, l float32) {
	t := z*log2e + roundMag
	n = int32(math.Float32bits(t)) - int32(math.Float32bits(roundMag))
	nf := t - roundMag
	r1 := z - nf*ln2Hi // exact
	q := float32(nf * ln2Lo)
	r := r1 - q
	rLo := (r1 - r) - q // exact rounding error of r
	p := expC2 + r*(expC3+r*(expC4+r*(expC5+r*(expC6+r*expC7))))
	w := r*r*p + rLo
	a := 1 + r
	aLo := (1 - a) + r // exact: |1| >= |r|
	h = a + w
	hLo := (a - h) + w // exact: |a| >= |w|
	l = aLo + hLo
	return n, h, l
}

// pow2 returns 2^n for -126 <= n <= 127.
func pow2(n int32) float32 {
	return math.Float32frombits(uint32(n+127) << 23)
}

// Exp returns e^x in float32 arithmetic.
//
// Measured over every float32 input against float64 math.Exp: at most
// 0.69 ULP for results of at least 2^-126 (worst x = 27.379375; none above
// 1 ULP). Results below 2^-126 are denormal numbers within 0.77 units of the
// denormal spacing, down to 0 for x < -103.98; x > 88.7228 gives +Inf;
// Exp(-Inf) = 0, Exp(+Inf) = +Inf, Exp(NaN) = NaN. The sweep is
// go test ./fallback -run TestExpExhaustive -exhaustive.
func Exp(x float32) float32 {
	switch {
	case x > 89:
		return float32(math.Inf(1))
	case x < -104:
		return 0
	}
	n, h, l := expCore(x)
	v := h + l
	if n < -125 || n > 127 {
		// Two exact-or-final scalings: 2^n is outside the normal exponents.
		m := n / 2
		return v * pow2(m) * pow2(n-m)
	}
	return v * pow2(n)
}

// expm1Neg returns e^z - 1 for z <= 0 (or NaN) without cancellation: with
// e^z = 2^n·(h + l), it is (2^n·h - 1) + 2^n·l, where 2^n·h - 1 is split into
// its rounded value and exact error by Fast2Sum. For n = 0 (|z| < ln2/2) the
// subtraction h - 1 is exact and the result keeps the full relative accuracy
// of r + r²·P(r).
func expm1Neg(z float32) float32 {
	if z < -25 { // e^-25 < 2^-36: expm1 rounds to -1
		z = -25
	}
	n, h, l := expCore(z)
	s := pow2(n)
	sh := s * h // exact
	u := sh - 1
	uLo := (-1 - u) + sh // exact: |-1| >= |sh|
	return u + (uLo + s*l)
}

// sigmoidNegMin is ln(2^-126) rounded up: for z below it, e^z/(1+e^z) is
// below the smallest normal float32 and the sigmoid returns 0.
const sigmoidNegMin = -87.33654

// sigmoidNeg returns q, c with e^z/(1+e^z) ≈ q + c for
// sigmoidNegMin <= z <= 0 (or NaN), q = the rounded quotient and c a
// correction of about an ulp of q. e = e^z is held as eh + el (exact
// products of 2^n with h and l), d = 1 + e as dh + dl (Fast2Sum), and
// (eh + el)/(dh + dl) = q + (el - q·dl)/dh up to the rounding of the
// division, so the result carries only the division's and the final
// rounding's error.
func sigmoidNeg(z float32) (q, c float32) {
	n, h, l := expCore(z)
	s := pow2(n)
	eh := s * h
	el := s * l
	dh := 1 + eh
	dl := ((1 - dh) + eh) + el // exact up to el: |1| >= |eh|
	q = eh / dh
	// 1/dh = 1 - eh/dh ≈ 1 - q to 2^-24 relative, ample for a correction of
	// about an ulp of q, and a multiplication instead of a second division.
	c = (el - q*dl) * (1 - q)
	return q, c
}

package desc

import (
	"math"
	"slices"
)

// The exp-based activations, one algorithm each, named as XNNPACK names its
// variants (rr2: two-constant Cody–Waite range reduction, rr1: one
// constant; lut8: a table of 2^(j/8); p6, p4, p3: a polynomial of that
// degree for e^t; div: a true division):
//
//	sigmoid  rr2_lut8_p4_div     e = e^-|x|, (x < 0 ? e : 1)/(1 + e), corrected for the rounding of 1 + e
//	tanh     p11_rr1_lut8_p3_div x + x³·P(x²) for |x| < 0.625, else (1 - e)/(1 + e) with e = e^-2|x|
//	elu      rr1_p6_expm1        x >= 0 ? x : alpha·((2^n - 1) + 2^n·(e^t - 1))
//
// The scaled forms run the same algorithms (the scaled tanh with the exp
// core of sigmoid, both tables, its reduction in one step: its correction
// of the quotient leaves no room for the rounding of tanh's single table)
// on z = slope·x carried
// as the rounded product and its exact error (an FMA), which the range
// reduction and the polynomial take in, and fold the gain into their last
// operation, so that neither the product nor the gain adds a rounding to
// the result.
//
// Every path (the fallback and each ISA) runs these programs operation for
// operation, so their results agree bit for bit on every input that is not
// a NaN; the accuracy of the programs is measured once, on all 2^32 inputs
// (go test ./kernels -run TestAccuracyExhaustive -exhaustive).

// Constants of the exp core.
const (
	// ExpMagic is 1.5·2^23 + 127: z·log2(e) + ExpMagic rounds z/ln2 to an
	// integer n (ties to even) held in the low mantissa bits as n + 127, the
	// biased exponent of 2^n, for |n| < 2^22.
	ExpMagic = 0x4b40007f
	Log2e    = 0x3fb8aa3b // log2(e)
	// Ln2 is ln 2 rounded to float32, for a one-step reduction.
	Ln2 = 0x3f317218

	// The table-driven exp cores (sigmoid's, tanh's): the magic 1.5·2^20,
	// which z·log2(e) + ExpMagicLut rounds to a multiple of 1/8, M = N/8
	// for N = round(8z/ln2), with N (two's complement, for |N| < 2^22) in
	// its low mantissa bits; 2·log2(e) (for z = 2h); ln2/2 (the reduction
	// of h = z/2, an exact scaling of Ln2); and ln 2 in two parts, Ln2Hi
	// (ln 2 to 14 bits: 12 significant bits, so M·Ln2Hi is exact for
	// |N| < 2^12) and Ln2Lo the rest.
	ExpMagicLut = 0x49c00000
	Log2eTwice  = 0x4038aa3b
	Ln2Half     = 0x3eb17218
	Ln2Hi       = 0x3f317000
	Ln2Lo       = 0x3805fdf4

	// SigmoidCutoff is ln(2^-126) rounded toward zero (-87.33654): below it
	// e^z is below the smallest normal float32 and the sigmoid flushes e to
	// 0 (the exact result is below 2^-126 or rounds to 1).
	SigmoidCutoff = 0xc2aeac50
	// TanhClamp (-10) bounds -|x| (and -2|x| at -20): tanh(10) rounds to 1.
	TanhClamp = 0xc1200000
	// ELUClamp (-17.5) bounds x for expm1: below it expm1 rounds to -1.
	ELUClamp = 0xc18c0000
	// TanhSplit (0.625) is where tanh leaves its polynomial: from there on
	// tanh(x) > 0.55 and (1 - e)/(1 + e) has no harmful cancellation.
	// TanhSplitSq is its square (exact): x² rounded is at least TanhSplitSq
	// exactly where |x| >= TanhSplit (and the comparison is false for a NaN
	// x).
	TanhSplit   = 0x3f200000
	TanhSplitSq = 0x3ec80000
	// TanhClampSq (100) is TanhClamp squared: x² rounded exceeds it exactly
	// where -|x| < TanhClamp.
	TanhClampSq = 0x42c80000

	signBit = 0x80000000
)

// ExpPoly is q, highest degree first, with e^t ≈ 1 + t + t²·q(t) on
// |t| <= ln2/2: the minimax fit of (e^t - 1 - t)/t² for the relative error
// of e^t, rounded to float32 (relative error of e^t 2^-27.96; the test
// TestExpPoly measures it).
var ExpPoly = []uint32{0x3ab5121a, 0x3c091cf1, 0x3d2aac79, 0x3e2aaa49, 0x3efffffe}

// TanhPoly is p, highest degree first, with tanh(x) ≈ x + x³·p(x²) for
// |x| < TanhSplit: the minimax fit for the relative error of tanh, rounded
// to float32 (relative error 2^-26.8; TestTanhPoly measures it).
var TanhPoly = []uint32{0xbbbaf0eb, 0x3ca9134f, 0xbd5c1e2d, 0x3e088393, 0xbeaaaa99}

// Exp2Lut8 holds, for j = 0..7, the bits of 2^(j/8) rounded to float32:
// the table of the exp cores' ScaleLookup (TestExpTables checks it).
var Exp2Lut8 = [LookupSize]uint32{0x3f800000, 0x3f8b95c2, 0x3f9837f0, 0x3fa5fed7, 0x3fb504f3, 0x3fc5672a, 0x3fd744fd, 0x3feac0c7}

// Exp2Lut8Err holds, for j = 0..7, ln(2^(j/8)/v) for v = 2^(j/8) rounded
// to float32 (the word of Exp2Lut8): the reduced argument's correction for
// the table's rounding.
var Exp2Lut8Err = [LookupSize]uint32{0x00000000, 0xb24e0611, 0x33092801, 0xb3051aa9, 0x329302ae, 0x31b3d0e5, 0xb27ce182, 0xb1d290be}

// ExpPolyLut8P4 is q, highest degree first, with e^t ≈ 1 + t + t²·q(t)
// on |t| <= ln2/16: the minimax fit for the relative error of e^t, rounded
// to float32 (relative error 2^-32.3; TestExpTables measures it).
var ExpPolyLut8P4 = []uint32{0x3d2aa420, 0x3e2aae3b, 0x3f000000}

// ExpPolyLut8P3 is q, highest degree first, with e^t ≈ 1 + t + t²·q(t) on
// |t| <= ln2/16: the minimax fit for the relative error of e^t, rounded to
// float32 (relative error 2^-25.2; TestExpTables measures it).
var ExpPolyLut8P3 = []uint32{0x3e2aab2c, 0x3f00043c}

// noValue is the absent low part of expLut.
const noValue Value = -1

// expLut computes e^(z+lo) for z + lo <= 0 (or NaN) with round(z/ln2) >=
// -126, from the table of 2^(j/8) and the table of its roundings. lo is
// far below z's last bit (the rounding error of a product), or noValue for
// z alone:
//
//	k = z·log2e + magic                   (M = round(8z/ln2)/8, N = 8M = 8n + j)
//	s = Exp2Lut8[j]·2^n                   (2^(j/8) rounded, times 2^n: lutScaleBits)
//	t = z - M·ln2hi + (lo - M·ln2lo + δj) (the first step exact)
//	e = s + (t·P(t))·s                    (expTail)
//
// where δj = ln(2^(j/8)/(s·2^-n)) (Exp2Lut8Err) makes s·e^t e^(z+lo)
// though s is rounded, |t| <= ln2/16 (plus δj) takes a polynomial of
// degree 4, and M·ln2hi is exact for |N| < 2^12 (Ln2Hi has 12
// significant bits). The roundings of (lo) - M·ln2lo + δj, beside the
// exact first step, and of the sum add below 2^-29 to e's relative error,
// and the rounding of t·P less.
func expLut(b *Builder, z, lo Value) Value {
	b.Note("exp: k = z·log2e + magic holds M = round(8z/ln2)/8, N = 8M = 8n + j")
	k := b.FMA(z, b.Bits(Log2e), b.Bits(ExpMagicLut))
	m := b.Sub(k, b.Bits(ExpMagicLut))
	b.Note("t = (z - M·ln2hi) + ((lo) - M·ln2lo + δj): the first step exact, the rest beside it")
	t := b.FNMA(m, b.Bits(Ln2Hi), z)
	if lo == noValue {
		t = b.Add(t, b.FNMA(m, b.Bits(Ln2Lo), b.Lookup(k, Exp2Lut8Err)))
	} else {
		t = b.Add(t, b.Add(b.FNMA(m, b.Bits(Ln2Lo), lo), b.Lookup(k, Exp2Lut8Err)))
	}
	return expTail(b, t, lutScaleBits(b, k), ExpPolyLut8P4)
}

// lutScale returns s = 2^(j/8)·2^n from k, whose low bits hold N = 8n + j
// over the magic ExpMagicLut, and m = N/8, in one ScaleLookup: for the exp
// cores whose m is at least -126 on every lane (tanh's, its argument
// clamped at -20).
func lutScale(b *Builder, k, m Value) Value {
	b.Note("s = 2^(j/8)·2^n")
	return b.ScaleLookup(k, m, Exp2Lut8)
}

// lutScaleBits returns s = 2^(j/8)·2^n from k as lutScale does, on the
// integer lanes: (T[j] - j<<20) + (k << 20), one operation more. The
// sigmoid's exp takes it: on its lanes past the cutoff, which the sigmoid
// then drops, m is below -126, and VSCALEFPS, lowering ScaleLookup, gives
// a subnormal number there, which costs the x86 cores a microcode assist
// (the sigmoid epilogue at inputs of standard deviation 32 took 6.1% over
// identity against 2.6%: BenchmarkEpilogueOverheadWide).
func lutScaleBits(b *Builder, k Value) Value {
	b.Note("s = 2^(j/8)·2^n: the table's word less j<<20, plus k << 20")
	return b.AddInt(b.Lookup(k, OffsetTable(Exp2Lut8)), b.Shl(k, 20))
}

// lutReduce returns t = z - M·ln2 in one step, M = N/8 from k as in
// lutScale: the reduction of the scaled tanh's table-driven exp core, which
// needs e^z only to an absolute error.
func lutReduce(b *Builder, m, z Value) Value {
	return b.FNMA(m, b.Bits(Ln2), z)
}

// expm1 computes e^z - 1 for z <= 0 (or NaN) with round(z/ln2) >= -126,
// as s·p + (s - 1) with s = 2^n, z = n·ln2 + t, |t| <= ln2/2, s - 1 exact
// and p = e^t - 1, for ELU, which needs e^z only to an absolute error where
// n < 0:
//
//	k = z·log2e + magic                (n + 127 in the low bits of k)
//	s = k << 23                        (2^n)
//	t = z - n·Ln2                      (one step)
//	p = t + t²·q(t)
//	e^z - 1 = s·p + (s - 1)            one FMA: s·p is exact, one rounding
//
// The error of Ln2 (1.9e-9) makes t wrong by n·1.9e-9, a relative error of
// e^z = 2^n·e^t and an absolute one of at most 0.5·1.41·1.9e-9 (n = -1,
// -2). ELU's results are at least 0.29 in magnitude where n < 0: below
// 0.05 ULP of them. Where n = 0, s·p + 0 is p, rounded once as well. The
// form before it, (s - 1) + m with m = ts + ts·(t·q) and ts = t·s, rounded
// twice where n < 0 and took one operation more: over all 2^32 inputs
// ELU(1.7) 1.896 → 1.853 ULP, ELU(1) 0.953 → 0.952; n = 4096, 7 alternated
// rounds, avx2 0.282 → 0.239 ns/element, avx512 the same (0.135 → 0.136).
// p is not formed as t·P with P = 1 + t·q, one product fewer, as expTail
// forms e^t: where n = 0 the rounding of P then reaches the result (ELU(1.7)
// 2.108 ULP with the form before this one).
func expm1(b *Builder, z Value) Value {
	b.Note("exp: k = z·log2e + magic holds n = round(z/ln2) + 127")
	k := b.FMA(z, b.Bits(Log2e), b.Bits(ExpMagic))
	b.Note("s = 2^n")
	s := b.Shl(k, 23)
	b.Note("t = z - n·ln2")
	t := b.FNMA(b.Sub(k, b.Bits(ExpMagic)), b.Bits(Ln2), z)
	b.Note("q(t), (e^t - 1 - t)/t²")
	q := Horner(b, t, ExpPoly)
	b.Note("p = e^t - 1 = t + t²·q")
	p := b.FMA(b.Mul(t, t), q, t)
	b.Note("e^z - 1 = s·p + (s - 1), rounded once")
	return b.FMA(s, p, b.Sub(s, b.F(1)))
}

// expAbsTwice returns e^(2h) for -10 <= h <= 0 (or NaN), for tanh's exp
// branch, to an absolute error (as expm1; the branch passes at most
// 0.63 times the error of e^z <= 0.287 on to results >= 0.55), from a
// table of 2^(j/8) and a polynomial of degree 3, which keeps the dependency
// chain short:
//
//	k  = h·(2·log2e) + magic      (M = round(16h/ln2)/8, N = 8M in the low
//	                               bits of k, N = 8n + j with 0 <= j < 8)
//	s  = Exp2Lut8[j]·2^floor(M)   (2^(j/8) rounded, times 2^n: ScaleLookup)
//	t' = h - M·(ln2/2)            (t = 2t' = 2h - N·(ln2/8), |t| <= ln2/16)
//	e^z = s + (t'·s)·P'(t')       (P'(t') = 2·P(2t'), P(t) = 1 + t·q(t))
//
// P' is P with its coefficients scaled by powers of two, so that t' takes
// the place of t without the doubling of h, and every rounding of P' is
// twice that of P at t, exactly (t' is never subnormal on the lanes the
// branch is selected for). s carries the rounding of 2^(j/8), up to half
// an ULP of e^z, which the one-step reduction, the degree-3 polynomial
// (2^-25.2) and the rounding of P (below 2^-28 of e^z, beside |t·s| <=
// s/22) add little to.
func expAbsTwice(b *Builder, h Value) Value {
	b.Note("exp: k = 2h·log2e + magic holds M = round(16h/ln2)/8, N = 8M = 8n + j")
	k := b.FMA(h, b.Bits(Log2eTwice), b.Bits(ExpMagicLut))
	m := b.Sub(k, b.Bits(ExpMagicLut))
	b.Note("t' = h - M·ln2/2 = t/2")
	t := b.FNMA(m, b.Bits(Ln2Half), h)
	s := lutScale(b, k, m)
	b.Note("P'(t') = 2·(1 + t·q(t)), e^z = s + (t'·s)·P'")
	p := Horner(b, t, OnePlusTq(ExpPolyLut8P3, 2, 2))
	return b.FMA(b.Mul(t, s), p, s)
}

// OnePlusTq returns the coefficients, highest degree first, of
// gain·P(scale·t) with P(t) = 1 + t·q(t), q's coefficients poly (highest
// degree first): e^t - 1 = t·P(t) for the exp polynomials. gain and scale
// are powers of two, so that each coefficient is an exact scaling of q's
// (it panics otherwise).
func OnePlusTq(poly []uint32, scale, gain float64) []uint32 {
	for _, f := range []float64{scale, gain} {
		if frac, _ := math.Frexp(f); frac != 0.5 {
			panic("desc: OnePlusTq: a scale or gain that is not a power of two")
		}
	}
	c := append(slices.Clone(poly), math.Float32bits(1))
	out := make([]uint32, len(c))
	for i, w := range c {
		deg := len(c) - 1 - i
		v := float64(math.Float32frombits(w)) * gain * math.Pow(scale, float64(deg))
		if float64(float32(v)) != v {
			panic("desc: OnePlusTq: an inexact scaling")
		}
		out[i] = math.Float32bits(float32(v))
	}
	return out
}

// expPoly returns P(t) = 1 + t·q(t) = (e^t - 1)/t, q the polynomial poly.
func expPoly(b *Builder, t Value, poly []uint32) Value {
	b.Note("P(t) = 1 + t·q(t) = (e^t - 1)/t")
	return Horner(b, t, OnePlusTq(poly, 1, 1))
}

// expTail returns s·e^t = s + (t·P(t))·s, q the polynomial poly of
// P(t) = 1 + t·q(t): one rounding of P and one of t·P, which the product
// by s (|t·P| <= 1/22 in the table-driven cores) makes small beside s, and
// the FMA's. t·P comes before the product by s, so that no intermediate is
// below s: sigmoid's s reaches 2^-126, and t·s falls below 2^-126 from
// |x| = 79.6 on, where each subnormal product costs the x86 cores a
// microcode assist (sigmoid took 1.45× the time at inputs of standard
// deviation 30 with t·s; TestNoSubnormalIntermediates checks the programs).
func expTail(b *Builder, t, s Value, poly []uint32) Value {
	p := expPoly(b, t, poly)
	b.Note("e = s + (t·P)·s")
	return b.FMA(b.Mul(t, p), s, s)
}

// sigmoid is 1/(1 + e^-x) from e = e^-|x|: (x < 0 ? e : 1)/d with d = 1 + e
// rounded, so exp never overflows, then corrected for the rounding of d:
// with dlo = e - (d - 1) (exact), num/(d + dlo) ≈ q - q·(dlo/d), where 1/d
// is 1 - q for x < 0 and q itself for x >= 0.
func sigmoid(b *Builder) *Program {
	b.Note("sigmoid: z = -|x|")
	return sigmoidOf(b, b.In(0), noValue)
}

// sigmoidOf returns the program's result, the sigmoid of x + lo (lo far
// below x's last bit, or noValue for x alone), by the algorithm of sigmoid.
func sigmoidOf(b *Builder, x, lo Value) *Program {
	one := b.F(1)
	z := b.Or(x, b.Bits(signBit))
	e := expLut(b, z, lo)
	b.Note("e = 0 where -|x| < ln(2^-126)")
	cut := b.Less(b.Or(x, b.Bits(signBit)), b.Bits(SigmoidCutoff))
	e = b.Select(cut, b.F(0), e)
	d := b.Add(e, one)
	neg := b.SignMask(x)
	b.Note("q = (x < 0 ? e : 1)/(1 + e)")
	q := b.Div(b.Select(neg, e, one), d)
	b.Note("dlo = e - (d - 1), the rounding error of d (exact)")
	dlo := b.Sub(e, b.Sub(d, one))
	w := b.Select(neg, b.Sub(one, q), q)
	b.Note("y = q - q·(dlo·(1/d))")
	return b.Return(b.FNMA(q, b.Mul(dlo, w), q))
}

// tanh is sign(x)·tanh(|x|): the odd polynomial |x| + |x|³·p(x²) for
// |x| < TanhSplit (no cancellation near 0), and (1 - e)/(1 + e) with
// e = e^-2|x| beyond (e <= 0.287: 1 - e and 1 + e are rounded once each
// and pass on at most 0.63 times the error of e), -|x| clamped at -10 in
// one operation (MaxNegAbs). Both are computed and one is selected, by
// x² >= TanhSplit²: a NaN x makes x² and the polynomial NaN, which
// GreaterEq does not select away.
func tanh(b *Builder) *Program {
	x := b.In(0)
	one := b.F(1)
	clamp := b.Bits(TanhClamp)
	b.Note("tanh: e^z for z = 2h, h = max(-|x|, -10)")
	h := b.MaxNegAbs(x, clamp)
	e := expAbsTwice(b, h)
	b.Note("(1 - e)/(1 + e)")
	big := b.Div(b.Sub(one, e), b.Add(e, one))
	b.Note("x + x³·p(x²)")
	u := b.Mul(x, x)
	p := Horner(b, u, TanhPoly)
	poly := b.FMA(b.Mul(x, u), p, x)
	b.Note("|x| >= split as x² >= split²")
	r := b.Select(b.GreaterEq(u, b.Bits(TanhSplitSq)), big, poly)
	b.Note("the sign of x, last: tanh(-0) = -0")
	return b.Return(b.Or(r, b.And(x, b.Bits(signBit))))
}

// elu is x >= 0 ? x : alpha·expm1(x) with expm1(z) = (s - 1) + m for
// z = max(x, ELUClamp): no cancellation near 0 (n = 0 there, s - 1 = 0).
func elu(b *Builder) *Program {
	x, alpha := b.In(0), b.P(0)
	b.Note("elu: z = max(x, -17.5)")
	e := b.Mul(expm1(b, b.Max(x, b.Bits(ELUClamp))), alpha)
	return b.Return(b.Select(b.Less(x, b.F(0)), e, x))
}

// eluOne is elu for alpha = 1 (the variant's range (1 - 2^-24, 1] holds
// that value alone), without the product by alpha, which is exact there:
// one operation fewer.
func eluOne(b *Builder) *Program {
	x := b.In(0)
	b.Note("elu(1): z = max(x, -17.5)")
	e := expm1(b, b.Max(x, b.Bits(ELUClamp)))
	return b.Return(b.Select(b.Less(x, b.F(0)), e, x))
}

// scaledSigmoid is sigmoid(slope·x) by the algorithm of sigmoid, on
// z = zh + zl with zh = slope·x rounded and zl its error: e = e^-|z| takes
// zl into its range reduction (-|z| = -|zh| + c with c = ±zl), as the
// relative error of e^-|z| is |z| times that of z, up to 87 times the
// rounding of the product otherwise. Where -|zh| is below the cutoff
// (also for an infinite product, whose zl is NaN) e is 0 as in sigmoid.
func scaledSigmoid(b *Builder) *Program {
	x, slope := b.In(0), b.P(0)
	b.Note("scaled sigmoid: zh = slope·x, r = zh - slope·x = -zl (exact)")
	zh := b.Mul(slope, x)
	r := b.FNMA(slope, x, zh)
	b.Note("-|z| = -|zh| + c, c = zh >= 0 ? r : -r")
	c := b.Xor(r, b.And(zh, b.Bits(signBit)))
	return sigmoidOf(b, zh, c)
}

// scaledTanh is gain·tanh(slope·x) by the algorithm of tanh with the exp
// core of sigmoid (expLut's, its reduction in one step, which the
// absolute error tanh's exp branch needs allows), on z = zh + zl
// (zh = slope·x rounded, zl its error) with the gain inside the last
// operation of each branch:
//
//	|zh| >= TanhSplit: gain - 2gain·e/(1 + e), e = e^-2|z| with zl in its
//	                   range reduction (dropped where -2|zh| is clamped), the
//	                   quotient corrected for the rounding of 1 + e (the
//	                   gain moves results up their binade, where tanh's
//	                   uncorrected error would exceed 2 ULP near the split)
//	|zh| <  TanhSplit: gh + (gl + gh·u·p(u)), u = zh², gh = gain·zh rounded,
//	                   gl = its error + gain·zl·(1 - u) (tanh'(z) ≈ 1 - z²)
//
// The parameters are gain, slope, 2·gain and slope/gain (the derivative's).
func scaledTanh(b *Builder) *Program {
	x, gain, slope, gain2 := b.In(0), b.P(0), b.P(1), b.P(2)
	one := b.F(1)
	sign := b.Bits(signBit)
	b.Note("scaled tanh: zh = slope·x, r = zh - slope·x = -zl (exact)")
	zh := b.Mul(slope, x)
	r := b.FNMA(slope, x, zh)
	// The polynomial first: its values die before the exp core's are born.
	b.Note("gh + (gl + gh·u·p(u)) with u = zh²")
	u := b.Mul(zh, zh)
	b.Note("-gl = (gh - gain·zh) + gain·r - gain·r·u")
	gh := b.Mul(gain, zh)
	gr := b.Mul(gain, r)
	ngl := b.FNMA(gr, u, b.Add(b.FNMA(gain, zh, gh), gr))
	p := Horner(b, u, TanhPoly)
	poly := b.Sub(gh, b.FNMA(b.Mul(gh, u), p, ngl))
	clamp := b.Bits(TanhClamp)
	b.Note("h = max(-|zh|, -10); k from h·2log2e, z = 2h beside it")
	h := b.MaxNegAbs(zh, clamp)
	k := b.FMA(h, b.Bits(Log2eTwice), b.Bits(ExpMagicLut))
	b.Note("-2|z| = -2|zh| + c, c = zh >= 0 ? 2r : -2r, 0 where clamped at -20 (zh² > 100)")
	c := b.Xor(b.Add(r, r), b.And(zh, sign))
	c = b.Select(b.Greater(u, b.Bits(TanhClampSq)), b.F(0), c)
	b.Note("t = 2h - M·ln2 + (c + δj): sigmoid's table-driven exp, the reduction in one step")
	c = b.Add(c, b.Lookup(k, Exp2Lut8Err))
	m := b.Sub(k, b.Bits(ExpMagicLut))
	t := b.Add(lutReduce(b, m, b.Add(h, h)), c)
	s := lutScale(b, k, m)
	e := expTail(b, t, s, ExpPolyLut8P4)
	b.Note("q = e/(1 + e), corrected for the rounding of d = 1 + e as in sigmoid")
	d := b.Add(e, one)
	q := b.Div(e, d)
	dlo := b.Sub(e, b.Sub(d, one))
	q = b.FNMA(q, b.Mul(dlo, b.Sub(one, q)), q)
	b.Note("gain - 2gain·q")
	big := b.FNMA(q, gain2, gain)
	res := b.Select(b.GreaterEq(u, b.Bits(TanhSplitSq)), big, poly)
	b.Note("the sign of zh, last: the result of -0 is -0")
	return b.Return(b.Or(res, b.And(zh, sign)))
}

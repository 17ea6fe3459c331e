package main

import (
	"math"

	. "github.com/actfuse/actfuse/gen/arm64/neon"
)

// The exp-based activation math, written once and emitted both into the
// elementwise kernels and into the GEMM epilogue. Every function works on
// groups (one register per unrolled vector) and takes its scratch groups
// explicitly, so the caller decides the register budget.

// Constants of exp (see expParts).
const (
	// expMagic is 1.5·2^23 + 127: adding it to a float32 of magnitude below
	// 2^22 rounds it to an integer n (ties to even) held in the low mantissa
	// bits as n + 127, the biased exponent of 2^n.
	expMagic = 0x4b40007f
	// log2(e), and ln(2) split for Cody–Waite: ln2Hi has 16 significant bits
	// so n·ln2Hi is exact for |n| < 2^8.
	log2e = 0x3fb8aa3b
	ln2Hi = 0x3f317200
	ln2Lo = 0x35bfbe8e
	// expClampLow bounds exp's argument from below for the functions whose
	// result is negligible there (sigmoid, tanh): at -87.9, n = -127 and the
	// scale 2^n is built as +0, so the result flushes to +0 (exp(-87.34) is
	// already below the smallest normal float32).
	expClampLow = -87.9
	// expm1ClampLow bounds expm1's argument: below -17.5, expm1 rounds to -1
	// in float32.
	expm1ClampLow = -17.5
)

func f32bits(b uint32) float32 { return math.Float32frombits(b) }

// expParts computes, for every lane of z (z <= 0 or NaN, already clamped so
// that round(z·log2(e)) >= -127), the scale s = 2^n and p = exp(r) - 1 with
// z = n·ln2 + r, |r| <= ln2/2:
//
//	exp(z)   = s + s·p
//	expm1(z) = (s - 1) + s·p
//
// p is r + r²·q(r), q the Taylor polynomial of degree 5 (exp's degree-7
// Taylor truncation error on |r| <= ln2/2 is 5e-9, 0.1 ulp). It returns s in
// S and p in R; z is overwritten (with r²), T and Q are scratch.
func expParts(k *regs, z, T, S, R, Q G) {
	Comment("exp: n = round(z·log2e) (magic-number rounding), s = 2^n, r = z - n·ln2, p = exp(r) - 1.")
	mov(k.full32(expMagic), T)
	fmlaL(k.lane(f32bits(log2e)), z, T)
	shl(23, T, S)
	fsub(k.full32(expMagic), T, T)
	mov(z, R)
	fmlsL(k.lane(f32bits(ln2Hi)), T, R)
	fmlsL(k.lane(f32bits(ln2Lo)), T, R)
	// q = 1/2 + r(1/6 + r(1/24 + r(1/120 + r(1/720 + r/5040)))), Horner with
	// the addends broadcast from their lanes.
	dupL(k.lane(1.0/720), Q)
	fmlaL(k.lane(1.0/5040), R, Q)
	dupL(k.lane(1.0/120), T)
	fmla(Q, R, T)
	dupL(k.lane(1.0/24), Q)
	fmla(T, R, Q)
	dupL(k.lane(1.0/6), T)
	fmla(Q, R, T)
	dupL(k.lane(0.5), Q)
	fmla(T, R, Q)
	fmul(R, R, z)
	fmla(Q, z, R)
}

// expNeg sets E = exp(z) for z <= 0 (any float32 z: NaN stays NaN, -Inf and
// everything below -87.9 give +0). z and the scratch groups are overwritten.
func expNeg(k *regs, z, E, S, R, Q G) {
	fmax(k.f(expClampLow), z, z)
	expParts(k, z, E, S, R, Q)
	mov(S, E)
	fmla(R, S, E)
}

// sigmoid sets y = 1/(1+exp(-x)): with e = exp(-|x|), y = e/(1+e) for
// x <= 0 and 1/(1+e) for x > 0, so exp never overflows and the small tail
// keeps its relative accuracy. The rounding of 1+e (up to 0.9 ulp of a
// result near the bottom of its binade) is compensated: the division is by
// the exact two-term sum. x is preserved; t holds five scratch groups; y must
// not alias x or t.
func sigmoid(k *regs, x, y G, t []G) {
	z, e, s, r, q := t[0], t[1], t[2], t[3], t[4]
	Comment("sigmoid: e = exp(-|x|); y = (x > 0 ? 1 : e) / (1 + e).")
	fabs(x, z)
	fneg(z, z)
	expNeg(k, z, e, s, r, q)
	one := k.f(1)
	Comment("sigmoid: e = eh + el, el = s·p + (s - eh) the rounding error of exp's last step.")
	fsub(e, s, z)
	fmla(r, s, z)
	Comment("sigmoid: d + err = 1 + e exactly (Fast2Sum, plus el), num = x > 0 ? 1 : e.")
	fadd(one, e, q)
	fsub(one, q, s)
	fsub(s, e, s)
	fadd(z, s, s)
	fcmgt0(x, r)
	bic(r, z, z)
	bsl(e, one, r)
	Comment("sigmoid: y = num/(d+err): quotient num/d, then one correction step")
	Comment("with the exact residual num - y·d - y·err over an estimate of 1/d.")
	fdiv(q, r, e)
	fmls(e, q, r)
	fmls(e, s, r)
	fadd(z, r, r)
	frecpe(q, s)
	mov(e, y)
	fmla(s, r, y)
}

// Coefficients of tanh(a) = a + a·u·P(u), u = a², on 0 <= a <= tanhPolyMax:
// a weighted least-squares fit (Lawson iterations toward minimax) of the
// relative error, 2.1e-9 (0.035 ulp) with these float32 coefficients.
var tanhPoly = []uint32{0xbeaaaaa5, 0x3e0886ed, 0xbd5cc0ca, 0x3cafcba3, 0xbbfb4dba, 0x3ae49ab5}

const tanhPolyMax = 0.75

// tanh sets y = tanh(x) = sign(x)·tanh(|x|). For |x| < 0.75 an odd
// polynomial (no cancellation near 0; tanh(±0) = ±0, denormals pass
// through); beyond, 1 - 2e/(1+e) with e = exp(-2|x|) <= 0.23, the quotient
// and the final subtraction compensated as in sigmoid. x is preserved;
// t holds seven scratch groups.
func tanh(k *regs, x, y G, t []G) {
	a, sg, z, e, s, r, q := t[0], t[1], t[2], t[3], t[4], t[5], t[6]
	one := k.f(1)
	Comment("tanh: a = |x|, sign bit of x kept apart.")
	fabs(x, a)
	ushr(31, x, sg)
	shl(31, sg, sg)
	Comment("tanh, |x| >= 0.75: e = exp(-2a), tanh = 1 - 2·e/(1+e).")
	fadd(a, a, z)
	fneg(z, z)
	expNeg(k, z, e, s, r, q)
	Comment("e/(1+e) = quo + c as in sigmoid: d + err = 1 + e exactly, quo = e/d,")
	Comment("c = (e - quo·d - quo·err)/d with an estimate of 1/d.")
	fadd(one, e, q)
	fsub(one, q, s)
	fsub(s, e, s)
	fdiv(q, e, r)
	mov(e, z)
	fmls(r, q, z)
	fmls(r, s, z)
	frecpe(q, s)
	fmul(s, z, z)
	Comment("1 - 2(quo + c): u = 1 - 2quo rounded, plus its exact error (Fast2Sum) and -2c.")
	fadd(r, r, r)
	fadd(z, z, z)
	fsub(r, one, q)
	fsub(q, one, s)
	fsub(r, s, s)
	fsub(z, s, s)
	fadd(s, q, e)
	Comment("tanh, |x| < 0.75: a + a·u·P(u), u = a².")
	fmul(a, a, z)
	c := make([]Lane, len(tanhPoly))
	for i, b := range tanhPoly {
		c[i] = k.lane(f32bits(b))
	}
	n := len(c) - 1
	dupL(c[n-1], q)
	fmlaL(c[n], z, q)
	acc, other := q, s
	for i := n - 2; i >= 0; i-- {
		dupL(c[i], other)
		fmla(acc, z, other)
		acc, other = other, acc
	}
	fmul(z, a, other)
	mov(a, r)
	fmla(acc, other, r)
	Comment("tanh: select by |x| < 0.75, then restore the sign.")
	fcmgt(a, k.f(tanhPolyMax), z)
	bsl(e, r, z)
	orr(sg, z, y)
}

// elu sets y = x for x >= 0 (so ELU(±0) = ±0), alpha·expm1(x) elsewhere, with
// expm1 = (s-1) + s·p exact near 0 (n = 0 gives s-1 = 0). NaN stays NaN,
// -Inf gives -alpha. x is preserved; t holds five scratch groups.
func elu(k *regs, alpha, x, y G, t []G) {
	z, e, s, r, q := t[0], t[1], t[2], t[3], t[4]
	Comment("elu: x >= 0 ? x : alpha·expm1(max(x, -17.5)).")
	fmax(k.f(expm1ClampLow), x, z)
	expParts(k, z, e, s, r, q)
	Comment("elu: expm1 = eh + el, eh = (s-1) + s·p rounded, el = s·p + ((s-1) - eh)")
	Comment("((s-1) - eh is exact), then alpha·eh + alpha·el with one rounding.")
	fsub(k.f(1), s, e)
	mov(e, q)
	fmla(r, s, e)
	fsub(e, q, q)
	fmla(r, s, q)
	fmul(alpha, q, q)
	fmla(alpha, e, q)
	fcmge0(x, y)
	bsl(q, x, y)
}

// relu sets y = x < 0 ? +0 : x, bit-exact: NaN and -0 pass through. t holds
// one scratch group.
func relu(x, y G, t []G) {
	fcmlt0(x, t[0])
	bic(t[0], x, y)
}

// leakyReLU sets y = x < 0 ? alpha·x : x (NaN and -0 pass through). With
// alpha = 0, alpha·(-Inf) is NaN where the limit -0 is wanted: a NaN product
// of a non-NaN input is replaced by -0 (alpha >= 0, so every product on that
// side is <= 0 and setting its sign bit changes nothing else). y may be x;
// t holds two scratch groups.
func leakyReLU(k *regs, alpha, x, y G, t []G) {
	p, m := t[0], t[1]
	fmul(alpha, x, p)
	fcmeq(p, p, m)
	and(m, p, p)
	orr(k.full32(0x80000000), p, p)
	fcmlt0(x, m)
	if x[0] != y[0] {
		mov(x, y)
	}
	bit(m, p, y)
}

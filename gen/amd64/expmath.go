package main

// Activation math on ymm registers, shared by the elementwise kernels
// (act.go) and the GEMM epilogue (gemm.go).
//
// # API
//
// Every emitter works IN PLACE on a group of registers, type vecs: each
// instruction is emitted once per register of the group before the next
// one, so a group of 2 or 4 registers gives the out-of-order core
// independent dependency chains. An epilogue short of registers passes
// groups of one register (vecs{acc}).
//
//	emitReLU(x)                 x = x < 0 ? +0 : x             (bitwise as fallback)
//	emitLeakyReLU(x, alpha)     x = x < 0 ? alpha·x : x        (bitwise as fallback)
//	emitELU(x, alpha)           x = x >= 0 || NaN ? x : alpha·expm1(x)
//	emitSigmoid(x)              x = 1/(1+exp(-x))
//	emitTanh(x)                 x = tanh(x)
//	emitActivation(f, x, alpha) dispatches on f (fIdentity ... fTanh)
//	emitExpParts(z, s, m)       the exp core itself (see Numerics)
//
// Backward, from the saved forward output y (dz is the incoming gradient,
// updated in place; y is only read):
//
//	emitDeriv(f, dz, y, alpha)  dz = dz · f'(y)   (bitwise as fallback)
//
// alpha is an operand holding Alpha in all 8 lanes: a ymm register or a
// 32-byte memory row (a stack slot or constant filled by the caller). It is
// ignored (and may be nil) for functions that do not use it.
//
// Register budget. The emitters allocate their temporaries with YMM() and
// let avo's allocator place them; the number live at once, per register of
// the group, is
//
//	sigmoid, tanh, ELU            3
//	LeakyReLU                     2
//	ReLU                          1
//	derivative ELU, Tanh          2 (LeakyReLU: 1 if alpha is a register, else 2)
//	derivative ReLU, Sigmoid      1
//
// so a group of g registers needs g·(1+temps) ymm registers while it runs,
// plus whatever the caller keeps live (alpha, masks, other accumulators).
// A 6×16 tile with 12 live accumulators leaves 4: groups of one register.
//
// Constants are memory operands by default: konst returns a 32-byte RODATA
// row of 8 equal float32, used directly as the memory operand of the
// arithmetic (L1-resident, and loads run on their own ports), so the budget
// above is the whole register cost. A kernel with registers to spare may
// hoist some constants into registers for its loop (hoist/unhoist); konst
// then returns the register. Rows are emitted on first use, once per
// generated file (static symbols, so two files may both hold a row).
//
// Special values: NaN in gives NaN out; sigmoid(-Inf) = 0, sigmoid(+Inf) =
// 1, tanh(±Inf) = ±1, ELU(-Inf) = -alpha; ±0 and denormal inputs give the
// correctly signed limit (tanh(±0) = ±0, ELU(-0) = -0, sigmoid(±0) = 1/2).
//
// # Numerics
//
// exp(z) for z <= 0: n = round(z/ln2) with a magic-bias FMA (the bias also
// adds the exponent bias 127), Cody–Waite reduction t = z - n·ln2hi -
// n·ln2lo (two FMAs), s = 2^n made by shifting the biased integer into the
// exponent field, and
//
//	exp(t) - 1 = t + t²·q(t),  q a degree-4 minimax polynomial (rel. error 2^-28 for exp)
//	m = s·(exp(t)-1) = ts + ts·(t·q)    with ts = t·s exact
//	exp(z) = s + m,   expm1(z) = (s - 1) + m   (s - 1 exact for the n used)
//
// z below ln(2^-126) would need n < -126: sigmoid and tanh flush e to 0
// there (the exact result is below 2^-126, or rounds to ±1), ELU clamps z at
// -17.5 (expm1 rounds to -1).
//
// sigmoid: e = exp(-|x|), d = 1+e, q = (x < 0 ? e : 1)/d, then q is
// corrected for the rounding of d (dlo = e - (d-1) exactly; q -= q·(dlo/d)
// with 1/d from RCPPS): max 1.97 ULP over all inputs.
// tanh: |x| < 0.625: x + x³·p(x²), p of degree 4 (minimax, relative); beyond,
// 1 - 2·e/(1+e) with e = exp(-2|x|) <= exp(-1.25); the sign of x last.
// ELU: alpha·expm1(x) as above: no cancellation near 0.

import (
	"fmt"
	"math"

	. "github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// actFunc names an activation function; the values are those of
// fallback.Func (the generator does not import the library it generates for).
type actFunc int

// The activation functions.
const (
	fIdentity actFunc = iota
	fReLU
	fLeakyReLU
	fELU
	fSigmoid
	fTanh
)

var actNames = [...]string{"identity", "relu", "leakyrelu", "elu", "sigmoid", "tanh"}

// vecs is a group of ymm registers processed in lockstep.
type vecs []reg.VecVirtual

// newVecs allocates a group of n virtual ymm registers.
func newVecs(n int) vecs {
	v := make(vecs, n)
	for i := range v {
		v[i] = YMM()
	}
	return v
}

// konsts memoizes the constant rows of the file being generated.
var konsts = map[string]operand.Mem{}

// hoisted maps the bit patterns of constants to the ymm registers that hold
// them in the kernel being generated (see hoist).
var hoisted = map[uint32]reg.VecVirtual{}

// konstRow returns a 32-byte RODATA row holding the 32-bit pattern bits in
// each of its 8 lanes.
func konstRow(bits uint32) operand.Mem {
	name := fmt.Sprintf("k%08x", bits)
	if m, ok := konsts[name]; ok {
		return m
	}
	m := GLOBL(name, RODATA|NOPTR)
	for i := 0; i < 8; i++ {
		DATA(4*i, operand.U32(bits))
	}
	konsts[name] = m
	return m
}

// konstBits returns the constant with the 32-bit pattern bits in all 8
// lanes: the register it was hoisted into, or its RODATA row.
func konstBits(bits uint32) operand.Op {
	if r, ok := hoisted[bits]; ok {
		return r
	}
	return konstRow(bits)
}

// konst returns the constant v in all 8 lanes (see konstBits).
func konst(v float32) operand.Op { return konstBits(math.Float32bits(v)) }

// konstHex returns the constant whose bits are b (for constants best
// written exactly).
func konstHex(b uint32) operand.Op { return konstBits(b) }

// hoist loads the constants with the given bit patterns into registers:
// until unhoist, the emitters use the register instead of the memory row.
// A kernel loop that is bound by its loads (elementwise kernels stream one
// or two inputs) gains a load slot per use; each hoisted constant costs a
// register of the budget below.
func hoist(bits ...uint32) {
	for _, b := range bits {
		if _, ok := hoisted[b]; ok {
			continue
		}
		r := YMM()
		VMOVUPS(konstRow(b), r)
		hoisted[b] = r
	}
}

// unhoist ends the hoisting of every constant (at the end of a kernel).
func unhoist() { clear(hoisted) }

// Constants of the exp core.
const (
	log2e      = 0x3fb8aa3b // 1/ln2
	expMagic   = 0x4b40007f // 0x1.8000FEp23: 1.5·2^23 + 127; round-to-int with the exponent bias
	ln2hi      = 0x3f317200 // ln2 rounded to 16 significant bits: n·ln2hi is exact
	ln2lo      = 0x35bfbe8e // ln2 - ln2hi
	expCutoff  = 0xc2aeac50 // -87.33654 = ln(2^-126) (rounded toward zero): below, exp < 2^-126
	expm1Clamp = 0xc18c0000 // -17.5: below, expm1 rounds to -1
	signBit    = 0x80000000
	oneBits    = 0x3f800000
)

// expPoly holds q(t) ≈ (exp(t)-1-t)/t², minimax (relative to exp) on
// [-ln2/2, ln2/2], highest degree first.
var expPoly = []uint32{0x3ab5121a, 0x3c091cf1, 0x3d2aac79, 0x3e2aaa49, 0x3efffffe}

// each emits f(i) for every register index of a group.
func each(n int, f func(i int)) {
	for i := 0; i < n; i++ {
		f(i)
	}
}

// emitExpParts computes, for each z (which must be <= 0 or NaN), s = 2^n
// and m = s·(exp(t)-1) so that exp(z) = s + m and expm1(z) = (s-1) + m.
// z is clobbered (it holds t·s on return). s and m are outputs. Valid for
// z >= ln(2^-126); callers mask or clamp beyond. No other register is used.
func emitExpParts(z, s, m vecs) {
	n := len(z)
	each(n, func(i int) { VMOVUPS(konstHex(expMagic), m[i]) })
	each(n, func(i int) { VFMADD231PS(konstHex(log2e), z[i], m[i]) })  // m = z·log2e + magic
	each(n, func(i int) { VPSLLD(operand.Imm(23), m[i], s[i]) })       // s = 2^n
	each(n, func(i int) { VSUBPS(konstHex(expMagic), m[i], m[i]) })    // m = n
	each(n, func(i int) { VFNMADD231PS(konstHex(ln2hi), m[i], z[i]) }) // z = z - n·ln2hi
	each(n, func(i int) { VFNMADD231PS(konstHex(ln2lo), m[i], z[i]) }) // z = t = z - n·ln2lo
	each(n, func(i int) { VMOVUPS(konstHex(expPoly[0]), m[i]) })
	for _, c := range expPoly[1:] {
		each(n, func(i int) { VFMADD213PS(konstHex(c), z[i], m[i]) }) // m = m·t + c
	}
	each(n, func(i int) { VMULPS(z[i], m[i], m[i]) })      // m = t·q
	each(n, func(i int) { VMULPS(s[i], z[i], z[i]) })      // z = t·s (exact)
	each(n, func(i int) { VFMADD213PS(z[i], z[i], m[i]) }) // m = ts·(t·q) + ts
}

// emitReLU computes x = x < 0 ? +0 : x: NaN stays NaN, -0 stays -0.
// Temporaries: 1.
func emitReLU(x vecs) {
	// VMAXPS returns its second source unless the first is greater, so
	// max(+0, x) is x for NaN and for -0, +0 for x < 0.
	z := YMM()
	VXORPS(z, z, z)
	each(len(x), func(i int) { VMAXPS(x[i], z, x[i]) })
}

// emitLeakyReLU computes x = x < 0 ? alpha·x : x, with alpha·x = -0 where
// alpha = 0 and x = -Inf (the limit; the product alone is NaN there: the
// x86 default NaN has the sign bit set, so masking everything else of a NaN
// product leaves -0; a NaN x takes the x branch). Temporaries: 2.
func emitLeakyReLU(x vecs, alpha operand.Op) {
	n := len(x)
	t, u := newVecs(n), newVecs(n)
	each(n, func(i int) { VMULPS(alpha, x[i], t[i]) })
	each(n, func(i int) { VCMPPS(operand.Imm(cmpORD), t[i], t[i], u[i]) }) // u = t is a number
	each(n, func(i int) { VORPS(konstHex(signBit), u[i], u[i]) })
	each(n, func(i int) { VANDPS(u[i], t[i], t[i]) })
	each(n, func(i int) { VCMPPS(operand.Imm(cmpLT), konst(0), x[i], u[i]) }) // u = x < 0
	each(n, func(i int) { VBLENDVPS(u[i], t[i], x[i], x[i]) })
}

// Comparison predicates of VCMPPS.
const (
	cmpLT  = 1  // LT_OS: false for NaN
	cmpLE  = 2  // LE_OS: false for NaN
	cmpNLT = 5  // NLT_US: true for NaN
	cmpNLE = 6  // NLE_US: true for NaN
	cmpGE  = 13 // GE_OS: false for NaN
	cmpGT  = 14 // GT_OS: false for NaN
	cmpORD = 7  // ORD_Q: true unless a NaN
)

// emitSigmoid computes x = 1/(1+exp(-x)) from e = exp(-|x|): x <= 0 gives
// e/(1+e), x > 0 gives 1/(1+e), so exp never overflows. Temporaries: 3.
func emitSigmoid(x vecs) {
	n := len(x)
	z, s, m := newVecs(n), newVecs(n), newVecs(n)
	each(n, func(i int) { VORPS(konstHex(signBit), x[i], z[i]) }) // z = -|x|
	emitExpParts(z, s, m)
	each(n, func(i int) { VADDPS(s[i], m[i], m[i]) }) // m = e = exp(-|x|)
	each(n, func(i int) { VORPS(konstHex(signBit), x[i], z[i]) })
	each(n, func(i int) { VCMPPS(operand.Imm(cmpLT), konstHex(expCutoff), z[i], z[i]) }) // z = -|x| < cutoff
	each(n, func(i int) { VANDNPS(m[i], z[i], m[i]) })                                   // e = 0 there
	each(n, func(i int) { VADDPS(konst(1), m[i], s[i]) })                                // s = 1 + e
	each(n, func(i int) { VXORPS(konstHex(signBit), x[i], z[i]) })                       // sign(z) = x >= 0
	each(n, func(i int) { VBLENDVPS(z[i], konst(1), m[i], z[i]) })                       // z = x >= 0 ? 1 : e
	each(n, func(i int) { VDIVPS(s[i], z[i], x[i]) })                                    // x = q = z / (1+e)
	// 1+e is rounded: with d = 1+e and its exact error dlo = e - (d-1),
	// z/(d+dlo) = q - q·(dlo/d) to first order; dlo/d needs few bits
	// (RCPPS) and is formed while the division runs.
	each(n, func(i int) { VSUBPS(konst(1), s[i], z[i]) }) // z = d - 1 (exact)
	each(n, func(i int) { VSUBPS(z[i], m[i], m[i]) })     // m = dlo
	each(n, func(i int) { VRCPPS(s[i], z[i]) })
	each(n, func(i int) { VMULPS(m[i], z[i], z[i]) })       // z = dlo/d
	each(n, func(i int) { VFNMADD231PS(x[i], z[i], x[i]) }) // x = q - q·(dlo/d)
}

// tanhPoly holds p(u) with tanh(x) ≈ x + x³·p(x²), minimax relative on
// [0, tanhSplit], highest degree first.
var tanhPoly = []uint32{0xbbbaf0eb, 0x3ca9134f, 0xbd5c1e2d, 0x3e088393, 0xbeaaaa99}

const tanhSplit = 0.625

// emitTanh computes x = tanh(x): the odd polynomial for |x| < tanhSplit
// (no cancellation near 0, tanh(x) = x for tiny x), and beyond
// tanh(|x|) = 1 - 2e/(1+e) with e = exp(-2|x|) <= exp(-1.25), with the sign
// of x copied back; e is flushed to 0 below ln(2^-126), giving ±1.
// Temporaries: 3.
func emitTanh(x vecs) {
	n := len(x)
	z, s, m := newVecs(n), newVecs(n), newVecs(n)
	// Exp branch: m = 1 - 2e/(1+e) for a = |x|.
	each(n, func(i int) { VORPS(konstHex(signBit), x[i], z[i]) }) // z = -|x|
	each(n, func(i int) { VADDPS(z[i], z[i], z[i]) })             // z = -2|x| (exact)
	emitExpParts(z, s, m)
	each(n, func(i int) { VADDPS(s[i], m[i], m[i]) }) // m = e
	each(n, func(i int) { VORPS(konstHex(signBit), x[i], z[i]) })
	each(n, func(i int) { VADDPS(z[i], z[i], z[i]) })
	each(n, func(i int) { VCMPPS(operand.Imm(cmpLT), konstHex(expCutoff), z[i], z[i]) })
	each(n, func(i int) { VANDNPS(m[i], z[i], m[i]) })    // e = 0 below the cutoff
	each(n, func(i int) { VADDPS(konst(1), m[i], s[i]) }) // s = 1 + e
	each(n, func(i int) { VDIVPS(s[i], m[i], m[i]) })     // m = e/(1+e)
	each(n, func(i int) { VMOVUPS(konst(1), s[i]) })
	each(n, func(i int) { VFNMADD231PS(konst(2), m[i], s[i]) }) // s = 1 - 2·m = tanh(|x|)
	// Polynomial branch: m = x + x³·p(x²).
	each(n, func(i int) { VMULPS(x[i], x[i], z[i]) }) // z = x²
	each(n, func(i int) { VMOVUPS(konstHex(tanhPoly[0]), m[i]) })
	for _, c := range tanhPoly[1:] {
		each(n, func(i int) { VFMADD213PS(konstHex(c), z[i], m[i]) }) // m = m·u + c
	}
	each(n, func(i int) { VMULPS(x[i], z[i], z[i]) })      // z = x³
	each(n, func(i int) { VFMADD213PS(x[i], z[i], m[i]) }) // m = x³·p + x
	// Select: |x| < tanhSplit takes the polynomial; NaN is NaN in both.
	each(n, func(i int) { VANDPS(konstHex(^uint32(signBit)), x[i], z[i]) }) // z = |x|
	each(n, func(i int) { VCMPPS(operand.Imm(cmpLT), konst(tanhSplit), z[i], z[i]) })
	each(n, func(i int) { VBLENDVPS(z[i], m[i], s[i], s[i]) }) // s = |x| < split ? poly : exp form
	// The sign of x is applied last: the exp form is computed for |x|, and
	// the polynomial gives +0 for x = -0.
	each(n, func(i int) { VANDPS(konstHex(signBit), x[i], z[i]) })
	each(n, func(i int) { VORPS(z[i], s[i], x[i]) })
}

// emitELU computes x = x >= 0 ? x : alpha·expm1(x), alpha broadcast in a
// register or memory row. The expm1 argument is clamped at -17.5, where
// expm1 already rounds to -1; positive and NaN inputs take x itself (the
// exp of a large positive argument is computed and discarded).
// Temporaries: 3.
func emitELU(x vecs, alpha operand.Op) {
	n := len(x)
	z, s, m := newVecs(n), newVecs(n), newVecs(n)
	each(n, func(i int) { VMAXPS(konstHex(expm1Clamp), x[i], z[i]) }) // z = max(x, -17.5)
	emitExpParts(z, s, m)
	each(n, func(i int) { VSUBPS(konst(1), s[i], s[i]) }) // s = s - 1 (exact)
	each(n, func(i int) { VADDPS(s[i], m[i], m[i]) })     // m = expm1(z)
	each(n, func(i int) { VMULPS(alpha, m[i], m[i]) })
	each(n, func(i int) { VCMPPS(operand.Imm(cmpNLT), konst(0), x[i], z[i]) }) // z = !(x < 0): x >= 0 or NaN
	each(n, func(i int) { VBLENDVPS(z[i], x[i], m[i], x[i]) })                 // x = z ? x : alpha·expm1
}

// emitActivation computes x = f(x) for the activation f; alpha is used by
// LeakyReLU and ELU.
func emitActivation(f actFunc, x vecs, alpha operand.Op) {
	switch f {
	case fIdentity:
	case fReLU:
		emitReLU(x)
	case fLeakyReLU:
		emitLeakyReLU(x, alpha)
	case fELU:
		emitELU(x, alpha)
	case fSigmoid:
		emitSigmoid(x)
	case fTanh:
		emitTanh(x)
	default:
		panic(fmt.Sprintf("emitActivation: unknown activation %d", f))
	}
}

// emitDeriv computes dz = dz·f'(y) from the saved forward output y, with
// f'(y) rounded exactly as package fallback forms it, so the product is
// bitwise identical to it. y is only read. Temporaries: 2 (1 when alpha is
// a register or f is not ELU/LeakyReLU/Tanh).
func emitDeriv(f actFunc, dz, y vecs, alpha operand.Op) {
	n := len(dz)
	t := newVecs(n)
	switch f {
	case fIdentity:
		return
	case fReLU: // y > 0 ? 1 : 0
		each(n, func(i int) { VCMPPS(operand.Imm(cmpGT), konst(0), y[i], t[i]) })
		each(n, func(i int) { VANDPS(konst(1), t[i], t[i]) })
	case fLeakyReLU: // y > 0 ? 1 : alpha
		each(n, func(i int) { VCMPPS(operand.Imm(cmpGT), konst(0), y[i], t[i]) })
		if r, ok := alpha.(reg.Register); ok {
			each(n, func(i int) { VBLENDVPS(t[i], konst(1), r, t[i]) })
		} else {
			u := newVecs(n)
			each(n, func(i int) { VANDNPS(alpha, t[i], u[i]) })
			each(n, func(i int) { VANDPS(konst(1), t[i], t[i]) })
			each(n, func(i int) { VORPS(u[i], t[i], t[i]) })
		}
	case fELU: // y > 0 ? 1 : y + alpha
		u := newVecs(n)
		each(n, func(i int) { VADDPS(alpha, y[i], u[i]) })
		each(n, func(i int) { VCMPPS(operand.Imm(cmpGT), konst(0), y[i], t[i]) })
		each(n, func(i int) { VBLENDVPS(t[i], konst(1), u[i], t[i]) })
	case fSigmoid: // y·(1-y)
		each(n, func(i int) { VMOVUPS(konst(1), t[i]) })
		each(n, func(i int) { VSUBPS(y[i], t[i], t[i]) })
		each(n, func(i int) { VMULPS(y[i], t[i], t[i]) })
	case fTanh: // (1-y)·(1+y)
		u := newVecs(n)
		each(n, func(i int) { VMOVUPS(konst(1), t[i]) })
		each(n, func(i int) { VSUBPS(y[i], t[i], t[i]) })
		each(n, func(i int) { VADDPS(konst(1), y[i], u[i]) })
		each(n, func(i int) { VMULPS(u[i], t[i], t[i]) })
	default:
		panic(fmt.Sprintf("emitDeriv: unknown activation %d", f))
	}
	each(n, func(i int) { VMULPS(t[i], dz[i], dz[i]) })
}

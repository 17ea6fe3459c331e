package desc

import (
	"math"
	"slices"
	"strings"
	"testing"
)

func f32(b uint32) float64 { return float64(math.Float32frombits(b)) }

// horner64 evaluates the float32 coefficients c (highest degree first) in
// float64 at t.
func horner64(c []uint32, t float64) float64 {
	q := 0.0
	for _, ci := range c {
		q = q*t + f32(ci)
	}
	return q
}

// expPolyError returns the largest relative error of 1 + t + t²·q(t)
// against e^t on [-half, half], q the coefficients poly, in float64.
func expPolyError(poly []uint32, half float64) float64 {
	worst := 0.0
	for i := -20000; i <= 20000; i++ {
		x := half * float64(i) / 20000
		p := 1 + x + x*x*horner64(poly, x)
		worst = max(worst, math.Abs(p-math.Exp(x))/math.Exp(x))
	}
	return worst
}

// TestExpPoly measures the polynomial of the exp core against e^t on the
// reduced interval, in float64: its own error must stay far below the
// float32 roundings of the programs (2^-24), and the reduction constants
// must be what they claim.
func TestExpPoly(t *testing.T) {
	// The rounding of n leaves |t| a little above ln2/2.
	worst := expPolyError(ExpPoly, math.Ln2/2+1e-4)
	if worst > 0x1p-27 {
		t.Errorf("e^t polynomial: relative error 2^%.1f, want below 2^-27", math.Log2(worst))
	}
	t.Logf("e^t polynomial: relative error 2^%.2f", math.Log2(worst))
	if f32(Log2e) != float64(float32(math.Log2E)) || f32(Ln2) != float64(float32(math.Ln2)) {
		t.Errorf("Log2e or Ln2 is not rounded to float32")
	}
}

// TestExpTables measures the polynomials and checks the tables and the
// constants of the table-driven exp cores (expAbsTwice, expLut).
func TestExpTables(t *testing.T) {
	// The rounding of N and δj leave |t| a little above ln2/16.
	const half = math.Ln2/16 + 1e-5
	worst := expPolyError(ExpPolyLut8P3, half)
	if worst > 0x1p-25 {
		t.Errorf("e^t polynomial of degree 3: relative error 2^%.1f, want below 2^-25", math.Log2(worst))
	}
	t.Logf("e^t polynomial of degree 3: relative error 2^%.2f", math.Log2(worst))
	for j, w := range Exp2Lut8 {
		if want := math.Float32bits(float32(math.Exp2(float64(j) / 8))); w != want {
			t.Errorf("Exp2Lut8[%d] = %#x, want %#x", j, w, want)
		}
	}
	worst = expPolyError(ExpPolyLut8P4, half)
	if worst > 0x1p-32 {
		t.Errorf("e^t polynomial of degree 4: relative error 2^%.1f, want below 2^-32", math.Log2(worst))
	}
	t.Logf("e^t polynomial of degree 4: relative error 2^%.2f", math.Log2(worst))
	for j, w := range Exp2Lut8Err {
		v := f32(Exp2Lut8[j])
		if want := math.Log(math.Exp2(float64(j)/8) / v); w != math.Float32bits(float32(want)) {
			t.Errorf("Exp2Lut8Err[%d] = %g, want ln(2^(j/8)/%g) = %g rounded to float32", j, f32(w), v, want)
		}
	}
	// M·(ln2 - Ln2Hi - Ln2Lo) is the two-step reduction's error beyond its
	// rounding: below 2^-30 of e^z for |N| = |8M| < 2^10; and M·Ln2Hi must
	// be exact there.
	if e := math.Abs(f32(Ln2Hi) + f32(Ln2Lo) - math.Ln2); e > 0x1p-37 {
		t.Errorf("Ln2Hi + Ln2Lo is %g off ln2", e)
	}
	if Ln2Hi&(1<<12-1) != 0 {
		t.Errorf("Ln2Hi %#x has more than 12 significant bits", Ln2Hi)
	}
	// At SigmoidCutoff, N = 8M = round(8z/ln2) is still >= -1008 (n >=
	// -126): s = 2^(j/8)·2^n is normal on every lane the sigmoid keeps.
	magic := float32(f32(ExpMagicLut))
	if m := float32(math.FMA(f32(SigmoidCutoff), f32(Log2e), float64(magic))) - magic; 8*m < -1008 {
		t.Errorf("N = %v at SigmoidCutoff, want >= -1008", 8*m)
	}
	if f32(Log2eTwice) != 2*f32(Log2e) || f32(Ln2Half) != f32(Ln2)/2 {
		t.Errorf("Log2eTwice or Ln2Half is not an exact scaling of Log2e or Ln2")
	}
	if f32(ExpMagicLut) != 0x1.8p20 {
		t.Errorf("ExpMagicLut %#x is not 1.5·2^20", ExpMagicLut)
	}
}

// TestTanhPoly measures x + x³·p(x²) against tanh on [0, TanhSplit].
func TestTanhPoly(t *testing.T) {
	worst := 0.0
	split := f32(TanhSplit)
	for i := 1; i <= 40000; i++ {
		x := split * float64(i) / 40000
		p := x + x*x*x*horner64(TanhPoly, x*x)
		worst = max(worst, math.Abs(p-math.Tanh(x))/math.Tanh(x))
	}
	if worst > 0x1p-26 {
		t.Errorf("tanh polynomial: relative error 2^%.1f, want below 2^-26", math.Log2(worst))
	}
	t.Logf("tanh polynomial: relative error 2^%.2f", math.Log2(worst))
}

// TestTanhSquares checks the squared thresholds of tanh's comparisons on
// x²: x² rounded to float32 is at least TanhSplitSq exactly where |x| >=
// TanhSplit, and above TanhClampSq exactly where |x| > -TanhClamp. The
// rounding is monotonic in |x|, so the threshold and the float next to it
// on the other side decide.
func TestTanhSquares(t *testing.T) {
	split, splitSq := math.Float32frombits(TanhSplit), math.Float32frombits(TanhSplitSq)
	if below := math.Nextafter32(split, 0); split*split != splitSq || float64(splitSq) != f32(TanhSplit)*f32(TanhSplit) || below*below >= splitSq {
		t.Errorf("TanhSplitSq = %g: not the exact square of %g, or reached below it", splitSq, split)
	}
	clamp, clampSq := -math.Float32frombits(TanhClamp), math.Float32frombits(TanhClampSq)
	if above := math.Nextafter32(clamp, 100); clamp*clamp != clampSq || float64(clampSq) != f32(TanhClamp)*f32(TanhClamp) || !(above*above > clampSq) {
		t.Errorf("TanhClampSq = %g: not the exact square of %g, or not exceeded above it", clampSq, clamp)
	}
}

// TestPrograms checks what every lowering relies on: each program is in
// SSA form with masks read only by Select (the Builder checks that as it
// goes), its results are defined, and the activation programs take at most
// the four parameters their kernels pass.
func TestPrograms(t *testing.T) {
	var progs []*Program
	for _, d := range Funcs {
		if d.Forward == nil {
			continue
		}
		progs = append(progs, d.Forward, d.Deriv)
		if len(d.Params) > 4 || len(d.Forward.Params) != len(d.Params) || len(d.Deriv.Params) != len(d.Params) {
			t.Errorf("%s: parameters %v, programs %v and %v", d.Name, d.Params, d.Forward.Params, d.Deriv.Params)
		}
		if len(d.Forward.Inputs) != 1 || len(d.Deriv.Inputs) != 2 {
			t.Errorf("%s: inputs %v and %v, want [x] and [dy y]", d.Name, d.Forward.Inputs, d.Deriv.Inputs)
		}
		for _, v := range d.Variants {
			progs = append(progs, v.Forward)
			if v.Param < 0 || v.Param >= len(d.Params) || !(v.Above < v.AtMost) ||
				!slices.Equal(v.Forward.Params, d.Params) || !slices.Equal(v.Forward.Inputs, d.Forward.Inputs) ||
				v.Forward.Name != v.Stem || v.Stem == d.Stem {
				t.Errorf("%s: variant %s: parameter %d of %v in (%v, %v], program %s(%v; %v)",
					d.Name, v.Stem, v.Param, d.Params, v.Above, v.AtMost, v.Forward.Name, v.Forward.Inputs, v.Forward.Params)
			}
			if got := d.Forwards(); len(got) != 1+len(d.Variants) || got[0].Stem != d.Stem {
				t.Errorf("%s: Forwards gives %d kernels", d.Name, len(got))
			}
		}
	}
	if v := Funcs[LeakyReLU].Variants[0]; v.Cond("p") != "p[0] > 0 && p[0] <= 1" {
		t.Errorf("LeakyReLU's variant: condition %q", v.Cond("p"))
	}
	for _, u := range Updates {
		progs = append(progs, u.Program)
		if len(u.Out) != 1+len(u.Writes) {
			t.Errorf("%s: %d results for w and %v", u.Name, len(u.Out), u.Writes)
		}
	}
	for _, p := range progs {
		for _, v := range p.Out {
			if int(v) >= len(p.Ops) || p.Ops[v].Kind.IsMask() {
				t.Errorf("%s: result v%d is not a number", p.Name, v)
			}
		}
		if p.MaxLive() < 1 {
			t.Errorf("%s: MaxLive %d", p.Name, p.MaxLive())
		}
	}
}

// TestLookupTables checks that a program keeps each distinct table once,
// in order of first use, that its Lookups index them so, and that String
// lists them.
func TestLookupTables(t *testing.T) {
	b := NewBuilder("T", "", []string{"x"}, nil)
	t0, t1 := [LookupSize]uint32{1, 2, 3, 4, 5, 6, 7, 8}, [LookupSize]uint32{7: 9}
	x := b.In(0)
	l0 := b.Lookup(x, t0)
	l1 := b.Lookup(x, t1)
	l2 := b.Lookup(x, t0)
	p := b.Return(b.AddInt(b.AddInt(l0, l1), l2))
	if len(p.Tables) != 2 || p.Tables[0] != t0 || p.Tables[1] != t1 {
		t.Fatalf("tables %#x, want [t0 t1]", p.Tables)
	}
	for v, want := range map[Value]uint32{l0: 0, l1: 1, l2: 0} {
		if got := p.Ops[v].Imm; got != want {
			t.Errorf("v%d reads table %d, want %d", v, got, want)
		}
	}
	if s := p.String(); !strings.Contains(s, "table1[v0]") || !strings.Contains(s, "table0 [0x00000001 0x00000002") {
		t.Errorf("String lacks the tables:\n%s", s)
	}
}

// TestTailRows checks which last rows of a block go to the tail tiles of a
// 6-row tile with 4-row tails: the last 8 where m ≡ 2 (mod 6) and m >= 8.
func TestTailRows(t *testing.T) {
	tile := Tile{MR: 6, NR: 64, Tail: 4}
	for m, want := range map[int]int{0: 0, 2: 0, 6: 0, 7: 0, 8: 8, 9: 0, 10: 0, 12: 0, 14: 8, 128: 8, 130: 0} {
		if got := tile.TailRows(m); got != want {
			t.Errorf("TailRows(%d) = %d, want %d", m, got, want)
		}
	}
	if got := (&Tile{MR: 6, NR: 64}).TailRows(128); got != 0 {
		t.Errorf("without a tail: TailRows(128) = %d, want 0", got)
	}
}

// TestOnePlusTq checks the scaled coefficients of P(t) = 1 + t·q(t): that
// Horner's scheme in float32 on gain·P(scale·t) at t gives gain times its
// value on P at scale·t, bit for bit, as expAbsTwice relies on, and that
// an inexact scaling panics.
func TestOnePlusTq(t *testing.T) {
	horner32 := func(c []uint32, t float32) float32 {
		q := math.Float32frombits(c[0])
		for _, ci := range c[1:] {
			q = float32(math.FMA(float64(q), float64(t), f32(ci)))
		}
		return q
	}
	plain := OnePlusTq(ExpPolyLut8P3, 1, 1)
	if len(plain) != len(ExpPolyLut8P3)+1 || plain[len(plain)-1] != math.Float32bits(1) {
		t.Fatalf("OnePlusTq(q, 1, 1) = %#x, want q's coefficients and 1", plain)
	}
	scaled := OnePlusTq(ExpPolyLut8P3, 2, 2)
	for i := -1000; i <= 1000; i++ {
		h := float32(math.Ln2 / 32 * float64(i) / 1000)
		if got, want := horner32(scaled, h), 2*horner32(plain, 2*h); got != want {
			t.Fatalf("2·P(2t) at t = %g: %g, want %g", h, got, want)
		}
	}
	defer func() {
		if recover() == nil {
			t.Errorf("OnePlusTq with the scale 3 did not panic")
		}
	}()
	OnePlusTq(ExpPolyLut8P3, 3, 1)
}

// evalTrace evaluates the one-lane program p on the input x with the
// parameters params and returns the bits of every operation's result
// (false and true for masks): a reference interpreter for the tests of the
// programs' intermediate values.
func evalTrace(p *Program, x float32, params []float32) []uint32 {
	v := make([]uint32, len(p.Ops))
	f := func(i Value) float32 { return math.Float32frombits(v[i]) }
	flt := func(r float32) uint32 { return math.Float32bits(r) }
	mask := func(c bool) uint32 {
		if c {
			return 1
		}
		return 0
	}
	for i, op := range p.Ops {
		a, b, c := op.Args[0], op.Args[1], op.Args[2]
		switch op.Kind {
		case Input:
			v[i] = flt(x)
		case Param:
			v[i] = flt(params[op.Imm])
		case Const:
			v[i] = op.Imm
		case Add:
			v[i] = flt(f(a) + f(b))
		case Sub:
			v[i] = flt(f(a) - f(b))
		case Mul:
			v[i] = flt(f(a) * f(b))
		case Div:
			v[i] = flt(f(a) / f(b))
		case Sqrt:
			v[i] = flt(float32(math.Sqrt(float64(f(a)))))
		case FMA:
			v[i] = flt(float32(math.FMA(float64(f(a)), float64(f(b)), float64(f(c)))))
		case FNMA:
			v[i] = flt(float32(math.FMA(-float64(f(a)), float64(f(b)), float64(f(c)))))
		case Min:
			v[i] = v[b]
			if f(a) < f(b) {
				v[i] = v[a]
			}
		case Max:
			v[i] = v[b]
			if f(a) > f(b) {
				v[i] = v[a]
			}
		case MaxNegAbs:
			n := math.Float32frombits(v[a] | 1<<31)
			v[i] = v[b]
			if n > f(b) {
				v[i] = flt(n)
			}
		case And:
			v[i] = v[a] & v[b]
		case Or:
			v[i] = v[a] | v[b]
		case Xor:
			v[i] = v[a] ^ v[b]
		case AndNot:
			v[i] = v[a] &^ v[b]
		case Shl:
			v[i] = v[a] << op.Imm
		case AddInt:
			v[i] = v[a] + v[b]
		case Lookup:
			v[i] = p.Tables[op.Imm][v[a]%LookupSize]
		case ScaleLookup: // as VSCALEFPS: the product, rounded (subnormal where it is)
			t := math.Float32frombits(p.Tables[op.Imm][v[a]%LookupSize])
			v[i] = flt(float32(math.Ldexp(float64(t), int(max(-1000, min(1000, math.Floor(float64(f(b)))))))))
		case Less:
			v[i] = mask(f(a) < f(b))
		case LessEq:
			v[i] = mask(f(a) <= f(b))
		case Greater:
			v[i] = mask(f(a) > f(b))
		case GreaterEq:
			v[i] = mask(f(a) >= f(b))
		case Equal:
			v[i] = mask(f(a) == f(b))
		case SignMask:
			v[i] = v[a] >> 31
		case Select:
			v[i] = v[c]
			if v[a] != 0 {
				v[i] = v[b]
			}
		}
	}
	return v
}

// TestNoSubnormalIntermediates checks that the table-driven forward
// programs pass no subnormal number through a floating-point operation
// (see expTail) on inputs of magnitude 2^-20 to 200, but for |x| from 0.05
// below -ln(2^-126) to ln 2 above it, where e^-|x| itself is subnormal or
// 2^n is, n = -127, on the lanes the sigmoid's cutoff drops. The
// interpreter rounds FMAs twice, which cannot turn a normal result into a
// subnormal one or back except at 2^-126 itself. ELU is not among them:
// its exp runs on x >= 0 too, where its result is not selected, and
// passes through subnormal numbers beyond x = 88 (ELU took 1.13× the time
// at inputs of standard deviation 30).
func TestNoSubnormalIntermediates(t *testing.T) {
	cutoff := -f32(SigmoidCutoff)
	for _, f := range []Func{Sigmoid, Tanh, ScaledSigmoid, ScaledTanh} {
		d := Funcs[f]
		params := []float32{1, 1, 2, 1} // gain, slope, 2·gain, slope/gain; a slope of 1 for the scaled sigmoid
		bad := 0
		for i := 0; i <= 200000; i++ {
			mag := math.Exp2(-20 + float64(i)*(math.Log2(200)+20)/200000)
			if mag > cutoff-0.05 && mag < cutoff+math.Ln2+0.05 {
				continue
			}
			for _, x := range []float32{float32(mag), -float32(mag)} {
				vals := evalTrace(d.Forward, x, params)
				for j, op := range d.Forward.Ops {
					if !floatArith(op.Kind) {
						continue
					}
					for _, a := range append(op.Args[:op.Kind.Arity()], Value(j)) {
						if bits := vals[a]; bits>>23&0xff == 0 && bits&0x7fffff != 0 && bad < 5 {
							bad++
							t.Errorf("%s(%g): operation %d (%v) reads or gives a subnormal v%d (%#x)", d.Name, x, j, op.Kind, a, bits)
						}
					}
				}
			}
		}
	}
}

// floatArith reports whether k is floating-point arithmetic: the
// operations whose subnormal operands or results cost a microcode assist.
func floatArith(k Kind) bool {
	switch k {
	case Add, Sub, Mul, Div, Sqrt, FMA, FNMA, Min, Max, MaxNegAbs, ScaleLookup:
		return true
	}
	return false
}

// TestScaleLookupForms checks that the two lowerings of ScaleLookup give the
// same number where tanh's exp core (and the scaled tanh's) uses it:
// T[j]·2^floor(M) (AVX-512's VSCALEFPS) and (T[j] - j<<20) + (bits(k) <<
// 20) (the integer lanes), for k = h·2log2(e) + ExpMagicLut and
// M = k - ExpMagicLut on the float32 h from -10 to 0, every 31st bit
// pattern and the ends (all of them take half a minute); and, for the
// same forms with sigmoid's k = z·log2(e) + ExpMagicLut, on the z from
// its cutoff to 0, where the integer form the sigmoid takes must still
// give 2^(j/8)·2^n.
func TestScaleLookupForms(t *testing.T) {
	magic := f32(ExpMagicLut)
	off := OffsetTable(Exp2Lut8)
	check := func(z float32, c uint32) {
		k := float32(math.FMA(float64(z), f32(c), magic))
		m := k - float32(magic)
		kb := math.Float32bits(k)
		if 8*m != float32(int32(kb&(1<<23-1))-1<<22) {
			t.Fatalf("z = %g: the low bits of k = %#x do not hold 8M = %g", z, kb, 8*m)
		}
		j := kb % LookupSize
		want := float32(math.Ldexp(f32(Exp2Lut8[j]), int(math.Floor(float64(m)))))
		if got := math.Float32frombits(off[j] + kb<<20); got != want {
			t.Fatalf("z = %g: (T[j] - j<<20) + (bits(k) << 20) = %g, T[j]·2^floor(M) = %g", z, got, want)
		}
	}
	const stride = 31
	for _, r := range []struct{ end, c uint32 }{{SigmoidCutoff, Log2e}, {TanhClamp, Log2eTwice}} {
		for b := uint32(signBit); b < r.end; b += stride {
			check(math.Float32frombits(b), r.c)
		}
		check(math.Float32frombits(r.end), r.c)
	}
}

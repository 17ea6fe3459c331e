package main

// The lowering of internal/desc's programs to NEON, shared by the
// elementwise kernels (act.go, update.go) and the GEMM epilogue (gemm.go).
// Each operation becomes one instruction per register of a group (a fused
// multiply-add whose addend is a constant or still live adds a move). Data
// registers come from a pool the caller hands over; an operation's result
// takes the register of an operand it reads last where it can, so a group
// needs the program's MaxLive registers per member. Constants live in the
// registers of regs: a lane of a shared register where the constant is a
// multiplicand (FMLA, FMLS and FMUL by element), a broadcast register
// elsewhere.

import (
	"fmt"
	"math"

	. "github.com/actfuse/actfuse/gen/arm64/neon"
	"github.com/actfuse/actfuse/internal/desc"
)

// lower lowers programs with the constant registers of k, the broadcast
// parameters params (one register each) and the data registers of pool.
type lower struct {
	k      *regs
	params []G
	pool   []VReg
	peak   int // most data registers in use at once
	inUse  int
	// keep holds registers that never join the pool, though a program may
	// write them: the accumulators of the GEMM epilogue, which are stored
	// after all of them are done.
	keep map[VReg]bool
}

// alloc takes n data registers from the pool.
func (l *lower) alloc(n int) G {
	if len(l.pool) < n {
		panic(fmt.Sprintf("arm64: the lowering needs more data registers than the %d it was given", l.inUse+len(l.pool)))
	}
	g := append(G{}, l.pool[len(l.pool)-n:]...)
	l.pool = l.pool[:len(l.pool)-n]
	l.inUse += n
	l.peak = max(l.peak, l.inUse)
	return g
}

func (l *lower) release(g G) {
	for _, r := range g {
		if !l.keep[r] {
			l.pool = append(l.pool, r)
			l.inUse--
		}
	}
}

// nval is a program value on the group.
type nval struct {
	kind nkind
	g    G      // nReg, nParam
	bits uint32 // nConst
}

type nkind uint8

const (
	nReg nkind = iota
	nConst
	nParam
)

// full returns v as a register group (a constant as its broadcast register).
func (l *lower) full(v nval) G {
	if v.kind == nConst {
		return l.k.full32(v.bits)
	}
	return v.g
}

// emit lowers p on the group whose input j is in[j]. An input's registers
// join the pool once the program no longer reads them (a loop reloads its
// inputs), unless keep holds them. It returns the results, whose registers
// the caller owns.
func (l *lower) emit(p *desc.Program, in []G) []G {
	n := len(in[0])
	last := p.LastUse()
	vals := make([]nval, len(p.Ops))
	for i, op := range p.Ops {
		switch op.Kind {
		case desc.Input:
			vals[i] = nval{kind: nReg, g: in[op.Imm]}
			continue
		case desc.Param:
			vals[i] = nval{kind: nParam, g: l.params[op.Imm]}
			continue
		case desc.Const:
			vals[i] = nval{kind: nConst, bits: op.Imm}
			continue
		}
		if op.Note != "" {
			Comment("%s", op.Note)
		}
		args := op.Args[:op.Kind.Arity()]
		// The operands read for the last time give their registers up
		// before the result takes one: NEON instructions may write a
		// source register.
		var dying []G
		for j, a := range args {
			if last[a] == i && vals[a].kind == nReg && !repeats(args, j) {
				dying = append(dying, vals[a].g)
			}
		}
		isDying := func(a desc.Value) bool { return last[a] == i && vals[a].kind == nReg }
		vals[i] = l.op(p, op, vals, isDying, n)
		for _, g := range dying {
			if !same(g, vals[i].g) {
				l.release(g)
			}
		}
	}
	out := make([]G, len(p.Out))
	for j, v := range p.Out {
		x := vals[v]
		if x.kind != nReg {
			g := l.alloc(n)
			mov(l.full(x), g)
			x.g = g
		}
		out[j] = x.g
	}
	return out
}

func repeats(args []desc.Value, j int) bool {
	for k := 0; k < j; k++ {
		if args[k] == args[j] {
			return true
		}
	}
	return false
}

func same(a, b G) bool { return len(a) > 0 && len(b) > 0 && a[0] == b[0] }

// lookup sets d to the words of the table t at the indices a mod
// LookupSize. TBL reads bytes: lane byte i takes index 4·(a mod 8) + i,
// 4·(a mod 8) being spread to the lane's 4 bytes by two SLIs.
func (l *lower) lookup(t [desc.LookupSize]uint32, a, d G) {
	tr := l.k.table(t)
	and(l.k.full32(desc.LookupSize-1), a, d)
	shl(2, d, d)
	each(d, func(i int) { VSLI(8, d.at(i), d.at(i)) })
	each(d, func(i int) { VSLI(16, d.at(i), d.at(i)) })
	orr(l.k.full32(0x03020100), d, d)
	each(d, func(i int) { VTBL2(d.at(i).B16(), tr, d.at(i).B16()) })
}

// op lowers one operation of p. dies tells the operands read for the last
// time: their registers may hold the result.
func (l *lower) op(p *desc.Program, op desc.Op, vals []nval, dies func(desc.Value) bool, n int) nval {
	a := vals[op.Args[0]]
	var b, c nval
	if op.Kind.Arity() > 1 {
		b = vals[op.Args[1]]
	}
	if op.Kind.Arity() > 2 {
		c = vals[op.Args[2]]
	}
	// dst returns a register group for the result: one of the dying
	// operands', else a new one.
	dst := func(cands ...desc.Value) G {
		for _, v := range cands {
			if dies(v) && vals[v].kind == nReg {
				return vals[v].g
			}
		}
		return l.alloc(n)
	}
	reg := func(g G) nval { return nval{kind: nReg, g: g} }
	isZero := func(v nval) bool { return v.kind == nConst && v.bits == 0 }
	x, y := op.Args[0], op.Args[1]
	switch op.Kind {
	case desc.Add:
		d := dst(x, y)
		fadd(l.full(b), l.full(a), d)
		return reg(d)
	case desc.Sub:
		d := dst(x, y)
		fsub(l.full(b), l.full(a), d)
		return reg(d)
	case desc.Mul:
		if a.kind == nConst {
			a, b, x, y = b, a, y, x
		}
		d := dst(x, y)
		if b.kind == nConst {
			each(d, func(i int) { VFMULE(l.k.lane(f32bits(b.bits)), a.g.at(i), d.at(i)) })
		} else {
			fmul(l.full(b), l.full(a), d)
		}
		return reg(d)
	case desc.Div:
		d := dst(x, y)
		fdiv(l.full(b), l.full(a), d)
		return reg(d)
	case desc.Sqrt:
		d := dst(x)
		each(d, func(i int) { VFSQRT(a.g.at(i), d.at(i)) })
		return reg(d)
	case desc.FMA, desc.FNMA:
		// d = c, then d ± a·b: a constant multiplicand is read by element.
		z := op.Args[2]
		var d G
		if dies(z) && c.kind == nReg {
			d = c.g
		} else {
			d = l.alloc(n)
			if c.kind == nConst {
				dupL(l.k.lane(f32bits(c.bits)), d)
			} else {
				mov(c.g, d)
			}
		}
		if a.kind == nConst {
			a, b = b, a
		}
		switch {
		case b.kind == nConst && op.Kind == desc.FMA:
			fmlaL(l.k.lane(f32bits(b.bits)), l.full(a), d)
		case b.kind == nConst:
			fmlsL(l.k.lane(f32bits(b.bits)), l.full(a), d)
		case op.Kind == desc.FMA:
			fmla(l.full(b), l.full(a), d)
		default:
			fmls(l.full(b), l.full(a), d)
		}
		return reg(d)
	case desc.Min:
		d := dst(x, y)
		each(d, func(i int) { VFMINNM(l.full(b).at(i), l.full(a).at(i), d.at(i)) })
		return reg(d)
	case desc.Max:
		d := dst(x, y)
		each(d, func(i int) { VFMAXNM(l.full(b).at(i), l.full(a).at(i), d.at(i)) })
		return reg(d)
	case desc.MaxNegAbs:
		d := dst(x)
		orr(l.k.full32(1<<31), l.full(a), d)
		each(d, func(i int) { VFMAXNM(l.full(b).at(i), d.at(i), d.at(i)) })
		return reg(d)
	case desc.And:
		d := dst(x, y)
		and(l.full(b), l.full(a), d)
		return reg(d)
	case desc.Or:
		d := dst(x, y)
		orr(l.full(b), l.full(a), d)
		return reg(d)
	case desc.Xor:
		d := dst(x, y)
		each(d, func(i int) { VEOR(l.full(b).at(i).B16(), l.full(a).at(i).B16(), d.at(i).B16()) })
		return reg(d)
	case desc.AndNot:
		d := dst(x, y)
		bic(l.full(b), l.full(a), d) // a &^ b
		return reg(d)
	case desc.Shl:
		d := dst(x)
		shl(int(op.Imm), a.g, d)
		return reg(d)
	case desc.AddInt:
		d := dst(x, y)
		addInt(l.full(b), l.full(a), d)
		return reg(d)
	case desc.Lookup:
		d := dst(x)
		l.lookup(p.Tables[op.Imm], a.g, d)
		return reg(d)
	case desc.ScaleLookup:
		// (T[j] - j<<20) + (bits(a) << 20)
		d := l.alloc(n) // not a's: a is read again
		l.lookup(desc.OffsetTable(p.Tables[op.Imm]), a.g, d)
		sh := a.g
		if !dies(x) {
			sh = l.alloc(n)
			defer l.release(sh)
		}
		shl(20, a.g, sh)
		addInt(sh, d, d)
		return reg(d)
	case desc.Less, desc.LessEq, desc.Greater, desc.GreaterEq, desc.Equal:
		return reg(l.compare(op.Kind, a, b, dst(x, y)))
	case desc.SignMask:
		d := dst(x)
		each(d, func(i int) { VSSHR(31, a.g.at(i), d.at(i)) })
		return reg(d)
	case desc.Select:
		m, z := x, op.Args[2]
		switch {
		case isZero(c): // m ? b : 0
			d := dst(m, y)
			and(a.g, l.full(b), d)
			return reg(d)
		case isZero(b): // m ? 0 : c
			d := dst(m, z)
			bic(a.g, l.full(c), d)
			return reg(d)
		case dies(m):
			bsl(l.full(c), l.full(b), a.g) // in the mask's register
			return reg(a.g)
		case dies(z) && c.kind == nReg:
			bit(a.g, l.full(b), c.g) // c, with b where the mask is set
			return reg(c.g)
		case dies(y) && b.kind == nReg:
			each(b.g, func(i int) { VBIF(a.g.at(i).B16(), l.full(c).at(i).B16(), b.g.at(i).B16()) })
			return reg(b.g)
		}
		d := l.alloc(n)
		mov(a.g, d)
		bsl(l.full(c), l.full(b), d)
		return reg(d)
	}
	panic(fmt.Sprintf("arm64: no lowering of %v", op.Kind))
}

// compare writes the mask of a k b into d; comparisons with a zero constant
// use the #0 forms.
func (l *lower) compare(k desc.Kind, a, b nval, d G) G {
	isZero := func(v nval) bool { return v.kind == nConst && v.bits == 0 }
	if isZero(a) && !isZero(b) { // 0 k b is b k' 0
		a, b = b, a
		k = map[desc.Kind]desc.Kind{desc.Less: desc.Greater, desc.LessEq: desc.GreaterEq,
			desc.Greater: desc.Less, desc.GreaterEq: desc.LessEq, desc.Equal: desc.Equal}[k]
	}
	if isZero(b) {
		f := map[desc.Kind]func(n, d Vec){desc.Less: VFCMLT0, desc.LessEq: VFCMLE0,
			desc.Greater: VFCMGT0, desc.GreaterEq: VFCMGE0, desc.Equal: VFCMEQ0}[k]
		each(d, func(i int) { f(l.full(a).at(i), d.at(i)) })
		return d
	}
	A, B := l.full(a), l.full(b)
	switch k {
	case desc.Less: // b > a
		fcmgt(A, B, d)
	case desc.LessEq: // b >= a
		each(d, func(i int) { VFCMGE(A.at(i), B.at(i), d.at(i)) })
	case desc.Greater:
		fcmgt(B, A, d)
	case desc.GreaterEq:
		each(d, func(i int) { VFCMGE(B.at(i), A.at(i), d.at(i)) })
	default:
		fcmeq(B, A, d)
	}
	return d
}

// peakRegs returns the data registers per member and the constant
// registers a lowering of p needs, found by lowering it once into a
// scratch register file.
func peakRegs(p *desc.Program) (data, consts int) {
	k := newRegs()
	l := &lower{k: k}
	for range p.Params {
		l.params = append(l.params, G{k.constReg()})
	}
	for v := 31; v >= 0; v-- {
		l.pool = append(l.pool, VReg(v))
	}
	in := make([]G, len(p.Inputs))
	for j := range in {
		in[j] = l.alloc(1)
	}
	Capture(func() { l.emit(p, in) })
	return l.peak, 31 - k.top - len(p.Params)
}

func f32bits(b uint32) float32 { return math.Float32frombits(b) }

package main

// The lowering of internal/desc's programs to AVX2 or AVX-512 instructions,
// shared by the elementwise kernels (act.go, update.go) and the GEMM
// epilogue (gemm.go). Each operation becomes one instruction (constants
// that must sit in a register add a load); a program runs on a group of
// vector registers in lockstep, every instruction emitted once per member
// of the group before the next, so the members are independent dependency
// chains for the out-of-order core. avo allocates the registers: a value
// lives in a virtual register from its operation to its last use, so the
// registers a group needs are the program's MaxLive per member.

import (
	"fmt"

	"github.com/actfuse/actfuse/internal/desc"
	. "github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// isa is the vector instruction set a kernel is generated for.
type isa struct {
	name   string // implementation name (desc.Impls): "avx2"
	suffix string // of the kernels' names: "AVX2"
	bytes  int    // bytes of a vector register
	kmask  bool   // comparisons set opmask registers (AVX-512) instead of vector masks
}

// The two amd64 vector ISAs: AVX2+FMA on ymm registers, and AVX-512
// (F, DQ, BW, VL) on zmm registers with opmask comparisons.
var (
	avx2   = &isa{name: "avx2", suffix: "AVX2", bytes: 32}
	avx512 = &isa{name: "avx512", suffix: "AVX512", bytes: 64, kmask: true}
)

// lanes is the number of float32 lanes of a vector.
func (s *isa) lanes() int { return s.bytes / 4 }

// regs is the number of vector registers the kernels may use.
func (s *isa) regs() int { return desc.ImplByName(s.name).Regs }

// vec allocates a virtual vector register.
func (s *isa) vec() reg.VecVirtual {
	if s.bytes == 64 {
		return ZMM()
	}
	return YMM()
}

// vecs allocates n virtual vector registers.
func (s *isa) vecs(n int) []reg.VecVirtual {
	v := make([]reg.VecVirtual, n)
	for i := range v {
		v[i] = s.vec()
	}
	return v
}

// konsts memoizes the constant rows of the file being generated.
var konsts = map[string]operand.Mem{}

// konstTable returns the RODATA table name holding the 32-bit words v,
// emitted on first use.
func konstTable(name string, v []uint32) operand.Mem {
	if m, ok := konsts[name]; ok {
		return m
	}
	m := GLOBL(name, RODATA|NOPTR)
	for i, w := range v {
		DATA(4*i, operand.U32(w))
	}
	konsts[name] = m
	return m
}

// konstRow returns a RODATA row of one vector holding bits in every lane.
func (s *isa) konstRow(bits uint32) operand.Mem {
	v := make([]uint32, s.lanes())
	for i := range v {
		v[i] = bits
	}
	return konstTable(fmt.Sprintf("k%d_%08x", s.bytes, bits), v)
}

// lookupTable returns a RODATA table of one vector holding the Lookup table
// t repeated (VPERMPS reads its index modulo the lanes of the vector),
// named by its words.
func (s *isa) lookupTable(t [desc.LookupSize]uint32) operand.Mem {
	v := make([]uint32, s.lanes())
	name := fmt.Sprintf("lut%d", s.bytes)
	for i := range v {
		v[i] = t[i%len(t)]
	}
	for _, w := range t {
		name += fmt.Sprintf("_%08x", w)
	}
	return konstTable(name, v)
}

// lower holds the state of the lowering in one kernel: the constants
// hoisted into registers and the registers of the program's parameters.
type lower struct {
	isa     *isa
	hoisted map[uint32]reg.VecVirtual
	// The program's parameters: broadcast in registers, or, where
	// registers are short (the GEMM epilogue), in memory rows.
	params    []reg.VecVirtual
	paramRows []operand.Mem
	// The virtual registers of values that died, taken again by new values:
	// avo's greedy allocator then sees about as many registers as are live
	// at once (given a fresh register per value it needs far more room).
	free  []reg.VecVirtual
	freeK []reg.Register
	temps []reg.VecVirtual // registers taken by the operation being lowered
}

func newLower(s *isa) *lower { return &lower{isa: s, hoisted: map[uint32]reg.VecVirtual{}} }

// newVec returns a register for a new value, a freed one if there is one.
func (l *lower) newVec() reg.VecVirtual {
	if n := len(l.free); n > 0 {
		r := l.free[n-1]
		l.free = l.free[:n-1]
		return r
	}
	return l.isa.vec()
}

// newK returns an opmask register for a new mask.
func (l *lower) newK() reg.Register {
	if n := len(l.freeK); n > 0 {
		k := l.freeK[n-1]
		l.freeK = l.freeK[:n-1]
		return k
	}
	return K()
}

// temp returns a register that lives for the operation being lowered.
func (l *lower) temp() reg.VecVirtual {
	r := l.newVec()
	l.temps = append(l.temps, r)
	return r
}

// hoist loads the constants into registers for the rest of the kernel (the
// free ones first, see newVec): the lowering then uses the register instead
// of the memory row. A loop bound by its loads gains a load slot per use;
// each costs a register.
func (l *lower) hoist(bits ...uint32) {
	for _, b := range bits {
		if _, ok := l.hoisted[b]; ok {
			continue
		}
		r := l.newVec()
		if b == 0 {
			VXORPS(r, r, r)
		} else {
			VMOVUPS(l.isa.konstRow(b), r)
		}
		l.hoisted[b] = r
	}
}

// loadParams broadcasts the parameters the program prog reads, float32
// values at consecutive addresses from p, into registers.
func (l *lower) loadParams(p operand.Mem, prog *desc.Program) {
	_, used := prog.UsedParams()
	l.params = make([]reg.VecVirtual, len(used))
	for i, u := range used {
		if u {
			l.params[i] = l.isa.vec()
			VBROADCASTSS(p.Offset(4*i), l.params[i])
		}
	}
}

// A value of the program in one member of the group.
type value struct {
	kind valueKind
	r    reg.VecVirtual // vReg, vSignMask (the value whose sign is the mask), vVecMask
	k    reg.Register   // vKMask
	bits uint32         // vConst
	m    operand.Mem    // vMem
	// owns: the register of a vSignMask is its own (its source was read
	// for the last time by the SignMask), to be freed with the mask.
	owns bool
}

type valueKind uint8

const (
	vReg      valueKind = iota
	vConst              // a constant: a memory row or a hoisted register
	vVecMask            // AVX2 mask: every bit of a lane set or clear
	vSignMask           // AVX2 mask: the sign bits of a register
	vKMask              // AVX-512 opmask
	vMem                // a row in memory (a parameter)
	vNone               // not materialized (fused into its user)
)

// mem reports whether v is read from memory unless it is loaded: a
// constant or a parameter row. Such operands go to the r/m slot.
func (v value) mem() bool { return v.kind == vConst || v.kind == vMem }

// rm returns v as an operand for a register-or-memory slot.
func (l *lower) rm(v value) operand.Op {
	if v.kind == vMem {
		return v.m
	}
	if v.kind == vConst {
		if r, ok := l.hoisted[v.bits]; ok {
			return r
		}
		return l.isa.konstRow(v.bits)
	}
	return v.r
}

// reg returns v in a register, loading a constant or a row into a
// temporary.
func (l *lower) reg(v value) reg.VecVirtual {
	if v.kind == vMem {
		r := l.temp()
		VMOVUPS(v.m, r)
		return r
	}
	if v.kind != vConst {
		return v.r
	}
	if r, ok := l.hoisted[v.bits]; ok {
		return r
	}
	r := l.temp()
	if v.bits == 0 {
		VXORPS(r, r, r)
	} else {
		VMOVUPS(l.isa.konstRow(v.bits), r)
	}
	return r
}

// VCMPPS predicates.
const (
	cmpEQ = 0  // EQ_OQ
	cmpLT = 1  // LT_OS
	cmpLE = 2  // LE_OS
	cmpGE = 13 // GE_OS
	cmpGT = 14 // GT_OS
	// cmpNot turns a predicate into its negation: LT_OS (1) into NLT_US
	// (5), true where the operands are unordered.
	cmpNot = 4
)

// cmpPred gives the predicate of a comparison and of the comparison with
// its operands swapped.
var cmpPred = map[desc.Kind][2]uint8{
	desc.Less: {cmpLT, cmpGT}, desc.LessEq: {cmpLE, cmpGE},
	desc.Greater: {cmpGT, cmpLT}, desc.GreaterEq: {cmpGE, cmpLE}, desc.Equal: {cmpEQ, cmpEQ},
}

// emit lowers p on a group of registers: in[j][g] holds input j of member
// g (an input register may be overwritten once the program no longer reads
// it). It returns the results, out[j][g].
func (l *lower) emit(p *desc.Program, in [][]reg.VecVirtual) [][]reg.VecVirtual {
	n := len(in[0])
	fu := l.fusions(p)
	last := p.LastUse()
	// An operation lowered inside its Select reads its operands there.
	for s, pi := range fu.prod {
		if pi >= 0 {
			for _, a := range p.Ops[pi].Args[:p.Ops[pi].Kind.Arity()] {
				last[a] = max(last[a], s)
			}
		}
	}
	vals := make([][]value, len(p.Ops))
	dies := func(op int, v desc.Value) bool {
		k := p.Ops[v].Kind
		return last[v] == op && k != desc.Const && k != desc.Param && !repeated(p.Ops[op], v)
	}
	for i, op := range p.Ops {
		vals[i] = make([]value, n)
		if fu.skip[i] {
			for g := range vals[i] {
				vals[i][g].kind = vNone
			}
			continue
		}
		if op.Note != "" && op.Kind != desc.Const && op.Kind != desc.Param && op.Kind != desc.Input {
			Comment(op.Note)
		}
		for g := 0; g < n; g++ {
			val := func(v desc.Value) value { return vals[v][g] }
			vals[i][g] = l.op(p, i, op, g, fu, val, func(v desc.Value) bool { return dies(i, v) }, in)
			l.recycle(p, i, g, fu, vals, last)
		}
	}
	out := make([][]reg.VecVirtual, len(p.Out))
	for j, v := range p.Out {
		out[j] = make([]reg.VecVirtual, n)
		for g := range out[j] {
			x := vals[v][g]
			if x.kind != vReg {
				r := l.newVec()
				VMOVUPS(l.rm(x), r)
				x.r = r
			}
			out[j][g] = x.r
		}
	}
	return out
}

func repeated(op desc.Op, v desc.Value) bool {
	n := 0
	for _, a := range op.Args[:op.Kind.Arity()] {
		if a == v {
			n++
		}
	}
	return n > 1
}

// recycle gives back the registers of the values that operation i read for
// the last time in member g (with the operands of an operation lowered
// inside it), and the temporaries it took, unless the result holds them.
func (l *lower) recycle(p *desc.Program, i, g int, fu fusion, vals [][]value, last []int) {
	res := vals[i][g]
	keep := func(r reg.VecVirtual) bool { return r == res.r }
	for _, r := range l.temps {
		if !keep(r) {
			l.free = append(l.free, r)
		}
	}
	l.temps = l.temps[:0]
	op := p.Ops[i]
	args := op.Args[:op.Kind.Arity()]
	if pi := fu.prod[i]; pi >= 0 {
		args = append(args[:len(args):len(args)], p.Ops[pi].Args[:p.Ops[pi].Kind.Arity()]...)
	}
	for j, a := range args {
		if last[a] != i || repeats(args[:j], a) {
			continue
		}
		v := vals[a][g]
		if op.Kind == desc.SignMask && !l.isa.kmask {
			continue // the mask is a view of the register: freed with it
		}
		switch v.kind {
		case vReg, vVecMask:
			if k := p.Ops[a].Kind; k != desc.Param && !keep(v.r) {
				l.free = append(l.free, v.r)
			}
		case vSignMask:
			if v.owns && !keep(v.r) {
				l.free = append(l.free, v.r)
			}
		case vKMask:
			if v.k != res.k {
				l.freeK = append(l.freeK, v.k)
			}
		}
	}
}

func repeats(args []desc.Value, a desc.Value) bool {
	for _, x := range args {
		if x == a {
			return true
		}
	}
	return false
}

// A fusion says which operations the lowering emits together with a user.
type fusion struct {
	// skip: not emitted where the operation stands; its user lowers it.
	skip []bool
	// prod: for a Select, the operation it lowers as a masked instruction
	// (AVX-512), or -1.
	prod []int
	// negate: a comparison emitted with the opposite predicate, for the
	// Select that zeroes the lanes where it holds.
	negate []bool
}

// fusions finds what emit lowers together:
//   - ReLU's Select(Less(x, 0), 0, x) is one VMAXPS against zero, and the
//     mask is not materialized;
//   - with opmasks, Select(m, a op b, c), where the Select is the only
//     reader of a op b (an addition, subtraction, product, quotient or
//     bitwise operation), is op under the merge mask m
//     into c's register, one instruction instead of two (Select(m, a op b,
//     0) zeroes instead, and Select(m, 0, a op b) zeroes under the opposite
//     of the comparison m, where m has no other reader). On Zen 5 this
//     takes sigmoid from 0.196 to 0.175 ns/element: the masked moves were
//     a step of each lane's longest dependency chain.
func (l *lower) fusions(p *desc.Program) fusion {
	uses := make([]int, len(p.Ops))
	for _, op := range p.Ops {
		for _, a := range op.Args[:op.Kind.Arity()] {
			uses[a]++
		}
	}
	fu := fusion{skip: make([]bool, len(p.Ops)), prod: make([]int, len(p.Ops)), negate: make([]bool, len(p.Ops))}
	for i := range fu.prod {
		fu.prod[i] = -1
	}
	zero := func(v desc.Value) bool { return p.Ops[v].Kind == desc.Const && p.Ops[v].Imm == 0 }
	for i, op := range p.Ops {
		if m, ok := reluSelect(p, op); ok {
			if uses[m] == 1 {
				fu.skip[m] = true
			}
			continue
		}
		if op.Kind != desc.Select || !l.isa.kmask {
			continue
		}
		m, a, b := op.Args[0], op.Args[1], op.Args[2]
		switch {
		case maskable(p.Ops[a].Kind) && uses[a] == 1:
			fu.prod[i], fu.skip[a] = int(a), true
		case zero(a) && maskable(p.Ops[b].Kind) && uses[b] == 1 && p.Ops[m].Kind != desc.SignMask && uses[m] == 1:
			fu.prod[i], fu.skip[b], fu.negate[m] = int(b), true, true
		}
	}
	return fu
}

// maskable reports whether the lowering fuses k into a Select as a masked
// instruction.
func maskable(k desc.Kind) bool {
	_, ok := maskedIns[k]
	return ok
}

// maskedIns gives the merge-masked and the zero-masked instruction of an
// operation, and whether its operands commute.
var maskedIns = map[desc.Kind]struct {
	merge    func(...operand.Op)
	zero     func(mxyz, xyz, k, xyz1 operand.Op)
	commutes bool
}{
	desc.Add: {VADDPS, VADDPS_Z, true}, desc.Mul: {VMULPS, VMULPS_Z, true},
	desc.And: {VANDPS, VANDPS_Z, true}, desc.Or: {VORPS, VORPS_Z, true}, desc.Xor: {VXORPS, VXORPS_Z, true},
	desc.Sub: {VSUBPS, VSUBPS_Z, false}, desc.Div: {VDIVPS, VDIVPS_Z, false},
	// Not Min and Max: LeakyReLU's masked VMINPS took 0.027 ns/element on
	// Zen 5 against 0.024 for VMINPS and a masked move.
}

// reluSelect reports whether op is Select(Less(x, +0), +0, x), returning
// the mask's value.
func reluSelect(p *desc.Program, op desc.Op) (desc.Value, bool) {
	if op.Kind != desc.Select {
		return 0, false
	}
	m, zero, x := op.Args[0], op.Args[1], op.Args[2]
	mop, zop := p.Ops[m], p.Ops[zero]
	return m, mop.Kind == desc.Less && mop.Args[0] == x && mop.Args[1] == zero && zop.Kind == desc.Const && zop.Imm == 0
}

// op lowers operation i for one member of the group.
func (l *lower) op(p *desc.Program, i int, op desc.Op, g int, fu fusion, val func(desc.Value) value, diesV func(desc.Value) bool, in [][]reg.VecVirtual) value {
	s := l.isa
	arg := func(j int) value { return val(op.Args[j]) }
	dies := func(j int) bool { return diesV(op.Args[j]) }
	newReg := func() value { return value{kind: vReg, r: l.newVec()} }
	switch op.Kind {
	case desc.Input:
		return value{kind: vReg, r: in[op.Imm][g]}
	case desc.Param:
		if l.paramRows != nil {
			return value{kind: vMem, m: l.paramRows[op.Imm]}
		}
		return value{kind: vReg, r: l.params[op.Imm]}
	case desc.Const:
		return value{kind: vConst, bits: op.Imm}
	}
	a, b := arg(0), value{}
	if op.Kind.Arity() > 1 {
		b = arg(1)
	}
	// dst reuses a's register when a dies here, else a new one.
	dstFor := func(v value, dying bool) value {
		if dying && v.kind == vReg {
			return v
		}
		return newReg()
	}
	switch op.Kind {
	case desc.Add, desc.Mul, desc.And, desc.Or, desc.Xor, desc.AddInt:
		da, db := dies(0), dies(1)
		if a.mem() && !b.mem() {
			a, b, da = b, a, db
		}
		d := dstFor(a, da)
		ins := map[desc.Kind]func(...operand.Op){desc.Add: VADDPS, desc.Mul: VMULPS, desc.And: VANDPS, desc.Or: VORPS, desc.Xor: VXORPS, desc.AddInt: VPADDD}[op.Kind]
		ins(l.rm(b), l.reg(a), d.r)
		return d
	case desc.Sub, desc.Div, desc.Min, desc.Max:
		d := dstFor(a, dies(0))
		ins := map[desc.Kind]func(...operand.Op){desc.Sub: VSUBPS, desc.Div: VDIVPS, desc.Min: VMINPS, desc.Max: VMAXPS}[op.Kind]
		ins(l.rm(b), l.reg(a), d.r)
		return d
	case desc.AndNot:
		d := newReg()
		if b.kind == vConst { // a &^ c is a & ^c
			VANDPS(l.rm(value{kind: vConst, bits: ^b.bits}), l.reg(a), d.r)
			return d
		}
		VANDNPS(l.rm(a), l.reg(b), d.r) // ^b & a
		return d
	case desc.Sqrt:
		d := newReg()
		VSQRTPS(l.rm(a), d.r)
		return d
	case desc.Shl:
		d := dstFor(a, dies(0))
		VPSLLD(operand.Imm(uint64(op.Imm)), l.reg(a), d.r)
		return d
	case desc.Lookup:
		d := dstFor(a, dies(0))
		VPERMPS(s.lookupTable(p.Tables[op.Imm]), l.reg(a), d.r)
		return d
	case desc.FMA, desc.FNMA:
		return l.fma(op.Kind == desc.FNMA, a, b, arg(2), dies(0), dies(1), dies(2))
	case desc.Less, desc.LessEq, desc.Greater, desc.GreaterEq, desc.Equal:
		pred := cmpPred[op.Kind][0]
		if a.mem() && !b.mem() {
			a, b, pred = b, a, cmpPred[op.Kind][1]
		}
		if fu.negate[i] {
			pred ^= cmpNot
		}
		if s.kmask {
			k := l.newK()
			VCMPPS(operand.Imm(uint64(pred)), l.rm(b), l.reg(a), k)
			return value{kind: vKMask, k: k}
		}
		d := newReg()
		VCMPPS(operand.Imm(uint64(pred)), l.rm(b), l.reg(a), d.r)
		d.kind = vVecMask
		return d
	case desc.SignMask:
		if s.kmask {
			k := l.newK()
			VPMOVD2M(l.reg(a), k)
			return value{kind: vKMask, k: k}
		}
		return value{kind: vSignMask, r: l.reg(a), owns: dies(0)}
	case desc.Select:
		if pi := fu.prod[i]; pi >= 0 {
			po := p.Ops[pi]
			var c *value // the value merged into; nil: zeroed
			if v := arg(2); desc.Value(pi) != op.Args[2] && !zeroConst(v) {
				c = &v
			}
			return l.masked(po.Kind, val(po.Args[0]), val(po.Args[1]), diesV(po.Args[0]), diesV(po.Args[1]), a.k, c, dies(2))
		}
		if _, ok := reluSelect(p, op); ok && a.kind == vNone {
			x := arg(2)
			d := dstFor(x, dies(2))
			VMAXPS(x.r, l.reg(b), d.r) // +0 > x ? +0 : x
			return d
		}
		return l.sel(a, b, arg(2), dies(1), dies(2))
	}
	panic(fmt.Sprintf("amd64: %s: no lowering of %v", p.Name, op.Kind))
}

// fma lowers a·b + c (or c - a·b), choosing the form whose destination is an
// operand that dies here: 231 (c += a·b) or 213 (a = a·b + c).
func (l *lower) fma(neg bool, a, b, c value, da, db, dc bool) value {
	f231, f213 := VFMADD231PS, VFMADD213PS
	if neg {
		f231, f213 = VFNMADD231PS, VFNMADD213PS
	}
	// The multiplication commutes: keep a constant in b (the memory slot of
	// the 231 form), a dying register in a.
	if a.mem() || (!da && db && b.kind == vReg) {
		a, b, da, db = b, a, db, da
	}
	switch {
	case dc && c.kind == vReg:
		f231(l.rm(b), l.reg(a), c.r) // c = a·b + c
		return c
	case da && a.kind == vReg:
		f213(l.rm(c), l.reg(b), a.r) // a = b·a + c
		return a
	}
	// Nothing dies: start from a copy of c (or from the constant a).
	d := value{kind: vReg, r: l.newVec()}
	if c.mem() {
		VMOVUPS(l.rm(c), d.r)
	} else {
		VMOVAPS(c.r, d.r)
	}
	f231(l.rm(b), l.reg(a), d.r)
	return d
}

// masked lowers x op y under the opmask k: merged into c (its register
// where c dies, else a copy), or zeroed where k is clear if c is nil.
func (l *lower) masked(kind desc.Kind, x, y value, dx, dy bool, k reg.Register, c *value, dc bool) value {
	ins := maskedIns[kind]
	if ins.commutes && x.mem() && !y.mem() {
		x, y, dx = y, x, dy
	}
	xr, yo := l.reg(x), l.rm(y)
	if c == nil {
		d := value{kind: vReg, r: xr}
		if !dx || x.kind != vReg {
			d.r = l.newVec()
		}
		ins.zero(yo, xr, k, d.r)
		return d
	}
	d := *c
	if !dc || c.kind != vReg {
		d = value{kind: vReg, r: l.newVec()}
		if c.mem() {
			VMOVUPS(l.rm(*c), d.r)
		} else {
			VMOVAPS(c.r, d.r)
		}
	}
	ins.merge(yo, xr, k, d.r)
	return d
}

// zeroConst reports whether v is the constant +0.
func zeroConst(v value) bool { return v.kind == vConst && v.bits == 0 }

// sel lowers m ? a : b.
func (l *lower) sel(m, a, b value, da, db bool) value {
	if m.kind == vKMask && !zeroConst(b) {
		// A merge-masked move of a into b: avo reads a masked destination
		// as an input, so the destination is b itself where b dies, or a
		// copy of b (a fresh register under VBLENDMPS would be live from
		// the entry of the function, against every other register).
		d := value{kind: vReg}
		if db && b.kind == vReg {
			d.r = b.r
		} else {
			d.r = l.newVec()
			if b.mem() {
				VMOVUPS(l.rm(b), d.r)
			} else {
				VMOVAPS(b.r, d.r)
			}
		}
		VMOVUPS(l.rm(a), m.k, d.r)
		return d
	}
	d := value{kind: vReg, r: l.newVec()}
	switch m.kind {
	case vKMask: // m ? a : 0
		VMOVUPS_Z(l.rm(a), m.k, d.r)
	case vVecMask:
		switch {
		case zeroConst(b): // m & a
			VANDPS(l.rm(a), m.r, d.r)
		case zeroConst(a): // ^m & b
			VANDNPS(l.rm(b), m.r, d.r)
		default:
			VBLENDVPS(m.r, l.rm(a), l.reg(b), d.r)
		}
	case vSignMask:
		VBLENDVPS(m.r, l.rm(a), l.reg(b), d.r)
	default:
		panic("amd64: Select on a value that is not a mask")
	}
	return d
}

package main

// The lowering of internal/desc's programs to AVX2 or AVX-512 instructions,
// shared by the elementwise kernels (act.go, update.go) and the GEMM
// epilogue (gemm.go). Each operation becomes one instruction (constants
// that must sit in a register add a load, an AVX-512 Lookup adds the
// broadcast of its table, a ScaleLookup is two instructions on AVX-512 and
// three on AVX2, and fusions take some operations into their users); a
// program runs on a group of
// vector registers in lockstep, every instruction emitted once per member
// of the group before the next, so the members are independent dependency
// chains for the out-of-order core. avo allocates the registers: a value
// lives in a virtual register from its operation to its last use, so the
// registers a group needs are the program's MaxLive per member.

import (
	"fmt"
	"slices"

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

// konstWord returns a RODATA word holding bits: AVX-512 reads constants
// as embedded broadcasts of one word ({1to16}), a 4-byte load that never
// crosses a cache line. A 64-byte row would: the Go linker aligns data to
// at most 32 bytes, so whether every row of a kernel split its line or
// none did changed from build to build (ELU took 0.1405 ns/element with
// the rows split and 0.1335 with them whole, on the same code).
func konstWord(bits uint32) operand.Mem {
	return konstTable(fmt.Sprintf("k4_%08x", bits), []uint32{bits})
}

// lookupTable returns a RODATA table holding the Lookup table t: on AVX2
// one vector (VPERMPS's 8 lanes), on AVX-512 its 8 words, which lookup
// broadcasts into a register; named by its words.
func (s *isa) lookupTable(t [desc.LookupSize]uint32) operand.Mem {
	v := make([]uint32, s.lanes())
	if s.kmask {
		v = v[:desc.LookupSize] // 32 bytes, broadcast by VBROADCASTF32X8 (lookup)
	}
	name := fmt.Sprintf("lut%d", 4*len(v))
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
	// keep holds registers that never join free, though a program reads
	// them for the last time or writes them: the pipelined loops' carried
	// values, which the loop refills.
	keep map[reg.VecVirtual]bool
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
			l.load(value{kind: vConst, bits: b}, r)
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
		if l.isa.kmask {
			return konstWord(v.bits)
		}
		return l.isa.konstRow(v.bits)
	}
	return v.r
}

// bcst reports whether v, as an operand, is an embedded broadcast of one
// word (AVX-512): a constant not in a register, or a parameter row, of
// which the instruction reads the first word.
func (l *lower) bcst(v value) bool {
	if !l.isa.kmask || !v.mem() {
		return false
	}
	_, hoisted := l.hoisted[v.bits]
	return v.kind == vMem || !hoisted
}

// pick returns f, or fb (its embedded-broadcast form) where the operand v
// is a broadcast word.
func (l *lower) pick(v value, f, fb func(...operand.Op)) func(...operand.Op) {
	if l.bcst(v) {
		return fb
	}
	return f
}

// load copies v into the register r: a broadcast of the word where v is
// one, else a vector move.
func (l *lower) load(v value, r reg.VecVirtual) {
	switch {
	case l.bcst(v):
		VBROADCASTSS(l.rm(v), r)
	case v.mem():
		VMOVUPS(l.rm(v), r)
	default:
		VMOVAPS(v.r, r)
	}
}

// writable returns v in a register an instruction may overwrite: its own
// where it dies here (dies), else a copy.
func (l *lower) writable(v value, dies bool) value {
	if dies && v.kind == vReg {
		return v
	}
	d := value{kind: vReg, r: l.newVec()}
	l.load(v, d.r)
	return d
}

// reg returns v in a register, loading a constant or a row into a
// temporary.
func (l *lower) reg(v value) reg.VecVirtual {
	if v.kind == vMem {
		r := l.temp()
		l.load(v, r)
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
		l.load(v, r)
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
	// An operation lowered inside its user reads its operands there.
	for s, pi := range fu.prod {
		if pi >= 0 {
			for _, a := range fu.inside(p, pi) {
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
		if pi := fu.prod[i]; pi >= 0 && p.Ops[pi].Note != "" {
			Comment(p.Ops[pi].Note) // the note of the operation lowered inside this one
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
				l.load(x, r)
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
	keep := func(r reg.VecVirtual) bool { return r == res.r || l.keep[r] }
	for _, r := range l.temps {
		if !keep(r) {
			l.free = append(l.free, r)
		}
	}
	l.temps = l.temps[:0]
	op := p.Ops[i]
	args := op.Args[:op.Kind.Arity()]
	if pi := fu.prod[i]; pi >= 0 {
		args = append(args[:len(args):len(args)], fu.inside(p, pi)...)
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
	// (AVX-512); for a bitwise operation, the bitwise operand it lowers
	// with it in one VPTERNLOGD (AVX-512); or -1.
	prod []int
	// negate: a comparison emitted with the opposite predicate, for the
	// Select that zeroes the lanes where it holds.
	negate []bool
	// addend: for an FMA lowered inside a Select that merges, the
	// operation that computes its addend, lowered there too; or -1.
	addend []int
}

// fusions finds what emit lowers together:
//   - ReLU's Select(Less(x, 0), 0, x) is one VMAXPS against zero, and the
//     mask is not materialized;
//   - with opmasks, Select(m, a op b, c), where the Select is the only
//     reader of a op b (an addition, subtraction, product, quotient or
//     bitwise operation), is op under the merge mask m
//     into c's register, one instruction instead of two (Select(m, a op b,
//     0) zeroes instead, and Select(m, 0, a op b) zeroes under the opposite
//     of the comparison m, where m has no other reader). An FMA merges
//     only where its addend is such an operation that the FMA alone
//     reads: Select(m, a·b + (x op y), c) is x op y merged into c's
//     register under m, then the FMA merged into it under m (c where m
//     is clear, a·b + (x op y) where it holds: ELU(1)'s select, one
//     instruction fewer); else it zeroes. On Zen 5 this
//     takes sigmoid from 0.196 to 0.175 ns/element: the masked moves were
//     a step of each lane's longest dependency chain;
//   - with AVX-512, a bitwise operation of a bitwise operation that nothing
//     else reads, on three distinct values, is one VPTERNLOGD (tanh's
//     r | (x & sign)): one operation fewer on the vector ports.
func (l *lower) fusions(p *desc.Program) fusion {
	uses := make([]int, len(p.Ops))
	for _, op := range p.Ops {
		for _, a := range op.Args[:op.Kind.Arity()] {
			uses[a]++
		}
	}
	for _, v := range p.Out { // a result is read after the program: never fused away
		uses[v]++
	}
	fu := fusion{skip: make([]bool, len(p.Ops)), prod: make([]int, len(p.Ops)), negate: make([]bool, len(p.Ops)), addend: make([]int, len(p.Ops))}
	for i := range fu.prod {
		fu.prod[i], fu.addend[i] = -1, -1
	}
	zero := func(v desc.Value) bool { return p.Ops[v].Kind == desc.Const && p.Ops[v].Imm == 0 }
	for i, op := range p.Ops {
		if m, ok := reluSelect(p, op); ok {
			if uses[m] == 1 {
				fu.skip[m] = true
			}
			continue
		}
		if !l.isa.kmask {
			continue
		}
		if bitwise(op.Kind) {
			for _, a := range op.Args[:2] {
				if bitwise(p.Ops[a].Kind) && uses[a] == 1 && !fu.skip[a] && fu.prod[a] < 0 && len(ternLeaves(p, op, a)) == 3 {
					fu.prod[i], fu.skip[a] = int(a), true
					break
				}
			}
			continue
		}
		if op.Kind != desc.Select {
			continue
		}
		m, a, b := op.Args[0], op.Args[1], op.Args[2]
		// mergedAddend: a is an FMA whose addend merges into b (b is none
		// of the FMA's factors, which the merge would overwrite).
		mergedAddend := func() bool {
			fa := p.Ops[a]
			if !fused(fa.Kind) || zero(b) || fa.Args[0] == b || fa.Args[1] == b {
				return false
			}
			c := fa.Args[2]
			_, ok := maskedIns[p.Ops[c].Kind]
			return ok && uses[c] == 1 && fu.prod[c] < 0 && !fu.skip[c]
		}
		switch {
		case uses[a] == 1 && fu.prod[a] < 0 && mergedAddend():
			fu.prod[i], fu.skip[a] = int(a), true
			fu.addend[a], fu.skip[p.Ops[a].Args[2]] = int(p.Ops[a].Args[2]), true
		case maskable(p.Ops[a].Kind) && uses[a] == 1 && fu.prod[a] < 0 && (!fused(p.Ops[a].Kind) || zero(b)):
			fu.prod[i], fu.skip[a] = int(a), true
		case zero(a) && maskable(p.Ops[b].Kind) && uses[b] == 1 && fu.prod[b] < 0 && p.Ops[m].Kind != desc.SignMask && uses[m] == 1:
			fu.prod[i], fu.skip[b], fu.negate[m] = int(b), true, true
		}
	}
	return fu
}

// inside returns the operands of the operation pi, which its user lowers,
// and of the operation of its addend that the user lowers with it.
func (fu fusion) inside(p *desc.Program, pi int) []desc.Value {
	args := p.Ops[pi].Args[:p.Ops[pi].Kind.Arity():p.Ops[pi].Kind.Arity()]
	if ai := fu.addend[pi]; ai >= 0 {
		args = append(args, p.Ops[ai].Args[:p.Ops[ai].Kind.Arity()]...)
	}
	return args
}

// bitwise reports whether k is a bitwise operation of two vectors.
func bitwise(k desc.Kind) bool {
	return k == desc.And || k == desc.Or || k == desc.Xor || k == desc.AndNot
}

// ternLeaves returns the distinct operands of op, but its operand inner,
// and of inner (the leaves of a VPTERNLOGD), in order.
func ternLeaves(p *desc.Program, op desc.Op, inner desc.Value) []desc.Value {
	var leaves []desc.Value
	add := func(v desc.Value) {
		if !slices.Contains(leaves, v) {
			leaves = append(leaves, v)
		}
	}
	for _, a := range op.Args[:2] {
		if a == inner {
			add(p.Ops[a].Args[0])
			add(p.Ops[a].Args[1])
		} else {
			add(a)
		}
	}
	return leaves
}

// bitOp applies the bitwise operation k to the bytes x and y.
func bitOp(k desc.Kind, x, y uint8) uint8 {
	switch k {
	case desc.And:
		return x & y
	case desc.Or:
		return x | y
	case desc.Xor:
		return x ^ y
	}
	return x &^ y
}

// tern lowers the bitwise operation op, with the bitwise operand the
// fusion took in, as one VPTERNLOGD on the three leaves: the
// destination a leaf that dies here (or a copy), a memory row in the
// third slot where a leaf is one.
func (l *lower) tern(p *desc.Program, op desc.Op, inner desc.Value, val func(desc.Value) value, diesV func(desc.Value) bool) value {
	leaves := ternLeaves(p, op, inner)
	slices.SortStableFunc(leaves, func(x, y desc.Value) int { // dying registers first, memory last
		rank := func(v desc.Value) int {
			switch x := val(v); {
			case x.mem():
				return 2
			case diesV(v) && x.kind == vReg:
				return 0
			}
			return 1
		}
		return rank(x) - rank(y)
	})
	imm := ternImm(p, op, inner, leaves)
	d := l.writable(val(leaves[0]), diesV(leaves[0]))
	c := val(leaves[2])
	l.pick(c, VPTERNLOGD, VPTERNLOGD_BCST)(operand.Imm(uint64(imm)), l.rm(c), l.reg(val(leaves[1])), d.r)
	return d
}

// ternImm returns the VPTERNLOGD truth table of op, with its operand
// inner, on the leaves in the slots A (the destination), B and C: the
// result for the bytes 0xf0, 0xcc and 0xaa in them.
func ternImm(p *desc.Program, op desc.Op, inner desc.Value, leaves []desc.Value) uint8 {
	bits := map[desc.Value]uint8{leaves[0]: 0xf0, leaves[1]: 0xcc, leaves[2]: 0xaa}
	eval := func(v desc.Value) uint8 {
		if v != inner {
			return bits[v]
		}
		o := p.Ops[v]
		return bitOp(o.Kind, bits[o.Args[0]], bits[o.Args[1]])
	}
	return bitOp(op.Kind, eval(op.Args[0]), eval(op.Args[1]))
}

// maskable reports whether the lowering fuses k into a Select as a masked
// instruction.
func maskable(k desc.Kind) bool {
	_, ok := maskedIns[k]
	return ok || fused(k)
}

// fused reports whether k is a fused multiply-add.
func fused(k desc.Kind) bool { return k == desc.FMA || k == desc.FNMA }

// maskedIns gives the merge-masked and the zero-masked instruction of an
// operation, and whether its operands commute.
var maskedIns = map[desc.Kind]struct {
	merge, mergeB func(...operand.Op)                 // the second with a broadcast operand
	zero, zeroB   func(mxyz, xyz, k, xyz1 operand.Op) // likewise
	commutes      bool
}{
	desc.Add: {VADDPS, VADDPS_BCST, VADDPS_Z, VADDPS_BCST_Z, true}, desc.Mul: {VMULPS, VMULPS_BCST, VMULPS_Z, VMULPS_BCST_Z, true},
	desc.And: {VANDPS, VANDPS_BCST, VANDPS_Z, VANDPS_BCST_Z, true}, desc.Or: {VORPS, VORPS_BCST, VORPS_Z, VORPS_BCST_Z, true},
	desc.Xor: {VXORPS, VXORPS_BCST, VXORPS_Z, VXORPS_BCST_Z, true},
	desc.Sub: {VSUBPS, VSUBPS_BCST, VSUBPS_Z, VSUBPS_BCST_Z, false}, desc.Div: {VDIVPS, VDIVPS_BCST, VDIVPS_Z, VDIVPS_BCST_Z, false},
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
	if pi := fu.prod[i]; pi >= 0 && bitwise(op.Kind) {
		return l.tern(p, op, desc.Value(pi), val, diesV)
	}
	switch op.Kind {
	case desc.Add, desc.Mul, desc.And, desc.Or, desc.Xor, desc.AddInt:
		da, db := dies(0), dies(1)
		if a.mem() && !b.mem() {
			a, b, da = b, a, db
		}
		d := dstFor(a, da)
		ins := binaryIns[op.Kind]
		l.pick(b, ins[0], ins[1])(l.rm(b), l.reg(a), d.r)
		return d
	case desc.Sub, desc.Div, desc.Min, desc.Max:
		d := dstFor(a, dies(0))
		ins := binaryIns[op.Kind]
		l.pick(b, ins[0], ins[1])(l.rm(b), l.reg(a), d.r)
		return d
	case desc.MaxNegAbs:
		d := dstFor(a, dies(0))
		if s.kmask { // -min(|a|, |b|): the smaller magnitude, its sign set; b for a quiet NaN a
			l.pick(b, VRANGEPS, VRANGEPS_BCST)(operand.Imm(rangeMinAbs|rangeSetSign), l.rm(b), l.reg(a), d.r)
			return d
		}
		sign := value{kind: vConst, bits: 1 << 31}
		l.pick(sign, VORPS, VORPS_BCST)(l.rm(sign), l.reg(a), d.r)
		l.pick(b, VMAXPS, VMAXPS_BCST)(l.rm(b), d.r, d.r) // Max's: a NaN -|a| gives b
		return d
	case desc.AndNot:
		d := newReg()
		if b.kind == vConst { // a &^ c is a & ^c
			nc := value{kind: vConst, bits: ^b.bits}
			l.pick(nc, VANDPS, VANDPS_BCST)(l.rm(nc), l.reg(a), d.r)
			return d
		}
		l.pick(a, VANDNPS, VANDNPS_BCST)(l.rm(a), l.reg(b), d.r) // ^b & a
		return d
	case desc.Sqrt:
		d := newReg()
		l.pick(a, VSQRTPS, VSQRTPS_BCST)(l.rm(a), d.r)
		return d
	case desc.Shl:
		d := dstFor(a, dies(0))
		VPSLLD(operand.Imm(uint64(op.Imm)), l.reg(a), d.r)
		return d
	case desc.Lookup:
		return l.lookup(s.lookupTable(p.Tables[op.Imm]), a, dstFor(a, dies(0)))
	case desc.ScaleLookup:
		t := p.Tables[op.Imm]
		if s.kmask { // T[j]·2^floor(b): VPERMPS, VSCALEFPS
			d := l.lookup(s.lookupTable(t), a, dstFor(a, dies(0)))
			VSCALEFPS(l.reg(b), d.r, d.r)
			return d
		}
		// (T[j] - j<<20) + (bits(a) << 20): VPERMPS, VPSLLD, VPADDD
		d := l.lookup(s.lookupTable(desc.OffsetTable(t)), a, newReg())
		sh := a.r
		if !dies(0) || a.kind != vReg {
			sh = l.temp()
		}
		VPSLLD(operand.Imm(20), l.reg(a), sh)
		VPADDD(sh, d.r, d.r)
		return d
	case desc.FMA, desc.FNMA:
		return l.fma(op.Kind == desc.FNMA, a, b, arg(2), dies(0), dies(1), dies(2), nil)
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
			l.pick(b, VCMPPS, VCMPPS_BCST)(operand.Imm(uint64(pred)), l.rm(b), l.reg(a), k)
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
			if ai := fu.addend[pi]; ai >= 0 {
				ao := p.Ops[ai]
				d := l.masked(ao.Kind, val(ao.Args[0]), val(ao.Args[1]), diesV(ao.Args[0]), diesV(ao.Args[1]), a.k, c, dies(2))
				l.fmaMerge(po.Kind == desc.FNMA, val(po.Args[0]), val(po.Args[1]), d, a.k)
				return d
			}
			if fused(po.Kind) {
				return l.fma(po.Kind == desc.FNMA, val(po.Args[0]), val(po.Args[1]), val(po.Args[2]), diesV(po.Args[0]), diesV(po.Args[1]), diesV(po.Args[2]), a.k)
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

// The immediate of VRANGEPS: the operand of smaller magnitude, with its
// sign bit set.
const (
	rangeMinAbs  = 0b10
	rangeSetSign = 0b11 << 2
)

// binaryIns gives the instruction of a two-operand operation, and its form
// with an embedded broadcast operand.
var binaryIns = map[desc.Kind][2]func(...operand.Op){
	desc.Add: {VADDPS, VADDPS_BCST}, desc.Mul: {VMULPS, VMULPS_BCST}, desc.And: {VANDPS, VANDPS_BCST},
	desc.Or: {VORPS, VORPS_BCST}, desc.Xor: {VXORPS, VXORPS_BCST}, desc.AddInt: {VPADDD, VPADDD_BCST},
	desc.Sub: {VSUBPS, VSUBPS_BCST}, desc.Div: {VDIVPS, VDIVPS_BCST}, desc.Min: {VMINPS, VMINPS_BCST},
	desc.Max: {VMAXPS, VMAXPS_BCST},
}

// lookup lowers a Lookup of the index a into d: VPERMPS on the table, read
// from memory (AVX2: its row of 8 words), or on AVX-512 broadcast from its
// 8 words into a register first (VBROADCASTF32X8, a load), since a 64-byte
// row could cross a cache line (see konstWord).
func (l *lower) lookup(t operand.Mem, a, d value) value {
	if !l.isa.kmask {
		VPERMPS(t, l.reg(a), d.r)
		return d
	}
	r := l.temp()
	VBROADCASTF32X8(t, r)
	VPERMPS(r, l.reg(a), d.r)
	return d
}

// fma lowers a·b + c (or c - a·b), choosing the form whose destination is an
// operand that dies here: 231 (c += a·b) or 213 (a = a·b + c); with an
// opmask z (not nil), zeroed where z is clear.
func (l *lower) fma(neg bool, a, b, c value, da, db, dc bool, z reg.Register) value {
	f231, f213 := VFMADD231PS, VFMADD213PS
	if neg {
		f231, f213 = VFNMADD231PS, VFNMADD213PS
	}
	b231, b213 := VFMADD231PS_BCST, VFMADD213PS_BCST
	if neg {
		b231, b213 = VFNMADD231PS_BCST, VFNMADD213PS_BCST
	}
	if z != nil {
		z231, z213 := VFMADD231PS_Z, VFMADD213PS_Z
		zb231, zb213 := VFMADD231PS_BCST_Z, VFMADD213PS_BCST_Z
		if neg {
			z231, z213 = VFNMADD231PS_Z, VFNMADD213PS_Z
			zb231, zb213 = VFNMADD231PS_BCST_Z, VFNMADD213PS_BCST_Z
		}
		f231 = func(ops ...operand.Op) { z231(ops[0], ops[1], z, ops[2]) }
		f213 = func(ops ...operand.Op) { z213(ops[0], ops[1], z, ops[2]) }
		b231 = func(ops ...operand.Op) { zb231(ops[0], ops[1], z, ops[2]) }
		b213 = func(ops ...operand.Op) { zb213(ops[0], ops[1], z, ops[2]) }
	}
	// The multiplication commutes: keep a constant in b (the memory slot of
	// the 231 form), a dying register in a.
	if a.mem() || (!da && db && b.kind == vReg) {
		a, b, da, db = b, a, db, da
	}
	switch {
	case dc && c.kind == vReg:
		l.pick(b, f231, b231)(l.rm(b), l.reg(a), c.r) // c = a·b + c
		return c
	case da && a.kind == vReg:
		l.pick(c, f213, b213)(l.rm(c), l.reg(b), a.r) // a = b·a + c
		return a
	}
	// Nothing dies: start from a copy of c (or from the constant a).
	d := value{kind: vReg, r: l.newVec()}
	l.load(c, d.r)
	l.pick(b, f231, b231)(l.rm(b), l.reg(a), d.r)
	return d
}

// fmaMerge lowers d = x·y + d (or d - x·y) where the opmask k is set,
// leaving d where it is clear.
func (l *lower) fmaMerge(neg bool, x, y, d value, k reg.Register) {
	f, fb := VFMADD231PS, VFMADD231PS_BCST
	if neg {
		f, fb = VFNMADD231PS, VFNMADD231PS_BCST
	}
	if x.mem() {
		x, y = y, x
	}
	l.pick(y, f, fb)(l.rm(y), l.reg(x), k, d.r)
}

// masked lowers x op y under the opmask k: merged into c (its register
// where c dies, else a copy), or zeroed where k is clear if c is nil.
func (l *lower) masked(kind desc.Kind, x, y value, dx, dy bool, k reg.Register, c *value, dc bool) value {
	ins := maskedIns[kind]
	if ins.commutes && x.mem() && !y.mem() {
		x, y, dx = y, x, dy
	}
	xr, yo := l.reg(x), l.rm(y)
	merge, zero := ins.merge, ins.zero
	if l.bcst(y) {
		merge, zero = ins.mergeB, ins.zeroB
	}
	if c == nil {
		d := value{kind: vReg, r: xr}
		if !dx || x.kind != vReg {
			d.r = l.newVec()
		}
		zero(yo, xr, k, d.r)
		return d
	}
	d := l.writable(*c, dc)
	merge(yo, xr, k, d.r)
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
		d := l.writable(b, db)
		l.pick(a, VMOVUPS, VBROADCASTSS)(l.rm(a), m.k, d.r)
		return d
	}
	d := value{kind: vReg, r: l.newVec()}
	switch m.kind {
	case vKMask: // m ? a : 0
		if l.bcst(a) {
			VBROADCASTSS_Z(l.rm(a), m.k, d.r)
		} else {
			VMOVUPS_Z(l.rm(a), m.k, d.r)
		}
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

// program returns the program the lowering of s emits for p, which every
// caller sizes its loop by: on AVX-512, p merged (merged), whose
// longer-lived values the 32 registers hold. The one repeated operation of
// the programs is sigmoid's -|x| (and the
// scaled sigmoid's), formed for e^-|x| and again for the cutoff: merged,
// sigmoid took 0.290 → 0.285 ns/element at n = 4096 (7 alternated rounds;
// the scaled sigmoid 0.343 → 0.337, the others the same); with AVX2's 16
// registers the same program ran 5–7% slower.
func (s *isa) program(p *desc.Program) *desc.Program {
	if s.kmask {
		return merged(p)
	}
	return p
}

// merged returns p with each operation that repeats an earlier one (the
// same kind, operands and immediate) replaced by it: the same results. The
// note of a dropped operation goes to the next one kept.
func merged(p *desc.Program) *desc.Program {
	q := *p
	q.Ops = nil
	remap := make([]desc.Value, len(p.Ops))
	type key struct {
		k    desc.Kind
		args [3]desc.Value
		imm  uint32
	}
	seen := map[key]desc.Value{}
	note := ""
	for i, op := range p.Ops {
		for j := range op.Args[:op.Kind.Arity()] {
			op.Args[j] = remap[op.Args[j]]
		}
		k := key{op.Kind, op.Args, op.Imm}
		if v, ok := seen[k]; ok {
			remap[i] = v
			if op.Note != "" {
				note = op.Note
			}
			continue
		}
		if op.Note == "" && op.Kind != desc.Const && op.Kind != desc.Param && op.Kind != desc.Input {
			op.Note, note = note, ""
		}
		remap[i] = desc.Value(len(q.Ops))
		seen[k] = remap[i]
		q.Ops = append(q.Ops, op)
	}
	q.Out = make([]desc.Value, len(p.Out))
	for j, v := range p.Out {
		q.Out[j] = remap[v]
	}
	return &q
}

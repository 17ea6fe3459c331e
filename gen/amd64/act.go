package main

// The elementwise activation kernels (group "act"), from the programs of
// internal/desc: forward, backward, and backward with the bias gradient, of
// every activation, and the Go switch that calls them by desc.Func. Each
// kernel processes its whole slice or matrix in one call: a main loop over
// groups of vectors, a loop over single vectors, and a masked tail that
// reads and writes only the lanes inside the slice.

import (
	"fmt"
	"math"
	"slices"

	"github.com/actfuse/actfuse/gen/glue"
	"github.com/actfuse/actfuse/internal/desc"
	. "github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

func init() {
	groups["act"] = func() {
		emitActKernels(avx2)
		emitActKernels(avx512)
		emitMaxoutForward()
		emitMaxoutBackward()
	}
	switches["act"] = actSwitch
}

// paramsType is the Go type of an activation kernel's parameters: the
// values of desc.FuncDesc.Params in order.
const paramsType = "*[4]float32"

// emitActKernels emits the forward kernels of every activation with a
// program and of its variants, and the backward and backward-with-bias
// kernels of every activation.
func emitActKernels(s *isa) {
	for _, d := range desc.Funcs {
		for _, e := range d.Forwards() {
			emitForward(s, e)
		}
	}
	for _, d := range desc.Funcs {
		if d.Forward != nil {
			emitBackward(s, d)
		}
	}
	for _, d := range desc.Funcs {
		emitBackwardBias(s, d)
	}
}

// tailMask returns, for the row length n, the mask of the lanes of the last,
// partial vector: a vector register of all-ones lanes for AVX2 (read from a
// table), an opmask register for AVX-512.
func (s *isa) tailMask(n reg.Register) reg.Register {
	r := GP64()
	MOVQ(n, r)
	ANDQ(operand.Imm(uint64(s.lanes()-1)), r)
	if s.kmask {
		one, k := GP64(), K()
		MOVQ(operand.U32(1), one)
		SHLXQ(r, one, one)
		DECQ(one)
		KMOVW(one.As32(), k)
		return k
	}
	// The table holds lanes all-ones words and lanes zero words: the lanes
	// words at byte offset bytes - 4r mask the first r lanes.
	v := make([]uint32, 2*s.lanes())
	for i := range s.lanes() {
		v[i] = 0xffffffff
	}
	p := GP64()
	SHLQ(operand.Imm(2), r)
	LEAQ(konstTable(fmt.Sprintf("tailmask%d", s.bytes), v).Offset(s.bytes), p)
	SUBQ(r, p)
	mask := s.vec()
	VMOVDQU(operand.Mem{Base: p}, mask)
	return mask
}

// maskedLoad loads the lanes of m selected by mask into v (zeroing the
// others); maskedStore stores them.
func (s *isa) maskedLoad(m operand.Mem, mask reg.Register, v reg.VecVirtual) {
	if s.kmask {
		VMOVUPS_Z(m, mask, v)
		return
	}
	VMASKMOVPS(m, mask, v)
}

func (s *isa) maskedStore(v reg.VecVirtual, mask reg.Register, m operand.Mem) {
	if s.kmask {
		VMOVUPS(v, mask, m)
		return
	}
	VMASKMOVPS(v, mask, m)
}

// rowLoop emits the column loops over n elements of one row. ins are the
// base pointers of the input rows, out the output row; body transforms the
// loaded input groups and returns the group to store; after, if not nil, is
// called with the stored group and the element offset register, to update
// other memory (the bias gradient). mask is the tail mask of n, or nil to
// load it in the tail only (one register more for the main loop).
//
// Loads are indexed by the element offset; stores go through a pointer
// that advances with it, because a store with a base+index address cannot
// use the store-address unit of port 7 (Intel since Haswell) and would take
// a load port instead: a streaming loop that reads two inputs is bound by
// its address units otherwise.
type rowLoop struct {
	isa    *isa
	prefix string
	unroll int
	n      reg.Register
	ins    []reg.Register
	out    reg.Register
	mask   reg.Register
	ahead  int // the prefetch distance in bytes (actPrefetch, updatePrefetch)
	// span, when not nil, holds the elements of the whole call, which the
	// main loop prefetches for only from prefetchMin on (the row's n, or m·n
	// for a matrix); nil prefetches always (in loops of more than one
	// vector: the optimizer updates).
	span operand.Op
	// stream, with span, makes the calls of at least desc.StreamMin
	// elements whose output is vector-aligned store with non-temporal
	// stores in their main loop.
	stream bool
	body   func(in [][]reg.VecVirtual) []reg.VecVirtual
	after  func(res []reg.VecVirtual, i reg.Register, masked bool)
	// pipe, when not nil, is the pipelined loop over the full vectors (one
	// input, unroll 1, no after), lowered by lower.
	pipe  *pipeline
	lower *lower
}

// actPrefetch and updatePrefetch are how far ahead (bytes) the main loops
// of the activation kernels and of the optimizer updates prefetch their
// inputs (rowLoop.ahead). The hardware prefetchers stop at 4 KiB page
// boundaries; a loop that computes as long as it waits for memory
// (sigmoid, tanh on arrays beyond the caches) loses the overlap there
// unless its prefetches run a memory latency ahead: at 16M elements on
// Zen 5, 4 KiB ahead instead of 1 KiB runs sigmoid, tanh, ELU and the
// scaled sigmoid forward 7–12% faster (1 KiB was itself 8–13% faster than
// none), the derivatives and ReLU as fast, and nothing changes in cache.
// The updates, whose three streams of 670k weights stay in L3, run 12%
// slower at 4 KiB: they keep 1 KiB. Prefetches past the end of a slice are
// harmless hints.
const (
	actPrefetch    = 4096
	updatePrefetch = 1024
)

// prefetchMin is the smallest call (elements of each input: rowLoop.span)
// whose activation kernels prefetch, 256 KiB an input: in the caches the
// prefetches only take load slots (Sapphire-Rapids-class Xeon, n = 4096,
// ns/element with and without: ReLU 0.0222 → 0.0200, LeakyReLU 0.0283 →
// 0.0267, the derivatives of ReLU and sigmoid 0.074 → 0.050; sigmoid, tanh
// and ELU as fast; at 16M the same within the noise). The optimizer
// updates, bound by their three or four streams, prefetch always.
const prefetchMin = 1 << 16

func (l *rowLoop) emit() {
	s := l.isa
	w := s.bytes
	i, lim, o := GP64(), GP64(), GP64()
	at := func(base reg.Register, k int) operand.Mem {
		return operand.Mem{Base: base, Index: i, Scale: 4, Disp: w * k}
	}
	block := func(u int, masked, nt bool) {
		in := make([][]reg.VecVirtual, len(l.ins))
		for j, p := range l.ins {
			in[j] = s.vecs(u)
			for k := 0; k < u; k++ {
				if masked {
					s.maskedLoad(at(p, k), l.mask, in[j][k])
				} else {
					VMOVUPS(at(p, k), in[j][k])
				}
			}
		}
		res := l.body(in)
		for k := 0; k < u; k++ {
			dst := operand.Mem{Base: o, Disp: w * k}
			switch {
			case masked:
				s.maskedStore(res[k], l.mask, dst)
			case nt:
				VMOVNTPS(res[k], dst)
			default:
				VMOVUPS(res[k], dst)
			}
		}
		if l.after != nil {
			l.after(res, i, masked)
		}
	}
	lanes := s.lanes()
	XORQ(i, i)
	MOVQ(l.out, o)
	if l.pipe != nil {
		l.emitPipelined(i, lim, o)
		Label(l.prefix + "_one")
	} else if l.unroll > 1 || l.ahead > 0 && l.span != nil {
		// The wide block runs while i < n - (lanes·unroll - 1) (signed: the
		// limit is negative for short rows), so it ends inside the row for
		// any unroll, not only powers of two.
		MOVQ(l.n, lim)
		SUBQ(operand.I32(int32(lanes*l.unroll-1)), lim)
		CMPQ(i, lim)
		JGE(operand.LabelRef(l.prefix + "_one"))
		// wide is the loop of blocks of unroll vectors, with prefetches
		// ahead (pf) for the rows of at least prefetchMin elements (at one
		// vector, only that loop: the one below runs the shorter rows).
		wide := func(label string, pf, nt bool) {
			Label(label)
			for _, p := range l.ins { // one prefetch per cache line of each input
				for off := 0; pf && off < w*l.unroll; off += 64 {
					PREFETCHT0(operand.Mem{Base: p, Index: i, Scale: 4, Disp: l.ahead + off})
				}
			}
			block(l.unroll, false, nt)
			ADDQ(operand.U32(uint32(lanes*l.unroll)), i)
			ADDQ(operand.U32(uint32(w*l.unroll)), o)
			CMPQ(i, lim)
			JL(operand.LabelRef(label))
		}
		// The streaming loop (stream): the calls of at least desc.StreamMin
		// elements whose output is aligned to a vector, as every Go
		// allocation of that size is (VMOVNTPS faults on an unaligned
		// address); SFENCE orders its stores before the kernel's return.
		if l.stream && l.span != nil {
			CMPQ(l.span, operand.U32(desc.StreamMin))
			JB(operand.LabelRef(l.prefix + "_cached"))
			TESTQ(operand.U32(uint32(w-1)), o)
			JNZ(operand.LabelRef(l.prefix + "_cached"))
			wide(l.prefix+"_wident", l.ahead > 0, true)
			SFENCE()
			JMP(operand.LabelRef(l.prefix + "_one"))
			Label(l.prefix + "_cached")
		}
		switch {
		case l.ahead > 0 && l.span != nil && l.unroll == 1:
			CMPQ(l.span, operand.U32(prefetchMin))
			JB(operand.LabelRef(l.prefix + "_one"))
			wide(l.prefix+"_widepf", true, false)
		case l.ahead > 0 && l.span != nil:
			CMPQ(l.span, operand.U32(prefetchMin))
			JB(operand.LabelRef(l.prefix + "_wide"))
			wide(l.prefix+"_widepf", true, false)
			JMP(operand.LabelRef(l.prefix + "_one"))
			wide(l.prefix+"_wide", false, false)
		default:
			wide(l.prefix+"_wide", l.ahead > 0, false)
		}
		Label(l.prefix + "_one")
	}
	MOVQ(l.n, lim)
	ANDQ(operand.I32(int32(-lanes)), lim)
	CMPQ(i, lim)
	JAE(operand.LabelRef(l.prefix + "_tail"))
	Label(l.prefix + "_oneloop")
	block(1, false, false)
	ADDQ(operand.U32(uint32(lanes)), i)
	ADDQ(operand.U32(uint32(w)), o)
	CMPQ(i, lim)
	JB(operand.LabelRef(l.prefix + "_oneloop"))
	Label(l.prefix + "_tail")
	CMPQ(i, l.n)
	JAE(operand.LabelRef(l.prefix + "_done"))
	if l.mask == nil {
		l.mask = s.tailMask(l.n)
	}
	block(1, true, false)
	Label(l.prefix + "_done")
}

// paramAddr returns the stack address of the scalar parameter name.
func paramAddr(name string) operand.Mem {
	b, err := Param(name).Resolve()
	if err != nil {
		panic(fmt.Sprintf("parameter %s: %v", name, err))
	}
	return b.Addr
}

// unrollFor returns how many vectors of the program p a loop body can hold
// in the registers left after reserved (parameters, hoisted constants,
// masks): the program's live values plus one for the constants it loads
// into a register, at most 4 (6 on Zen 5 leaves no register for the
// constants: ELU and tanh then take twice the time).
func unrollFor(s *isa, p *desc.Program, reserved int) int {
	return max(1, min(4, (s.regs()-reserved)/(p.MaxLive()+1)))
}

// hoistable returns the constants of p worth hoisting into the registers
// left after unroll groups of the program and reserved others: the first
// ones of the program, at most spare of them.
func hoistable(p *desc.Program, spare int) []uint32 {
	cs := p.Consts()
	return cs[:max(0, min(spare, len(cs)))]
}

// plan chooses the unroll of a loop over the program p with nin input
// streams and the constants it hoists: see maxMemConsts, minHoisted and
// minBesideDivision for what makes an AVX-512 loop shorter.
func plan(s *isa, p *desc.Program, reserved int) (unroll int, hoist []uint32) {
	n, _ := p.UsedParams()
	reserved += n
	spare := func(u int) int { return spareRegs(s, p, reserved, u) }
	// AVX-512: a shorter loop where the longer one would leave fewer than
	// minHoisted of the program's constants in registers, or more than
	// maxMemConsts operands per vector in memory (down to 2 vectors: at 1,
	// LeCun's tanh takes 1.1× the time). Each constant left in
	// memory is one more load per vector, and the loads, not the
	// arithmetic, then bound the loop (Zen 5: LeCun's tanh at 2 vectors
	// with 14 constants hoisted takes 0.72× the time of 4 vectors with
	// none; tanh at 3 vectors with 4 operands in memory per vector instead
	// of 4 vectors with 9 takes the same time on 4096 elements in L1 and
	// 0.70× on 16M, where the loads wait behind the misses). On AVX2 the
	// shorter loops lose more than they gain (sigmoid at 1 vector instead
	// of 3: 1.2× the time), so it keeps the longest loop that fits.
	unroll = unrollFor(s, p, reserved)
	want := min(minHoisted, len(p.Consts()))
	for s.kmask && unroll > 1 && (spare(unroll) < want || unroll > 2 && memConsts(p, hoistable(p, spare(unroll))) > maxMemConsts) {
		unroll--
	}
	if s.kmask && besideDivision(p) < minBesideDivision {
		unroll = 1
	}
	return unroll, hoistable(p, spare(unroll))
}

// minBesideDivision is the fewest operations of a program that neither feed
// its division nor wait on it (besideDivision) for which the AVX-512 loops
// that are not pipelined (pipelineFor) take more than one vector: with fewer, the divisions of a block's vectors
// reach the divider together (one zmm VDIVPS per 10 cycles on the Xeon,
// BenchmarkDivider) with little work to overlap them. Sapphire-Rapids-class
// Xeon, n = 4096, 3 alternated rounds, 3 vectors → 1 (ns/element):
// sigmoid (2 beside its division) 0.285–0.291 → 0.266–0.268, the scaled
// sigmoid (2) 0.331–0.336 → 0.317–0.319, and at 16M 0.34 → 0.32 and 0.37 →
// 0.34; tanh (9) 0.238 → 0.243 and the scaled tanh (16) 0.472 → 0.484 lose.
const minBesideDivision = 4

// besideDivision returns the number of operations of p that neither feed
// one of its divisions nor read one, for the division with the fewest
// (math.MaxInt for a program without one).
func besideDivision(p *desc.Program) int {
	fewest := math.MaxInt
	args := func(op desc.Op) []desc.Value { return op.Args[:op.Kind.Arity()] }
	for d, op := range p.Ops {
		if op.Kind != desc.Div {
			continue
		}
		feeds := make([]bool, len(p.Ops)) // d and what it reads, transitively
		feeds[d] = true
		for i := d; i >= 0; i-- {
			if feeds[i] {
				for _, a := range args(p.Ops[i]) {
					feeds[a] = true
				}
			}
		}
		waits := make([]bool, len(p.Ops)) // what reads d, transitively
		n := 0
		for i, o := range p.Ops {
			for _, a := range args(o) {
				waits[i] = waits[i] || int(a) == d || waits[a]
			}
			if k := o.Kind; !feeds[i] && !waits[i] && k != desc.Input && k != desc.Param && k != desc.Const {
				n++
			}
		}
		fewest = min(fewest, n)
	}
	return fewest
}

// memConsts returns the number of operands of p that are constants not in
// hoisted: each a load from memory per vector.
func memConsts(p *desc.Program, hoisted []uint32) int {
	n := 0
	for _, op := range p.Ops {
		for _, a := range op.Args[:op.Kind.Arity()] {
			if c := p.Ops[a]; c.Kind == desc.Const && !slices.Contains(hoisted, c.Imm) {
				n++
			}
		}
	}
	return n
}

// spareRegs returns the registers left for hoisted constants by u lane
// groups of the program p beside reserved others, with one register of
// slack: a constant loaded for an operation while the live values peak.
func spareRegs(s *isa, p *desc.Program, reserved, u int) int {
	return s.regs() - reserved - u*(p.MaxLive()+1) - 1
}

// minHoisted is the number of a program's constants (or all of them, if it
// has fewer) that plan keeps in registers when it can by unrolling less.
const minHoisted = 8

// maxMemConsts is the most constant operands per vector that plan leaves
// in memory when it can keep them in registers by unrolling less (Zen 5:
// tanh at 3 vectors with all 14 constants in registers takes 0.155
// ns/element at n = 4096, at 4 vectors with 3 operands per vector in
// memory 0.166, 9 alternated runs).
const maxMemConsts = 2

// kernelName returns the name of the kernel kind of d on s: "SigmoidForwardAVX2".
func kernelName(s *isa, d desc.FuncDesc, kind string) string { return d.Stem + kind + s.suffix }

// emitForward emits <Stem>Forward<ISA>(dst, x []float32, p *[4]float32).
func emitForward(s *isa, d desc.FuncDesc) {
	fn := kernelName(s, d, "Forward")
	TEXT(fn, NOSPLIT, "func(dst, x []float32, p "+paramsType+")")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s computes dst[i] = %s(x[i]) for the whole slice (program %s of internal/desc); len(dst) must equal len(x).", fn, d.Name, d.Forward.Title()))
	dst := Load(Param("dst").Base(), GP64())
	x := Load(Param("x").Base(), GP64())
	n := Load(Param("x").Len(), GP64())
	l := newLower(s)
	fwd := s.program(d.Forward)
	if len(d.Params) > 0 {
		l.loadParams(operand.Mem{Base: Load(Param("p"), GP64())}, fwd)
	}
	unroll, consts := plan(s, fwd, 0)
	pl := pipelineFor(s, fwd)
	if pl != nil {
		unroll, consts = 1, hoistable(fwd, pl.spareRegs(s, fwd))
	}
	l.hoist(consts...)
	loop := rowLoop{
		isa:    s,
		prefix: "fwd",
		unroll: unroll,
		ahead:  actPrefetch,
		span:   n,
		stream: true,
		n:      n,
		ins:    []reg.Register{x},
		out:    dst,
		body:   func(in [][]reg.VecVirtual) []reg.VecVirtual { return l.emit(fwd, in)[0] },
		pipe:   pl,
		lower:  l,
	}
	loop.emit()
	VZEROUPPER()
	RET()
}

// emitBackward emits <Stem>Backward<ISA>(dx, dy, y []float32, p *[4]float32).
func emitBackward(s *isa, d desc.FuncDesc) {
	fn := kernelName(s, d, "Backward")
	TEXT(fn, NOSPLIT, "func(dx, dy, y []float32, p "+paramsType+")")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s computes dx[i] = dy[i]·f'(y[i]) for f = %s, from the saved output y, for the whole slice; the three lengths must be equal.", fn, d.Name))
	dx := Load(Param("dx").Base(), GP64())
	dy := Load(Param("dy").Base(), GP64())
	y := Load(Param("y").Base(), GP64())
	n := Load(Param("dx").Len(), GP64())
	l := newLower(s)
	deriv := s.program(d.Deriv)
	if len(d.Params) > 0 {
		l.loadParams(operand.Mem{Base: Load(Param("p"), GP64())}, deriv)
	}
	unroll, consts := plan(s, deriv, 0)
	l.hoist(consts...)
	loop := rowLoop{
		isa:    s,
		prefix: "bwd",
		unroll: unroll,
		ahead:  actPrefetch,
		span:   n,
		stream: true,
		n:      n,
		ins:    []reg.Register{dy, y},
		out:    dx,
		body:   func(in [][]reg.VecVirtual) []reg.VecVirtual { return l.emit(deriv, in)[0] },
	}
	loop.emit()
	VZEROUPPER()
	RET()
}

// emitBackwardBias emits <Stem>BackwardBias<ISA>(m, n int, dy []float32,
// lddy int, y []float32, ldy int, dz []float32, lddz int, db []float32,
// p *[4]float32), which computes dz = dy ⊙ f'(y) over an m×n matrix and,
// unless db is empty, adds each row of dz to db[:n] in row order. Identity
// copies dy.
func emitBackwardBias(s *isa, d desc.FuncDesc) {
	fn := kernelName(s, d, "BackwardBias")
	TEXT(fn, NOSPLIT, "func(m, n int, dy []float32, lddy int, y []float32, ldy int, dz []float32, lddz int, db []float32, p "+paramsType+")")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s computes dz = dy ⊙ f'(y) for f = %s over the m×n matrices dy, y, dz (leading dimensions in elements) and, unless db is empty, adds each row of dz to db[:n] in row order; db must be zeroed by the caller. Arguments are not checked.", fn, d.Name))
	m := Load(Param("m"), GP64())
	n := Load(Param("n"), GP64())
	dy := Load(Param("dy").Base(), GP64())
	lddy := Load(Param("lddy"), GP64())
	y := Load(Param("y").Base(), GP64())
	ldy := Load(Param("ldy"), GP64())
	dz := Load(Param("dz").Base(), GP64())
	lddz := Load(Param("lddz"), GP64())
	db := Load(Param("db").Base(), GP64())
	dbn := Load(Param("db").Len(), GP64())
	for _, r := range []reg.Register{lddy, ldy, lddz} {
		SHLQ(operand.Imm(2), r)
	}
	l := newLower(s)
	body := func(in [][]reg.VecVirtual) []reg.VecVirtual { return in[0] }
	unroll := 4
	if d.Deriv != nil {
		deriv := s.program(d.Deriv)
		if len(d.Params) > 0 {
			l.loadParams(operand.Mem{Base: Load(Param("p"), GP64())}, deriv)
		}
		// The mask and a temporary of the bias sum stay live.
		var consts []uint32
		unroll, consts = plan(s, deriv, 2)
		l.hoist(consts...)
		body = func(in [][]reg.VecVirtual) []reg.VecVirtual { return l.emit(deriv, in)[0] }
	}
	mask := s.tailMask(n)
	TESTQ(m, m)
	JZ(operand.LabelRef("done"))
	// The elements of the matrix, for the prefetch decision of every row.
	span := AllocLocal(8)
	{
		t := GP64()
		MOVQ(m, t)
		IMULQ(n, t)
		MOVQ(t, span)
	}
	sum := func(res []reg.VecVirtual, i reg.Register, masked bool) {
		for k, r := range res {
			at := operand.Mem{Base: db, Index: i, Scale: 4, Disp: s.bytes * k}
			t := s.vec()
			if masked {
				s.maskedLoad(at, mask, t)
				VADDPS(r, t, t)
				s.maskedStore(t, mask, at)
			} else {
				VADDPS(at, r, t)
				VMOVUPS(t, at)
			}
		}
	}
	for _, withDB := range []bool{false, true} {
		prefix := "nodb"
		var after func([]reg.VecVirtual, reg.Register, bool)
		if withDB {
			prefix, after = "db", sum
		} else {
			TESTQ(dbn, dbn)
			JNZ(operand.LabelRef("db_rows"))
		}
		Label(prefix + "_rows")
		loop := rowLoop{isa: s, prefix: prefix, unroll: unroll, ahead: actPrefetch, span: span, n: n, ins: []reg.Register{dy, y}, out: dz, mask: mask, body: body, after: after}
		loop.emit()
		ADDQ(lddy, dy)
		ADDQ(ldy, y)
		ADDQ(lddz, dz)
		DECQ(m)
		JNZ(operand.LabelRef(prefix + "_rows"))
		if !withDB {
			JMP(operand.LabelRef("done"))
		}
	}
	Label("done")
	VZEROUPPER()
	RET()
}

// actSwitch returns the Go file that calls the AVX2 and AVX-512 activation
// kernels by desc.Func. The AVX-512 set uses the AVX2 maxout kernels.
func actSwitch() string {
	return glue.Imports + glue.ElementwiseSet(avx2.suffix, avx2.name, avx2.suffix) +
		"\n" + glue.ElementwiseSet(avx512.suffix, avx512.name, avx2.suffix)
}

package main

// Software pipelining of the AVX-512 loops over programs with a division
// (sigmoid, tanh and their scaled forms): each program is split at its
// division into two stages, and the loop computes the first stage of
// vector i beside the second stage of vector i - depth, whose operands the
// first stage left in registers depth iterations before.
//
// Such a program is one long dependency chain a vector: the exp core, the
// division (about 17 cycles), the correction after it. The out-of-order
// core holds only so many operations that wait for their operands, and on
// these chains it fills up: the operations of a vector enter it long
// before their operands are ready. In a synthetic loop of 24 operations on
// the vector ports (one division) a dependency chain of 16 FMAs before the
// division and 4 after it took 1.30 times the time of the same operations
// independent of each other, whatever the loop's unroll; with the division
// 4 iterations after its chain, 1.12 times (Sapphire-Rapids-class Xeon).
// In the loop the first stage comes before the second, whose operands are
// then ready. pipeDepth gives the kernels' figures.

import (
	"fmt"

	"github.com/actfuse/actfuse/internal/desc"
	. "github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// pipeline is a program split into its stages for a pipelined loop.
type pipeline struct {
	first, second *desc.Program // second's inputs are first's results, in order
	depth         int           // iterations between the stages of a vector
}

// carried returns the number of vectors the first stage passes to the
// second.
func (pl *pipeline) carried() int { return len(pl.first.Out) }

// splitAtDivision splits p into the operations that do not depend on a
// division and those that do (the late ones), for a pipeline of depth 0
// (pipelineFor sets it); ok is false for a program without a division, or one whose split
// would pass a mask between the stages (a mask both read is computed in
// each, from operands that pass). A comparison, or a bitwise
// operand of a late bitwise operation, that only late operations read is
// late itself: the second stage then reads its operands instead (as many
// values where its other operand is a constant or passes anyway, as in
// tanh), and keeps the fusions of the lowering (a comparison into a
// masked instruction, a bitwise pair into one VPTERNLOGD).
func splitAtDivision(p *desc.Program) (pl *pipeline, ok bool) {
	n := len(p.Ops)
	late := make([]bool, n)
	has := false
	args := func(op desc.Op) []desc.Value { return op.Args[:op.Kind.Arity()] }
	for i, op := range p.Ops {
		late[i] = op.Kind == desc.Div
		has = has || late[i]
		for _, a := range args(op) {
			late[i] = late[i] || late[a]
		}
	}
	if !has || len(p.Out) != 1 || len(p.Inputs) != 1 {
		return nil, false // the pipelined loop reads one stream and writes one
	}
	readers := make([][]int, n)
	for i, op := range p.Ops {
		for _, a := range args(op) {
			readers[a] = append(readers[a], i)
		}
	}
	for changed := true; changed; {
		changed = false
		for i := n - 1; i >= 0; i-- {
			k := p.Ops[i].Kind
			if late[i] || len(readers[i]) == 0 || k == desc.Input || k == desc.Param || k == desc.Const {
				continue
			}
			allLate, bitReader := true, false
			for _, r := range readers[i] {
				allLate = allLate && late[r]
				bitReader = bitReader || bitwise(p.Ops[r].Kind)
			}
			if allLate && (k.IsMask() || bitwise(k) && bitReader) {
				late[i], changed = true, true
			}
		}
	}
	// A mask that both stages read is computed in each (sigmoid's sign of
	// x: one VPMOVD2M more), as masks do not pass between them.
	again := make([]bool, n)
	for i, op := range p.Ops {
		for _, a := range args(op) {
			again[a] = again[a] || late[i] && !late[a] && p.Ops[a].Kind.IsMask()
		}
	}
	inSecond := func(i int) bool { return late[i] || again[i] }
	// The values the second stage reads from the first: neither constants
	// nor parameters, which each stage has.
	var pass []desc.Value
	seen := make([]bool, n)
	for i, op := range p.Ops {
		if !inSecond(i) {
			continue
		}
		for _, a := range args(op) {
			k := p.Ops[a].Kind
			if inSecond(int(a)) || seen[a] || k == desc.Const || k == desc.Param {
				continue
			}
			if k.IsMask() {
				return nil, false
			}
			seen[a] = true
			pass = append(pass, a)
		}
	}
	first := subProgram(p, "first", nil, func(i int) bool { return !late[i] }, pass)
	second := subProgram(p, "second", pass, inSecond, p.Out)
	return &pipeline{first: first, second: second}, true
}

// subProgram returns the program of the operations of p that keep selects,
// reading the values inputs of p as its inputs (nil: p's own inputs) and
// returning the values outs of p; constants and parameters are carried
// over.
func subProgram(p *desc.Program, stage string, inputs []desc.Value, keep func(int) bool, outs []desc.Value) *desc.Program {
	q := &desc.Program{Name: p.Name + " (" + stage + " stage)", Algo: p.Algo, Params: p.Params, Tables: p.Tables}
	remap := make(map[desc.Value]desc.Value)
	add := func(op desc.Op, from desc.Value) {
		remap[from] = desc.Value(len(q.Ops))
		q.Ops = append(q.Ops, op)
	}
	if inputs == nil {
		q.Inputs = p.Inputs
		for i, op := range p.Ops {
			if op.Kind == desc.Input {
				add(op, desc.Value(i))
			}
		}
	} else {
		for j, v := range inputs {
			q.Inputs = append(q.Inputs, fmt.Sprintf("v%d", v))
			add(desc.Op{Kind: desc.Input, Imm: uint32(j)}, v)
		}
	}
	for i, op := range p.Ops {
		switch {
		case op.Kind == desc.Param || op.Kind == desc.Const:
			add(op, desc.Value(i))
		case op.Kind == desc.Input || !keep(i):
		default:
			for j, a := range op.Args[:op.Kind.Arity()] {
				r, ok := remap[a]
				if !ok {
					panic(fmt.Sprintf("amd64: %s: the %s stage reads v%d, which it neither computes nor receives", p.Name, stage, a))
				}
				op.Args[j] = r
			}
			add(op, desc.Value(i))
		}
	}
	for _, v := range outs {
		r, ok := remap[v]
		if !ok {
			panic(fmt.Sprintf("amd64: %s: the %s stage does not have its result v%d", p.Name, stage, v))
		}
		q.Out = append(q.Out, r)
	}
	return q
}

// emitPipelined emits the pipelined loop of l over its full vectors,
// i < lim, where there are more than depth of them: the first stage of
// depth vectors, the loop, then the second stage of the last depth
// vectors. It leaves i and o past the vectors it did, for the one-vector
// loop and the tail after it (shorter rows start there). The loop
// prefetches its input ahead on every call: it is bound by its
// operations, and the prefetches take only load slots.
func (l *rowLoop) emitPipelined(i, lim, o reg.Register) {
	pl, s, lw := l.pipe, l.isa, l.lower
	w, lanes := s.bytes, s.lanes()
	Comment(fmt.Sprintf("pipelined: the second stage (from the division on) %d vectors behind the first", pl.depth))
	MOVQ(l.n, lim)
	ANDQ(operand.I32(int32(-lanes)), lim)
	CMPQ(lim, operand.U32(uint32(lanes*(pl.depth+1))))
	JB(operand.LabelRef(l.prefix + "_one"))
	// carry[d] holds the first stage's results of the vector d+1
	// iterations back; the lowering never gives them to other values.
	carry := make([][]reg.VecVirtual, pl.depth)
	lw.keep = map[reg.VecVirtual]bool{}
	for d := range carry {
		carry[d] = s.vecs(pl.carried())
		for _, r := range carry[d] {
			lw.keep[r] = true
		}
	}
	first := func() []reg.VecVirtual {
		x := lw.newVec()
		VMOVUPS(operand.Mem{Base: l.ins[0], Index: i, Scale: 4}, x)
		out := lw.emit(pl.first, [][]reg.VecVirtual{{x}})
		ADDQ(operand.U32(uint32(lanes)), i)
		res := make([]reg.VecVirtual, len(out))
		for j, r := range out {
			res[j] = r[0]
		}
		return res
	}
	keep := func(res, into []reg.VecVirtual) {
		for j, r := range res {
			VMOVAPS(r, into[j])
			lw.free = append(lw.free, r)
		}
	}
	second := func(from []reg.VecVirtual) {
		in := make([][]reg.VecVirtual, len(from))
		for j, r := range from {
			in[j] = []reg.VecVirtual{r}
		}
		res := lw.emit(pl.second, in)[0][0]
		VMOVUPS(res, operand.Mem{Base: o})
		ADDQ(operand.U32(uint32(w)), o)
		if !lw.keep[res] { // the result may be written into a carried register
			lw.free = append(lw.free, res)
		}
	}
	for d := pl.depth - 1; d >= 0; d-- {
		keep(first(), carry[d])
	}
	// In the loop the first stage comes first: the second stage's
	// operations, whose operands are ready, then enter the scheduler
	// behind the first stage's chain.
	Label(l.prefix + "_pipe")
	PREFETCHT0(operand.Mem{Base: l.ins[0], Index: i, Scale: 4, Disp: l.ahead})
	cur := first()
	second(carry[pl.depth-1])
	for d := pl.depth - 1; d > 0; d-- {
		for j := range carry[d] {
			VMOVAPS(carry[d-1][j], carry[d][j])
		}
	}
	keep(cur, carry[0])
	CMPQ(i, lim)
	JB(operand.LabelRef(l.prefix + "_pipe"))
	for d := pl.depth - 1; d >= 0; d-- {
		second(carry[d])
	}
}

// pipeDepth is the most iterations between the two stages of a vector in
// the pipelined loops. Sapphire-Rapids-class Xeon, n = 4096, ns/element,
// 7 alternated runs, depth 0 (no pipeline) / 2 / 3 / 4: sigmoid 0.275 /
// 0.266 / 0.266 / 0.260, the scaled sigmoid 0.334 / 0.320 / 0.311 / 0.303,
// tanh 0.249 / 0.225 / 0.224 / 0.233, LeCun's tanh 0.488 / 0.450 / 0.452
// (at 4 its registers do not fit; pipelineFor gives it 2, where its three
// parameters leave room for constants).
const pipeDepth = 3

// minPipeHoisted is the fewest constants a pipelined loop keeps in
// registers; a shallower pipeline leaves more.
const minPipeHoisted = 4

// pipelineFor returns the pipeline of the forward loops of p on s: for
// AVX-512 programs with a division, of the largest depth up to pipeDepth
// whose stages leave minPipeHoisted registers for constants (or all the
// program has); nil for the others. On AVX2, whose 16 registers leave room
// for depth 1 for sigmoid and the scaled sigmoid only, those ran slower
// pipelined than in their loops of 2 vectors: 0.442 → 0.458 and 0.506 →
// 0.534 ns/element (n = 4096, 5 alternated runs).
func pipelineFor(s *isa, p *desc.Program) *pipeline {
	if !s.kmask {
		return nil
	}
	pl, ok := splitAtDivision(p)
	if !ok {
		return nil
	}
	for pl.depth = pipeDepth; pl.depth >= 1; pl.depth-- {
		if pl.spareRegs(s, p) >= min(minPipeHoisted, len(p.Consts())) {
			return pl
		}
	}
	return nil
}

// spareRegs returns the registers a pipelined loop over the program p
// leaves for hoisted constants: beside p's parameters, the carried vectors
// of depth iterations, the larger stage's live values (and the one loaded
// for an operation), and a register of slack.
func (pl *pipeline) spareRegs(s *isa, p *desc.Program) int {
	n, _ := p.UsedParams() // the kernel broadcasts all of them
	live := max(pl.first.MaxLive(), pl.second.MaxLive()) + 1
	return s.regs() - n - pl.depth*pl.carried() - live - 1
}

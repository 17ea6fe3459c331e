package main

import (
	"fmt"

	"github.com/actfuse/actfuse/internal/desc"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The overlapped activation of the AVX-512 main tile. An activation with
// many constants (the exp-based ones) runs on the stored tile (see
// kernel.epilogue); run right after the tile's sweep, it keeps the FMA
// pipes waiting on its dependency chains for as long as the elementwise
// kernel takes on the tile's 24 vectors. Instead, a full tile that has a
// next tile in the same sweep is stored as Z (+ bias, + C) and left
// pending: the next tile's k loop activates one pending vector in place
// per unrolled iteration, between its FMAs, where the out-of-order core
// runs the activation's non-FMA operations beside them. Only a sweep of at
// least pendingSteps k steps leaves a tile pending, so that the next one
// activates all of it (shorter sweeps are too short to hide it: at k = 16
// the overlapped sigmoid took 1.12× the time). The last tile of a call,
// edge tiles and the backward epilogue run as before, so nothing is
// pending when the kernel returns; every value goes through the same
// program, so results are unchanged.

// overlapFuncs returns the activations that the kernel k overlaps with the
// next tile's sweep: on the packed AVX-512 main tile, the forward programs
// that run on the stored tile and fit, with a register for a constant, in the
// registers the accumulators leave.
func (k *kernel) overlapFuncs() []desc.Func {
	if !k.s.kmask || k.strided || k.nrows != k.mr || k.vecs&(k.vecs-1) != 0 {
		return nil
	}
	free := k.s.regs() - k.vecs*k.nrows
	var fs []desc.Func
	for f, d := range desc.Funcs {
		if d.Forward != nil && k.storedAct(d) && k.s.program(d.Forward).MaxLive()+1 <= free {
			fs = append(fs, desc.Func(f))
		}
	}
	return fs
}

// storedAct reports whether the epilogue runs the activation d on the
// stored tile (AVX-512: a program with minHoisted constants or more).
func (k *kernel) storedAct(d desc.FuncDesc) bool {
	return k.s.kmask && len(d.Forward.Consts()) >= minHoisted
}

// overlap is the state of the pending tile: pend points at its next vector
// to activate, pendCnt counts the vectors left, and pendStep (a local)
// holds the step from the end of one row's vectors to the next row.
type overlap struct {
	funcs    []desc.Func
	pend     GPVirtual
	pendCnt  GPVirtual
	pendStep Mem
}

// initOverlap allocates the pending state (nothing pending) with
// pendStep at the local step.
func (k *kernel) initOverlap(step Mem) {
	o := &k.ov
	o.pend, o.pendCnt, o.pendStep = GP64(), GP64(), step
	XORQ(o.pendCnt, o.pendCnt)
	t := Load(Param("ldc"), GP64())
	SHLQ(U8(2), t)
	SUBQ(U32(uint32(k.rowBytes())), t)
	MOVQ(t, o.pendStep)
}

// pendingSteps returns the shortest sweep that leaves a tile pending: one
// unrolled iteration per vector of the tile.
func (k *kernel) pendingSteps() int { return kUnroll * k.vecs * k.nrows }

// setPending makes the tile just stored at C pending.
func (k *kernel) setPending() {
	MOVQ(k.cp, k.ov.pend)
	MOVQ(U32(uint32(k.vecs*k.nrows)), k.ov.pendCnt)
}

// activatePending activates the pending vector in place and steps to the
// next one.
func (k *kernel) activatePending(f desc.Func) {
	o := &k.ov
	l := newLower(k.s)
	l.paramRows = k.params
	v := l.newVec()
	m := Mem{Base: o.pend}
	VMOVUPS(m, v)
	VMOVUPS(l.emit(k.s.program(desc.Funcs[f].Forward), [][]VecVirtual{{v}})[0][0], m)
	ADDQ(U8(uint8(k.s.bytes)), o.pend)
	lSame := k.label("samerow")
	// The count is a multiple of vecs (a power of 2) at the start of a
	// row: the row ends where it is 1 more.
	if k.vecs == 1 {
		ADDQ(o.pendStep, o.pend)
	} else {
		t := GP64()
		MOVQ(o.pendCnt, t)
		ANDQ(U32(uint32(k.vecs-1)), t)
		CMPQ(t, U8(1))
		JNE(LabelRef(lSame))
		ADDQ(o.pendStep, o.pend)
	}
	Label(lSame)
	DECQ(o.pendCnt)
}

// dispatchAct jumps to label(f) for the activation of the kernel's flags.
func (k *kernel) dispatchAct(label func(desc.Func) string, fallback string) {
	act := Load(Param("flags"), GP64())
	SHRQ(U8(gemmActShift), act)
	for _, f := range k.ov.funcs {
		CMPQ(act, U8(uint8(f)))
		JE(LabelRef(label(f)))
	}
	JMP(LabelRef(fallback))
}

// genOverlapLoops emits, out of line, the k loops that activate the
// pending vectors, one per unrolled iteration of the plain loop (entered at
// name_pending, back at kcheck, the plain loop's test). iteration emits the
// body of one unrolled iteration, calling mid between its steps.
func (k *kernel) genOverlapLoops(kcnt GPVirtual, iteration func(mid func()), kcheck string) {
	loopName := func(f desc.Func) string { return fmt.Sprintf("%s_pending%s", k.name, desc.Funcs[f].Stem) }
	Label(k.name + "_pending")
	k.dispatchAct(loopName, kcheck)
	for _, f := range k.ov.funcs {
		pcAlign(64)
		Label(loopName(f))
		iteration(func() { k.activatePending(f) })
		SUBQ(U8(kUnroll), kcnt)
		TESTQ(k.ov.pendCnt, k.ov.pendCnt)
		JNZ(LabelRef(loopName(f)))
		JMP(LabelRef(kcheck))
	}
}

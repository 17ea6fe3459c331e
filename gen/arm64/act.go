package main

import (
	"fmt"
	"strings"

	. "github.com/actfuse/actfuse/gen/arm64/neon"
	"github.com/actfuse/actfuse/gen/glue"
	"github.com/actfuse/actfuse/internal/desc"
)

func init() {
	groups = append(groups, group{name: "act", emit: actKernels, glue: actSwitch})
}

// elementwise describes a kernel whose output stream is the result of a
// program of internal/desc over its input streams, float32 slices of equal
// length, with the program's parameters read from the array p.
type elementwise struct {
	name string
	doc  []string
	out  string        // output slice parameter
	in   []string      // input slice parameters, the program's inputs
	prog *desc.Program // nil: the output is a copy of the first input
}

// General registers of the elementwise kernels.
const (
	rOut   = R0 // output pointer
	rIn    = R1 // first input pointer; the next inputs use R2, R3
	rN     = R7 // elements left
	rParam = R8
	rTmp   = R9
)

// emitElementwise writes one elementwise kernel over whole slices.
func emitElementwise(e elementwise) {
	params := []string{e.out}
	for _, p := range e.in {
		if p != e.out {
			params = append(params, p)
		}
	}
	TEXT(e.name, "func("+strings.Join(params, ", ")+" []float32, p *[4]float32)")
	Doc(e.doc...)
	k := newRegs()
	st := newStream(k, e, false)
	Load(GetParam(e.out).Base(), rOut)
	for j, p := range e.in {
		Load(GetParam(p).Base(), rIn+Reg(j))
	}
	Load(GetParam(e.out).Len(), rN)
	st.loadParams()
	k.loadConsts(rTmp)
	st.loops("", rOut, rIn, rN, 0)
	DefineLabel("done")
	RET()
}

// stream holds the registers and the captured loop bodies of an
// elementwise kernel, so that its loops can be emitted more than once (for
// every row of a matrix, with and without an accumulator).
type stream struct {
	e            elementwise
	u            int
	params       []G
	in           []G
	outU, out1   G // the results of the bodies
	acc          G
	bodyU, body1 string
}

// newStream chooses the unroll of e from the registers its program needs,
// allocates the registers and captures its bodies; with acc, it also
// allocates registers for an accumulator row (acc[i] += out[i]).
func newStream(k *regs, e elementwise, acc bool) *stream {
	st := &stream{e: e}
	data, consts := len(e.in), 0 // a copy needs only its inputs
	if e.prog != nil {
		data, consts = peakRegs(e.prog)
		for range e.prog.Params {
			st.params = append(st.params, G{k.constReg()})
		}
	}
	free := 32 - consts - len(st.params)
	per := data
	if acc {
		per++
	}
	st.u = max(1, min(4, free/per))
	st.in = k.groups(len(e.in), st.u)
	if acc {
		st.acc = k.group(st.u)
	}
	pool := k.group(st.u * (data - len(e.in)))
	body := func(u int) (string, G) {
		if e.prog == nil {
			return "", firsts(st.in, u)[0]
		}
		l := &lower{k: k, params: st.params, pool: append([]VReg{}, pool[:u*(data-len(e.in))]...)}
		var out G
		code := Capture(func() { out = l.emit(e.prog, firsts(st.in, u))[0] })
		return code, out
	}
	st.bodyU, st.outU = body(st.u)
	st.body1, st.out1 = body(1)
	return st
}

// loadParams broadcasts the parameters from the array at the "p" argument.
func (st *stream) loadParams() {
	if len(st.params) == 0 {
		return
	}
	Load(GetParam("p").Mem(), rParam)
	for _, g := range st.params {
		MOVWULoadP(rParam, rTmp)
		VDUP(rTmp, g.at(0))
	}
}

func firsts(gs []G, n int) []G {
	r := make([]G, len(gs))
	for i, g := range gs {
		r[i] = g.first(n)
	}
	return r
}

func vecs(g G) []Vec {
	v := make([]Vec, len(g))
	for i := range g {
		v[i] = g.at(i)
	}
	return v
}

// loops emits, for n elements at the pointers out and in, in+1, ...: a main
// loop over unroll vectors, a loop over single vectors, and a loop over the
// last 0-3 elements that loads and stores one lane at a time (FMOVS zeroes
// the other lanes), so nothing outside the slices is touched. With acc != 0,
// acc points to a row that receives acc[i] += out[i]. Labels get the prefix
// p; the code falls through (or branches) to the label p+"done".
func (st *stream) loops(p string, out, in, n, acc Reg) {
	u := st.u
	loop := func(name Label, width int, g []G, o, a G, body string) {
		DefineLabel(name)
		for j := range st.e.in {
			VLD1P(in+Reg(j), vecs(g[j])...)
		}
		Raw(body)
		VST1P(out, vecs(o)...)
		if acc != 0 {
			VLD1(acc, vecs(a)...)
			fadd(o, a, a)
			VST1P(acc, vecs(a)...)
		}
		SUBConst(width, n)
		CMPConst(width, n)
		BGE(name)
	}
	if u > 1 {
		Comment("%d vectors per iteration.", u)
		CMPConst(4*u, n)
		BLT(Label(p + "vec1"))
		loop(Label(p+"loopU"), 4*u, st.in, st.outU, st.acc, st.bodyU)
		DefineLabel(Label(p + "vec1"))
	}
	Comment("One vector per iteration.")
	CMPConst(4, n)
	BLT(Label(p + "tail"))
	loop(Label(p+"loop1"), 4, firsts(st.in, 1), st.out1, st.acc.first(1), st.body1)
	DefineLabel(Label(p + "tail"))
	Comment("The last 0-3 elements, one lane at a time.")
	CBZ(n, Label(p+"done"))
	DefineLabel(Label(p + "loopS"))
	for j := range st.e.in {
		FMOVSLoadP(in+Reg(j), st.in[j][0].F())
	}
	Raw(st.body1)
	FMOVSStoreP(st.out1[0].F(), out)
	if acc != 0 {
		FMOVSLoad(acc, st.acc[0].F())
		fadd(st.out1.first(1), st.acc.first(1), st.acc.first(1))
		FMOVSStoreP(st.acc[0].F(), acc)
	}
	SUBSConst(1, n)
	BNE(Label(p + "loopS"))
}

// actKernels emits the forward, backward and backward-with-bias kernels of
// every activation with a program.
func actKernels() {
	for _, e := range actElementwise() {
		emitElementwise(e)
	}
	for _, d := range desc.Funcs {
		emitBackwardBias(d)
	}
}

// actElementwise lists the elementwise activation kernels: forward (with
// its variants) and backward of every function with a program.
func actElementwise() []elementwise {
	var es []elementwise
	for _, f := range desc.Funcs {
		for _, d := range f.Forwards() {
			es = append(es, elementwise{
				name: d.Stem + "ForwardNEON", out: "dst", in: []string{"x"}, prog: d.Forward,
				doc: []string{fmt.Sprintf("%sForwardNEON sets dst[i] = %s(x[i]) (program %s of internal/desc).", d.Stem, d.Name, d.Forward.Title())},
			})
		}
	}
	for _, d := range desc.Funcs {
		if d.Deriv != nil {
			es = append(es, elementwise{
				name: d.Stem + "BackwardNEON", out: "dx", in: []string{"dy", "y"}, prog: d.Deriv,
				doc: []string{fmt.Sprintf("%sBackwardNEON sets dx[i] = dy[i]·f'(y[i]) for f = %s.", d.Stem, d.Name)},
			})
		}
	}
	return es
}

// emitBackwardBias writes <Stem>BackwardBiasNEON: dz = dy ⊙ f'(y) row by row
// and, unless db is empty, db[:n] += each row of dz in row order (the caller
// zeroes db); Identity copies dy.
func emitBackwardBias(d desc.FuncDesc) {
	name := d.Stem + "BackwardBiasNEON"
	TEXT(name, "func(m int, n int, dy []float32, lddy int, y []float32, ldy int, dz []float32, lddz int, db []float32, p *[4]float32)")
	Doc(name+" computes dz = dy ⊙ f'(y) for f = "+d.Name+" over the m×n matrices dy, y, dz",
		"(leading dimensions in elements) and, unless db is empty, adds each row of dz to db[:n] in",
		"row order; db must be zeroed by the caller. Arguments are not checked.")
	k := newRegs()
	e := elementwise{out: "dz", in: []string{"dy", "y"}, prog: d.Deriv}
	st := newStream(k, e, true)
	const (
		rM, rCols, rLdDy, rLdY, rLdDz, rDbLen = R10, R11, R12, R13, R14, R16
		rDz, rDy, rY, rDb                     = R0, R1, R2, R3
		rPz, rPdy, rPdb, rCnt                 = R4, R5, R15, R7
	)
	Load(GetParam("m").Mem(), rM)
	Load(GetParam("n").Mem(), rCols)
	Load(GetParam("dy").Base(), rDy)
	Load(GetParam("lddy").Mem(), rLdDy)
	Load(GetParam("y").Base(), rY)
	Load(GetParam("ldy").Mem(), rLdY)
	Load(GetParam("dz").Base(), rDz)
	Load(GetParam("lddz").Mem(), rLdDz)
	Load(GetParam("db").Base(), rDb)
	Load(GetParam("db").Len(), rDbLen)
	st.loadParams()
	k.loadConsts(rTmp)
	LSLConst(2, rLdDy, rLdDy)
	LSLConst(2, rLdY, rLdY)
	LSLConst(2, rLdDz, rLdDz)
	CBZ(rM, "done")
	CBZ(rDbLen, "nodb")
	for _, withDb := range []bool{true, false} {
		p, acc := "a", rPdb
		if !withDb {
			p, acc = "b", 0
			DefineLabel("nodb")
		}
		DefineLabel(Label(p + "row"))
		MOVD(rDz, rPz)
		MOVD(rDy, rPdy)
		MOVD(rY, rPdy+1)
		if withDb {
			MOVD(rDb, rPdb)
		}
		MOVD(rCols, rCnt)
		st.loops(p, rPz, rPdy, rCnt, acc)
		DefineLabel(Label(p + "done"))
		ADD(rLdDz, rDz, rDz)
		ADD(rLdDy, rDy, rDy)
		ADD(rLdY, rY, rY)
		SUBSConst(1, rM)
		BNE(Label(p + "row"))
		if withDb {
			RET()
		}
	}
	DefineLabel("done")
	RET()
}

// actSwitch returns the Go file body that calls the NEON activation kernels
// by desc.Func.
func actSwitch() string { return glue.Imports + glue.ElementwiseSet("NEON", "NEON", "NEON") }

package main

import (
	"strings"

	. "github.com/actfuse/actfuse/gen/arm64/neon"
)

func init() {
	groups = append(groups, group{"act", actKernels})
}

// elementwise describes a kernel out[i] = f(in0[i], in1[i], ...) over float32
// slices of equal length, optionally with a float32 parameter alpha.
type elementwise struct {
	name   string
	doc    []string
	out    string   // output slice parameter
	in     []string // input slice parameters
	alpha  bool     // takes "alpha float32" as last parameter
	unroll int      // vectors of four lanes per main-loop iteration (1-4)
	temps  int      // scratch groups the body needs
	// body computes out from in for the vectors of the groups; alpha is the
	// broadcast parameter (nil without one).
	body func(k *regs, alpha G, in []G, out G, t []G)
}

// General registers of the elementwise kernels.
const (
	rOut   = R0 // output pointer
	rIn    = R1 // first input pointer; the next inputs use R2, R3
	rN     = R7 // elements left
	rAlpha = R8
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
	sig := "func(" + strings.Join(params, ", ") + " []float32"
	if e.alpha {
		sig += ", alpha float32"
	}
	sig += ")"
	TEXT(e.name, sig)
	Doc(e.doc...)

	k := newRegs()
	var alpha G
	if e.alpha {
		alpha = G{k.constReg()}
	}
	st := newStream(k, e, alpha, false)
	Load(GetParam(e.out).Base(), rOut)
	for j, p := range e.in {
		Load(GetParam(p).Base(), rIn+Reg(j))
	}
	Load(GetParam(e.out).Len(), rN)
	if e.alpha {
		Load(GetParam("alpha").Mem(), rAlpha)
		VDUP(rAlpha, alpha.at(0))
	}
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
	in           []G
	out, acc     G
	bodyU, body1 string
}

// newStream allocates the registers of e and captures its bodies (alpha is
// the register holding the broadcast parameter, if e has one); with acc,
// it also allocates registers for an accumulator row (acc[i] += out[i]).
func newStream(k *regs, e elementwise, alpha G, acc bool) *stream {
	st := &stream{e: e, u: e.unroll}
	st.in = k.groups(len(e.in), st.u)
	st.out = k.group(st.u)
	if acc {
		st.acc = k.group(st.u)
	}
	t := k.groups(e.temps, st.u)
	st.bodyU = Capture(func() { e.body(k, alpha, st.in, st.out, t) })
	st.body1 = Capture(func() { e.body(k, alpha, firsts(st.in, 1), st.out.first(1), firsts(t, 1)) })
	return st
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
		loop(Label(p+"loopU"), 4*u, st.in, st.out, st.acc, st.bodyU)
		DefineLabel(Label(p + "vec1"))
	}
	Comment("One vector per iteration.")
	CMPConst(4, n)
	BLT(Label(p + "tail"))
	loop(Label(p+"loop1"), 4, firsts(st.in, 1), st.out.first(1), st.acc.first(1), st.body1)
	DefineLabel(Label(p + "tail"))
	Comment("The last 0-3 elements, one lane at a time.")
	CBZ(n, Label(p+"done"))
	DefineLabel(Label(p + "loopS"))
	for j := range st.e.in {
		FMOVSLoadP(in+Reg(j), st.in[j][0].F())
	}
	Raw(st.body1)
	FMOVSStoreP(st.out[0].F(), out)
	if acc != 0 {
		FMOVSLoad(acc, st.acc[0].F())
		fadd(st.out.first(1), st.acc.first(1), st.acc.first(1))
		FMOVSStoreP(st.acc[0].F(), acc)
	}
	SUBSConst(1, n)
	BNE(Label(p + "loopS"))
}

func actKernels() {
	for _, e := range actElementwise() {
		emitElementwise(e)
	}
	for _, e := range actElementwise() {
		if len(e.in) == 2 && e.in[1] == "y" {
			emitBackwardBias(e)
		}
	}
	emitBackwardBias(elementwise{
		name: "IdentityBackward", out: "dx", in: []string{"dy", "y"}, unroll: 4,
		body: func(k *regs, _ G, in []G, out G, _ []G) { mov(in[0], out) },
	})
}

// actElementwise lists the elementwise activation kernels.
func actElementwise() []elementwise {
	return []elementwise{
		{
			name: "ReLUForward", out: "dst", in: []string{"x"}, unroll: 4, temps: 1,
			doc: []string{"ReLUForward sets dst[i] = x[i] < 0 ? +0 : x[i] (NaN and -0 pass through)."},
			body: func(k *regs, _ G, in []G, out G, t []G) {
				relu(in[0], out, t)
			},
		},
		{
			name: "LeakyReLUForward", out: "dst", in: []string{"x"}, alpha: true, unroll: 4, temps: 2,
			doc: []string{"LeakyReLUForward sets dst[i] = x[i] < 0 ? alpha·x[i] : x[i] (NaN and -0 pass through;",
				"with alpha = 0, -Inf gives -0)."},
			body: func(k *regs, alpha G, in []G, out G, t []G) {
				leakyReLU(k, alpha, in[0], out, t)
			},
		},
		{
			name: "ELUForward", out: "dst", in: []string{"x"}, alpha: true, unroll: 2, temps: 5,
			doc: []string{"ELUForward sets dst[i] = x[i] if x[i] >= 0, else alpha·(exp(x[i])-1)."},
			body: func(k *regs, alpha G, in []G, out G, t []G) {
				elu(k, alpha, in[0], out, t)
			},
		},
		{
			name: "SigmoidForward", out: "dst", in: []string{"x"}, unroll: 2, temps: 5,
			doc: []string{"SigmoidForward sets dst[i] = 1/(1+exp(-x[i]))."},
			body: func(k *regs, _ G, in []G, out G, t []G) {
				sigmoid(k, in[0], out, t)
			},
		},
		{
			name: "TanhForward", out: "dst", in: []string{"x"}, unroll: 2, temps: 7,
			doc: []string{"TanhForward sets dst[i] = tanh(x[i])."},
			body: func(k *regs, _ G, in []G, out G, t []G) {
				tanh(k, in[0], out, t)
			},
		},
		{
			name: "ReLUBackward", out: "dx", in: []string{"dy", "y"}, unroll: 4, temps: 1,
			doc: []string{"ReLUBackward sets dx[i] = dy[i]·(1 if y[i] > 0, else 0)."},
			body: func(k *regs, _ G, in []G, out G, t []G) {
				fcmgt0(in[1], t[0])
				and(k.f(1), t[0], t[0])
				fmul(t[0], in[0], out)
			},
		},
		{
			name: "LeakyReLUBackward", out: "dx", in: []string{"dy", "y"}, alpha: true, unroll: 4, temps: 1,
			doc: []string{"LeakyReLUBackward sets dx[i] = dy[i]·(1 if y[i] > 0, else alpha)."},
			body: func(k *regs, alpha G, in []G, out G, t []G) {
				fcmgt0(in[1], t[0])
				bsl(alpha, k.f(1), t[0])
				fmul(t[0], in[0], out)
			},
		},
		{
			name: "ELUBackward", out: "dx", in: []string{"dy", "y"}, alpha: true, unroll: 4, temps: 2,
			doc: []string{"ELUBackward sets dx[i] = dy[i]·(1 if y[i] > 0, else y[i]+alpha)."},
			body: func(k *regs, alpha G, in []G, out G, t []G) {
				fadd(alpha, in[1], t[1])
				fcmgt0(in[1], t[0])
				bsl(t[1], k.f(1), t[0])
				fmul(t[0], in[0], out)
			},
		},
		{
			name: "SigmoidBackward", out: "dx", in: []string{"dy", "y"}, unroll: 4, temps: 1,
			doc: []string{"SigmoidBackward sets dx[i] = dy[i]·(y[i]·(1-y[i]))."},
			body: func(k *regs, _ G, in []G, out G, t []G) {
				fsub(in[1], k.f(1), t[0])
				fmul(t[0], in[1], t[0])
				fmul(t[0], in[0], out)
			},
		},
		{
			name: "TanhBackward", out: "dx", in: []string{"dy", "y"}, unroll: 4, temps: 2,
			doc: []string{"TanhBackward sets dx[i] = dy[i]·((1-y[i])·(1+y[i]))."},
			body: func(k *regs, _ G, in []G, out G, t []G) {
				one := k.f(1)
				fsub(in[1], one, t[0])
				fadd(one, in[1], t[1])
				fmul(t[1], t[0], t[0])
				fmul(t[0], in[0], out)
			},
		},
	}
}

// emitBackwardBias writes the matrix form of the backward kernel e (named
// like e with "Bias" appended): dz = dy ⊙ f'(y) row by row and, unless db is
// empty, db[:n] += each row of dz in row order (the caller zeroes db).
func emitBackwardBias(e elementwise) {
	name := e.name + "Bias"
	sig := "func(m int, n int, dy []float32, lddy int, y []float32, ldy int, dz []float32, lddz int, db []float32"
	if e.alpha {
		sig += ", alpha float32"
	}
	TEXT(name, sig+")")
	f := strings.TrimSuffix(e.name, "Backward")
	Doc(name+" computes dz = dy ⊙ f'(y) for f = "+strings.ToLower(f)+" over the m×n matrices dy, y, dz",
		"(leading dimensions in elements) and, unless db is empty, adds each row of dz to db[:n] in",
		"row order; db must be zeroed by the caller. Arguments are not checked.")
	k := newRegs()
	var alpha G
	if e.alpha {
		alpha = G{k.constReg()}
	}
	e.out, e.in = "dz", []string{"dy", "y"}
	st := newStream(k, e, alpha, true)
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
	if e.alpha {
		Load(GetParam("alpha").Mem(), rAlpha)
		VDUP(rAlpha, alpha.at(0))
	}
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

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

// emitElementwise writes one elementwise kernel: a main loop over unroll
// vectors, a loop over single vectors, and a loop over the last 0-3
// elements that loads and stores one lane at a time (FMOVS zeroes the other
// lanes), so the kernel never touches memory outside the slices.
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
	u := e.unroll
	in := k.groups(len(e.in), u)
	out := k.group(u)
	t := k.groups(e.temps, u)
	first := func(gs []G, n int) []G {
		r := make([]G, len(gs))
		for i, g := range gs {
			r[i] = g.first(n)
		}
		return r
	}
	bodyU := Capture(func() { e.body(k, alpha, in, out, t) })
	body1 := Capture(func() { e.body(k, alpha, first(in, 1), out.first(1), first(t, 1)) })

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
	vecs := func(g G) []Vec {
		v := make([]Vec, len(g))
		for i := range g {
			v[i] = g.at(i)
		}
		return v
	}
	loop := func(name Label, width int, g []G, o G, body string) {
		DefineLabel(name)
		for j := range e.in {
			VLD1P(rIn+Reg(j), vecs(g[j])...)
		}
		Raw(body)
		VST1P(rOut, vecs(o)...)
		SUBConst(width, rN)
		CMPConst(width, rN)
		BGE(name)
	}
	if u > 1 {
		Comment("%d vectors per iteration.", u)
		CMPConst(4*u, rN)
		BLT("vec1")
		loop("loopU", 4*u, in, out, bodyU)
		DefineLabel("vec1")
	}
	Comment("One vector per iteration.")
	CMPConst(4, rN)
	BLT("tail")
	loop("loop1", 4, first(in, 1), out.first(1), body1)
	DefineLabel("tail")
	Comment("The last 0-3 elements, one lane at a time.")
	CBZ(rN, "done")
	DefineLabel("loopS")
	for j := range e.in {
		FMOVSLoadP(rIn+Reg(j), in[j][0].F())
	}
	Raw(body1)
	FMOVSStoreP(out[0].F(), rOut)
	SUBSConst(1, rN)
	BNE("loopS")
	DefineLabel("done")
	RET()
}

func actKernels() {
	for _, e := range []elementwise{
		{
			name: "ReLUForward", out: "dst", in: []string{"x"}, unroll: 4,
			doc: []string{"ReLUForward sets dst[i] = max(x[i], 0) (NaN stays NaN, -0 gives +0)."},
			body: func(k *regs, _ G, in []G, out G, _ []G) {
				fmax(k.f(0), in[0], out)
			},
		},
		{
			name: "LeakyReLUForward", out: "dst", in: []string{"x"}, alpha: true, unroll: 4, temps: 1,
			doc: []string{"LeakyReLUForward sets dst[i] = x[i] if x[i] > 0, else alpha·x[i]."},
			body: func(k *regs, alpha G, in []G, out G, t []G) {
				fmul(alpha, in[0], t[0])
				fcmgt0(in[0], out)
				bsl(t[0], in[0], out)
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
		{
			name: "AddTo", out: "dst", in: []string{"dst", "x"}, unroll: 4,
			doc: []string{"AddTo sets dst[i] += x[i]."},
			body: func(k *regs, _ G, in []G, out G, _ []G) {
				fadd(in[1], in[0], out)
			},
		},
	} {
		emitElementwise(e)
	}
}

package main

import (
	"fmt"

	. "github.com/actfuse/actfuse/gen/arm64/neon"
)

func init() {
	groups = append(groups, group{"gemm", gemmKernels})
}

// The GEMM micro-kernel tile: gemmMR rows by gemmNR columns, 24 accumulator
// registers V0-V23 (row i in V3i, V3i+1, V3i+2); the k loop loads the packed
// A step into V24, V25 (eight rows, broadcast by lane with FMLA by element)
// and the packed B step into V26-V28.
const (
	gemmMR = 8
	gemmNR = 12
)

// Flags of a micro-kernel call, as in package kernels.
const (
	flagAccumulate = 0
	flagBias       = 1
	flagBackward   = 2
	actShift       = 8
)

// Activation numbers, as fallback.Func.
const (
	fIdentity = iota
	fReLU
	fLeakyReLU
	fELU
	fSigmoid
	fTanh
)

func acc(i, j int) VReg { return VReg(3*i + j) }

func accRow(i int) []Vec { return []Vec{acc(i, 0).S4(), acc(i, 1).S4(), acc(i, 2).S4()} }

// General registers of the GEMM kernel.
const (
	gKC, gTiles, gA, gB, gC, gLdc, gBias, gY, gLdy, gFlags, gAlpha = R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10
	gK, gBp, gCrow, gYrow, gAct, gT0, gT1                          = R11, R12, R13, R14, R15, R16, R17
)

func gemmKernels() {
	TEXT("Gemm8x12", "func(kc int, tiles int, a *float32, b *float32, c *float32, ldc int, bias *float32, y *float32, ldy int, flags int, alpha float32)")
	Doc("Gemm8x12 computes tiles full 8×12 tiles down one column panel: tile t multiplies",
		"the packed A micro-panel t (a + t·8·kc, kc steps of 8 values) by the packed B panel b",
		"(kc steps of 12 values) into Z with one fused multiply-add per step, in increasing k,",
		"starting from zero; then, with C at c + t·8·ldc (ldc, ldy in elements):",
		"flags&1 (accumulate): Z += C; flags&4 (backward): C = Z ⊙ act'(Y) with Y at",
		"y + t·8·ldy; otherwise C = act(Z + bias) (bias[0:12] added when flags&2), where",
		"act = flags>>8 (fallback.Func) and alpha its parameter. Arguments are not checked.")
	Load(GetParam("kc").Mem(), gKC)
	Load(GetParam("tiles").Mem(), gTiles)
	Load(GetParam("a").Mem(), gA)
	Load(GetParam("b").Mem(), gB)
	Load(GetParam("c").Mem(), gC)
	Load(GetParam("ldc").Mem(), gLdc)
	Load(GetParam("bias").Mem(), gBias)
	Load(GetParam("y").Mem(), gY)
	Load(GetParam("ldy").Mem(), gLdy)
	Load(GetParam("flags").Mem(), gFlags)
	Load(GetParam("alpha").Mem(), gAlpha)
	LSLConst(2, gLdc, gLdc)
	LSLConst(2, gLdy, gLdy)
	LSRConst(actShift, gFlags, gAct)
	CBZ(gTiles, "done")

	DefineLabel("tile")
	Comment("Z = 0, then kc steps of Z += a·b.")
	for i := 0; i < gemmMR; i++ {
		for j := 0; j < 3; j++ {
			VEORZero(acc(i, j))
		}
	}
	MOVDReg(gB, gBp)
	MOVDReg(gKC, gK)
	CBZ(gK, "epilogue")
	DefineLabel("kloop")
	VLD1P(gA, V24.S4(), V25.S4())
	VLD1P(gBp, V26.S4(), V27.S4(), V28.S4())
	// Column-major order: the FMLAs on the first B vector start while the
	// other two are still loading.
	for j := 0; j < 3; j++ {
		for i := 0; i < gemmMR; i++ {
			VFMLAE(VReg(24+i/4).S(i%4), VReg(26+j).S4(), acc(i, j).S4())
		}
	}
	SUBSConst(1, gK)
	BNE("kloop")

	DefineLabel("epilogue")
	MOVDReg(gC, gCrow)
	TBZ(flagAccumulate, gFlags, "noacc")
	Comment("Accumulate: Z += C.")
	for i := 0; i < gemmMR; i++ {
		VLD1(gCrow, V29.S4(), V30.S4(), V31.S4())
		for j := 0; j < 3; j++ {
			VFADD(VReg(29+j).S4(), acc(i, j).S4(), acc(i, j).S4())
		}
		ADD(gLdc, gCrow, gCrow)
	}
	MOVDReg(gC, gCrow)
	DefineLabel("noacc")
	TBNZ(flagBackward, gFlags, "backward")

	Comment("Forward: Z += bias, then the activation.")
	TBZ(flagBias, gFlags, "nobias")
	VLD1(gBias, V26.S4(), V27.S4(), V28.S4())
	for i := 0; i < gemmMR; i++ {
		for j := 0; j < 3; j++ {
			VFADD(VReg(26+j).S4(), acc(i, j).S4(), acc(i, j).S4())
		}
	}
	DefineLabel("nobias")
	for _, f := range []struct {
		act   int
		label Label
		body  func(k *regs, alpha, x, y G, t []G)
	}{
		{fReLU, "frelu", func(_ *regs, _, x, y G, t []G) { relu(x, y, t) }},
		{fLeakyReLU, "fleaky", leakyReLU},
	} {
		skip := Label(string(f.label) + "skip")
		CMPConst(f.act, gAct)
		BNE(skip)
		Comment("%s in registers (V24-V31 are free after the k loop).", f.label[1:])
		k := newRegs()
		k.next = 24
		alpha := G{k.constReg()}
		t := k.groups(2, 1)
		var code string
		code = Capture(func() {
			for i := 0; i < gemmMR; i++ {
				for j := 0; j < 3; j++ {
					a := G{acc(i, j)}
					f.body(k, alpha, a, a, t)
				}
			}
		})
		VDUP(gAlpha, alpha.at(0))
		k.loadConsts(gT0)
		Raw(code)
		JMP("fstore")
		DefineLabel(skip)
	}
	DefineLabel("fstore")
	for i := 0; i < gemmMR; i++ {
		VST1(gCrow, accRow(i)...)
		ADD(gLdc, gCrow, gCrow)
	}
	Comment("ELU, sigmoid and tanh: one more pass over the tile, still in L1.")
	CMPConst(fELU, gAct)
	BEQ("felu")
	CMPConst(fSigmoid, gAct)
	BEQ("fsigmoid")
	CMPConst(fTanh, gAct)
	BEQ("ftanh")
	JMP("next")
	for _, f := range []struct {
		label Label
		u     int
		temps int
		alpha bool
		body  func(k *regs, alpha, x, y G, t []G)
	}{
		{"felu", 3, 5, true, func(k *regs, alpha, x, y G, t []G) { elu(k, alpha, x, y, t) }},
		{"fsigmoid", 3, 5, false, func(k *regs, _, x, y G, t []G) { sigmoid(k, x, y, t) }},
		{"ftanh", 1, 7, false, func(k *regs, _, x, y G, t []G) { tanh(k, x, y, t) }},
	} {
		DefineLabel(f.label)
		k := newRegs()
		var alpha G
		if f.alpha {
			alpha = G{k.constReg()}
		}
		x := k.group(f.u)
		y := k.group(f.u)
		t := k.groups(f.temps, f.u)
		body := Capture(func() { f.body(k, alpha, x, y, t) })
		if f.alpha {
			VDUP(gAlpha, alpha.at(0))
		}
		k.loadConsts(gT0)
		MOVDReg(gC, gCrow)
		MOVDConst(gemmMR, gT1)
		row := Label(string(f.label) + "row")
		DefineLabel(row)
		MOVDReg(gCrow, gT0)
		for v := 0; v < 3/f.u; v++ {
			VLD1(gT0, vecs(x)...)
			Raw(body)
			VST1P(gT0, vecs(y)...)
		}
		ADD(gLdc, gCrow, gCrow)
		SUBSConst(1, gT1)
		BNE(row)
		JMP("next")
	}

	DefineLabel("backward")
	Comment("Backward: C = Z ⊙ act'(Y), the derivative as in the elementwise kernels.")
	MOVDReg(gY, gYrow)
	bw := map[string]elementwise{}
	for _, e := range actElementwise() {
		bw[e.name] = e
	}
	for _, f := range []struct {
		act  int
		name string
	}{{fReLU, "ReLUBackward"}, {fLeakyReLU, "LeakyReLUBackward"}, {fELU, "ELUBackward"}, {fSigmoid, "SigmoidBackward"}, {fTanh, "TanhBackward"}} {
		skip := Label(fmt.Sprintf("bnot%d", f.act))
		CMPConst(f.act, gAct)
		BNE(skip)
		e := bw[f.name]
		k := newRegs()
		k.next = 24
		var alpha G
		if e.alpha {
			alpha = G{k.constReg()}
		}
		yv := k.group(3)
		t := k.groups(2, 1)
		var rows []string
		for i := 0; i < gemmMR; i++ {
			rows = append(rows, Capture(func() {
				for j := 0; j < 3; j++ {
					z := G{acc(i, j)}
					e.body(k, alpha, []G{z, G{yv[j]}}, z, t)
				}
			}))
		}
		if e.alpha {
			VDUP(gAlpha, alpha.at(0))
		}
		k.loadConsts(gT0)
		for i := 0; i < gemmMR; i++ {
			VLD1(gYrow, vecs(yv)...)
			ADD(gLdy, gYrow, gYrow)
			Raw(rows[i])
		}
		JMP("fstoreb")
		DefineLabel(skip)
	}
	DefineLabel("fstoreb")
	for i := 0; i < gemmMR; i++ {
		VST1(gCrow, accRow(i)...)
		ADD(gLdc, gCrow, gCrow)
	}

	DefineLabel("next")
	ADDShift(gLdc, 3, gC, gC)
	ADDShift(gLdy, 3, gY, gY)
	SUBSConst(1, gTiles)
	BNE("tile")
	DefineLabel("done")
	RET()

	emitPeak()
}

// peakAccs is the number of independent accumulators of FMAPeak: enough to
// cover the FMA latency times the number of FMA pipes of current cores.
const peakAccs = 24

func emitPeak() {
	TEXT("FMAPeak", "func(n int)")
	Doc(fmt.Sprintf("FMAPeak runs n iterations of %d independent 4-lane fused multiply-adds", peakAccs),
		fmt.Sprintf("(%d flops per iteration), to measure the FMA peak.", peakAccs*8))
	Load(GetParam("n").Mem(), R0)
	CBZ(R0, "done")
	MOVWConst(0x3f800000, R1)
	VDUP(R1, V30.S4())
	VDUP(R1, V31.S4())
	for i := 0; i < peakAccs; i++ {
		VEORZero(VReg(i))
	}
	DefineLabel("loop")
	for i := 0; i < peakAccs; i++ {
		VFMLA(V30.S4(), V31.S4(), VReg(i).S4())
	}
	SUBSConst(1, R0)
	BNE("loop")
	DefineLabel("done")
	RET()
}

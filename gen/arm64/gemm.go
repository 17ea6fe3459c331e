package main

import (
	"fmt"
	"math/bits"

	"github.com/actfuse/actfuse/internal/desc"

	. "github.com/actfuse/actfuse/gen/arm64/neon"
)

func init() {
	groups = append(groups, group{name: "gemm", emit: gemmKernels})
}

// The GEMM micro-kernel tile (desc.Impls): gemmMR rows by gemmNR columns,
// 24 accumulator registers V0-V23 (row i in V3i, V3i+1, V3i+2); the k loop
// loads the packed A step into V24, V25 (eight rows, broadcast by lane with
// FMLA by element) and the packed B step into V26-V28. The code below is
// written for this tile: the init check says so if the description moves.
const (
	gemmMR = 8
	gemmNR = 12
)

func init() {
	if im := desc.ImplByName("neon"); im.MR != gemmMR || im.NR != gemmNR {
		panic(fmt.Sprintf("arm64: the NEON GEMM kernel is written for %dx%d, desc says %dx%d", gemmMR, gemmNR, im.MR, im.NR))
	}
}

// Flags of a micro-kernel call (desc.Flag*), as the bit numbers TBZ tests.
var (
	flagAccumulate = bits.TrailingZeros(desc.FlagAccumulate)
	flagBias       = bits.TrailingZeros(desc.FlagBias)
	flagBackward   = bits.TrailingZeros(desc.FlagBackward)
)

const actShift = desc.ActShift

func acc(i, j int) VReg { return VReg(3*i + j) }

func accRow(i int) []Vec { return []Vec{acc(i, 0).S4(), acc(i, 1).S4(), acc(i, 2).S4()} }

// General registers of the GEMM kernel.
const (
	gKC, gTiles, gA, gB, gC, gLdc, gBias, gY, gLdy, gFlags, gP = R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10
	gK, gBp, gCrow, gYrow, gAct, gT0, gT1                      = R11, R12, R13, R14, R15, R16, R17
)

func gemmKernels() {
	TEXT("Gemm8x12", "func(kc int, tiles int, a *float32, b *float32, c *float32, ldc int, bias *float32, y *float32, ldy int, flags int, p *[4]float32)")
	Doc("Gemm8x12 computes tiles full 8×12 tiles down one column panel: tile t multiplies",
		"the packed A micro-panel t (a + t·8·kc, kc steps of 8 values) by the packed B panel b",
		"(kc steps of 12 values) into Z with one fused multiply-add per step, in increasing k,",
		"starting from zero; then, with C at c + t·8·ldc (ldc, ldy in elements):",
		"flags&1 (accumulate): Z += C; flags&4 (backward): C = Z ⊙ act'(Y) with Y at",
		"y + t·8·ldy; otherwise C = act(Z + bias) (bias[0:12] added when flags&2), where",
		"act = flags>>8 (a desc.Func) and p its parameters. Arguments are not checked.")
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
	Load(GetParam("p").Mem(), gP)
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
	// The activations whose program fits the eight registers V24-V31 beside
	// the accumulators run in registers, one accumulator at a time; the
	// others make a second pass over the stored tile, still in L1, with
	// every register free.
	var second []desc.FuncDesc
	for f, d := range desc.Funcs {
		if d.Forward == nil {
			continue
		}
		data, consts := peakRegs(d.Forward)
		if data-1+consts+len(d.Params) > 8 {
			second = append(second, d)
			continue
		}
		skip := Label(fmt.Sprintf("fnot%d", f))
		CMPConst(f, gAct)
		BNE(skip)
		Comment("%s in registers (V24-V31 are free after the k loop).", d.Name)
		k, l := epilogueLower(d, data-1)
		code := Capture(func() {
			for i := 0; i < gemmMR; i++ {
				for j := 0; j < 3; j++ {
					a := G{acc(i, j)}
					out := l.emit(d.Forward, []G{a})[0]
					if !same(out, a) {
						mov(out, a)
						l.release(out)
					}
				}
			}
		})
		loadEpilogue(k, l)
		Raw(code)
		JMP("fstore")
		DefineLabel(skip)
	}
	DefineLabel("fstore")
	for i := 0; i < gemmMR; i++ {
		VST1(gCrow, accRow(i)...)
		ADD(gLdc, gCrow, gCrow)
	}
	Comment("The other activations: one more pass over the tile, still in L1.")
	for _, d := range second {
		CMPConst(int(funcOf(d)), gAct)
		BEQ(Label("f" + d.Name))
	}
	JMP("next")
	for _, d := range second {
		DefineLabel(Label("f" + d.Name))
		data, consts := peakRegs(d.Forward)
		k := newRegs()
		l := &lower{k: k}
		for range d.Params {
			l.params = append(l.params, G{k.constReg()})
		}
		// The three vectors of a row at once where the registers allow,
		// else one at a time.
		u := 3
		if u*data+consts+len(d.Params) > 32 {
			u = 1
		}
		x := k.group(u)
		l.pool = k.group(u * (data - 1))
		var y G
		body := Capture(func() { y = l.emit(d.Forward, []G{x})[0] })
		loadEpilogue(k, l)
		MOVDReg(gC, gCrow)
		MOVDConst(gemmMR, gT1)
		row := Label("f" + d.Name + "row")
		DefineLabel(row)
		MOVDReg(gCrow, gT0)
		for j := 0; j < 3/u; j++ {
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
	for f, d := range desc.Funcs {
		if d.Deriv == nil {
			continue
		}
		skip := Label(fmt.Sprintf("bnot%d", f))
		CMPConst(f, gAct)
		BNE(skip)
		data, _ := peakRegs(d.Deriv)
		k, l := epilogueLower(d, 3+data-2)
		yv := l.alloc(3) // loaded for each row: the rows' programs must not take them
		for _, r := range yv {
			l.keep[r] = true
		}
		var rows []string
		for i := 0; i < gemmMR; i++ {
			rows = append(rows, Capture(func() {
				for j := 0; j < 3; j++ {
					z := G{acc(i, j)}
					out := l.emit(d.Deriv, []G{z, {yv[j]}})[0]
					if !same(out, z) {
						mov(out, z)
						l.release(out)
					}
				}
			}))
		}
		loadEpilogue(k, l)
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
	emitClock()
}

// peakAccs is the number of independent accumulators of FMAPeak: enough to
// cover the FMA latency times the number of FMA pipes of current cores.
const peakAccs = 24

func emitPeak() {
	TEXT("FMAPeakNEON", "func(n int)")
	Doc(fmt.Sprintf("FMAPeakNEON runs n iterations of %d independent 4-lane fused multiply-adds", peakAccs),
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

// clockChain is the number of dependent additions per iteration of the
// clock probe.
const clockChain = 64

// emitClock emits ClockProbe, a chain of dependent register additions (one
// per cycle) whose time gives the core clock.
func emitClock() {
	TEXT("ClockProbe", "func(n int) int")
	Doc(fmt.Sprintf("ClockProbe runs n iterations of %d dependent register additions, one", clockChain),
		fmt.Sprintf("cycle each, and returns their sum (%d·n): a probe of the core clock.", clockChain))
	Load(GetParam("n").Mem(), R0)
	MOVDConst(0, R2)
	MOVDConst(1, R1)
	CMPConst(1, R0)
	BLT("clockdone")
	DefineLabel("clockloop")
	for range clockChain {
		ADDReg(R1, R2, R2)
	}
	SUBSConst(1, R0)
	BNE("clockloop")
	DefineLabel("clockdone")
	Store(R2, GetParam("ret").Mem())
	RET()
}

// epilogueLower returns the register file and the lowering of an epilogue
// that runs d's programs beside the 24 accumulators: its parameters and
// constants at the top, data data registers from V24 upward.
func epilogueLower(d desc.FuncDesc, data int) (*regs, *lower) {
	k := newRegs()
	k.next = 24
	l := &lower{k: k, keep: map[VReg]bool{}}
	for r := V0; r < V24; r++ {
		l.keep[r] = true // the accumulators
	}
	for range d.Params {
		l.params = append(l.params, G{k.constReg()})
	}
	l.pool = k.group(data)
	return k, l
}

// loadEpilogue fills the parameter and constant registers of l: the
// parameters come from the array whose address is in gP.
func loadEpilogue(k *regs, l *lower) {
	MOVDReg(gP, gT0)
	for _, g := range l.params {
		MOVWULoadP(gT0, gT1)
		VDUP(gT1, g.at(0))
	}
	k.loadConsts(gT0)
}

// funcOf returns the desc.Func of d.
func funcOf(d desc.FuncDesc) desc.Func {
	f, err := desc.ParseFunc(d.Name)
	if err != nil {
		panic(err)
	}
	return f
}

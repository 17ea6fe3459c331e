package main

import (
	"strings"

	. "github.com/actfuse/actfuse/gen/arm64/neon"
	"github.com/actfuse/actfuse/internal/desc"
)

func init() {
	groups = append(groups, group{name: "update", emit: func() {
		for _, u := range desc.Updates {
			emitUpdate(u)
		}
	}})
}

// The optimizer kernels, from the programs of desc.Updates (specs:
// fallback.MomentumUpdate, fallback.SGDUpdate, fallback.AdamUpdate). Every
// operation is rounded on its own, as the programs say. w - w is +0 for a
// finite w and NaN otherwise; the OR of those lanes, summed across lanes at
// the end (with the single-lane tail added directly), is zero only if every
// new w is finite, which the kernel returns.

// emitUpdate writes the NEON kernel of u: func(slices... []float32,
// params... float32) bool.
func emitUpdate(u desc.Update) {
	name := u.Name + "NEON"
	doc := append([]string{}, u.Doc...)
	doc[0] = strings.Replace(doc[0], u.Name, name, 1)
	TEXT(name, "func("+strings.Join(u.Inputs, ", ")+" []float32, "+strings.Join(u.Params, ", ")+" float32) bool")
	Doc(doc...)
	// R0-R3 read pointers, R10-R13 write pointers, R4 count, R5 temp, R6 sum.
	const rN, rTmp, rSum = R4, R5, R6
	rd := func(j int) Reg { return R0 + Reg(j) }
	wr := func(j int) Reg { return R10 + Reg(j) }
	k := newRegs()
	params := make([]G, len(u.Params))
	for i := range params {
		params[i] = G{k.constReg()}
	}
	bad := k.group(1)
	const unroll = 2
	data, _ := peakRegs(u.Program)
	in := k.groups(len(u.Inputs), unroll)
	pool := k.group(unroll * (data - len(u.Inputs) + 1))
	// The written slices besides w, by their index among the inputs.
	writes := make([]int, len(u.Writes))
	for j, wname := range u.Writes {
		for i, s := range u.Inputs {
			if s == wname {
				writes[j] = i
			}
		}
	}
	// body runs the program and returns its results and w - w.
	body := func(in []G) ([]G, G) {
		n := len(in[0])
		l := &lower{k: k, params: params, pool: append([]VReg{}, pool[:n*(data-len(u.Inputs)+1)]...)}
		out := l.emit(u.Program, in)
		f := l.alloc(n)
		fsub(out[0], out[0], f)
		return out, f
	}
	orBad := func(f G) {
		each(f, func(i int) { VORR(f.at(i).B16(), bad.at(0).B16(), bad.at(0).B16()) })
	}
	for j, s := range u.Inputs {
		Load(GetParam(s).Base(), rd(j))
		MOVDReg(rd(j), wr(j))
	}
	Load(GetParam(u.Inputs[0]).Len(), rN)
	for i, s := range u.Params {
		Load(GetParam(s).Mem(), rTmp)
		VDUP(rTmp, params[i].at(0))
	}
	VEORZero(bad[0])
	MOVDConst(0, rSum)
	stored := append([]int{0}, writes...)
	block := func(width int, in []G) {
		for j := range u.Inputs {
			VLD1P(rd(j), vecs(in[j])...)
		}
		out, f := body(in)
		orBad(f)
		for r, j := range stored {
			VST1P(wr(j), vecs(out[r])...)
		}
		SUBConst(width, rN)
	}
	Comment("%d vectors per iteration.", unroll)
	CMPConst(4*unroll, rN)
	BLT("vec1")
	DefineLabel("loopU")
	block(4*unroll, in)
	CMPConst(4*unroll, rN)
	BGE("loopU")
	DefineLabel("vec1")
	Comment("One vector.")
	CMPConst(4, rN)
	BLT("tail")
	block(4, firsts(in, 1))
	DefineLabel("tail")
	Comment("The last 0-3 elements, one lane at a time (FMOVS zeroes the other lanes).")
	CBZ(rN, "check")
	DefineLabel("loopS")
	for j := range u.Inputs {
		FMOVSLoadP(rd(j), in[j][0].F())
	}
	// Only lane 0 holds an element here (the others may be 0/0 for Adam
	// with eps = 0): it goes into the sum directly.
	out, f := body(firsts(in, 1))
	VMOVLaneToReg(f[0].S(0), rTmp)
	ADDReg(rTmp, rSum, rSum)
	for r, j := range stored {
		FMOVSStoreP(out[r][0].F(), wr(j))
	}
	SUBSConst(1, rN)
	BNE("loopS")
	DefineLabel("check")
	Comment("Sum the four lanes of the OR: zero only if every weight is finite.")
	for l := 0; l < 4; l++ {
		VMOVLaneToReg(bad[0].S(l), rTmp)
		ADDReg(rTmp, rSum, rSum)
	}
	MOVDConst(0, rTmp)
	CBNZ(rSum, "store")
	MOVDConst(1, rTmp)
	DefineLabel("store")
	Store(rTmp, GetParam("ret").Mem())
	RET()
}

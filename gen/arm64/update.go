package main

import (
	"strings"

	. "github.com/actfuse/actfuse/gen/arm64/neon"
)

func init() {
	groups = append(groups, group{"update", updateKernels})
}

// updateKernel describes one optimizer kernel over float32 slices of equal
// length (specs: fallback.MomentumUpdate, fallback.SGDUpdate,
// fallback.AdamUpdate). Every operation is rounded on its own (no FMLA), as
// the fallbacks round it. w - w is +0 for a finite w and NaN otherwise; the
// OR of those lanes, summed across lanes at the end (with the single-lane
// tail added directly), is zero only if every new w is finite, which the
// kernel returns.
type updateKernel struct {
	name    string
	doc     []string
	slices  []string // slice parameters, w first; all are read
	writes  []int    // indices of slices written back besides w
	scalars []string // float32 parameters, broadcast into registers
	temps   int      // scratch registers per vector
	// body updates the loaded registers in place (in[0] becomes the new w);
	// k holds the broadcast scalars by name.
	body func(in []G, k map[string]G, t []G)
}

// updateKernels emits the optimizer kernels.
func updateKernels() {
	for _, u := range []updateKernel{
		{
			name: "MomentumUpdate",
			doc: []string{"MomentumUpdate computes, for each i, u = v[i] + wd·w[i], w[i] -= lr·u and",
				"v[i] = mu·u, and reports whether every new w[i] is finite; len(v) must equal",
				"len(w)."},
			slices: []string{"w", "v"}, writes: []int{1}, scalars: []string{"lr", "mu", "wd"}, temps: 1,
			body: func(in []G, k map[string]G, t []G) {
				w, v := in[0], in[1]
				fmul(k["wd"], w, t[0]) // wd·w
				fadd(t[0], v, v)       // u = v + wd·w
				fmul(k["lr"], v, t[0]) // lr·u
				fsub(t[0], w, w)       // w - lr·u
				fmul(k["mu"], v, v)    // mu·u
			},
		},
		{
			name: "SGDUpdate",
			doc: []string{"SGDUpdate computes, for each i, w[i] -= lr·(g[i] + wd·w[i]) and reports",
				"whether every new w[i] is finite; len(g) must equal len(w)."},
			slices: []string{"w", "g"}, scalars: []string{"lr", "wd"}, temps: 1,
			body: func(in []G, k map[string]G, t []G) {
				w, g := in[0], in[1]
				fmul(k["wd"], w, t[0])
				fadd(t[0], g, g)
				fmul(k["lr"], g, g)
				fsub(g, w, w)
			},
		},
		sgdMomentum("SGDMomentumUpdate", false),
		sgdMomentum("SGDNesterovUpdate", true),
		{
			name: "AdamUpdate",
			doc: []string{"AdamUpdate computes, for each i, g' = g[i] + wd·w[i], m[i] = b1·m[i] + c1·g',",
				"v[i] = b2·v[i] + c2·g'·g' and w[i] -= lr·m[i]/(sqrt(v[i]) + eps), and reports",
				"whether every new w[i] is finite; the four lengths must be equal."},
			slices: []string{"w", "m", "v", "g"}, writes: []int{1, 2},
			scalars: []string{"lr", "b1", "b2", "c1", "c2", "eps", "wd"}, temps: 1,
			body: func(in []G, k map[string]G, t []G) {
				w, m, v, g, s := in[0], in[1], in[2], in[3], t[0]
				fmul(k["wd"], w, s)
				fadd(s, g, g) // g'
				fmul(k["b1"], m, m)
				fmul(k["c1"], g, s)
				fadd(s, m, m) // m
				fmul(k["c2"], g, s)
				fmul(g, s, s) // c2·g'·g'
				fmul(k["b2"], v, v)
				fadd(s, v, v) // v
				each(s, func(i int) { VFSQRT(v.at(i), s.at(i)) })
				fadd(k["eps"], s, s)
				fmul(k["lr"], m, g)
				fdiv(s, g, g) // lr·m / (sqrt(v) + eps)
				fsub(g, w, w)
			},
		},
	} {
		u.emit()
	}
}

// sgdMomentum describes SGDMomentumUpdate (classical) or SGDNesterovUpdate.
func sgdMomentum(name string, nesterov bool) updateKernel {
	doc := []string{name + " computes, for each i, g' = g[i] + wd·w[i], v[i] = mu·v[i] + g' and",
		"w[i] -= lr·v[i], and reports whether every new w[i] is finite; the three lengths",
		"must be equal."}
	if nesterov {
		doc[1] = "w[i] -= lr·(g' + mu·v[i]), and reports whether every new w[i] is finite; the three"
		doc[2] = "lengths must be equal."
	}
	return updateKernel{
		name: name, doc: doc,
		slices: []string{"w", "v", "g"}, writes: []int{1}, scalars: []string{"lr", "mu", "wd"}, temps: 1,
		body: func(in []G, k map[string]G, t []G) {
			w, v, g, s := in[0], in[1], in[2], t[0]
			fmul(k["wd"], w, s)
			fadd(s, g, g)       // g'
			fmul(k["mu"], v, v) // mu·v
			fadd(g, v, v)       // v = mu·v + g'
			if nesterov {
				fmul(k["mu"], v, s)
				fadd(s, g, s) // g' + mu·v
			} else {
				mov(v, s)
			}
			fmul(k["lr"], s, s)
			fsub(s, w, w)
		},
	}
}

func (u updateKernel) emit() {
	TEXT(u.name, "func("+strings.Join(u.slices, ", ")+" []float32, "+strings.Join(u.scalars, ", ")+" float32) bool")
	Doc(u.doc...)
	// R0-R3 read pointers, R10-R13 write pointers, R4 count, R5 temp, R6 sum.
	const rN, rTmp, rSum = R4, R5, R6
	rd := func(j int) Reg { return R0 + Reg(j) }
	wr := func(j int) Reg { return R10 + Reg(j) }
	k := newRegs()
	ks := map[string]G{}
	for _, s := range u.scalars {
		ks[s] = G{k.constReg()}
	}
	bad := k.group(1)
	const unroll = 2
	in := k.groups(len(u.slices), unroll)
	t := k.groups(u.temps+1, unroll) // the last one holds w - w
	// body runs the arithmetic and leaves w - w in the last temporary.
	body := func(in, t []G) G {
		u.body(in, ks, t)
		w, f := in[0], t[len(t)-1]
		fsub(w, w, f)
		return f
	}
	orBad := func(f G) {
		each(f, func(i int) { VORR(f.at(i).B16(), bad.at(0).B16(), bad.at(0).B16()) })
	}
	for j, s := range u.slices {
		Load(GetParam(s).Base(), rd(j))
		MOVDReg(rd(j), wr(j))
	}
	Load(GetParam(u.slices[0]).Len(), rN)
	for _, s := range u.scalars {
		Load(GetParam(s).Mem(), rTmp)
		VDUP(rTmp, ks[s].at(0))
	}
	VEORZero(bad[0])
	MOVDConst(0, rSum)
	stored := append([]int{0}, u.writes...)
	block := func(width int, in, t []G) {
		for j := range u.slices {
			VLD1P(rd(j), vecs(in[j])...)
		}
		orBad(body(in, t))
		for _, j := range stored {
			VST1P(wr(j), vecs(in[j])...)
		}
		SUBConst(width, rN)
	}
	Comment("%d vectors per iteration.", unroll)
	CMPConst(4*unroll, rN)
	BLT("vec1")
	DefineLabel("loopU")
	block(4*unroll, in, t)
	CMPConst(4*unroll, rN)
	BGE("loopU")
	DefineLabel("vec1")
	Comment("One vector.")
	CMPConst(4, rN)
	BLT("tail")
	block(4, firsts(in, 1), firsts(t, 1))
	DefineLabel("tail")
	Comment("The last 0-3 elements, one lane at a time (FMOVS zeroes the other lanes).")
	CBZ(rN, "check")
	DefineLabel("loopS")
	for j := range u.slices {
		FMOVSLoadP(rd(j), in[j][0].F())
	}
	// Only lane 0 holds an element here (the others may be 0/0 for Adam
	// with eps = 0): it goes into the sum directly.
	f := body(firsts(in, 1), firsts(t, 1))
	VMOVLaneToReg(f[0].S(0), rTmp)
	ADDReg(rTmp, rSum, rSum)
	for _, j := range stored {
		FMOVSStoreP(in[j][0].F(), wr(j))
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

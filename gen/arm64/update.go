package main

import . "github.com/actfuse/actfuse/gen/arm64/neon"

func init() {
	groups = append(groups, group{"update", updateKernels})
}

// updateKernels emits the optimizer kernels (spec: fallback.MomentumUpdate).
func updateKernels() { emitMomentumUpdate() }

// emitMomentumUpdate emits MomentumUpdate(w, v []float32, lr, mu, wd
// float32) bool: u = v + wd·w, w -= lr·u, v = mu·u, each operation rounded on
// its own (no FMLA) as the fallback rounds it. w - w is +0 for a finite w
// and NaN otherwise; the OR of those lanes, summed across lanes at the end,
// is zero only if every new w is finite.
func emitMomentumUpdate() {
	TEXT("MomentumUpdate", "func(w, v []float32, lr, mu, wd float32) bool")
	Doc("MomentumUpdate computes, for each i, u = v[i] + wd·w[i], w[i] -= lr·u and",
		"v[i] = mu·u, and reports whether every new w[i] is finite; len(v) must equal",
		"len(w).")
	const (
		rW, rV, rWo, rVo, rN, rTmp, rSum = R0, R1, R2, R3, R4, R5, R6
		unroll                           = 2
	)
	k := newRegs()
	lr, mu, wd := G{k.constReg()}, G{k.constReg()}, G{k.constReg()}
	bad := k.group(1)
	w, v, t := k.group(unroll), k.group(unroll), k.group(unroll)
	body := func(w, v, t G) {
		fmul(wd, w, t) // wd·w
		fadd(t, v, v)  // u = v + wd·w
		fmul(lr, v, t) // lr·u
		fsub(t, w, w)  // w - lr·u
		fmul(mu, v, v) // mu·u
		fsub(w, w, t)  // +0, or NaN if w is not finite
		each(t, func(i int) { VORR(t.at(i).B16(), bad.at(0).B16(), bad.at(0).B16()) })
	}
	Load(GetParam("w").Base(), rW)
	Load(GetParam("v").Base(), rV)
	Load(GetParam("w").Len(), rN)
	MOVDReg(rW, rWo)
	MOVDReg(rV, rVo)
	for _, p := range []struct {
		name string
		g    G
	}{{"lr", lr}, {"mu", mu}, {"wd", wd}} {
		Load(GetParam(p.name).Mem(), rTmp)
		VDUP(rTmp, p.g.at(0))
	}
	VEORZero(bad[0])

	Comment("%d vectors per iteration.", unroll)
	CMPConst(4*unroll, rN)
	BLT("vec1")
	DefineLabel("loopU")
	VLD1P(rW, vecs(w)...)
	VLD1P(rV, vecs(v)...)
	body(w, v, t)
	VST1P(rWo, vecs(w)...)
	VST1P(rVo, vecs(v)...)
	SUBConst(4*unroll, rN)
	CMPConst(4*unroll, rN)
	BGE("loopU")
	DefineLabel("vec1")
	Comment("One vector.")
	CMPConst(4, rN)
	BLT("tail")
	w1, v1, t1 := w.first(1), v.first(1), t.first(1)
	VLD1P(rW, vecs(w1)...)
	VLD1P(rV, vecs(v1)...)
	body(w1, v1, t1)
	VST1P(rWo, vecs(w1)...)
	VST1P(rVo, vecs(v1)...)
	SUBConst(4, rN)
	DefineLabel("tail")
	Comment("The last 0-3 elements, one lane at a time (FMOVS zeroes the other lanes).")
	CBZ(rN, "check")
	DefineLabel("loopS")
	FMOVSLoadP(rW, w[0].F())
	FMOVSLoadP(rV, v[0].F())
	body(w1, v1, t1)
	FMOVSStoreP(w[0].F(), rWo)
	FMOVSStoreP(v[0].F(), rVo)
	SUBSConst(1, rN)
	BNE("loopS")
	DefineLabel("check")
	Comment("Sum the four lanes of the OR: zero only if every weight is finite.")
	VMOVLaneToReg(bad[0].S(0), rSum)
	for l := 1; l < 4; l++ {
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

package main

import . "github.com/actfuse/actfuse/gen/arm64/neon"

func init() {
	groups = append(groups, group{name: "maxout", emit: maxoutKernels})
}

func maxoutKernels() {
	TEXT("MaxoutForwardNEON", "func(k int, dst []float32, argmax []int32, x []float32)")
	Doc("MaxoutForwardNEON sets, for each of the len(dst) groups of k consecutive values of x,",
		"dst[i] = the maximum of the group and argmax[i] its index within the group: ties go to",
		"the first maximum, and the first NaN of a group wins over every number. Four groups",
		"are processed at once, one per lane. Arguments are not checked (k >= 1, len(argmax) =",
		"len(dst), len(x) = k·len(dst)).")
	const (
		rDst, rArg, rX, rGroups, rK, rStride = R0, R1, R2, R3, R4, R5
		rP0, rJ                              = R6, R11 // lane pointers R6-R9
	)
	best, idx, bestNum, v, jv, upd, vNaN := V0.S4(), V1.S4(), V2.S4(), V3.S4(), V4.S4(), V5.S4(), V6.S4()
	Load(GetParam("k").Mem(), rK)
	Load(GetParam("dst").Base(), rDst)
	Load(GetParam("argmax").Base(), rArg)
	Load(GetParam("x").Base(), rX)
	Load(GetParam("dst").Len(), rGroups)
	LSLConst(2, rK, rStride)

	// step compares the next value of each lane's group (in v) with the
	// best so far: it wins if it is greater, or if it is a NaN and the best
	// is not.
	step := func() {
		VDUP(rJ, jv)
		VFCMGT(best, v, upd)
		VFCMEQ(v, v, vNaN)
		VBIC(vNaN.B16(), bestNum.B16(), vNaN.B16())
		VORR(vNaN.B16(), upd.B16(), upd.B16())
		VBIT(upd.B16(), v.B16(), best.B16())
		VBIT(upd.B16(), jv.B16(), idx.B16())
		VFCMEQ(best, best, bestNum)
		ADDConst(1, rJ)
	}

	Comment("Four groups per iteration, one per lane; R6-R9 walk the groups.")
	CMPConst(4, rGroups)
	BLT("one")
	DefineLabel("loop4")
	MOVDReg(rX, rP0)
	for l := 1; l < 4; l++ {
		ADDReg(rStride, rP0+Reg(l-1), rP0+Reg(l))
	}
	for l := 0; l < 4; l++ {
		VLD1LaneP(rP0+Reg(l), V0.S(l))
	}
	VEORZero(V1)
	VFCMEQ(best, best, bestNum)
	MOVDConst(1, rJ)
	DefineLabel("next4")
	CMP(rK, rJ)
	BGE("store4")
	for l := 0; l < 4; l++ {
		VLD1LaneP(rP0+Reg(l), V3.S(l))
	}
	step()
	JMP("next4")
	DefineLabel("store4")
	VST1P(rDst, best)
	VST1P(rArg, idx)
	MOVDReg(rP0+3, rX)
	SUBConst(4, rGroups)
	CMPConst(4, rGroups)
	BGE("loop4")

	DefineLabel("one")
	Comment("The last 0-3 groups, one at a time in lane 0.")
	CBZ(rGroups, "done")
	DefineLabel("loop1")
	FMOVSLoadP(rX, V0.F())
	VEORZero(V1)
	VFCMEQ(best, best, bestNum)
	MOVDConst(1, rJ)
	DefineLabel("next1")
	CMP(rK, rJ)
	BGE("store1")
	FMOVSLoadP(rX, V3.F())
	step()
	JMP("next1")
	DefineLabel("store1")
	FMOVSStoreP(V0.F(), rDst)
	FMOVSStoreP(V1.F(), rArg)
	SUBSConst(1, rGroups)
	BNE("loop1")
	DefineLabel("done")
	RET()

	emitMaxoutBackward()
}

func emitMaxoutBackward() {
	TEXT("MaxoutBackwardNEON", "func(k int, dx []float32, dy []float32, argmax []int32) int")
	Doc("MaxoutBackwardNEON zeroes dx and sets dx[i·k+argmax[i]] = dy[i] for every i < len(dy);",
		"len(dx) must equal k·len(dy) and len(argmax) len(dy). It returns -1, or the first i",
		"whose argmax[i] is outside [0, k), where it stops.")
	const (
		rK, rDx, rDy, rArg, rGroups, rI, rJ, rCnt, rP, rStride = R0, R1, R2, R3, R4, R5, R6, R7, R8, R9
	)
	Load(GetParam("k").Mem(), rK)
	Load(GetParam("dx").Base(), rDx)
	Load(GetParam("dy").Base(), rDy)
	Load(GetParam("argmax").Base(), rArg)
	Load(GetParam("dy").Len(), rGroups)
	LSLConst(2, rK, rStride)
	VEORZero(V0)
	MOVDConst(0, rI)
	CBZ(rGroups, "ok")
	DefineLabel("group")
	Comment("j = argmax[i], checked as unsigned against k (a negative j is huge).")
	MOVWULoadP(rArg, rJ)
	CMP(rK, rJ)
	BHS("bad")
	Comment("Zero the k values of the group, four at a time, then one at a time.")
	MOVDReg(rDx, rP)
	MOVDReg(rK, rCnt)
	DefineLabel("zero4")
	CMPConst(4, rCnt)
	BLT("zero1")
	VST1P(rP, V0.S4())
	SUBConst(4, rCnt)
	JMP("zero4")
	DefineLabel("zero1")
	CBZ(rCnt, "route")
	FMOVSStoreP(V0.F(), rP)
	SUBConst(1, rCnt)
	JMP("zero1")
	DefineLabel("route")
	FMOVSLoadP(rDy, V1.F())
	ADDShift(rJ, 2, rDx, rP)
	FMOVSStore(V1.F(), rP)
	ADD(rStride, rDx, rDx)
	ADDConst(1, rI)
	CMP(rGroups, rI)
	BLT("group")
	DefineLabel("ok")
	MOVDConst(-1, rI)
	DefineLabel("bad")
	Store(rI, GetParam("ret").Mem())
	RET()
}

package main

// The optimizer group "update": the in-place parameter update of SGD with
// momentum (spec: fallback.MomentumUpdate).

import (
	. "github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

func init() { groups["update"] = emitUpdateKernels }

func emitUpdateKernels() { emitMomentumUpdate() }

// momentumUnroll is the main-loop unroll in 8-lane vectors: the loop streams
// two arrays in and out, so two vectors in flight keep the loads busy.
const momentumUnroll = 2

// emitMomentumUpdate emits MomentumUpdate(w, v []float32, lr, mu, wd
// float32) bool: u = v + wd·w, w -= lr·u, v = mu·u, every operation rounded
// (no FMA) as the fallback rounds it. The result reports whether every new
// w is finite: w - w is +0 for a finite w and NaN otherwise, and the OR of
// those bit patterns is zero only if all are finite.
func emitMomentumUpdate() {
	TEXT("MomentumUpdate", NOSPLIT, "func(w, v []float32, lr, mu, wd float32) bool")
	Pragma("noescape")
	Doc("MomentumUpdate computes, for each i, u = v[i] + wd·w[i], w[i] -= lr·u and",
		"v[i] = mu·u, and reports whether every new w[i] is finite; len(v) must equal",
		"len(w).")
	w := Load(Param("w").Base(), GP64())
	v := Load(Param("v").Base(), GP64())
	n := Load(Param("w").Len(), GP64())
	lr, mu, wd, bad := YMM(), YMM(), YMM(), YMM()
	VBROADCASTSS(paramAddr("lr"), lr)
	VBROADCASTSS(paramAddr("mu"), mu)
	VBROADCASTSS(paramAddr("wd"), wd)
	VXORPS(bad, bad, bad)
	i, lim := GP64(), GP64()
	at := func(base reg.Register, k int) operand.Mem {
		return operand.Mem{Base: base, Index: i, Scale: 4, Disp: 32 * k}
	}
	var mask reg.VecVirtual
	block := func(u int, masked bool) {
		ws, vs, t := newVecs(u), newVecs(u), newVecs(u)
		for k := 0; k < u; k++ {
			if masked {
				VMASKMOVPS(at(w, k), mask, ws[k])
				VMASKMOVPS(at(v, k), mask, vs[k])
			} else {
				VMOVUPS(at(w, k), ws[k])
				VMOVUPS(at(v, k), vs[k])
			}
		}
		each(u, func(k int) { VMULPS(wd, ws[k], t[k]) })    // wd·w
		each(u, func(k int) { VADDPS(t[k], vs[k], vs[k]) }) // u = v + wd·w
		each(u, func(k int) { VMULPS(lr, vs[k], t[k]) })    // lr·u
		each(u, func(k int) { VSUBPS(t[k], ws[k], ws[k]) }) // w - lr·u
		each(u, func(k int) { VMULPS(mu, vs[k], vs[k]) })   // mu·u
		each(u, func(k int) { VSUBPS(ws[k], ws[k], t[k]) }) // +0, or NaN if w is not finite
		each(u, func(k int) { VORPS(t[k], bad, bad) })
		for k := 0; k < u; k++ {
			if masked {
				VMASKMOVPS(ws[k], mask, at(w, k))
				VMASKMOVPS(vs[k], mask, at(v, k))
			} else {
				VMOVUPS(ws[k], at(w, k))
				VMOVUPS(vs[k], at(v, k))
			}
		}
	}
	XORQ(i, i)
	MOVQ(n, lim)
	ANDQ(operand.I32(-8*momentumUnroll), lim)
	CMPQ(i, lim)
	JAE(operand.LabelRef("mom_one"))
	Label("mom_wide")
	block(momentumUnroll, false)
	ADDQ(operand.Imm(8*momentumUnroll), i)
	CMPQ(i, lim)
	JB(operand.LabelRef("mom_wide"))
	Label("mom_one")
	MOVQ(n, lim)
	ANDQ(operand.I32(-8), lim)
	CMPQ(i, lim)
	JAE(operand.LabelRef("mom_tail"))
	block(1, false)
	ADDQ(operand.Imm(8), i)
	Label("mom_tail")
	CMPQ(i, n)
	JAE(operand.LabelRef("mom_done"))
	mask = loadTailMask(n)
	block(1, true)
	Label("mom_done")
	ok := GP8()
	VPTEST(bad, bad)
	SETEQ(ok)
	Store(ok, ReturnIndex(0))
	VZEROUPPER()
	RET()
}

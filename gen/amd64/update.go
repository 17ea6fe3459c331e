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
	// The loop of the elementwise kernels, reading w and v: w is the stored
	// result, v is stored by the after hook.
	l := &rowLoop{prefix: "mom", unroll: momentumUnroll, n: n, ins: []reg.Register{w, v}, out: w}
	var vs vecs
	l.body = func(in []vecs) vecs {
		ws, u := in[0], len(in[0])
		vs = in[1]
		t := newVecs(u)
		each(u, func(k int) { VMULPS(wd, ws[k], t[k]) })    // wd·w
		each(u, func(k int) { VADDPS(t[k], vs[k], vs[k]) }) // u = v + wd·w
		each(u, func(k int) { VMULPS(lr, vs[k], t[k]) })    // lr·u
		each(u, func(k int) { VSUBPS(t[k], ws[k], ws[k]) }) // w - lr·u
		each(u, func(k int) { VMULPS(mu, vs[k], vs[k]) })   // mu·u
		each(u, func(k int) { VSUBPS(ws[k], ws[k], t[k]) }) // +0, or NaN if w is not finite
		each(u, func(k int) { VORPS(t[k], bad, bad) })
		return ws
	}
	l.after = func(_ vecs, i reg.Register, masked bool) {
		for k, r := range vs {
			at := operand.Mem{Base: v, Index: i, Scale: 4, Disp: 32 * k}
			if masked {
				VMASKMOVPS(r, l.mask, at)
			} else {
				VMOVUPS(r, at)
			}
		}
	}
	l.emit()
	ok := GP8()
	VPTEST(bad, bad)
	SETEQ(ok)
	Store(ok, ReturnIndex(0))
	VZEROUPPER()
	RET()
}

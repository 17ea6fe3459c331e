package main

// The optimizer group "update": in-place parameter updates (specs:
// fallback.MomentumUpdate, fallback.SGDUpdate, fallback.AdamUpdate). Each
// operation is rounded on its own (no FMA), as the fallbacks round it, and
// every kernel reports whether all new weights are finite: w - w is +0 for
// a finite w and NaN otherwise, and the OR of those bit patterns is zero
// only if all are finite.

import (
	"strings"

	. "github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

func init() { groups["update"] = emitUpdateKernels }

func emitUpdateKernels() {
	for _, u := range updateKernels() {
		u.emit()
	}
}

// updateKernel describes one optimizer kernel over slices of equal length.
type updateKernel struct {
	name    string
	doc     []string
	slices  []string // slice parameters, w first; all are read
	writes  []int    // indices of slices written back besides w
	scalars []string // float32 parameters, broadcast into registers
	unroll  int      // 8-lane vectors per main-loop iteration
	// body updates the loaded vectors in place (in[0] becomes the new w);
	// k holds the broadcast scalars by name.
	body func(in []vecs, k map[string]reg.VecVirtual)
}

func updateKernels() []updateKernel {
	return []updateKernel{
		{
			name: "MomentumUpdate",
			doc: []string{"MomentumUpdate computes, for each i, u = v[i] + wd·w[i], w[i] -= lr·u and",
				"v[i] = mu·u, and reports whether every new w[i] is finite; len(v) must equal",
				"len(w)."},
			slices: []string{"w", "v"}, writes: []int{1}, scalars: []string{"lr", "mu", "wd"}, unroll: 2,
			body: func(in []vecs, k map[string]reg.VecVirtual) {
				w, v, t := in[0], in[1], newVecs(len(in[0]))
				n := len(w)
				each(n, func(i int) { VMULPS(k["wd"], w[i], t[i]) }) // wd·w
				each(n, func(i int) { VADDPS(t[i], v[i], v[i]) })    // u = v + wd·w
				each(n, func(i int) { VMULPS(k["lr"], v[i], t[i]) }) // lr·u
				each(n, func(i int) { VSUBPS(t[i], w[i], w[i]) })    // w - lr·u
				each(n, func(i int) { VMULPS(k["mu"], v[i], v[i]) }) // mu·u
			},
		},
		{
			name: "SGDUpdate",
			doc: []string{"SGDUpdate computes, for each i, w[i] -= lr·(g[i] + wd·w[i]) and reports",
				"whether every new w[i] is finite; len(g) must equal len(w)."},
			slices: []string{"w", "g"}, scalars: []string{"lr", "wd"}, unroll: 2,
			body: func(in []vecs, k map[string]reg.VecVirtual) {
				w, g, t := in[0], in[1], newVecs(len(in[0]))
				n := len(w)
				each(n, func(i int) { VMULPS(k["wd"], w[i], t[i]) }) // wd·w
				each(n, func(i int) { VADDPS(t[i], g[i], g[i]) })    // g' = g + wd·w
				each(n, func(i int) { VMULPS(k["lr"], g[i], g[i]) }) // lr·g'
				each(n, func(i int) { VSUBPS(g[i], w[i], w[i]) })
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
			scalars: []string{"lr", "b1", "b2", "c1", "c2", "eps", "wd"}, unroll: 1,
			body: func(in []vecs, k map[string]reg.VecVirtual) {
				w, m, v, g := in[0], in[1], in[2], in[3]
				n := len(w)
				t := newVecs(n)
				each(n, func(i int) { VMULPS(k["wd"], w[i], t[i]) }) // wd·w
				each(n, func(i int) { VADDPS(t[i], g[i], g[i]) })    // g'
				each(n, func(i int) { VMULPS(k["b1"], m[i], m[i]) }) // b1·m
				each(n, func(i int) { VMULPS(k["c1"], g[i], t[i]) }) // c1·g'
				each(n, func(i int) { VADDPS(t[i], m[i], m[i]) })    // m
				each(n, func(i int) { VMULPS(k["c2"], g[i], t[i]) }) // c2·g'
				each(n, func(i int) { VMULPS(g[i], t[i], t[i]) })    // c2·g'·g'
				each(n, func(i int) { VMULPS(k["b2"], v[i], v[i]) }) // b2·v
				each(n, func(i int) { VADDPS(t[i], v[i], v[i]) })    // v
				each(n, func(i int) { VSQRTPS(v[i], t[i]) })
				each(n, func(i int) { VADDPS(k["eps"], t[i], t[i]) }) // sqrt(v) + eps
				each(n, func(i int) { VMULPS(k["lr"], m[i], g[i]) })  // lr·m
				each(n, func(i int) { VDIVPS(t[i], g[i], g[i]) })     // lr·m / (sqrt(v) + eps)
				each(n, func(i int) { VSUBPS(g[i], w[i], w[i]) })
			},
		},
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
		slices: []string{"w", "v", "g"}, writes: []int{1}, scalars: []string{"lr", "mu", "wd"}, unroll: 2,
		body: func(in []vecs, k map[string]reg.VecVirtual) {
			w, v, g := in[0], in[1], in[2]
			n := len(w)
			t := newVecs(n)
			each(n, func(i int) { VMULPS(k["wd"], w[i], t[i]) }) // wd·w
			each(n, func(i int) { VADDPS(t[i], g[i], g[i]) })    // g'
			each(n, func(i int) { VMULPS(k["mu"], v[i], v[i]) }) // mu·v
			each(n, func(i int) { VADDPS(g[i], v[i], v[i]) })    // v = mu·v + g'
			if nesterov {
				each(n, func(i int) { VMULPS(k["mu"], v[i], t[i]) }) // mu·v
				each(n, func(i int) { VADDPS(t[i], g[i], t[i]) })    // g' + mu·v
			} else {
				each(n, func(i int) { VMOVUPS(v[i], t[i]) })
			}
			each(n, func(i int) { VMULPS(k["lr"], t[i], t[i]) })
			each(n, func(i int) { VSUBPS(t[i], w[i], w[i]) })
		},
	}
}

func (u updateKernel) emit() {
	sig := "func(" + strings.Join(u.slices, ", ") + " []float32, " + strings.Join(u.scalars, ", ") + " float32) bool"
	TEXT(u.name, NOSPLIT, sig)
	Pragma("noescape")
	Doc(u.doc...)
	ptr := make([]reg.Register, len(u.slices))
	for i, s := range u.slices {
		ptr[i] = Load(Param(s).Base(), GP64())
	}
	n := Load(Param(u.slices[0]).Len(), GP64())
	k := map[string]reg.VecVirtual{}
	for _, s := range u.scalars {
		k[s] = YMM()
		VBROADCASTSS(paramAddr(s), k[s])
	}
	bad := YMM()
	VXORPS(bad, bad, bad)
	// The elementwise row loop: w is its stored result; the after hook
	// stores the other written slices and folds w - w into bad.
	l := &rowLoop{prefix: "upd", unroll: u.unroll, n: n, ins: ptr, out: ptr[0]}
	var cur []vecs
	l.body = func(in []vecs) vecs {
		cur = in
		u.body(in, k)
		return in[0]
	}
	l.after = func(w vecs, i reg.Register, masked bool) {
		t := newVecs(len(w))
		each(len(w), func(i int) { VSUBPS(w[i], w[i], t[i]) }) // +0, or NaN if w is not finite
		if masked {
			// Lanes past the end hold zeros run through the arithmetic
			// (0/0 for Adam with eps = 0): only the slice's lanes count.
			each(len(w), func(i int) { VANDPS(l.mask, t[i], t[i]) })
		}
		each(len(w), func(i int) { VORPS(t[i], bad, bad) })
		for _, s := range u.writes {
			for j, r := range cur[s] {
				at := operand.Mem{Base: ptr[s], Index: i, Scale: 4, Disp: 32 * j}
				if masked {
					VMASKMOVPS(r, l.mask, at)
				} else {
					VMOVUPS(r, at)
				}
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

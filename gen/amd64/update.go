package main

// The optimizer group "update": in-place parameter updates from the
// programs of desc.Updates (specs: fallback.MomentumUpdate,
// fallback.SGDUpdate, fallback.AdamUpdate). Each operation is rounded on its
// own, as the programs say, and every kernel reports whether all new
// weights are finite: w - w is +0 for a finite w and NaN otherwise, and the
// OR of those bit patterns is zero only if all are finite.

import (
	"strings"

	"github.com/actfuse/actfuse/internal/desc"
	. "github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

func init() {
	groups["update"] = func() {
		for _, s := range []*isa{avx2, avx512} {
			for _, u := range desc.Updates {
				emitUpdate(s, u)
			}
		}
	}
}

// emitUpdate emits the kernel of u: func(slices... []float32, params...
// float32) bool.
func emitUpdate(s *isa, u desc.Update) {
	name := u.Name + s.suffix
	sig := "func(" + strings.Join(u.Inputs, ", ") + " []float32, " + strings.Join(u.Params, ", ") + " float32) bool"
	TEXT(name, NOSPLIT, sig)
	Pragma("noescape")
	doc := append([]string{}, u.Doc...)
	doc[0] = strings.Replace(doc[0], u.Name, name, 1)
	Doc(doc...)
	ptr := make([]reg.Register, len(u.Inputs))
	for i, in := range u.Inputs {
		ptr[i] = Load(Param(in).Base(), GP64())
	}
	n := Load(Param(u.Inputs[0]).Len(), GP64())
	l := newLower(s)
	l.params = make([]reg.VecVirtual, len(u.Params))
	for i, p := range u.Params {
		l.params[i] = s.vec()
		VBROADCASTSS(paramAddr(p), l.params[i])
	}
	bad := s.vec()
	VXORPS(bad, bad, bad)
	// The written slices besides w, by their index among the inputs.
	writes := make([]int, len(u.Writes))
	for j, wname := range u.Writes {
		for i, in := range u.Inputs {
			if in == wname {
				writes[j] = i
			}
		}
	}
	// The main loop holds the inputs, the results and the program's
	// temporaries of each vector, besides the parameters and bad.
	unroll := max(1, min(2, (s.regs()-len(u.Params)-2)/(u.MaxLive()+len(u.Inputs))))
	loop := &rowLoop{isa: s, prefix: "upd", unroll: unroll, ahead: updatePrefetch, n: n, ins: ptr, out: ptr[0]}
	var outs [][]reg.VecVirtual
	loop.body = func(in [][]reg.VecVirtual) []reg.VecVirtual {
		outs = l.emit(u.Program, in)
		return outs[0]
	}
	loop.after = func(w []reg.VecVirtual, i reg.Register, masked bool) {
		t := s.vecs(len(w))
		for k := range w {
			VSUBPS(w[k], w[k], t[k]) // +0, or NaN if w is not finite
		}
		if masked && !s.kmask {
			// Lanes past the end hold zeros run through the arithmetic
			// (0/0 for Adam with eps = 0): only the slice's lanes count.
			for k := range t {
				VANDPS(loop.mask, t[k], t[k])
			}
		}
		for k := range t {
			if masked && s.kmask {
				VORPS(t[k], bad, loop.mask, bad)
			} else {
				VORPS(t[k], bad, bad)
			}
		}
		for j, wi := range writes {
			for k, r := range outs[j+1] {
				at := operand.Mem{Base: ptr[wi], Index: i, Scale: 4, Disp: s.bytes * k}
				if masked {
					s.maskedStore(r, loop.mask, at)
				} else {
					VMOVUPS(r, at)
				}
			}
		}
	}
	loop.emit()
	ok := GP8()
	if s.kmask {
		k := K()
		VPTESTMD(bad, bad, k)
		KORTESTW(k, k)
	} else {
		VPTEST(bad, bad)
	}
	SETEQ(ok)
	Store(ok, ReturnIndex(0))
	VZEROUPPER()
	RET()
}

package main

// The elementwise activation kernels (group "act"): forward, backward,
// backward with the bias gradient, and maxout. Each function processes its
// whole slice or matrix in one call: a main loop over groups of unrolled
// 8-lane vectors, an 8-lane loop, and a masked tail (VMASKMOVPS) that reads
// and writes only the lanes inside the slice.

import (
	"fmt"

	"github.com/actfuse/actfuse/fallback"

	. "github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

func init() { groups["act"] = emitActKernels }

// actFuncs lists the activations with assembly kernels, with their exported
// name stem and the main-loop unroll (in 8-lane vectors).
var actFuncs = []struct {
	f      fallback.Func
	name   string
	unroll int
}{
	{fallback.ReLU, "ReLU", 4},
	{fallback.LeakyReLU, "LeakyReLU", 4},
	{fallback.ELU, "ELU", 2},
	{fallback.Sigmoid, "Sigmoid", 2},
	{fallback.Tanh, "Tanh", 2},
}

// hasAlpha reports whether f takes the Alpha parameter.
func hasAlpha(f fallback.Func) bool { return f == fallback.LeakyReLU || f == fallback.ELU }

func emitActKernels() {
	for _, a := range actFuncs {
		emitForward(a.f, a.name, a.unroll)
	}
}

// tailMask returns the 64-byte table of 8 all-ones words followed by 8 zero
// words: the 8 words at byte offset 32-4r are a mask of the first r lanes.
func tailMask() operand.Mem {
	const name = "tailmask"
	if m, ok := konsts[name]; ok {
		return m
	}
	m := GLOBL(name, RODATA|NOPTR)
	for i := 0; i < 16; i++ {
		v := uint32(0)
		if i < 8 {
			v = 0xffffffff
		}
		DATA(4*i, operand.U32(v))
	}
	konsts[name] = m
	return m
}

// loadTailMask returns a register holding the mask of the first n%8 lanes.
func loadTailMask(n reg.Register) reg.VecVirtual {
	r, p := GP64(), GP64()
	MOVQ(n, r)
	ANDQ(operand.Imm(7), r)
	SHLQ(operand.Imm(2), r)
	LEAQ(tailMask().Offset(32), p)
	SUBQ(r, p)
	mask := YMM()
	VMOVDQU(operand.Mem{Base: p}, mask)
	return mask
}

// rowLoop emits the column loops over n elements of one row. ins are the
// base pointers of the input rows, out the output row; body transforms the
// loaded input groups and returns the group to store; after, if not nil, is
// called with the stored group and the element offset register, to update
// other memory (the bias gradient). mask is the tail mask of n.
type rowLoop struct {
	prefix string
	unroll int
	n      reg.Register
	ins    []reg.Register
	out    reg.Register
	mask   reg.VecVirtual
	body   func(in []vecs) vecs
	after  func(res vecs, i reg.Register, masked bool)
}

func (l *rowLoop) emit() {
	i, lim := GP64(), GP64()
	at := func(base reg.Register, k int) operand.Mem {
		return operand.Mem{Base: base, Index: i, Scale: 4, Disp: 32 * k}
	}
	block := func(u int, masked bool) {
		in := make([]vecs, len(l.ins))
		for j, p := range l.ins {
			in[j] = newVecs(u)
			for k := 0; k < u; k++ {
				if masked {
					VMASKMOVPS(at(p, k), l.mask, in[j][k])
				} else {
					VMOVUPS(at(p, k), in[j][k])
				}
			}
		}
		res := l.body(in)
		for k := 0; k < u; k++ {
			if masked {
				VMASKMOVPS(res[k], l.mask, at(l.out, k))
			} else {
				VMOVUPS(res[k], at(l.out, k))
			}
		}
		if l.after != nil {
			l.after(res, i, masked)
		}
	}
	XORQ(i, i)
	if l.unroll > 1 {
		MOVQ(l.n, lim)
		ANDQ(operand.I32(int32(-8*l.unroll)), lim)
		CMPQ(i, lim)
		JAE(operand.LabelRef(l.prefix + "_one"))
		Label(l.prefix + "_wide")
		block(l.unroll, false)
		ADDQ(operand.Imm(uint64(8*l.unroll)), i)
		CMPQ(i, lim)
		JB(operand.LabelRef(l.prefix + "_wide"))
		Label(l.prefix + "_one")
	}
	MOVQ(l.n, lim)
	ANDQ(operand.I32(-8), lim)
	CMPQ(i, lim)
	JAE(operand.LabelRef(l.prefix + "_tail"))
	Label(l.prefix + "_oneloop")
	block(1, false)
	ADDQ(operand.Imm(8), i)
	CMPQ(i, lim)
	JB(operand.LabelRef(l.prefix + "_oneloop"))
	Label(l.prefix + "_tail")
	CMPQ(i, l.n)
	JAE(operand.LabelRef(l.prefix + "_done"))
	block(1, true)
	Label(l.prefix + "_done")
}

// paramAddr returns the stack address of the scalar parameter name.
func paramAddr(name string) operand.Mem {
	b, err := Param(name).Resolve()
	if err != nil {
		panic(fmt.Sprintf("parameter %s: %v", name, err))
	}
	return b.Addr
}

// loadAlpha broadcasts the float32 parameter alpha into a ymm register.
func loadAlpha() reg.VecVirtual {
	a := YMM()
	VBROADCASTSS(paramAddr("alpha"), a)
	return a
}

// emitForward emits Forward<name>(dst, x []float32[, alpha float32]).
func emitForward(f fallback.Func, name string, unroll int) {
	fn := "Forward" + name
	sig := "func(dst, x []float32)"
	if hasAlpha(f) {
		sig = "func(dst, x []float32, alpha float32)"
	}
	TEXT(fn, NOSPLIT, sig)
	Pragma("noescape")
	Doc(fmt.Sprintf("%s computes dst[i] = %v(x[i]) for the whole slice; len(dst) must equal len(x).", fn, f))
	dst := Load(Param("dst").Base(), GP64())
	x := Load(Param("x").Base(), GP64())
	n := Load(Param("x").Len(), GP64())
	var alpha operand.Op
	if hasAlpha(f) {
		alpha = loadAlpha()
	}
	l := rowLoop{
		prefix: "fwd",
		unroll: unroll,
		n:      n,
		ins:    []reg.Register{x},
		out:    dst,
		mask:   loadTailMask(n),
		body: func(in []vecs) vecs {
			emitActivation(f, in[0], alpha)
			return in[0]
		},
	}
	l.emit()
	VZEROUPPER()
	RET()
}

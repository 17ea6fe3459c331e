package main

// The elementwise activation kernels (group "act"): forward, backward,
// backward with the bias gradient, and maxout. Each function processes its
// whole slice or matrix in one call: a main loop over groups of unrolled
// 8-lane vectors, an 8-lane loop, and a masked tail (VMASKMOVPS) that reads
// and writes only the lanes inside the slice.

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

func init() { groups["act"] = emitActKernels }

// actFuncs lists the activations with assembly kernels, with their exported
// name stem and the main-loop unroll (in 8-lane vectors).
var actFuncs = []struct {
	f      actFunc
	name   string
	unroll int
}{
	{fReLU, "ReLU", 4},
	{fLeakyReLU, "LeakyReLU", 4},
	{fELU, "ELU", 3},         // 3·(x + 3 temporaries) + alpha
	{fSigmoid, "Sigmoid", 4}, // 4·(x + 3 temporaries): all 16 registers
	{fTanh, "Tanh", 4},
}

// hasAlpha reports whether f takes the Alpha parameter.
func hasAlpha(f actFunc) bool { return f == fLeakyReLU || f == fELU }

// emitActKernels emits the "act" group: forward and backward kernels of
// every activation, backward with the bias gradient, and maxout.
func emitActKernels() {
	for _, a := range actFuncs {
		emitForward(a.f, a.name, a.unroll)
	}
	for _, a := range actFuncs {
		emitBackward(a.f, a.name)
	}
	emitBackwardBias(fIdentity, "Identity")
	for _, a := range actFuncs {
		emitBackwardBias(a.f, a.name)
	}
	emitMaxoutForward()
	emitMaxoutBackward()
}

// konstTable returns the RODATA table name holding the 32-bit words v,
// emitted on first use.
func konstTable(name string, v []uint32) operand.Mem {
	if m, ok := konsts[name]; ok {
		return m
	}
	m := GLOBL(name, RODATA|NOPTR)
	for i, w := range v {
		DATA(4*i, operand.U32(w))
	}
	konsts[name] = m
	return m
}

// tailMask returns the 64-byte table of 8 all-ones words followed by 8 zero
// words: the 8 words at byte offset 32-4r are a mask of the first r lanes.
func tailMask() operand.Mem {
	v := make([]uint32, 16)
	for i := range 8 {
		v[i] = 0xffffffff
	}
	return konstTable("tailmask", v)
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
// other memory (the bias gradient). mask is the tail mask of n, or nil to
// load it in the tail only (one register more for the main loop).
//
// Loads are indexed by the element offset; stores go through a pointer
// that advances with it, because a store with a base+index address cannot
// use the store-address unit of port 7 (Intel since Haswell) and would take
// a load port instead: a streaming loop that reads two inputs is bound by
// its address units otherwise.
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

// streamPrefetch is how far ahead (bytes) the main loop prefetches its
// inputs. The hardware prefetchers stop at 4 KiB page boundaries; a loop
// that computes as long as it waits for memory (sigmoid, tanh on arrays
// beyond the caches) loses the overlap there. 1 KiB ahead runs sigmoid on
// 16M elements 8-13% faster and changes nothing in cache (prefetches past
// the end of a slice are harmless hints).
const streamPrefetch = 1024

func (l *rowLoop) emit() {
	i, lim, o := GP64(), GP64(), GP64()
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
			dst := operand.Mem{Base: o, Disp: 32 * k}
			if masked {
				VMASKMOVPS(res[k], l.mask, dst)
			} else {
				VMOVUPS(res[k], dst)
			}
		}
		if l.after != nil {
			l.after(res, i, masked)
		}
	}
	XORQ(i, i)
	MOVQ(l.out, o)
	if l.unroll > 1 {
		// The wide block runs while i < n - (8·unroll - 1) (signed: the
		// limit is negative for short rows), so it ends inside the row for
		// any unroll, not only powers of two.
		MOVQ(l.n, lim)
		SUBQ(operand.I32(int32(8*l.unroll-1)), lim)
		CMPQ(i, lim)
		JGE(operand.LabelRef(l.prefix + "_one"))
		Label(l.prefix + "_wide")
		for _, p := range l.ins { // one prefetch per cache line of each input
			for off := 0; off < 32*l.unroll; off += 64 {
				PREFETCHT0(operand.Mem{Base: p, Index: i, Scale: 4, Disp: streamPrefetch + off})
			}
		}
		block(l.unroll, false)
		ADDQ(operand.Imm(uint64(8*l.unroll)), i)
		ADDQ(operand.Imm(uint64(32*l.unroll)), o)
		CMPQ(i, lim)
		JL(operand.LabelRef(l.prefix + "_wide"))
		Label(l.prefix + "_one")
	}
	MOVQ(l.n, lim)
	ANDQ(operand.I32(-8), lim)
	CMPQ(i, lim)
	JAE(operand.LabelRef(l.prefix + "_tail"))
	Label(l.prefix + "_oneloop")
	block(1, false)
	ADDQ(operand.Imm(8), i)
	ADDQ(operand.Imm(32), o)
	CMPQ(i, lim)
	JB(operand.LabelRef(l.prefix + "_oneloop"))
	Label(l.prefix + "_tail")
	CMPQ(i, l.n)
	JAE(operand.LabelRef(l.prefix + "_done"))
	if l.mask == nil {
		l.mask = loadTailMask(l.n)
	}
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

// emitForward emits <name>Forward(dst, x []float32[, alpha float32]).
func emitForward(f actFunc, name string, unroll int) {
	fn := name + "Forward"
	sig := "func(dst, x []float32)"
	if hasAlpha(f) {
		sig = "func(dst, x []float32, alpha float32)"
	}
	TEXT(fn, NOSPLIT, sig)
	Pragma("noescape")
	Doc(fmt.Sprintf("%s computes dst[i] = %s(x[i]) for the whole slice; len(dst) must equal len(x).", fn, actNames[f]))
	dst := Load(Param("dst").Base(), GP64())
	x := Load(Param("x").Base(), GP64())
	n := Load(Param("x").Len(), GP64())
	var alpha operand.Op
	if hasAlpha(f) {
		alpha = loadAlpha()
	}
	if f == fLeakyReLU {
		hoist(0, signBit) // 4·3 + alpha + 2 registers
	}
	defer unhoist()
	l := rowLoop{
		prefix: "fwd",
		unroll: unroll,
		n:      n,
		ins:    []reg.Register{x},
		out:    dst,
		body: func(in []vecs) vecs {
			emitActivation(f, in[0], alpha)
			return in[0]
		},
	}
	l.emit()
	VZEROUPPER()
	RET()
}

// backwardUnroll is the main-loop unroll (in 8-lane vectors) of the
// backward kernels, which read two streams and write one.
const backwardUnroll = 4

// backwardPlan returns the main-loop unroll of the backward kernel of f and
// the constants it hoists into registers: two loads per vector are all the
// loop needs then, and the unroll keeps the registers within 16 (dz, y and
// the temporaries of emitDeriv per vector, plus alpha and the constants).
func backwardPlan(f actFunc) (unroll int, consts []uint32) {
	switch f {
	case fReLU, fSigmoid, fLeakyReLU: // 4·3 + 2 (+ alpha for LeakyReLU)
		return backwardUnroll, []uint32{0, oneBits}
	case fELU: // 3·4 + alpha + 2
		return 3, []uint32{0, oneBits}
	case fTanh: // 3·4 + 1
		return 3, []uint32{oneBits}
	}
	return backwardUnroll, nil
}

// emitBackward emits <name>Backward(dx, dy, y []float32[, alpha float32]).
func emitBackward(f actFunc, name string) {
	fn := name + "Backward"
	sig := "func(dx, dy, y []float32)"
	if hasAlpha(f) {
		sig = "func(dx, dy, y []float32, alpha float32)"
	}
	TEXT(fn, NOSPLIT, sig)
	Pragma("noescape")
	Doc(fmt.Sprintf("%s computes dx[i] = dy[i]·f'(y[i]) for f = %s, from the saved output y, for the whole slice; the three lengths must be equal.", fn, actNames[f]))
	dx := Load(Param("dx").Base(), GP64())
	dy := Load(Param("dy").Base(), GP64())
	y := Load(Param("y").Base(), GP64())
	n := Load(Param("dx").Len(), GP64())
	var alpha operand.Op
	if hasAlpha(f) {
		alpha = loadAlpha()
	}
	unroll, consts := backwardPlan(f)
	hoist(consts...)
	defer unhoist()
	l := rowLoop{
		prefix: "bwd",
		unroll: unroll,
		n:      n,
		ins:    []reg.Register{dy, y},
		out:    dx,
		body: func(in []vecs) vecs {
			emitDeriv(f, in[0], in[1], alpha)
			return in[0]
		},
	}
	l.emit()
	VZEROUPPER()
	RET()
}

// emitBackwardBias emits <name>BackwardBias(m, n int, dy []float32, lddy
// int, y []float32, ldy int, dz []float32, lddz int, db []float32[, alpha
// float32]), which computes dz = dy ⊙ f'(y) over an m×n matrix and, unless
// db is empty, adds each row of dz to db[:n] in row order.
func emitBackwardBias(f actFunc, name string) {
	fn := name + "BackwardBias"
	sig := "func(m, n int, dy []float32, lddy int, y []float32, ldy int, dz []float32, lddz int, db []float32)"
	if hasAlpha(f) {
		sig = "func(m, n int, dy []float32, lddy int, y []float32, ldy int, dz []float32, lddz int, db []float32, alpha float32)"
	}
	TEXT(fn, NOSPLIT, sig)
	Pragma("noescape")
	Doc(fmt.Sprintf("%s computes dz = dy ⊙ f'(y) for f = %s over the m×n matrices dy, y, dz (leading dimensions in elements) and, unless db is empty, adds each row of dz to db[:n] in row order; db must be zeroed by the caller. Arguments are not checked.", fn, actNames[f]))
	m := Load(Param("m"), GP64())
	n := Load(Param("n"), GP64())
	dy := Load(Param("dy").Base(), GP64())
	lddy := Load(Param("lddy"), GP64())
	y := Load(Param("y").Base(), GP64())
	ldy := Load(Param("ldy"), GP64())
	dz := Load(Param("dz").Base(), GP64())
	lddz := Load(Param("lddz"), GP64())
	db := Load(Param("db").Base(), GP64())
	dbn := Load(Param("db").Len(), GP64())
	for _, r := range []reg.Register{lddy, ldy, lddz} {
		SHLQ(operand.Imm(2), r)
	}
	var alpha operand.Op
	if hasAlpha(f) {
		alpha = loadAlpha()
	}
	mask := loadTailMask(n)
	TESTQ(m, m)
	JZ(operand.LabelRef("done"))
	body := func(in []vecs) vecs {
		emitDeriv(f, in[0], in[1], alpha)
		return in[0]
	}
	sum := func(res vecs, i reg.Register, masked bool) {
		for k, r := range res {
			at := operand.Mem{Base: db, Index: i, Scale: 4, Disp: 32 * k}
			t := YMM()
			if masked {
				VMASKMOVPS(at, mask, t)
				VADDPS(r, t, t)
				VMASKMOVPS(t, mask, at)
			} else {
				VADDPS(at, r, t)
				VMOVUPS(t, at)
			}
		}
	}
	for _, withDB := range []bool{false, true} {
		prefix := "nodb"
		after := func(vecs, reg.Register, bool) {}
		if withDB {
			prefix, after = "db", sum
		} else {
			TESTQ(dbn, dbn)
			JNZ(operand.LabelRef("db_rows"))
		}
		Label(prefix + "_rows")
		l := rowLoop{prefix: prefix, unroll: backwardUnroll, n: n, ins: []reg.Register{dy, y}, out: dz, mask: mask, body: body, after: after}
		l.emit()
		ADDQ(lddy, dy)
		ADDQ(ldy, y)
		ADDQ(lddz, dz)
		DECQ(m)
		JNZ(operand.LabelRef(prefix + "_rows"))
		if !withDB {
			JMP(operand.LabelRef("done"))
		}
	}
	Label("done")
	VZEROUPPER()
	RET()
}

// emitMaxoutForward emits MaxoutForward(k int, dst []float32, argmax
// []int32, x []float32): 8 groups at a time, the j-th value of each group
// taken by shuffles for k = 2 and k = 4 and gathered with VGATHERDPS for
// other k; a masked gather and masked stores finish the last len(dst)%8
// groups. The winner is the first maximum, or the first NaN (a NaN wins
// over every number).
func emitMaxoutForward() {
	TEXT("MaxoutForward", NOSPLIT, "func(k int, dst []float32, argmax []int32, x []float32)")
	Pragma("noescape")
	Doc("MaxoutForward computes, for each of the len(dst) groups of k consecutive values of x,",
		"dst[i] = the maximum and argmax[i] = its index in the group (first maximum; a NaN wins).",
		"len(argmax) must equal len(dst) and len(x) must equal k·len(dst), k >= 1.")
	k := Load(Param("k"), GP64())
	dst := Load(Param("dst").Base(), GP64())
	am := Load(Param("argmax").Base(), GP64())
	x := Load(Param("x").Base(), GP64())
	ng := Load(Param("dst").Len(), GP64())
	// idx = [0, k, 2k, ..., 7k] (int32 lanes), step = 1 in every lane.
	idx, step := YMM(), YMM()
	kx := XMM()
	MOVQ(k, kx)
	VPBROADCASTD(kx, idx)
	VPMULLD(konstLanes(), idx, idx)
	VPBROADCASTD(konstRow(1), step)
	mask := loadTailMask(ng)
	stride := GP64() // bytes between blocks of 8 groups
	MOVQ(k, stride)
	SHLQ(operand.Imm(5), stride)
	g, lim := GP64(), GP64()
	XORQ(g, g)
	block := func(masked bool) {
		p, j := GP64(), GP64()
		MOVQ(x, p)
		best, bi, jv, m, v, c, o := YMM(), YMM(), YMM(), YMM(), YMM(), YMM(), YMM()
		gather := func(dst reg.VecVirtual) {
			if masked {
				VMOVDQU(mask, m)
			} else {
				VPCMPEQD(m, m, m)
			}
			VXORPS(dst, dst, dst)
			VGATHERDPS(m, operand.Mem{Base: p, Index: idx, Scale: 4}, dst)
		}
		gather(best)
		VPXOR(bi, bi, bi)
		VPXOR(jv, jv, jv)
		MOVQ(operand.U32(1), j)
		CMPQ(j, k)
		JAE(operand.LabelRef(labelf("mo_store", masked)))
		Label(labelf("mo_j", masked))
		ADDQ(operand.Imm(4), p)
		VPADDD(step, jv, jv)
		gather(v)
		VCMPPS(operand.Imm(cmpNLE), best, v, c)    // c = !(v <= best): v > best or v NaN
		VCMPPS(operand.Imm(cmpORD), best, best, o) // best is a number
		VANDPS(o, c, c)
		VBLENDVPS(c, v, best, best)
		VBLENDVPS(c, jv, bi, bi)
		INCQ(j)
		CMPQ(j, k)
		JB(operand.LabelRef(labelf("mo_j", masked)))
		Label(labelf("mo_store", masked))
		if masked {
			VMASKMOVPS(best, mask, operand.Mem{Base: dst, Index: g, Scale: 4})
			VPMASKMOVD(bi, mask, operand.Mem{Base: am, Index: g, Scale: 4})
		} else {
			VMOVUPS(best, operand.Mem{Base: dst, Index: g, Scale: 4})
			VMOVDQU(bi, operand.Mem{Base: am, Index: g, Scale: 4})
		}
	}
	MOVQ(ng, lim)
	ANDQ(operand.I32(-8), lim)
	CMPQ(g, lim)
	JAE(operand.LabelRef("mo_tail"))
	// k = 2: 8 groups are 16 consecutive values; VSHUFPS splits them into
	// first and second members (in the group order 0,1,4,5,2,3,6,7, put
	// back by VPERMPD) without gathers.
	CMPQ(k, operand.Imm(4))
	JE(operand.LabelRef("mo_quads"))
	CMPQ(k, operand.Imm(2))
	JNE(operand.LabelRef("mo_groups"))
	Label("mo_pairs")
	{
		v0, v1, a, b, c, o := YMM(), YMM(), YMM(), YMM(), YMM(), YMM()
		VMOVUPS(operand.Mem{Base: x}, v0)
		VMOVUPS(operand.Mem{Base: x, Disp: 32}, v1)
		VSHUFPS(operand.Imm(0x88), v1, v0, a) // first members
		VSHUFPS(operand.Imm(0xdd), v1, v0, b) // second members
		VCMPPS(operand.Imm(cmpNLE), a, b, c)  // c = !(b <= a): b > a or b NaN
		VCMPPS(operand.Imm(cmpORD), a, a, o)  // a is a number
		VANDPS(o, c, c)
		VBLENDVPS(c, b, a, a)
		VPSRLD(operand.Imm(31), c, c) // index 1 where b won
		VPERMPD(operand.Imm(0xd8), a, a)
		VPERMQ(operand.Imm(0xd8), c, c)
		VMOVUPS(a, operand.Mem{Base: dst, Index: g, Scale: 4})
		VMOVDQU(c, operand.Mem{Base: am, Index: g, Scale: 4})
	}
	ADDQ(operand.Imm(64), x)
	ADDQ(operand.Imm(8), g)
	CMPQ(g, lim)
	JB(operand.LabelRef("mo_pairs"))
	JMP(operand.LabelRef("mo_tail"))
	// k = 4: 8 groups are 4 rows of 8 values; a 4×4 transpose in each
	// 128-bit lane gives the j-th members of groups 0,2,4,6 | 1,3,5,7,
	// put back in order by VPERMPS.
	Label("mo_quads")
	{
		perm := YMM()
		VMOVDQU(konstPerm(), perm)
		Label("mo_quadloop")
		v := newVecs(4)
		for i := range v {
			VMOVUPS(operand.Mem{Base: x, Disp: 32 * i}, v[i])
		}
		t := newVecs(4)
		VUNPCKLPS(v[1], v[0], t[0])
		VUNPCKHPS(v[1], v[0], t[1])
		VUNPCKLPS(v[3], v[2], t[2])
		VUNPCKHPS(v[3], v[2], t[3])
		c := newVecs(4)
		VSHUFPS(operand.Imm(0x44), t[2], t[0], c[0])
		VSHUFPS(operand.Imm(0xee), t[2], t[0], c[1])
		VSHUFPS(operand.Imm(0x44), t[3], t[1], c[2])
		VSHUFPS(operand.Imm(0xee), t[3], t[1], c[3])
		best, bi, m, o := c[0], YMM(), YMM(), YMM()
		VPXOR(bi, bi, bi)
		for j := 1; j < 4; j++ {
			VCMPPS(operand.Imm(cmpNLE), best, c[j], m)
			VCMPPS(operand.Imm(cmpORD), best, best, o)
			VANDPS(o, m, m)
			VBLENDVPS(m, c[j], best, best)
			VBLENDVPS(m, konstBits(uint32(j)), bi, bi)
		}
		VPERMPS(best, perm, best)
		VPERMD(bi, perm, bi)
		VMOVUPS(best, operand.Mem{Base: dst, Index: g, Scale: 4})
		VMOVDQU(bi, operand.Mem{Base: am, Index: g, Scale: 4})
		ADDQ(operand.Imm(128), x)
		ADDQ(operand.Imm(8), g)
		CMPQ(g, lim)
		JB(operand.LabelRef("mo_quadloop"))
		JMP(operand.LabelRef("mo_tail"))
	}
	Label("mo_groups")
	block(false)
	ADDQ(stride, x)
	ADDQ(operand.Imm(8), g)
	CMPQ(g, lim)
	JB(operand.LabelRef("mo_groups"))
	Label("mo_tail")
	CMPQ(g, ng)
	JAE(operand.LabelRef("mo_done"))
	block(true)
	Label("mo_done")
	VZEROUPPER()
	RET()
}

// labelf names the masked and unmasked copies of a label.
func labelf(name string, masked bool) string {
	if masked {
		return name + "_masked"
	}
	return name
}

// konstLanes returns the row [0, 1, ..., 7] of int32 lanes.
func konstLanes() operand.Mem { return konstTable("lanes", []uint32{0, 1, 2, 3, 4, 5, 6, 7}) }

// konstPerm returns the int32 row [0, 4, 1, 5, 2, 6, 3, 7].
func konstPerm() operand.Mem {
	return konstTable("perm04152637", []uint32{0, 4, 1, 5, 2, 6, 3, 7})
}

// emitMaxoutBackward emits MaxoutBackward(k int, dx, dy []float32, argmax
// []int32) int: it zeroes dx, then sets dx[i·k+argmax[i]] = dy[i]. It
// returns -1, or the first i whose argmax[i] is outside [0, k) (then it
// stops, having written nothing outside dx).
func emitMaxoutBackward() {
	TEXT("MaxoutBackward", NOSPLIT, "func(k int, dx, dy []float32, argmax []int32) int")
	Pragma("noescape")
	Doc("MaxoutBackward zeroes dx and sets dx[i·k+argmax[i]] = dy[i] for every i < len(dy);",
		"len(dx) must equal k·len(dy) and len(argmax) len(dy). It returns -1, or the first i",
		"whose argmax[i] is outside [0, k), where it stops.")
	k := Load(Param("k"), GP64())
	dx := Load(Param("dx").Base(), GP64())
	n := Load(Param("dx").Len(), GP64())
	dy := Load(Param("dy").Base(), GP64())
	am := Load(Param("argmax").Base(), GP64())
	ng := Load(Param("dy").Len(), GP64())
	zero := YMM()
	VXORPS(zero, zero, zero)
	mask := loadTailMask(n)
	i, lim := GP64(), GP64()
	XORQ(i, i)
	MOVQ(n, lim)
	ANDQ(operand.I32(-32), lim)
	CMPQ(i, lim)
	JAE(operand.LabelRef("clr_one"))
	Label("clr_wide")
	for u := 0; u < 4; u++ {
		VMOVUPS(zero, operand.Mem{Base: dx, Index: i, Scale: 4, Disp: 32 * u})
	}
	ADDQ(operand.Imm(32), i)
	CMPQ(i, lim)
	JB(operand.LabelRef("clr_wide"))
	Label("clr_one")
	MOVQ(n, lim)
	ANDQ(operand.I32(-8), lim)
	CMPQ(i, lim)
	JAE(operand.LabelRef("clr_tail"))
	Label("clr_oneloop")
	VMOVUPS(zero, operand.Mem{Base: dx, Index: i, Scale: 4})
	ADDQ(operand.Imm(8), i)
	CMPQ(i, lim)
	JB(operand.LabelRef("clr_oneloop"))
	Label("clr_tail")
	CMPQ(i, n)
	JAE(operand.LabelRef("scatter"))
	VMASKMOVPS(zero, mask, operand.Mem{Base: dx, Index: i, Scale: 4})
	Label("scatter")
	VZEROUPPER()
	// i counts groups, p points at dx[i·k], j is argmax[i].
	p, j, v := GP64(), GP64(), GP32()
	XORQ(i, i)
	MOVQ(dx, p)
	SHLQ(operand.Imm(2), k) // k in bytes from here on
	TESTQ(ng, ng)
	JZ(operand.LabelRef("ok"))
	Label("sc_loop")
	MOVLQSX(operand.Mem{Base: am, Index: i, Scale: 4}, j)
	SHLQ(operand.Imm(2), j)
	CMPQ(j, k)
	JAE(operand.LabelRef("bad")) // unsigned: also catches negative indices
	MOVL(operand.Mem{Base: dy, Index: i, Scale: 4}, v)
	MOVL(v, operand.Mem{Base: p, Index: j, Scale: 1})
	ADDQ(k, p)
	INCQ(i)
	CMPQ(i, ng)
	JB(operand.LabelRef("sc_loop"))
	Label("ok")
	MOVQ(operand.I32(-1), i)
	Label("bad")
	Store(i, ReturnIndex(0))
	RET()
}

package main

// The maxout kernels (group "act"), AVX2 only: the maximum and its index
// over groups of k values, and the routing of the gradient to the winners.

import (
	. "github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// Comparison predicates of the maxout kernels.
const (
	cmpNLE = 6 // NLE_US: true for NaN
	cmpORD = 7 // ORD_Q: true unless a NaN
)

// emitMaxoutForward emits MaxoutForward(k int, dst []float32, argmax
// []int32, x []float32): 8 groups at a time, the j-th value of each group
// taken by shuffles for k = 2 and k = 4 and gathered with VGATHERDPS for
// other k; a masked gather and masked stores finish the last len(dst)%8
// groups. The winner is the first maximum, or the first NaN (a NaN wins
// over every number).
func emitMaxoutForward() {
	TEXT("MaxoutForwardAVX2", NOSPLIT, "func(k int, dst []float32, argmax []int32, x []float32)")
	Pragma("noescape")
	Doc("MaxoutForwardAVX2 computes, for each of the len(dst) groups of k consecutive values of x,",
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
	VPBROADCASTD(avx2.konstRow(1), step)
	mask := avx2.tailMask(ng)
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
		v := avx2.vecs(4)
		for i := range v {
			VMOVUPS(operand.Mem{Base: x, Disp: 32 * i}, v[i])
		}
		t := avx2.vecs(4)
		VUNPCKLPS(v[1], v[0], t[0])
		VUNPCKHPS(v[1], v[0], t[1])
		VUNPCKLPS(v[3], v[2], t[2])
		VUNPCKHPS(v[3], v[2], t[3])
		c := avx2.vecs(4)
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
			VBLENDVPS(m, avx2.konstRow(uint32(j)), bi, bi)
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
	TEXT("MaxoutBackwardAVX2", NOSPLIT, "func(k int, dx, dy []float32, argmax []int32) int")
	Pragma("noescape")
	Doc("MaxoutBackwardAVX2 zeroes dx and sets dx[i·k+argmax[i]] = dy[i] for every i < len(dy);",
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
	mask := avx2.tailMask(n)
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

package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// Packing routines of the GEMM: they copy operands into the panel layouts
// the micro-kernels read (see kernels/gemm.go).

// genPackRows emits PackRows16: npan panels of 16 columns from kc rows.
func genPackRows() {
	TEXT("PackRows16", NOSPLIT, "func(dst, src *float32, ld, kc, npan int)")
	Doc("PackRows16 copies kc rows of npan·16 values (row p at src[p*ld:]) into",
		"npan panels of kc×16: dst[(r*kc+p)*16+j] = src[p*ld+r*16+j].")
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	ld := Load(Param("ld"), GP64())
	SHLQ(U8(2), ld)
	kc := Load(Param("kc"), GP64())
	npan := Load(Param("npan"), GP64())
	pstride := GP64() // bytes between panels: kc·64
	MOVQ(kc, pstride)
	SHLQ(U8(6), pstride)
	TESTQ(kc, kc)
	JZ(LabelRef("PackRows16_done"))
	TESTQ(npan, npan)
	JZ(LabelRef("PackRows16_done"))
	Label("PackRows16_row")
	{
		s, d, r := GP64(), GP64(), GP64()
		MOVQ(src, s)
		MOVQ(dst, d)
		MOVQ(npan, r)
		Label("PackRows16_pan")
		x, y := YMM(), YMM()
		VMOVUPS(Mem{Base: s}, x)
		VMOVUPS(Mem{Base: s, Disp: 32}, y)
		VMOVUPS(x, Mem{Base: d})
		VMOVUPS(y, Mem{Base: d, Disp: 32})
		ADDQ(U8(64), s)
		ADDQ(pstride, d)
		DECQ(r)
		JNZ(LabelRef("PackRows16_pan"))
	}
	ADDQ(ld, src)
	ADDQ(U8(64), dst)
	DECQ(kc)
	JNZ(LabelRef("PackRows16_row"))
	Label("PackRows16_done")
	VZEROUPPER()
	RET()
}

// genPackT emits a transposing packer: rows (6 or 16) rows of src become
// the columns of a kc×rows panel, dst[p*rows+i] = src[i*ld+p], for kc a
// multiple of 8, with 8×8 register transposes.
func genPackT(rows int) {
	name := fmt.Sprintf("PackT%d", rows)
	TEXT(name, NOSPLIT, "func(dst, src *float32, ld, kc int)")
	Doc(fmt.Sprintf("%s writes dst[p*%d+i] = src[i*ld+p] for i < %d and p < kc, a", name, rows, rows),
		"multiple of 8: the rows of src become the columns of a packed panel.")
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	ld := Load(Param("ld"), GP64())
	SHLQ(U8(2), ld)
	kc := Load(Param("kc"), GP64())
	SHRQ(U8(3), kc)
	JZ(LabelRef(name + "_done"))

	groups := (rows + 7) / 8
	// Row pointers of each group of 8 rows: s0 (rows 0,1,2,4 via index),
	// s3 (rows 3,5,7), s6 (row 6). Rows beyond `rows` repeat the last row.
	type grp struct{ s0, s3, s6 GPVirtual }
	gs := make([]grp, groups)
	for g := range gs {
		gs[g] = grp{GP64(), GP64(), GP64()}
		if g == 0 {
			MOVQ(src, gs[g].s0)
		} else {
			LEAQ(Mem{Base: src, Index: ld, Scale: 8}, gs[g].s0)
		}
		LEAQ(Mem{Base: gs[g].s0, Index: ld, Scale: 2}, gs[g].s3)
		ADDQ(ld, gs[g].s3)
		LEAQ(Mem{Base: gs[g].s3, Index: ld, Scale: 2}, gs[g].s6)
		ADDQ(ld, gs[g].s6)
	}
	rowAddr := func(g grp, i int) Mem {
		switch i {
		case 0:
			return Mem{Base: g.s0}
		case 1:
			return Mem{Base: g.s0, Index: ld, Scale: 1}
		case 2:
			return Mem{Base: g.s0, Index: ld, Scale: 2}
		case 3:
			return Mem{Base: g.s3}
		case 4:
			return Mem{Base: g.s0, Index: ld, Scale: 4}
		case 5:
			return Mem{Base: g.s3, Index: ld, Scale: 2}
		case 6:
			return Mem{Base: g.s6}
		}
		return Mem{Base: g.s3, Index: ld, Scale: 4}
	}

	// One set of registers for every group and half, so that the allocator
	// stays within Y0-Y15 (VINSERTF128 has no EVEX form).
	var v, o [4]VecVirtual
	for i := range v {
		v[i], o[i] = YMM(), YMM()
	}
	t0, t1, t2, t3 := YMM(), YMM(), YMM(), YMM()
	x := XMM()
	Label(name + "_loop")
	for g := 0; g < groups; g++ {
		valid := min(8, rows-8*g)
		addr := func(i int) Mem { return rowAddr(gs[g], min(i, valid-1)) }
		for half := 0; half < 2; half++ {
			// v[i] = [row i cols 4h..4h+3 | row i+4 cols 4h..4h+3]
			for i := 0; i < 4; i++ {
				VMOVUPS(addr(i).Offset(16*half), v[i].AsX())
				VINSERTF128(U8(1), addr(i+4).Offset(16*half), v[i], v[i])
			}
			VUNPCKLPS(v[1], v[0], t0)
			VUNPCKHPS(v[1], v[0], t1)
			VUNPCKLPS(v[3], v[2], t2)
			VUNPCKHPS(v[3], v[2], t3)
			VSHUFPS(U8(0x44), t2, t0, o[0])
			VSHUFPS(U8(0xEE), t2, t0, o[1])
			VSHUFPS(U8(0x44), t3, t1, o[2])
			VSHUFPS(U8(0xEE), t3, t1, o[3])
			for c := 0; c < 4; c++ {
				p := 4*half + c
				m := Mem{Base: dst, Disp: 4 * (p*rows + 8*g)}
				if valid == 8 {
					VMOVUPS(o[c], m)
					continue
				}
				// valid == 6: four values of the low lane, two of the high.
				VMOVUPS(o[c].AsX(), m)
				VEXTRACTF128(U8(1), o[c], x)
				VMOVSD(x, m.Offset(16))
			}
		}
		ADDQ(U8(32), gs[g].s0)
		ADDQ(U8(32), gs[g].s3)
		ADDQ(U8(32), gs[g].s6)
	}
	ADDQ(U32(4*8*rows), dst)
	DECQ(kc)
	JNZ(LabelRef(name + "_loop"))
	Label(name + "_done")
	VZEROUPPER()
	RET()
}

// genPackRowsEdge emits PackRowsEdge16: one panel of w < 16 columns, padded
// with zeros, read with masked loads so nothing beyond column w is touched.
func genPackRowsEdge() {
	TEXT("PackRowsEdge16", NOSPLIT, "func(dst, src *float32, ld, kc, w int)")
	Doc("PackRowsEdge16 copies kc rows of w <= 16 values (row p at src[p*ld:]) into",
		"one kc×16 panel padded with zeros: dst[p*16+j] = j < w ? src[p*ld+j] : 0.")
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	ld := Load(Param("ld"), GP64())
	SHLQ(U8(2), ld)
	kc := Load(Param("kc"), GP64())
	w := Load(Param("w"), GP64())
	tab := GP64()
	LEAQ(gemmConst.Offset(64), tab)
	SHLQ(U8(2), w)
	SUBQ(w, tab)
	m0, m1 := YMM(), YMM()
	VMOVUPS(Mem{Base: tab}, m0)
	VMOVUPS(Mem{Base: tab, Disp: 32}, m1)
	TESTQ(kc, kc)
	JZ(LabelRef("PackRowsEdge16_done"))
	x, y := YMM(), YMM()
	Label("PackRowsEdge16_loop")
	VMASKMOVPS(Mem{Base: src}, m0, x)
	VMASKMOVPS(Mem{Base: src, Disp: 32}, m1, y)
	VMOVUPS(x, Mem{Base: dst})
	VMOVUPS(y, Mem{Base: dst, Disp: 32})
	ADDQ(ld, src)
	ADDQ(U8(64), dst)
	DECQ(kc)
	JNZ(LabelRef("PackRowsEdge16_loop"))
	Label("PackRowsEdge16_done")
	VZEROUPPER()
	RET()
}

// genPackCols6 emits PackCols6: 6 consecutive values of each of kc rows, the
// packing of a transposed A (op(A)[i, p] = A[p, i]) into a 6-row micro-panel.
func genPackCols6() {
	TEXT("PackCols6", NOSPLIT, "func(dst, src *float32, ld, kc int)")
	Doc("PackCols6 writes dst[p*6+i] = src[p*ld+i] for i < 6 and p < kc.")
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	ld := Load(Param("ld"), GP64())
	SHLQ(U8(2), ld)
	kc := Load(Param("kc"), GP64())
	TESTQ(kc, kc)
	JZ(LabelRef("PackCols6_done"))
	x, y := XMM(), XMM()
	Label("PackCols6_loop")
	VMOVUPS(Mem{Base: src}, x)
	VMOVSD(Mem{Base: src, Disp: 16}, y)
	VMOVUPS(x, Mem{Base: dst})
	VMOVSD(y, Mem{Base: dst, Disp: 16})
	ADDQ(ld, src)
	ADDQ(U8(24), dst)
	DECQ(kc)
	JNZ(LabelRef("PackCols6_loop"))
	Label("PackCols6_done")
	RET()
}

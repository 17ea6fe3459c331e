package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// Packing routines of the GEMM: they copy operands into the panel layouts
// the micro-kernels read (see kernels/gemm.go). They use AVX2 only (the
// copies are load- and store-bound at any width), so the packers of every
// amd64 implementation run on every CPU that has one.

// packersDone records the packers emitted, which implementations may share.
var packersDone = map[string]bool{}

// genPackers emits the packers of an MR×NR tile: PackRows<NR>,
// PackRowsEdge<NR>, PackCols<MR>, PackT<MR> and PackT<NR>, each once (a
// packer depends only on its width, so tiles share them).
func genPackers(mr, nr int) {
	packOnce(fmt.Sprint("PackRows", nr), func() { genPackRows(nr) })
	packOnce(fmt.Sprint("PackRowsEdge", nr), func() { genPackRowsEdge(nr) })
	packOnce(fmt.Sprint("PackCols", mr), func() { genPackCols(mr) })
	packOnce(fmt.Sprint("PackT", mr), func() { genPackT(mr) })
	packOnce(fmt.Sprint("PackT", nr), func() { genPackT(nr) })
}

// packOnce runs gen, which emits the packer name, unless it has run.
func packOnce(name string, gen func()) {
	if !packersDone[name] {
		packersDone[name] = true
		gen()
	}
}

// genPackRows emits PackRows<nr>: npan panels of nr columns from kc rows.
func genPackRows(nr int) {
	name := fmt.Sprint("PackRows", nr)
	TEXT(name, NOSPLIT, "func(dst, src *float32, ld, kc, npan int)")
	Doc(fmt.Sprintf("%s copies kc rows of npan·%d values (row p at src[p*ld:]) into", name, nr),
		fmt.Sprintf("npan panels of kc×%d: dst[(r*kc+p)*%d+j] = src[p*ld+r*%d+j].", nr, nr, nr))
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	ld := Load(Param("ld"), GP64())
	SHLQ(U8(2), ld)
	kc := Load(Param("kc"), GP64())
	npan := Load(Param("npan"), GP64())
	pstride := GP64() // bytes between panels: kc·4·nr
	MOVQ(kc, pstride)
	IMUL3Q(U32(4*nr), pstride, pstride)
	TESTQ(kc, kc)
	JZ(LabelRef(name + "_done"))
	TESTQ(npan, npan)
	JZ(LabelRef(name + "_done"))
	Label(name + "_row")
	{
		s, d, r := GP64(), GP64(), GP64()
		MOVQ(src, s)
		MOVQ(dst, d)
		MOVQ(npan, r)
		Label(name + "_pan")
		v := make([]VecVirtual, nr/8)
		for i := range v {
			v[i] = YMM()
			VMOVUPS(Mem{Base: s, Disp: 32 * i}, v[i])
		}
		for i := range v {
			VMOVUPS(v[i], Mem{Base: d, Disp: 32 * i})
		}
		ADDQ(U32(4*nr), s)
		ADDQ(pstride, d)
		DECQ(r)
		JNZ(LabelRef(name + "_pan"))
	}
	ADDQ(ld, src)
	ADDQ(U32(4*nr), dst)
	DECQ(kc)
	JNZ(LabelRef(name + "_row"))
	Label(name + "_done")
	VZEROUPPER()
	RET()
}

// genPackRowsEdge emits PackRowsEdge<nr>: one panel of w < nr columns,
// padded with zeros, read with masked loads so nothing beyond column w is
// touched.
func genPackRowsEdge(nr int) {
	name := fmt.Sprint("PackRowsEdge", nr)
	TEXT(name, NOSPLIT, "func(dst, src *float32, ld, kc, w int)")
	Doc(fmt.Sprintf("%s copies kc rows of w <= %d values (row p at src[p*ld:]) into", name, nr),
		fmt.Sprintf("one kc×%d panel padded with zeros: dst[p*%d+j] = j < w ? src[p*ld+j] : 0.", nr, nr))
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	ld := Load(Param("ld"), GP64())
	SHLQ(U8(2), ld)
	kc := Load(Param("kc"), GP64())
	w := Load(Param("w"), GP64())
	tab := maskRowAddr(w)
	mask := make([]VecVirtual, nr/8)
	for i := range mask {
		mask[i] = YMM()
		VMOVUPS(Mem{Base: tab, Disp: 32 * i}, mask[i])
	}
	TESTQ(kc, kc)
	JZ(LabelRef(name + "_done"))
	v := make([]VecVirtual, nr/8)
	for i := range v {
		v[i] = YMM()
	}
	Label(name + "_loop")
	for i := range v {
		VMASKMOVPS(Mem{Base: src, Disp: 32 * i}, mask[i], v[i])
	}
	for i := range v {
		VMOVUPS(v[i], Mem{Base: dst, Disp: 32 * i})
	}
	ADDQ(ld, src)
	ADDQ(U32(4*nr), dst)
	DECQ(kc)
	JNZ(LabelRef(name + "_loop"))
	Label(name + "_done")
	VZEROUPPER()
	RET()
}

// genPackCols emits PackCols<rows>: rows consecutive values of each of kc
// rows, the packing of a transposed A (op(A)[i, p] = A[p, i]) into a
// micro-panel of the given height, a multiple of 2.
func genPackCols(rows int) {
	name := fmt.Sprint("PackCols", rows)
	TEXT(name, NOSPLIT, "func(dst, src *float32, ld, kc int)")
	Doc(fmt.Sprintf("%s writes dst[p*%d+i] = src[p*ld+i] for i < %d and p < kc.", name, rows, rows))
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	ld := Load(Param("ld"), GP64())
	SHLQ(U8(2), ld)
	kc := Load(Param("kc"), GP64())
	TESTQ(kc, kc)
	JZ(LabelRef(name + "_done"))
	// Chunks of 8, 4 and 2 values.
	type chunk struct {
		off, n int
		v      VecVirtual
	}
	var cs []chunk
	for off := 0; off < rows; {
		n := 8
		for n > rows-off {
			n /= 2
		}
		if n < 2 {
			panic(name + ": an odd height")
		}
		v := VecVirtual(XMM())
		if n == 8 {
			v = YMM()
		}
		cs = append(cs, chunk{off, n, v})
		off += n
	}
	move := func(c chunk, from, to Op) {
		if c.n == 2 {
			VMOVSD(from, to)
		} else {
			VMOVUPS(from, to)
		}
	}
	Label(name + "_loop")
	for _, c := range cs {
		move(c, Mem{Base: src, Disp: 4 * c.off}, c.v)
	}
	for _, c := range cs {
		move(c, c.v, Mem{Base: dst, Disp: 4 * c.off})
	}
	ADDQ(ld, src)
	ADDQ(U32(4*rows), dst)
	DECQ(kc)
	JNZ(LabelRef(name + "_loop"))
	Label(name + "_done")
	if rows >= 8 {
		VZEROUPPER()
	}
	RET()
}

// genPackT emits a transposing packer, PackT<rows>: rows rows of src (a
// multiple of 8, or 8·g + 4 or 8·g + 6) become the columns of a kc×rows
// panel, dst[p*rows+i] = src[i*ld+p], for kc a multiple of 8, with 8×8
// register transposes of groups of 8 rows.
func genPackT(rows int) {
	name := fmt.Sprint("PackT", rows)
	if r := rows % 8; r != 0 && r != 4 && r != 6 {
		panic(name + ": the last group of rows is not 4, 6 or 8 high")
	}
	TEXT(name, NOSPLIT, "func(dst, src *float32, ld, kc int)")
	Doc(fmt.Sprintf("%s writes dst[p*%d+i] = src[i*ld+p] for i < %d and p < kc, a", name, rows, rows),
		"multiple of 8: the rows of src become the columns of a packed panel.")
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	ld := Load(Param("ld"), GP64())
	SHLQ(U8(2), ld)
	ld3 := GP64()
	LEAQ(Mem{Base: ld, Index: ld, Scale: 2}, ld3)
	kc := Load(Param("kc"), GP64())
	SHRQ(U8(3), kc)
	JZ(LabelRef(name + "_done"))
	groups := (rows + 7) / 8

	// Row i of a group from its first row p0 and its fourth row p3.
	p0, p3 := GP64(), GP64()
	rowAddr := func(i int) Mem {
		switch i {
		case 0:
			return Mem{Base: p0}
		case 1:
			return Mem{Base: p0, Index: ld, Scale: 1}
		case 2:
			return Mem{Base: p0, Index: ld, Scale: 2}
		case 3:
			return Mem{Base: p3}
		case 4:
			return Mem{Base: p0, Index: ld, Scale: 4}
		case 5:
			return Mem{Base: p3, Index: ld, Scale: 2}
		case 6:
			return Mem{Base: p3, Index: ld3, Scale: 1}
		}
		return Mem{Base: p3, Index: ld, Scale: 4}
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
		if g == 0 {
			MOVQ(src, p0)
		} else {
			LEAQ(Mem{Base: p3, Index: ld, Scale: 4}, p0) // row 8 of the previous group
			ADDQ(ld, p0)
		}
		LEAQ(Mem{Base: p0, Index: ld3, Scale: 1}, p3)
		valid := min(8, rows-8*g)
		addr := func(i int) Mem { return rowAddr(min(i, valid-1)) }
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
				switch valid {
				case 8:
					VMOVUPS(o[c], m)
				case 6: // four values of the low lane, two of the high
					VMOVUPS(o[c].AsX(), m)
					VEXTRACTF128(U8(1), o[c], x)
					VMOVSD(x, m.Offset(16))
				case 4:
					VMOVUPS(o[c].AsX(), m)
				}
			}
		}
	}
	ADDQ(U8(32), src)
	ADDQ(U32(4*8*rows), dst)
	DECQ(kc)
	JNZ(LabelRef(name + "_loop"))
	Label(name + "_done")
	VZEROUPPER()
	RET()
}

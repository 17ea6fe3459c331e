package main

import (
	"fmt"
	"math/bits"

	"github.com/actfuse/actfuse/internal/desc"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The dot kernels (desc.DotTile): a C of n ≤ Dot.MaxN columns as dot
// products along k, at either width (L lanes: 16 for AVX-512, 8 for AVX2).
//
//	GemmDot<n><ISA>(kc, m int, a *float32, lda int, b, c *float32, ldc int, bias, y *float32, ldy, flags int, p *[4]float32)
//
// computes the m×n block C = epilogue(A·B) of one k block of kc steps:
// A row-major (row i at a[i*lda:], kc values read), B packed by
// GemmPackDot<ISA> (chunk q of L k steps at b[L*n*q:], its column j at
// b[L*(n*q+j):], zero beyond kc). Rows go DotRows(n) at a time; each row
// keeps one accumulator per column, whose L lanes sum the k steps
// p ≡ lane mod L in increasing p (the last chunk's lanes beyond kc load
// A as zero), and a tree of shuffles and additions then gives the row's n
// sums in the lanes 0..n-1 of one vector (reduceLanes; with AVX2 beyond 8
// columns, two vectors). The epilogue is that of the micro-kernels
// (kernel.epilogue, the flags of kernels/gemm.go) on those vectors, as rows
// of a tile one or two vectors wide, stored under the mask of n lanes. The last rows of m that fill no whole
// group of rows read row 0 of the group again in place of the rows beyond
// m, whose results are never stored: nothing outside the m×kc block of A,
// the m×n block of C and Y, and n bias values is touched.

// genDots emits the dot kernels of im (n = 1..im.Dot.MaxN) and their packer.
func genDots(s *isa, im *desc.Impl) {
	for n := 1; n <= im.Dot.MaxN; n++ {
		genDot(s, n, im.DotRows(n))
	}
	genDotPack(s)
}

func genDot(s *isa, n, rows int) {
	lanes := s.lanes()
	name := fmt.Sprintf("GemmDot%d%s", n, s.suffix)
	TEXT(name, NOSPLIT, "func(kc, m int, a *float32, lda int, b, c *float32, ldc int, bias, y *float32, ldy, flags int, p *[4]float32)")
	rowsText := fmt.Sprintf("%d rows at a time", rows)
	if rows == 1 {
		rowsText = "one row at a time"
	}
	Doc(fmt.Sprintf("%s computes the m×%d block C = epilogue(A·B) of one k block as dot products", name, n),
		fmt.Sprintf("along k, %s, from a row-major A and a B packed by GemmPackDot%s;", rowsText, s.suffix),
		"see gen/amd64/gemm_dot.go for the layout and kernels/gemm.go for the flags.")
	// A row of C is vecs vectors, of which the epilogue stores n lanes.
	vecs := (n + lanes - 1) / lanes
	k := &kernel{s: s, name: name, mr: rows, nrows: rows, nr: lanes * vecs, vecs: vecs}
	loc := AllocLocal(4 * s.bytes)
	for i := 0; i < 4; i++ {
		k.params = append(k.params, loc.Offset(s.bytes*i))
	}
	k.loadParams()

	// The masks of the n columns of C (opmasks, or rows of gemmConst) and,
	// on AVX-512, the opmask of the k steps of the last chunk.
	var tail Op
	if s.kmask {
		t := GP64()
		MOVL(U32(uint32(1)<<n-1), t.As32())
		cols := K()
		KMOVW(t.As32(), cols)
		k.maskK = []Op{cols}
		rest := Load(Param("kc"), GP64())
		ANDQ(U8(15), rest)
		MOVQ(I32(-1), t)
		BZHIQ(rest, t, t)
		tail = K()
		KMOVW(t.As32(), tail)
	} else {
		for h := 0; h < vecs; h++ {
			w := min(lanes, n-lanes*h)
			k.maskRow = append(k.maskRow, gemmConst.Offset(4*(maskWords-w)))
		}
	}

	atile := Load(Param("a"), GP64()).(GPVirtual)
	lda4 := Load(Param("lda"), GP64()).(GPVirtual)
	SHLQ(U8(2), lda4)
	k.cp = Load(Param("c"), GP64()).(GPVirtual)
	k.yp = Load(Param("y"), GP64()).(GPVirtual)
	k.mcnt = Load(Param("m"), GP64()).(GPVirtual)
	ar := make([]GPVirtual, rows)
	for r := range ar {
		ar[r] = GP64()
	}
	bp, kcnt := GP64(), GP64()
	acc := make([][]VecVirtual, rows)
	for r := range acc {
		acc[r] = s.vecs(n)
	}

	CMPQ(k.mcnt, U8(0))
	JLE(LabelRef(name + "_done"))
	Label(name + "_tile")
	for r := range acc {
		for _, v := range acc[r] {
			VXORPS(v, v, v)
		}
	}
	// Row r of the group, or row 0 again where r is beyond m.
	MOVQ(atile, ar[0])
	for r := 1; r < rows; r++ {
		LEAQ(Mem{Base: ar[r-1], Index: lda4, Scale: 1}, ar[r])
	}
	for r := 1; r < rows; r++ {
		CMPQ(k.mcnt, U8(r))
		CMOVQLE(atile, ar[r])
	}
	Load(Param("b"), bp)
	Load(Param("kc"), kcnt)
	SHRQ(U8(bits.TrailingZeros(uint(lanes))), kcnt) // whole chunks

	// One chunk of a vector of k steps: the rows' vectors of A, then each
	// column's vector of B into the rows' accumulators.
	chunk := func(masked bool) {
		var mv VecVirtual
		if masked && !s.kmask {
			// The first kc mod 8 lanes: the row of gemmConst with as many ones.
			t := GP64()
			Load(Param("kc"), t)
			ANDQ(U8(uint8(lanes-1)), t)
			mv = s.vec()
			VMOVUPS(Mem{Base: maskRowAddr(t)}, mv)
		}
		av := s.vecs(rows)
		for r, v := range av {
			switch {
			case !masked:
				VMOVUPS(Mem{Base: ar[r]}, v)
			case s.kmask:
				VMOVUPS_Z(Mem{Base: ar[r]}, tail, v)
			default:
				VMASKMOVPS(Mem{Base: ar[r]}, mv, v)
			}
		}
		for j := 0; j < n; j++ {
			bm := Mem{Base: bp, Disp: s.bytes * j}
			if rows == 1 {
				// B's vector serves one FMA: it reads it from memory.
				VFMADD231PS(bm, av[0], acc[0][j])
				continue
			}
			bv := s.vec()
			VMOVUPS(bm, bv)
			for r := range av {
				VFMADD231PS(bv, av[r], acc[r][j])
			}
		}
	}
	JZ(LabelRef(name + "_ktail"))
	pcAlign(64)
	Label(name + "_kloop")
	chunk(false)
	for r := range ar {
		ADDQ(U8(uint8(s.bytes)), ar[r])
	}
	ADDQ(U32(uint32(s.bytes*n)), bp)
	DECQ(kcnt)
	JNZ(LabelRef(name + "_kloop"))
	Label(name + "_ktail")
	TESTQ(U32(uint32(lanes-1)), Load(Param("kc"), GP64()))
	JZ(LabelRef(name + "_reduce"))
	chunk(true)
	Label(name + "_reduce")
	k.acc = make([][]VecVirtual, rows)
	for r := range acc {
		for h := 0; h < vecs; h++ {
			k.acc[r] = append(k.acc[r], reduceLanes(s, acc[r][lanes*h:min(n, lanes*h+lanes)]))
		}
	}
	k.epilogue(true)

	{
		t := GP64()
		IMUL3Q(U32(uint32(rows)), lda4, t)
		ADDQ(t, atile)
	}
	k.nextRows()
	SUBQ(U8(rows), k.mcnt)
	JG(LabelRef(name + "_tile"))
	Label(name + "_done")
	VZEROUPPER()
	RET()
}

// reduceLanes returns a vector whose lane j is the sum of the lanes of
// vs[j] (at most a vector's lanes of vectors; the lanes from len(vs) on
// hold partial sums of no meaning). It is the transposition-reduction: each
// level adds two halves of every vector's lanes while merging two vectors
// into one, from 256-bit halves (zmm: VSHUFF32X4) or 128-bit halves (ymm:
// VPERM2F128) down to pairs of lanes and single lanes (VSHUFPS in each
// 128-bit block). With L lanes, vector j enters at slot (L/4)·(j mod 4) +
// j/4, which the levels bring to lane j. A vector whose partner slot is
// empty is merged with itself, in one shuffle where the level's first
// operation already has its halves in place: the empty slot's lanes then
// receive sums that are never used.
func reduceLanes(s *isa, vs []VecVirtual) VecVirtual {
	lanes := s.lanes()
	if len(vs) > lanes {
		panic("amd64: reduceLanes of more vectors than lanes")
	}
	cur := make([]VecVirtual, lanes)
	for j, v := range vs {
		cur[lanes/4*(j%4)+j/4] = v
	}
	type level struct {
		shuf   func(ops ...Op)
		lo, hi uint8 // the shuffles taking each vector's first and second halves
		one    bool  // a lone vector needs only the shuffle of its partner half
	}
	levels := []level{
		{VSHUFF32X4, 0x44, 0xee, true},
		{VSHUFF32X4, 0x88, 0xdd, false},
		{VSHUFPS, 0x44, 0xee, true},
		{VSHUFPS, 0x88, 0xdd, false},
	}
	if !s.kmask {
		perm := func(ops ...Op) { VPERM2F128(ops[0], ops[1], ops[2], ops[3]) }
		levels = append([]level{{perm, 0x20, 0x31, true}}, levels[2:]...)
	}
	for _, l := range levels {
		next := make([]VecVirtual, len(cur)/2)
		for i := range next {
			a, b := cur[2*i], cur[2*i+1]
			switch {
			case a == nil && b == nil:
				continue
			case l.one && (a == nil || b == nil):
				// a + [a's second half in its first]: the first half holds a's
				// sums; or b + [b's first half in its second].
				x, imm := a, l.hi
				if a == nil {
					x, imm = b, l.lo
				}
				t := s.vec()
				l.shuf(U8(imm), x, x, t)
				VADDPS(t, x, t)
				next[i] = t
			default:
				if a == nil {
					a = b
				} else if b == nil {
					b = a
				}
				lo, hi := s.vec(), s.vec()
				l.shuf(U8(l.lo), b, a, lo)
				l.shuf(U8(l.hi), b, a, hi)
				VADDPS(hi, lo, lo)
				next[i] = lo
			}
		}
		cur = next
	}
	return cur[0]
}

// genDotPack emits GemmPackDot<ISA>, which packs one k block of a
// row-major B for the dot kernels of s with gathers.
func genDotPack(s *isa) {
	lanes := s.lanes()
	name := "GemmPackDot" + s.suffix
	TEXT(name, NOSPLIT, "func(dst, src *float32, ld, kc, n int)")
	Doc(fmt.Sprintf("%s packs the kc×n block of a row-major B at src (row p at", name),
		fmt.Sprintf("src[p*ld:]) for the dot kernels: chunk q of %d k steps at dst[%d*n*q:],", lanes, lanes),
		fmt.Sprintf("its column j at dst[%d*(n*q+j):] (a gather of %d rows), zero beyond kc;", lanes, lanes),
		fmt.Sprintf("%d·ld must fit in 31 bits.", lanes))
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64()).(GPVirtual)
	ld := Load(Param("ld"), GP64()).(GPVirtual)
	chunks := Load(Param("kc"), GP64()).(GPVirtual)
	n := Load(Param("n"), GP64()).(GPVirtual)
	// idx: the row offsets 0, ld, ..., (lanes-1)·ld, in elements.
	idx := s.vec()
	if s.kmask {
		VPBROADCASTD(ld.As32(), idx)
	} else {
		x := XMM()
		VMOVQ(ld, x)
		VPBROADCASTD(x, idx)
	}
	VPMULLD(konstTable("dotrows", []uint32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}), idx, idx)
	step := GP64()
	MOVQ(ld, step)
	SHLQ(U8(bits.TrailingZeros(uint(4*lanes))), step) // a chunk of rows
	rest := GP64()
	MOVQ(chunks, rest)
	ANDQ(U8(uint8(lanes-1)), rest)
	SHRQ(U8(bits.TrailingZeros(uint(lanes))), chunks)

	// column copies the n columns of one chunk, gathering the lanes that
	// mask (called before each gather, which clears its mask) sets.
	column := func(label string, mask func() Op) {
		col, j := GP64(), GP64()
		MOVQ(src, col)
		MOVQ(n, j)
		Label(label)
		v := s.vec()
		VXORPS(v, v, v)
		if s.kmask {
			VGATHERDPS(Mem{Base: col, Index: idx, Scale: 4}, mask(), v)
		} else {
			VGATHERDPS(mask(), Mem{Base: col, Index: idx, Scale: 4}, v)
		}
		VMOVUPS(v, Mem{Base: dst})
		ADDQ(U8(uint8(s.bytes)), dst)
		ADDQ(U8(4), col)
		DECQ(j)
		JNZ(LabelRef(label))
	}
	// all sets every lane; first sets the first rest ones.
	var all, first func() Op
	if s.kmask {
		t := GP64()
		MOVQ(I32(-1), t)
		BZHIQ(rest, t, t)
		all = func() Op { km := K(); KXNORW(km, km, km); return km }
		first = func() Op { km := K(); KMOVW(t.As32(), km); return km }
	} else {
		w := GP64()
		MOVQ(rest, w)
		addr := maskRowAddr(w)
		all = func() Op { m := s.vec(); VPCMPEQD(m, m, m); return m }
		first = func() Op { m := s.vec(); VMOVUPS(Mem{Base: addr}, m); return m }
	}
	TESTQ(chunks, chunks)
	JZ(LabelRef(name + "_tail"))
	Label(name + "_chunk")
	column(name+"_col", all)
	ADDQ(step, src)
	DECQ(chunks)
	JNZ(LabelRef(name + "_chunk"))
	Label(name + "_tail")
	TESTQ(rest, rest)
	JZ(LabelRef(name + "_done"))
	column(name+"_tailcol", first)
	Label(name + "_done")
	VZEROUPPER()
	RET()
}

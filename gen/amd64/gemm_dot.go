package main

import (
	"fmt"

	"github.com/actfuse/actfuse/internal/desc"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The dot kernels (desc.DotTile): a C of n ≤ Dot.MaxN columns as dot
// products along k, for AVX-512.
//
//	GemmDot<n>(kc, m int, a *float32, lda int, b, c *float32, ldc int, bias, y *float32, ldy, flags int, p *[4]float32)
//
// computes the m×n block C = epilogue(A·B) of one k block of kc steps:
// A row-major (row i at a[i*lda:], kc values read), B packed by
// GemmPackDot (chunk q of 16 k steps at b[16*n*q:], its column j at
// b[16*(n*q+j):], zero beyond kc). Rows go DotRows(n) at a time; each row
// keeps one accumulator per column, whose 16 lanes sum the k steps
// p ≡ lane mod 16 in increasing p (the last chunk's lanes beyond kc load
// A as zero), and a tree of shuffles and additions then gives the row's n
// sums in the lanes 0..n-1 of one vector (reduceLanes). The epilogue is
// that of the micro-kernels (kernel.epilogue, the flags of
// kernels/gemm.go) on those vectors, as rows of a tile one vector wide,
// stored under the mask of n lanes. The last rows of m that fill no whole
// group of rows read row 0 of the group again in place of the rows beyond
// m, whose results are never stored: nothing outside the m×kc block of A,
// the m×n block of C and Y, and n bias values is touched.

// genDots emits the dot kernels of im (n = 1..im.Dot.MaxN) and their packer.
func genDots(s *isa, im *desc.Impl) {
	if s.lanes() != 16 {
		panic(fmt.Sprintf("amd64: %s: the dot kernels' reduction is written for 16 lanes", s.name))
	}
	for n := 1; n <= im.Dot.MaxN; n++ {
		genDot(s, n, im.DotRows(n))
	}
	genDotPack(s)
}

func genDot(s *isa, n, rows int) {
	name := fmt.Sprintf("GemmDot%d", n)
	TEXT(name, NOSPLIT, "func(kc, m int, a *float32, lda int, b, c *float32, ldc int, bias, y *float32, ldy, flags int, p *[4]float32)")
	Doc(fmt.Sprintf("%s computes the m×%d block C = epilogue(A·B) of one k block as dot products", name, n),
		fmt.Sprintf("along k, %d rows at a time, from a row-major A and a B packed by", rows),
		"GemmPackDot; see gen/amd64/gemm_dot.go for the layout and kernels/gemm.go",
		"for the flags.")
	k := &kernel{s: s, name: name, mr: rows, nrows: rows, nr: s.lanes(), vecs: 1}
	loc := AllocLocal(4 * s.bytes)
	for i := 0; i < 4; i++ {
		k.params = append(k.params, loc.Offset(s.bytes*i))
	}
	k.loadParams()

	// The opmasks: the n columns of C, and the k steps of the last chunk.
	t := GP64()
	MOVL(U32(uint32(1)<<n-1), t.As32())
	cols := K()
	KMOVW(t.As32(), cols)
	k.maskK = []Op{cols}
	rest := Load(Param("kc"), GP64())
	ANDQ(U8(15), rest)
	MOVQ(I32(-1), t)
	BZHIQ(rest, t, t)
	tail := K()
	KMOVW(t.As32(), tail)

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
	SHRQ(U8(4), kcnt) // whole chunks

	// One chunk of 16 k steps: the rows' vectors of A, then each column's
	// vector of B into the rows' accumulators.
	chunk := func(masked bool) {
		av := s.vecs(rows)
		for r, v := range av {
			if masked {
				VMOVUPS_Z(Mem{Base: ar[r]}, tail, v)
			} else {
				VMOVUPS(Mem{Base: ar[r]}, v)
			}
		}
		for j := 0; j < n; j++ {
			bv := s.vec()
			VMOVUPS(Mem{Base: bp, Disp: s.bytes * j}, bv)
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
		ADDQ(U8(64), ar[r])
	}
	ADDQ(U32(uint32(s.bytes*n)), bp)
	DECQ(kcnt)
	JNZ(LabelRef(name + "_kloop"))
	Label(name + "_ktail")
	TESTQ(U32(15), Load(Param("kc"), GP64()))
	JZ(LabelRef(name + "_reduce"))
	chunk(true)
	Label(name + "_reduce")
	k.acc = make([][]VecVirtual, rows)
	for r := range acc {
		k.acc[r] = []VecVirtual{reduceLanes(acc[r])}
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

// reduceLanes returns a vector whose lane j is the sum of the 16 lanes of
// vs[j] (at most 16 vectors; the lanes from len(vs) on hold partial sums
// of no meaning). It is the transposition-reduction of four levels, each
// adding two halves of every vector's lanes while merging two vectors into
// one: 256-bit halves (VSHUFF32X4), 128-bit quarters (VSHUFF32X4), pairs of
// lanes and single lanes (VSHUFPS in each 128-bit block). Vector j enters
// at slot 4·(j mod 4) + j/4, which the four levels bring to lane j. A
// vector whose partner slot is empty is merged with itself, in one shuffle
// where the level's first operation already has its halves in place: the
// empty slot's lanes then receive sums that are never used.
func reduceLanes(vs []VecVirtual) VecVirtual {
	if len(vs) > 16 {
		panic("amd64: reduceLanes of more than 16 vectors")
	}
	cur := make([]VecVirtual, 16)
	for j, v := range vs {
		cur[4*(j%4)+j/4] = v
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
				t := ZMM()
				l.shuf(U8(imm), x, x, t)
				VADDPS(t, x, t)
				next[i] = t
			default:
				if a == nil {
					a = b
				} else if b == nil {
					b = a
				}
				lo, hi := ZMM(), ZMM()
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

// genDotPack emits GemmPackDot, which packs one k block of a row-major B
// for the dot kernels.
func genDotPack(s *isa) {
	TEXT("GemmPackDot", NOSPLIT, "func(dst, src *float32, ld, kc, n int)")
	Doc("GemmPackDot packs the kc×n block of a row-major B at src (row p at",
		"src[p*ld:]) for the dot kernels: chunk q of 16 k steps at dst[16*n*q:],",
		"its column j at dst[16*(n*q+j):] (a gather of 16 rows), zero beyond kc;",
		"16·ld must fit in 31 bits.")
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64()).(GPVirtual)
	ld := Load(Param("ld"), GP64()).(GPVirtual)
	chunks := Load(Param("kc"), GP64()).(GPVirtual)
	n := Load(Param("n"), GP64()).(GPVirtual)
	// idx: the row offsets 0, ld, ..., 15·ld, in elements.
	idx := ZMM()
	VPBROADCASTD(ld.As32(), idx)
	VPMULLD(konstTable("dotrows", []uint32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}), idx, idx)
	step := GP64()
	MOVQ(ld, step)
	SHLQ(U8(6), step) // 16 rows
	rest := GP64()
	MOVQ(chunks, rest)
	ANDQ(U8(15), rest)
	SHRQ(U8(4), chunks)
	full := GP64()
	MOVQ(I32(0xffff), full)

	// column copies the n columns of one chunk under the lanes of mask.
	column := func(label string, mask GPVirtual) {
		col, j := GP64(), GP64()
		MOVQ(src, col)
		MOVQ(n, j)
		Label(label)
		km := K()
		KMOVW(mask.As32(), km)
		v := ZMM()
		VXORPS(v, v, v)
		VGATHERDPS(Mem{Base: col, Index: idx, Scale: 4}, km, v)
		VMOVUPS(v, Mem{Base: dst})
		ADDQ(U8(64), dst)
		ADDQ(U8(4), col)
		DECQ(j)
		JNZ(LabelRef(label))
	}
	TESTQ(chunks, chunks)
	JZ(LabelRef("packdot_tail"))
	Label("packdot_chunk")
	column("packdot_col", full)
	ADDQ(step, src)
	DECQ(chunks)
	JNZ(LabelRef("packdot_chunk"))
	Label("packdot_tail")
	TESTQ(rest, rest)
	JZ(LabelRef("packdot_done"))
	m := GP64()
	MOVQ(I32(-1), m)
	BZHIQ(rest, m, m)
	column("packdot_tailcol", m)
	Label("packdot_done")
	VZEROUPPER()
	RET()
}

package main

import (
	"fmt"
	"math/bits"
	"slices"

	"github.com/actfuse/actfuse/internal/desc"

	. "github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/ir"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The GEMM group: the register-tile micro-kernels of the amd64
// implementations (desc.Impls: AVX2 6×16 on ymm; AVX-512 6×64 on zmm and,
// for products of at most 16 columns, 16×16), their edge, tail and strided
// variants, with the fused epilogue; the dot kernels of the products of
// fewer columns (gemm_dot.go); the FMA peak probes; the packers.
// One generator serves both widths and every tile shape: a row of the tile
// is one or more vectors, and masked edges use a mask row (AVX2) or an
// opmask (AVX-512).
//
// Micro-kernel contract (mirrored by kernels/gemm.go):
//
//	Gemm<MR>x<NR>(kc, m, nr int, a, b, bsrc *float32, ldb int, c *float32, ldc int, bias, y *float32, ldy, flags int, p *[4]float32)
//
// sweeps ceil(m/MR) tiles of MR rows down one column panel of C. For each
// tile it forms Z = Apanel·Bpanel over kc steps, where the packed A
// micro-panel holds MR values per step (a[p*MR+i]) and the packed B panel
// holds NR values per step (b[p*NR+j]); consecutive tiles read consecutive
// A micro-panels and the same B panel. Then, while Z is in registers:
//
//	flags&gemmAccumulate: Z += C
//	flags&gemmBackward:   C = Z ⊙ act'(Y)
//	otherwise:            C = act(Z [+ bias])  (bias when flags&gemmBias)
//
// where act = flags>>8 (a desc.Func) and p its parameters (an AVX-512 main
// tile may apply act to a stored tile during the next tile's sweep, unless
// flags&desc.FlagNoOverlap; see gemm_overlap.go). Only the first
// nr ≤ NR columns and, in the last tile, the first m mod MR rows are read or
// written (masked loads and stores), so no memory outside the m×nr block of
// C, Y and bias is touched. With bsrc not nil the sweep also copies the next
// B panel (row-major, or transposed with flags&gemmTransCopy) into
// b[NR*kc:]; see genKernel. An edge tile Gemm<E>x<NR> computes E < MR rows
// from the same MR-row packed micro-panels; a tail tile Gemm<T>x<NR>P<T>
// (desc.Tile.Tail) is the main kernel of T rows on T-row micro-panels, for
// the last rows the driver packs so. Gemm<MR>x<NR>S reads an
// unpacked, row-major A (a[i*lda+p]) and reads rows of A only below m, so m
// must be a multiple of MR for it unless the caller pads A.
const (
	gemmAccumulate = desc.FlagAccumulate
	gemmBias       = desc.FlagBias
	gemmBackward   = desc.FlagBackward
	gemmTransCopy  = desc.FlagTransCopy // bsrc is a transposed panel (see genKernel)
	gemmActShift   = desc.ActShift
)

func init() { groups["gemm"] = genGemm }

// gemmConst is the column mask table of the AVX2 kernels and packers:
// maskWords all-ones words, then maskWords zero words; w ones followed by
// zeros start at gemmConst+4·(maskWords-w).
var gemmConst Mem

// maskWords is the widest masked row: the NR of every amd64 implementation.
const maskWords = 64

// maskRowAddr returns a register holding &gemmConst[maskWords-w], the row
// whose first w words are ones, for w in a register (which it scales by 4).
func maskRowAddr(w Register) GPVirtual {
	tab := GP64()
	LEAQ(gemmConst.Offset(4*maskWords), tab) // start of the zero half
	SHLQ(U8(2), w)
	SUBQ(w, tab)
	return tab
}

func genGemm() {
	gemmConst = GLOBL("gemmconst", RODATA|NOPTR)
	for i := 0; i < 2*maskWords; i++ {
		v := uint32(0)
		if i < maskWords {
			v = 0xffffffff
		}
		DATA(4*i, U32(v))
	}
	for _, s := range []*isa{avx2, avx512} {
		im := desc.ImplByName(s.name)
		tiles := []desc.Tile{im.Tile}
		if im.Narrow != nil {
			tiles = append(tiles, *im.Narrow)
		}
		for _, t := range tiles {
			if t.NR%s.lanes() != 0 || t.NR > maskWords {
				panic(fmt.Sprintf("amd64: %s: the kernels hold a row of the tile in whole vectors, at most %d values, NR = %d", s.name, maskWords, t.NR))
			}
			if !t.PacksB || !t.Strided {
				panic(fmt.Sprintf("amd64: %s: every tile copies B panels in its sweep and has a strided variant", s.name))
			}
			name := fmt.Sprintf("Gemm%dx%d", t.MR, t.NR)
			genKernel(s, name, t.MR, t.NR, t.MR, false)
			genKernel(s, name+"S", t.MR, t.NR, t.MR, true)
			for _, e := range t.Edges {
				genKernel(s, fmt.Sprintf("Gemm%dx%d", e, t.NR), t.MR, t.NR, e, false)
			}
			genPackers(t.MR, t.NR)
			if t.Tail > 0 {
				genKernel(s, fmt.Sprintf("Gemm%dx%dP%d", t.Tail, t.NR, t.Tail), t.Tail, t.NR, t.Tail, false)
				packOnce(fmt.Sprint("PackT", t.Tail), func() { genPackT(t.Tail) })
			}
		}
		if im.Dot != nil {
			genDots(s, im)
		}
		genPeak(s)
		genDivPeak(s)
		genClock(s)
	}
	genClock(nil)
}

// kUnroll is the unroll of the micro-kernels' k loops.
const kUnroll = 4

// kernel holds the registers of one micro-kernel being generated.
type kernel struct {
	s       *isa
	name    string
	strided bool
	mr      int // rows of a packed A micro-panel
	nrows   int // rows of the register tile
	nr      int // columns of the tile: vecs vectors
	vecs    int
	acc     [][]VecVirtual
	cp, yp  GPVirtual // current tile of C and Y
	mcnt    GPVirtual // rows left, including the current tile
	maskRow []Mem     // AVX2: local copies of the column masks
	maskK   []Op      // AVX-512: the column masks
	maskMem []Mem     // AVX-512, rows of more than 2 vectors: the masks' words
	params  []Mem     // local broadcast rows of the activation's parameters
	ov      overlap   // the pending tile of an overlapped activation
}

// rowBytes is the size of one step of a packed B panel.
func (k *kernel) rowBytes() int { return 4 * k.nr }

func genKernel(s *isa, name string, mr, nr, nrows int, strided bool) {
	sig := "func(kc, m, nr int, a, b, bsrc *float32, ldb int, c *float32, ldc int, bias, y *float32, ldy, flags int, p *[4]float32)"
	if strided {
		sig = "func(kc, m, nr int, a *float32, lda int, b, c *float32, ldc int, bias, y *float32, ldy, flags int, p *[4]float32)"
	}
	TEXT(name, NOSPLIT, sig)
	main := fmt.Sprintf("Gemm%dx%d", mr, nr)
	switch {
	case nrows != mr:
		Doc(fmt.Sprintf("%s is %s with a %d×%d register tile reading the same %d-row packed A", name, main, nrows, nr, mr),
			fmt.Sprintf("micro-panels: for the last rows of a panel, at %d/%d of the cost of a %d-row tile", nrows, mr, mr),
			"and the same results.")
	case strided:
		Doc(fmt.Sprintf("%s is %s reading A unpacked: row i of the tile at a[i*lda:],", name, main),
			fmt.Sprintf("with m a multiple of %d or rows padded by the caller.", mr))
	default:
		Doc(fmt.Sprintf("%s computes ceil(m/%d) tiles of %d×nr of C = epilogue(A·B) down one", name, mr, mr),
			fmt.Sprintf("column panel from a packed A (%d values per k step, one micro-panel per", mr),
			fmt.Sprintf("tile) and a packed B panel (%d values per k step) on %s; see kernels/gemm.go", nr, s.name),
			"for the contract and the flags. When bsrc is not nil, the sweep also copies",
			fmt.Sprintf("the next B panel into the packed panel that follows b (b[%d*kc:]), one", nr),
			fmt.Sprintf("piece per 4 k steps: the kc×%d row-major panel at bsrc (row p at", nr),
			"bsrc[p*ldb:]), one row at a time, or with flags&gemmTransCopy the",
			fmt.Sprintf("transposed panel of %d rows of kc values (row j at bsrc[j*ldb:], kc a", nr),
			"multiple of 4), one 4×4 block at a time.")
	}
	k := &kernel{s: s, name: name, strided: strided, mr: mr, nrows: nrows, nr: nr, vecs: nr / s.lanes()}
	w := s.bytes

	// Locals: the AVX2 column masks (a vector each), the broadcast
	// parameters, the overlap's row step and, for AVX-512 rows of more than
	// two vectors, the opmask words (8 bytes each): the 7 opmask registers
	// cannot hold them beside the activations' masks, so each masked access
	// loads its mask (a KMOVW, at the edge tiles only).
	maskVecs, memMasks := 0, 0
	if !s.kmask {
		maskVecs = k.vecs
	} else if k.vecs > 2 {
		memMasks = k.vecs
	}
	paramOff := maskVecs * w
	stepOff := paramOff + 4*w
	kmaskOff := stepOff + 8
	loc := AllocLocal(kmaskOff + 8*memMasks)
	for i := 0; i < 4; i++ {
		k.params = append(k.params, loc.Offset(paramOff+w*i))
	}
	{
		nrr := Load(Param("nr"), GP64())
		if s.kmask {
			// The first nr bits, in 16-lane vectors.
			t := GP64()
			MOVQ(I32(-1), t)
			BZHIQ(nrr, t, t)
			for h := 0; h < k.vecs; h++ {
				if memMasks > 0 {
					m := loc.Offset(kmaskOff + 8*h)
					MOVQ(t, m)
					k.maskMem = append(k.maskMem, m)
				} else {
					km := K()
					KMOVW(t.As32(), km)
					k.maskK = append(k.maskK, km)
				}
				if h < k.vecs-1 {
					SHRQ(U8(16), t)
				}
			}
		} else {
			for h := 0; h < k.vecs; h++ {
				k.maskRow = append(k.maskRow, loc.Offset(w*h))
			}
			tab := maskRowAddr(nrr)
			t := s.vec()
			for h := 0; h < k.vecs; h++ {
				VMOVUPS(Mem{Base: tab, Disp: w * h}, t)
				VMOVUPS(t, k.maskRow[h])
			}
		}
		k.loadParams()
	}

	// A: the packed micro-panels (ap), or the rows of an unpacked A, three
	// to a base register (abase[0] at row 0, abase[1] at row 3, ...).
	var ap, atile, lda4 GPVirtual
	var abase []GPVirtual
	if strided {
		atile = Load(Param("a"), GP64()).(GPVirtual)
		lda4 = Load(Param("lda"), GP64()).(GPVirtual)
		SHLQ(U8(2), lda4)
		for i := 0; i < (nrows+2)/3; i++ {
			abase = append(abase, GP64())
		}
	} else {
		ap = Load(Param("a"), GP64()).(GPVirtual)
	}
	k.cp = Load(Param("c"), GP64()).(GPVirtual)
	k.yp = Load(Param("y"), GP64()).(GPVirtual)
	k.mcnt = Load(Param("m"), GP64()).(GPVirtual)
	bp := GP64()
	kcnt := GP64()
	// Copy of the next B panel during the sweep: bs (source, rows ldb4
	// bytes apart), bn (the packed panel after b), prow pieces left.
	var bs, bn, prow, ldb4, ld3 GPVirtual
	fp, err := Param("flags").Resolve()
	if err != nil {
		panic(err)
	}
	flagsAddr := fp.Addr
	if !strided {
		bs = Load(Param("bsrc"), GP64()).(GPVirtual)
		ldb4 = Load(Param("ldb"), GP64()).(GPVirtual)
		SHLQ(U8(2), ldb4)
		ld3 = GP64()
		LEAQ(Mem{Base: ldb4, Index: ldb4, Scale: 2}, ld3) // 3 rows of bsrc
		// Pieces: kc rows of a row-major panel, or kc/4·NR/4 blocks of 4×4
		// of a transposed one.
		prow = GP64()
		XORQ(prow, prow)
		TESTQ(bs, bs)
		JZ(LabelRef(name + "_nocopy"))
		Load(Param("kc"), prow)
		if nr > 16 {
			TESTQ(U32(gemmTransCopy), flagsAddr)
			JZ(LabelRef(name + "_nocopy"))
			SHLQ(U8(bits.TrailingZeros(uint(nr/16))), prow)
		}
		Label(name + "_nocopy")
		bn = Load(Param("kc"), GP64()).(GPVirtual)
		SHLQ(U8(bits.TrailingZeros(uint(k.rowBytes()))), bn)
		bParam, err := Param("b").Resolve()
		if err != nil {
			panic(err)
		}
		ADDQ(bParam.Addr, bn)
	}
	k.acc = make([][]VecVirtual, nrows)
	for r := range k.acc {
		k.acc[r] = s.vecs(k.vecs)
	}

	if k.ov.funcs = k.overlapFuncs(); k.ov.funcs != nil {
		k.initOverlap(loc.Offset(stepOff))
	}

	CMPQ(k.mcnt, U8(0))
	JLE(LabelRef(name + "_copytail"))

	Label(name + "_tile")
	for r := 0; r < nrows; r++ {
		for h := 0; h < k.vecs; h++ {
			VXORPS(k.acc[r][h], k.acc[r][h], k.acc[r][h])
		}
	}
	Load(Param("b"), bp)
	Load(Param("kc"), kcnt)
	if strided {
		MOVQ(atile, abase[0])
		for i := 1; i < len(abase); i++ {
			LEAQ(Mem{Base: abase[i-1], Index: lda4, Scale: 2}, abase[i])
			ADDQ(lda4, abase[i])
		}
	}
	// Prefetch the C tile of the next sweep step into L2 (its rows are often
	// 4 KiB apart, which would conflict in one L1 set), and, in the
	// backward epilogue (flags&gemmBackward), its Y tile (128×512×784 A·Bᵀ
	// ⊙ relu′(Y), 3 alternated rounds: avx2 113.1 → 114.9 GFLOP/s, avx512
	// unchanged).
	k.prefetchNext(k.cp, "ldc")
	lNoY := k.label("noyprefetch")
	TESTQ(U32(gemmBackward), flagsAddr)
	JZ(LabelRef(lNoY))
	k.prefetchNext(k.yp, "ldy")
	Label(lNoY)

	// copyPiece copies one piece of the next B panel: a row of the
	// row-major source, or a 4×4 block of the transposed one. The blocks go
	// across the panel (4 rows of the source, 16 bytes of the packed rows)
	// and then down 4 k steps, so that the source pointer walks 4 source
	// rows at a time and returns to row 0 every NR/4 blocks; 4 xmm
	// registers beside the accumulators hold the transpose, whose second
	// operands come straight from memory.
	copyPiece := func() {
		lRow, lDone := k.label("copyrow"), k.label("copied")
		rb := k.rowBytes()
		TESTQ(U32(gemmTransCopy), flagsAddr)
		JZ(LabelRef(lRow))
		{
			x0, x1, t0, t1 := XMM(), XMM(), XMM(), XMM()
			// The rows' next cache lines, used 4 blocks down the panel.
			PREFETCHT0(Mem{Base: bs, Disp: 64})
			PREFETCHT0(Mem{Base: bs, Index: ldb4, Scale: 1, Disp: 64})
			PREFETCHT0(Mem{Base: bs, Index: ldb4, Scale: 2, Disp: 64})
			PREFETCHT0(Mem{Base: bs, Index: ld3, Scale: 1, Disp: 64})
			VMOVUPS(Mem{Base: bs}, x0)                              // row 0: k0..k3
			VMOVUPS(Mem{Base: bs, Index: ldb4, Scale: 2}, x1)       // row 2
			VUNPCKLPS(Mem{Base: bs, Index: ldb4, Scale: 1}, x0, t0) // r0k0 r1k0 r0k1 r1k1
			VUNPCKHPS(Mem{Base: bs, Index: ldb4, Scale: 1}, x0, x0) // r0k2 r1k2 r0k3 r1k3
			VUNPCKLPS(Mem{Base: bs, Index: ld3, Scale: 1}, x1, t1)  // r2k0 r3k0 r2k1 r3k1
			VUNPCKHPS(Mem{Base: bs, Index: ld3, Scale: 1}, x1, x1)  // r2k2 r3k2 r2k3 r3k3
			for q, pair := range [][2]VecVirtual{{t0, t1}, {x0, x1}} {
				VMOVLPS(pair[0], Mem{Base: bn, Disp: 2 * q * rb})
				VMOVLPS(pair[1], Mem{Base: bn, Disp: 2*q*rb + 8})
				VMOVHPS(pair[0], Mem{Base: bn, Disp: (2*q + 1) * rb})
				VMOVHPS(pair[1], Mem{Base: bn, Disp: (2*q+1)*rb + 8})
			}
			LEAQ(Mem{Base: bs, Index: ldb4, Scale: 4}, bs)
			ADDQ(U8(16), bn)
			DECQ(prow)
			TESTQ(U32(uint32(k.nr/4-1)), prow)
			JNZ(LabelRef(lDone))
			// Across the panel: back NR source rows and on 4 k steps.
			t := GP64()
			MOVQ(ldb4, t)
			SHLQ(U8(bits.TrailingZeros(uint(k.nr))), t)
			SUBQ(t, bs)
			ADDQ(U8(16), bs)
			ADDQ(U32(uint32(3*rb)), bn)
			JMP(LabelRef(lDone))
		}
		Label(lRow)
		{
			t := s.vec()
			PREFETCHT0(Mem{Base: bs, Index: ldb4, Scale: 8})
			for h := 0; h < k.vecs; h++ {
				VMOVUPS(Mem{Base: bs, Disp: w * h}, t)
				VMOVUPS(t, Mem{Base: bn, Disp: w * h})
			}
			ADDQ(ldb4, bs)
			ADDQ(U32(uint32(rb)), bn)
			DECQ(prow)
		}
		Label(lDone)
	}
	step := func(u int) {
		bv := s.vecs(k.vecs)
		for h, v := range bv {
			VMOVUPS(Mem{Base: bp, Disp: k.rowBytes()*u + w*h}, v)
		}
		for r := 0; r < nrows; r++ {
			var src Mem
			if strided {
				base, rr := abase[r/3], r%3
				src = Mem{Base: base, Disp: 4 * u}
				if rr > 0 {
					src = Mem{Base: base, Index: lda4, Scale: uint8(rr), Disp: 4 * u}
				}
			} else {
				src = Mem{Base: ap, Disp: 4 * (mr*u + r)}
			}
			if s.kmask && len(bv) == 1 {
				// A row of one zmm: the FMA broadcasts its A value from
				// memory itself. On Zen 4 a VBROADCASTSS into a zmm
				// takes a slot of the vector pipes, so the narrow tile
				// (one broadcast per FMA) ran its kernel at 72% of the
				// FMA peak against 97% with the embedded broadcast
				// (128×512×10: 47.1 → 63.5 GFLOP/s). The two-vector rows
				// keep one broadcast for two FMAs: two embedded
				// broadcasts there measured no faster.
				VFMADD231PS_BCST(src, bv[0], k.acc[r][0])
				continue
			}
			t := s.vec()
			VBROADCASTSS(src, t)
			for h, v := range bv {
				VFMADD231PS(v, t, k.acc[r][h])
			}
		}
	}
	advance := func(u int) {
		if strided {
			for _, b := range abase {
				ADDQ(U32(uint32(4*u)), b)
			}
		} else {
			ADDQ(U32(uint32(4*mr*u)), ap)
		}
		ADDQ(U32(uint32(k.rowBytes()*u)), bp)
	}

	// One unrolled iteration of the k loop, with mid (an overlapped
	// activation's vector, or nothing) after its second step.
	iteration := func(mid func()) {
		for u := 0; u < kUnroll; u++ {
			step(u)
			if u == 1 {
				mid()
			}
		}
		if !strided {
			// One piece of the next B panel per unrolled iteration.
			lSkip := k.label("nocopyrow")
			TESTQ(prow, prow)
			JZ(LabelRef(lSkip))
			copyPiece()
			Label(lSkip)
		}
		advance(kUnroll)
	}
	if k.ov.funcs != nil {
		TESTQ(k.ov.pendCnt, k.ov.pendCnt)
		JNZ(LabelRef(name + "_pending"))
	}
	Label(name + "_kcheck")
	CMPQ(kcnt, U8(kUnroll))
	JL(LabelRef(name + "_ktail"))
	// The loop starts on a 64-byte boundary: where it straddles one, the
	// decoded-op cache holds it in one more line (measured: 1024³ 3-4%
	// slower on Zen 4 when the loop began 2 bytes before a boundary).
	pcAlign(64)
	Label(name + "_kloop")
	iteration(func() {})
	SUBQ(U8(kUnroll), kcnt)
	CMPQ(kcnt, U8(kUnroll))
	JGE(LabelRef(name + "_kloop"))
	Label(name + "_ktail")
	TESTQ(kcnt, kcnt)
	JZ(LabelRef(name + "_epi"))
	Label(name + "_kloop1")
	step(0)
	advance(1)
	DECQ(kcnt)
	JNZ(LabelRef(name + "_kloop1"))

	Label(name + "_epi")
	{
		nrr := Load(Param("nr"), GP64())
		CMPQ(nrr, U8(nr))
		JNE(LabelRef(name + "_edge"))
		CMPQ(k.mcnt, U8(nrows))
		JL(LabelRef(name + "_edge"))
	}
	k.epilogue(false)
	JMP(LabelRef(name + "_next"))
	Label(name + "_edge")
	k.epilogue(true)

	Label(name + "_next")
	k.nextRows()
	if strided {
		t := GP64()
		IMUL3Q(U32(uint32(nrows)), lda4, t)
		ADDQ(t, atile)
	}
	SUBQ(U8(nrows), k.mcnt)
	JG(LabelRef(name + "_tile"))

	Label(name + "_copytail")
	if !strided {
		// Pieces of the next B panel the sweep was too short to copy.
		TESTQ(prow, prow)
		JZ(LabelRef(name + "_done"))
		copyPiece()
		JMP(LabelRef(name + "_copytail"))
	}
	Label(name + "_done")
	VZEROUPPER()
	RET()
	if k.ov.funcs != nil {
		k.genOverlapLoops(kcnt, iteration, name+"_kcheck")
	}
}

// prefetchNext prefetches into L2 the rows of the tile after the one at p
// (C or Y, rows ld apart), the tile of the next sweep step.
func (k *kernel) prefetchNext(p GPVirtual, ld string) {
	ld4 := Load(Param(ld), GP64())
	SHLQ(U8(2), ld4)
	q := GP64()
	IMUL3Q(U32(k.nrows), ld4, q)
	ADDQ(p, q)
	for r := 0; r < k.nrows; r++ {
		for off := 0; off < k.rowBytes(); off += 64 {
			PREFETCHT1(Mem{Base: q, Disp: off})
		}
		PREFETCHT1(Mem{Base: q, Disp: k.rowBytes() - 4})
		if r < k.nrows-1 {
			ADDQ(ld4, q)
		}
	}
}

// nextRows advances the pointers to C and Y by the rows of the tile.
func (k *kernel) nextRows() {
	ldc4 := Load(Param("ldc"), GP64())
	IMUL3Q(U32(uint32(4*k.nrows)), ldc4, ldc4)
	ADDQ(ldc4, k.cp)
	ldy4 := Load(Param("ldy"), GP64())
	IMUL3Q(U32(uint32(4*k.nrows)), ldy4, ldy4)
	ADDQ(ldy4, k.yp)
}

// loadParams broadcasts the activation's parameters (*p) into the rows
// k.params.
func (k *kernel) loadParams() {
	t := k.s.vec()
	pp := Load(Param("p"), GP64())
	for i, row := range k.params {
		VBROADCASTSS(Mem{Base: pp, Disp: 4 * i}, t)
		VMOVUPS(t, row)
	}
}

// src returns an operand holding the h-th vector of the row at m: the
// memory itself in a full tile, a masked load into a register at an edge.
func (k *kernel) src(edge bool, m Mem, h int) Op {
	m = m.Offset(k.s.bytes * h)
	if !edge {
		return m
	}
	t := k.s.vec()
	if k.s.kmask {
		VMOVUPS_Z(m, k.kmask(h), t)
		return t
	}
	VMOVUPS(k.maskRow[h], t)
	VMASKMOVPS(m, t, t)
	return t
}

// kmask returns the opmask of vector h of a row: its register, or a
// register just loaded with its word.
func (k *kernel) kmask(h int) Op {
	if k.maskMem == nil {
		return k.maskK[h]
	}
	km := K()
	KMOVW(k.maskMem[h], km)
	return km
}

// load loads vector h of a row at m into v, masked at an edge.
func (k *kernel) load(edge bool, m Mem, h int, v VecVirtual) {
	m = m.Offset(k.s.bytes * h)
	switch {
	case !edge:
		VMOVUPS(m, v)
	case k.s.kmask:
		VMOVUPS_Z(m, k.kmask(h), v)
	default:
		VMOVUPS(k.maskRow[h], v)
		VMASKMOVPS(m, v, v)
	}
}

func (k *kernel) store(edge bool, v VecVirtual, m Mem, h int) {
	m = m.Offset(k.s.bytes * h)
	if !edge {
		VMOVUPS(v, m)
		return
	}
	if k.s.kmask {
		VMOVUPS(v, k.kmask(h), m)
		return
	}
	t := k.s.vec()
	VMOVUPS(k.maskRow[h], t)
	VMASKMOVPS(v, t, m)
}

// rows emits body for each row r of the tile with pointers to row r of the
// matrices at ps (leading dimension parameters lds), advanced from row to
// row; at an edge it stops after the last valid row (mcnt < nrows in the
// last tile).
func (k *kernel) rows(edge bool, label string, ps []GPVirtual, lds []string, body func(r int, rows []Mem)) {
	ptr := make([]GPVirtual, len(ps))
	ld4 := make([]GPVirtual, len(ps))
	for i, p := range ps {
		ptr[i], ld4[i] = GP64(), Load(Param(lds[i]), GP64()).(GPVirtual)
		MOVQ(p, ptr[i])
		SHLQ(U8(2), ld4[i])
	}
	rows := make([]Mem, len(ps))
	for i := range ptr {
		rows[i] = Mem{Base: ptr[i]}
	}
	for r := 0; r < k.nrows; r++ {
		if edge && r > 0 {
			CMPQ(k.mcnt, U8(r))
			JLE(LabelRef(label))
		}
		body(r, rows)
		if r < k.nrows-1 {
			for i := range ptr {
				ADDQ(ld4[i], ptr[i])
			}
		}
	}
	if edge {
		Label(label)
	}
}

// rowLoop emits body once, in a loop over the rows of the tile (at an edge
// only those below mcnt) with a pointer to the row of the matrix at p
// (leading dimension parameter ld): the activations of the stored tile,
// whose code unrolled over the rows would crowd the k loop out of the
// decoded-op cache.
func (k *kernel) rowLoop(edge bool, label string, p GPVirtual, ld string, body func(row Mem)) {
	ptr, ld4, cnt := GP64(), Load(Param(ld), GP64()), GP64()
	MOVQ(p, ptr)
	SHLQ(U8(2), ld4)
	MOVQ(U32(uint32(k.nrows)), cnt)
	if edge {
		CMPQ(k.mcnt, cnt)
		CMOVQLT(k.mcnt, cnt)
	}
	Label(label)
	body(Mem{Base: ptr})
	ADDQ(ld4, ptr)
	DECQ(cnt)
	JNZ(LabelRef(label))
}

var labelSeq int

func (k *kernel) label(s string) string {
	labelSeq++
	return fmt.Sprintf("%s_%s_%d", k.name, s, labelSeq)
}

func (k *kernel) epilogue(edge bool) {
	flags := Load(Param("flags"), GP64())
	lStore := k.label("store")
	lNoAcc := k.label("noacc")
	lBwd := k.label("bwd")
	lNext := k.label("epidone")

	TESTQ(U32(gemmAccumulate), flags)
	JZ(LabelRef(lNoAcc))
	k.rows(edge, k.label("accrows"), []GPVirtual{k.cp}, []string{"ldc"}, func(r int, c []Mem) {
		for h := 0; h < k.vecs; h++ {
			VADDPS(k.src(edge, c[0], h), k.acc[r][h], k.acc[r][h])
		}
	})
	Label(lNoAcc)
	flags = Load(Param("flags"), GP64())
	TESTQ(U32(gemmBackward), flags)
	JNZ(LabelRef(lBwd))

	// Forward: bias, then the activation.
	lNoBias := k.label("nobias")
	TESTQ(U32(gemmBias), flags)
	JZ(LabelRef(lNoBias))
	{
		bias := Load(Param("bias"), GP64())
		bm := Mem{Base: bias}
		bv := make([]Op, k.vecs)
		for h := 0; h < k.vecs; h++ {
			bv[h] = k.src(edge, bm, h)
		}
		for r := 0; r < k.nrows; r++ {
			for h := 0; h < k.vecs; h++ {
				VADDPS(bv[h], k.acc[r][h], k.acc[r][h])
			}
		}
	}
	Label(lNoBias)
	act := flags
	SHRQ(U8(gemmActShift), act)
	// The activation runs on one accumulator at a time, in row order, and
	// each result is stored at once: the other accumulators stay in their
	// registers, and the out-of-order core overlaps the chains of
	// consecutive accumulators. A program that needs more registers than
	// the accumulators leave (or, on AVX-512, has minHoisted constants or
	// more) runs on the tile stored to C and read back, a row's vectors
	// together where they fit, or, in the AVX-512 main tile, during the next
	// tile's sweep (gemm_overlap.go).
	free := k.s.regs() - k.vecs*k.nrows
	for f, d := range desc.Funcs {
		if d.Forward == nil {
			continue
		}
		skip := k.label("not" + d.Name)
		CMPQ(act, U8(f))
		JNE(LabelRef(skip))
		fwd := k.s.program(d.Forward)
		l := newLower(k.s)
		l.paramRows = k.params
		// AVX-512: a program with many constants runs on the stored tile,
		// with the accumulators' registers holding its constants, as the
		// elementwise loops do (each constant left in memory is a load per
		// vector).
		stored := k.storedAct(d)
		if fwd.MaxLive() <= free && !stored {
			k.rows(edge, k.label("fwd"+d.Name), []GPVirtual{k.cp}, []string{"ldc"}, func(r int, c []Mem) {
				for h := 0; h < k.vecs; h++ {
					res := l.emit(fwd, [][]VecVirtual{{k.acc[r][h]}})[0][0]
					k.store(edge, res, c[0], h)
				}
			})
		} else {
			k.rows(edge, k.label("spill"+d.Name), []GPVirtual{k.cp}, []string{"ldc"}, func(r int, c []Mem) {
				for h := 0; h < k.vecs; h++ {
					k.store(edge, k.acc[r][h], c[0], h)
				}
			})
			if !edge && slices.Contains(k.ov.funcs, desc.Func(f)) {
				// A next tile in this sweep, long enough: it activates
				// this one.
				lLast := k.label("lasttile")
				TESTQ(U32(desc.FlagNoOverlap), Load(Param("flags"), GP64()))
				JNZ(LabelRef(lLast))
				CMPQ(k.mcnt, U8(k.nrows))
				JLE(LabelRef(lLast))
				CMPQ(Load(Param("kc"), GP64()), U8(k.pendingSteps()))
				JL(LabelRef(lLast))
				k.setPending()
				JMP(LabelRef(lNext))
				Label(lLast)
			}
			// The accumulators are dead: the lowering takes their registers.
			for _, a := range k.acc {
				l.free = append(l.free, a...)
			}
			// The vectors of a row go through the program together, beside
			// as many of its constants as the registers hold.
			g := 1
			if spareRegs(k.s, fwd, 0, k.vecs) >= 0 {
				g = k.vecs
			}
			if stored {
				l.hoist(hoistable(fwd, spareRegs(k.s, fwd, 0, g))...)
			}
			k.rowLoop(edge, k.label("fwd"+d.Name), k.cp, "ldc", func(c Mem) {
				for h0 := 0; h0 < k.vecs; h0 += g {
					vs := make([]VecVirtual, g)
					for i := range vs {
						vs[i] = l.newVec()
						k.load(edge, c, h0+i, vs[i])
					}
					for i, v := range l.emit(fwd, [][]VecVirtual{vs})[0] {
						k.store(edge, v, c, h0+i)
					}
				}
			})
		}
		JMP(LabelRef(lNext))
		Label(skip)
	}
	JMP(LabelRef(lStore))

	// Backward: multiply by the derivative computed from Y.
	Label(lBwd)
	{
		act := flags
		SHRQ(U8(gemmActShift), act)
		for f, d := range desc.Funcs {
			if d.Deriv == nil {
				continue
			}
			skip := k.label("bnot" + d.Name)
			CMPQ(act, U8(f))
			JNE(LabelRef(skip))
			deriv := k.s.program(d.Deriv)
			l := newLower(k.s)
			l.paramRows = k.params
			k.rows(edge, k.label("bwd"+d.Name), []GPVirtual{k.cp, k.yp}, []string{"ldc", "ldy"}, func(r int, cy []Mem) {
				for h := 0; h < k.vecs; h++ {
					yv := k.src(edge, cy[1], h)
					yr, ok := yv.(VecVirtual)
					if !ok {
						yr = k.s.vec()
						VMOVUPS(yv, yr)
					}
					k.store(edge, l.emit(deriv, [][]VecVirtual{{k.acc[r][h]}, {yr}})[0][0], cy[0], h)
				}
			})
			JMP(LabelRef(lNext))
			Label(skip)
		}
		JMP(LabelRef(lStore))
	}

	Label(lStore)
	k.rows(edge, k.label("storerows"), []GPVirtual{k.cp}, []string{"ldc"}, func(r int, c []Mem) {
		for h := 0; h < k.vecs; h++ {
			k.store(edge, k.acc[r][h], c[0], h)
		}
	})
	Label(lNext)
}

// pcAlign pads the code to a multiple of n bytes (the Go assembler's
// PCALIGN, which avo has no builder for).
func pcAlign(n int) {
	Instruction(&ir.Instruction{Opcode: "PCALIGN", Operands: []Op{Imm(uint64(n))}})
}

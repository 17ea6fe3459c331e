package main

import (
	"fmt"

	"github.com/actfuse/actfuse/internal/desc"

	. "github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/ir"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The GEMM group: the 6×16 AVX2+FMA micro-kernels with their fused epilogue
// and the FMA peak probe.
//
// Micro-kernel contract (mirrored by kernels/gemm.go):
//
//	Gemm6x16(kc, m, nr int, a, b, bsrc *float32, ldb int, c *float32, ldc int, bias, y *float32, ldy, flags int, alpha float32)
//
// sweeps ceil(m/6) tiles of 6 rows down one column panel of C. For each tile
// it forms Z = Apanel·Bpanel over kc steps, where the packed A micro-panel
// holds 6 values per step (a[p*6+i]) and the packed B panel holds 16 values
// per step (b[p*16+j]); consecutive tiles read consecutive A micro-panels and
// the same B panel. Then, while Z is in registers:
//
//	flags&gemmAccumulate: Z += C
//	flags&gemmBackward:   C = Z ⊙ act'(Y)
//	otherwise:            C = act(Z [+ bias])  (bias when flags&gemmBias)
//
// where act = flags>>8 (a desc.Func) and p its parameters. Only the first nr ≤ 16 columns and, in the last
// tile, the first m mod 6 rows are read or written (masked loads and stores),
// so no memory outside the m×nr block of C, Y and bias is touched. With
// bsrc not nil the sweep also copies the next B panel (row-major, or
// transposed with flags&gemmTransCopy) into b[16*kc:]; see genKernel.
// Gemm6x16S is the same with an unpacked, row-major A (a[i*lda+p]); it reads
// rows of A only below m, so m must be a multiple of 6 for it unless the
// caller pads A.
const (
	gemmAccumulate = desc.FlagAccumulate
	gemmBias       = desc.FlagBias
	gemmBackward   = desc.FlagBackward
	gemmTransCopy  = desc.FlagTransCopy // bsrc is a transposed panel (see genKernel)
	gemmActShift   = desc.ActShift
)

// The register tile of the AVX2 kernel, and the height of its edge tile.
var (
	mr     = desc.ImplByName("avx2").MR
	nr     = desc.ImplByName("avx2").NR
	edgeMR = desc.ImplByName("avx2").EdgeMR
)

// maxTileRows bounds the rows of any register tile of this file.
const maxTileRows = 6

func init() { groups["gemm"] = genGemm }

var (
	gemmConst Mem // column mask table: 16 × -1, then 16 × 0
)

func genGemm() {
	gemmConst = GLOBL("gemmconst", RODATA|NOPTR)
	for i := 0; i < 32; i++ {
		v := uint32(0)
		if i < 16 {
			v = 0xffffffff
		}
		DATA(4*i, U32(v))
	}
	name := fmt.Sprintf("Gemm%dx%d", mr, nr)
	genKernel(name, false, mr)
	genKernel(name+"S", true, mr)
	genKernel(fmt.Sprintf("Gemm%dx%d", edgeMR, nr), false, edgeMR)
	genPeak(avx2)
	genPeak(avx512)
	genPackRows()
	genPackRowsEdge()
	genPackCols6()
	genPackT(6)
	genPackT(16)
}

// kernel holds the registers of one micro-kernel being generated.
type kernel struct {
	name    string
	strided bool
	nrows   int // rows of the register tile: 6, or 4 for the last rows of a panel
	acc     [maxTileRows][2]VecVirtual
	cp, yp  GPVirtual // current tile of C and Y
	mcnt    GPVirtual // rows left, including the current tile
	mask    [2]Mem    // local copies of the column masks
	params  []Mem     // local broadcast rows of the activation's parameters
}

func genKernel(name string, strided bool, nrows int) {
	sig := "func(kc, m, nr int, a, b, bsrc *float32, ldb int, c *float32, ldc int, bias, y *float32, ldy, flags int, p *[4]float32)"
	if strided {
		sig = "func(kc, m, nr int, a *float32, lda int, b, c *float32, ldc int, bias, y *float32, ldy, flags int, p *[4]float32)"
	}
	TEXT(name, NOSPLIT, sig)
	if nrows != mr {
		Doc(name+" is Gemm6x16 with a 4×16 register tile (8 accumulators) reading the",
			"same 6-row packed A micro-panels: for the last m mod 6 <= 4 rows of a",
			"panel, at two thirds of the cost of a 6-row tile and the same results.")
	} else if strided {
		Doc(name+" is Gemm6x16 reading A unpacked: row i of the tile at a[i*lda:],",
			"with m a multiple of 6 or rows padded by the caller.")
	} else {
		Doc(name+" computes ceil(m/6) tiles of 6×nr of C = epilogue(A·B) down one",
			"column panel from a packed A (6 values per k step, one micro-panel per",
			"tile) and a packed B panel (16 values per k step); see kernels/gemm.go for",
			"the contract and the flags. When bsrc is not nil, the sweep also copies",
			"the next B panel into the packed panel that follows b (b[16*kc:]), one",
			"piece per 4 k steps: the kc×16 row-major panel at bsrc (row p at",
			"bsrc[p*ldb:]), one row at a time, or with flags&gemmTransCopy the",
			"transposed panel of 16 rows of kc values (row j at bsrc[j*ldb:], kc a",
			"multiple of 4), one 4×4 block at a time.")
	}
	k := &kernel{name: name, strided: strided, nrows: nrows}

	// Locals: column masks and the broadcast parameters.
	loc := AllocLocal(64 + 4*32)
	k.mask = [2]Mem{loc, loc.Offset(32)}
	for i := 0; i < 4; i++ {
		k.params = append(k.params, loc.Offset(64+32*i))
	}
	{
		nrr := Load(Param("nr"), GP64())
		tab := GP64()
		LEAQ(gemmConst.Offset(64), tab) // start of the zero half
		SHLQ(U8(2), nrr)
		SUBQ(nrr, tab) // &table[16-nr]
		t := YMM()
		VMOVUPS(Mem{Base: tab}, t)
		VMOVUPS(t, k.mask[0])
		VMOVUPS(Mem{Base: tab, Disp: 32}, t)
		VMOVUPS(t, k.mask[1])
		pp := Load(Param("p"), GP64())
		for i, row := range k.params {
			VBROADCASTSS(Mem{Base: pp, Disp: 4 * i}, t)
			VMOVUPS(t, row)
		}
	}

	var ap, atile, lda4, a3 GPVirtual
	if strided {
		atile = Load(Param("a"), GP64()).(GPVirtual)
		lda4 = Load(Param("lda"), GP64()).(GPVirtual)
		SHLQ(U8(2), lda4)
		ap = GP64()
		a3 = GP64()
	} else {
		ap = Load(Param("a"), GP64()).(GPVirtual)
	}
	k.cp = Load(Param("c"), GP64()).(GPVirtual)
	k.yp = Load(Param("y"), GP64()).(GPVirtual)
	k.mcnt = Load(Param("m"), GP64()).(GPVirtual)
	bp := GP64()
	kcnt := GP64()
	// Copy of the next B panel during the sweep: bs (row-major source, rows
	// ldb4 bytes apart), bn (the packed panel after b), prow rows left.
	var bs, bn, prow, ldb4, ld3 GPVirtual
	var flagsAddr Mem
	if !strided {
		bs = Load(Param("bsrc"), GP64()).(GPVirtual)
		ldb4 = Load(Param("ldb"), GP64()).(GPVirtual)
		SHLQ(U8(2), ldb4)
		ld3 = GP64()
		LEAQ(Mem{Base: ldb4, Index: ldb4, Scale: 2}, ld3) // 3 rows of bsrc
		fp, err := Param("flags").Resolve()
		if err != nil {
			panic(err)
		}
		flagsAddr = fp.Addr
		prow = GP64()
		XORQ(prow, prow)
		TESTQ(bs, bs)
		JZ(LabelRef(name + "_nocopy"))
		Load(Param("kc"), prow)
		Label(name + "_nocopy")
		bn = Load(Param("kc"), GP64()).(GPVirtual)
		SHLQ(U8(6), bn) // 16 floats per row
		bParam, err := Param("b").Resolve()
		if err != nil {
			panic(err)
		}
		ADDQ(bParam.Addr, bn)
	}
	for r := 0; r < nrows; r++ {
		k.acc[r] = [2]VecVirtual{YMM(), YMM()}
	}

	CMPQ(k.mcnt, U8(0))
	JLE(LabelRef(name + "_copytail"))

	Label(name + "_tile")
	for r := 0; r < nrows; r++ {
		for h := 0; h < 2; h++ {
			VXORPS(k.acc[r][h], k.acc[r][h], k.acc[r][h])
		}
	}
	Load(Param("b"), bp)
	Load(Param("kc"), kcnt)
	if strided {
		MOVQ(atile, ap)
		LEAQ(Mem{Base: atile, Index: lda4, Scale: 2}, a3)
		ADDQ(lda4, a3)
	}
	// Prefetch the C tile of the next sweep step into L2 (its rows are often
	// 4 KiB apart, which would conflict in one L1 set), and the current one
	// into L1 on the first tile.
	{
		ldc4 := Load(Param("ldc"), GP64())
		SHLQ(U8(2), ldc4)
		c := GP64()
		IMUL3Q(U32(nrows), ldc4, c)
		ADDQ(k.cp, c)
		for r := 0; r < nrows; r++ {
			PREFETCHT1(Mem{Base: c})
			PREFETCHT1(Mem{Base: c, Disp: 60})
			if r < nrows-1 {
				ADDQ(ldc4, c)
			}
		}
	}

	// copyPiece copies one piece of the next B panel: a row of the
	// row-major source, or a 4×4 block of the transposed one. The blocks go
	// across the panel (4 rows of the source, 16 bytes of the packed rows)
	// and then down 4 k steps, so that the source pointer walks 4 source
	// rows at a time and returns to row 0 every 4 blocks; the 4 ymm
	// registers free beside the 12 accumulators hold the transpose, whose
	// second operands come straight from memory.
	copyPiece := func() {
		lRow, lDone := k.label("copyrow"), k.label("copied")
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
				VMOVLPS(pair[0], Mem{Base: bn, Disp: 128 * q})
				VMOVLPS(pair[1], Mem{Base: bn, Disp: 128*q + 8})
				VMOVHPS(pair[0], Mem{Base: bn, Disp: 128*q + 64})
				VMOVHPS(pair[1], Mem{Base: bn, Disp: 128*q + 72})
			}
			LEAQ(Mem{Base: bs, Index: ldb4, Scale: 4}, bs)
			ADDQ(U8(16), bn)
			DECQ(prow)
			TESTQ(U32(3), prow)
			JNZ(LabelRef(lDone))
			// Across the panel: back 16 source rows and on 4 k steps.
			t := GP64()
			MOVQ(ldb4, t)
			SHLQ(U8(4), t)
			SUBQ(t, bs)
			ADDQ(U8(16), bs)
			ADDQ(U32(192), bn)
			JMP(LabelRef(lDone))
		}
		Label(lRow)
		{
			t := YMM()
			PREFETCHT0(Mem{Base: bs, Index: ldb4, Scale: 8})
			VMOVUPS(Mem{Base: bs}, t)
			VMOVUPS(t, Mem{Base: bn})
			VMOVUPS(Mem{Base: bs, Disp: 32}, t)
			VMOVUPS(t, Mem{Base: bn, Disp: 32})
			ADDQ(ldb4, bs)
			ADDQ(U8(64), bn)
			DECQ(prow)
		}
		Label(lDone)
	}
	step := func(u int) {
		b0, b1 := YMM(), YMM()
		VMOVUPS(Mem{Base: bp, Disp: 64 * u}, b0)
		VMOVUPS(Mem{Base: bp, Disp: 64*u + 32}, b1)
		for r := 0; r < nrows; r++ {
			var src Mem
			if strided {
				base := ap
				rr := r
				if r >= 3 {
					base, rr = a3, r-3
				}
				src = Mem{Base: base, Disp: 4 * u}
				if rr > 0 {
					src = Mem{Base: base, Index: lda4, Scale: uint8(rr), Disp: 4 * u}
				}
			} else {
				src = Mem{Base: ap, Disp: 4 * (mr*u + r)}
			}
			t := YMM()
			VBROADCASTSS(src, t)
			VFMADD231PS(b0, t, k.acc[r][0])
			VFMADD231PS(b1, t, k.acc[r][1])
		}
	}
	advance := func(u int) {
		if strided {
			ADDQ(U32(4*u), ap)
			ADDQ(U32(4*u), a3)
		} else {
			ADDQ(U32(4*mr*u), ap)
		}
		ADDQ(U32(4*nr*u), bp)
	}

	const unroll = 4
	CMPQ(kcnt, U8(unroll))
	JL(LabelRef(name + "_ktail"))
	// The loop starts on a 64-byte boundary: where it straddles one, the
	// decoded-op cache holds it in one more line (measured: 1024³ 3-4%
	// slower on Zen 4 when the loop began 2 bytes before a boundary).
	pcAlign(64)
	Label(name + "_kloop")
	for u := 0; u < unroll; u++ {
		step(u)
	}
	if !strided {
		// One piece of the next B panel per unrolled iteration.
		TESTQ(prow, prow)
		JZ(LabelRef(name + "_nocopyrow"))
		copyPiece()
		Label(name + "_nocopyrow")
	}
	advance(unroll)
	SUBQ(U8(unroll), kcnt)
	CMPQ(kcnt, U8(unroll))
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
	{
		// Advance C and Y by nrows rows.
		ldc4 := Load(Param("ldc"), GP64())
		IMUL3Q(U32(4*nrows), ldc4, ldc4)
		ADDQ(ldc4, k.cp)
		ldy4 := Load(Param("ldy"), GP64())
		IMUL3Q(U32(4*nrows), ldy4, ldy4)
		ADDQ(ldy4, k.yp)
	}
	if strided {
		t := GP64()
		LEAQ(Mem{Base: lda4, Index: lda4, Scale: 2}, t)
		SHLQ(U8(1), t)
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
}

// rowAddr returns the addresses of the rows of the current tile of a matrix
// whose tile pointer is p and leading dimension parameter ld.
func rowAddrs(p GPVirtual, ld string) [maxTileRows]Mem {
	ld4 := Load(Param(ld), GP64())
	SHLQ(U8(2), ld4)
	p3 := GP64()
	LEAQ(Mem{Base: p, Index: ld4, Scale: 2}, p3)
	ADDQ(ld4, p3)
	return [maxTileRows]Mem{
		{Base: p}, {Base: p, Index: ld4, Scale: 1}, {Base: p, Index: ld4, Scale: 2},
		{Base: p3}, {Base: p3, Index: ld4, Scale: 1}, {Base: p3, Index: ld4, Scale: 2},
	}
}

// src returns an operand holding the h-th half (8 floats) of the row at m:
// the memory itself in a full tile, a masked load into a register at an edge.
func (k *kernel) src(edge bool, m Mem, h int) Op {
	m = m.Offset(32 * h)
	if !edge {
		return m
	}
	t := YMM()
	VMOVUPS(k.mask[h], t)
	VMASKMOVPS(m, t, t)
	return t
}

func (k *kernel) store(edge bool, v VecVirtual, m Mem, h int) {
	m = m.Offset(32 * h)
	if !edge {
		VMOVUPS(v, m)
		return
	}
	t := YMM()
	VMOVUPS(k.mask[h], t)
	VMASKMOVPS(v, t, m)
}

// rows emits body for each row of the tile; at an edge it stops after the
// last valid row (mcnt < 6 in the last tile).
func (k *kernel) rows(edge bool, label string, body func(r int)) {
	for r := 0; r < k.nrows; r++ {
		if edge && r > 0 {
			CMPQ(k.mcnt, U8(r))
			JLE(LabelRef(label))
		}
		body(r)
	}
	if edge {
		Label(label)
	}
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

	TESTQ(U32(gemmAccumulate), flags)
	JZ(LabelRef(lNoAcc))
	{
		c := rowAddrs(k.cp, "ldc")
		k.rows(edge, k.label("accrows"), func(r int) {
			for h := 0; h < 2; h++ {
				VADDPS(k.src(edge, c[r], h), k.acc[r][h], k.acc[r][h])
			}
		})
	}
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
		var bv [2]Op
		for h := 0; h < 2; h++ {
			bv[h] = k.src(edge, bm, h)
		}
		for r := 0; r < k.nrows; r++ {
			for h := 0; h < 2; h++ {
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
	// consecutive accumulators.
	lNext := k.label("epidone")
	for f, d := range desc.Funcs {
		if d.Forward == nil {
			continue
		}
		skip := k.label("not" + d.Name)
		CMPQ(act, U8(f))
		JNE(LabelRef(skip))
		l := newLower(avx2)
		l.paramRows = k.params
		c := rowAddrs(k.cp, "ldc")
		k.rows(edge, k.label("fwd"+d.Name), func(r int) {
			for h := 0; h < 2; h++ {
				res := l.emit(d.Forward, [][]VecVirtual{{k.acc[r][h]}})[0][0]
				k.store(edge, res, c[r], h)
			}
		})
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
			l := newLower(avx2)
			l.paramRows = k.params
			c, y := rowAddrs(k.cp, "ldc"), rowAddrs(k.yp, "ldy")
			k.rows(edge, k.label("bwd"+d.Name), func(r int) {
				for h := 0; h < 2; h++ {
					yv := k.src(edge, y[r], h)
					yr, ok := yv.(VecVirtual)
					if !ok {
						yr = YMM()
						VMOVUPS(yv, yr)
					}
					k.store(edge, l.emit(d.Deriv, [][]VecVirtual{{k.acc[r][h]}, {yr}})[0][0], c[r], h)
				}
			})
			JMP(LabelRef(lNext))
			Label(skip)
		}
		JMP(LabelRef(lStore))
	}

	Label(lStore)
	{
		c := rowAddrs(k.cp, "ldc")
		k.rows(edge, k.label("storerows"), func(r int) {
			for h := 0; h < 2; h++ {
				k.store(edge, k.acc[r][h], c[r], h)
			}
		})
	}
	Label(lNext)
}

// pcAlign pads the code to a multiple of n bytes (the Go assembler's
// PCALIGN, which avo has no builder for).
func pcAlign(n int) {
	Instruction(&ir.Instruction{Opcode: "PCALIGN", Operands: []Op{Imm(uint64(n))}})
}

//go:build !purego

package kernels

import (
	"github.com/actfuse/actfuse/internal/desc"
	"github.com/actfuse/actfuse/kernels/asm"
	"github.com/klauspost/cpuid/v2"
)

// avx2Gemm is the GEMM of the avx2 implementation: the 6×16 AVX2+FMA
// micro-kernel (12 ymm accumulators) with its fused epilogue, the 4×16
// edge tile and the strided variant (gemm_amd64.s), the dot kernels of a C
// of at most 12 columns (A not transposed), and the assembly packers; see
// the contract in gemm.go.
var avx2Gemm = func() *gemmContext {
	im := desc.ImplByName("avx2")
	ctx := newGemmContext(im, avx2Tiles.packed, avx2Tiles.strided,
		asmPackers(6, 16, asm.PackRows16, asm.PackRowsEdge16, asm.PackCols6, asm.PackT6, asm.PackT16))
	ctx.dot = newDotGemm(im, im.NR, avx2DotKernels, asm.GemmPackDotAVX2)
	return ctx
}()

// avx512Gemm is the GEMM of the avx512 implementation: the 6×64 micro-kernel
// on zmm registers (24 accumulators, four per row), its 4- and 2-row edge
// tiles, the 4×64 tile on 4-row micro-panels for the last 8 rows of a block
// of m ≡ 2 (mod 6) rows (desc.Tile.Tail), the strided variant and the
// assembly packers; a C of at most 16 columns (an output layer) goes to the
// narrow 16×16 tile (one zmm per row, 16 accumulators), which wastes 16−n
// lanes of a row where the 6×64 tile wastes 64−n, or, where its dot
// kernels take it (at most 12 columns, A not transposed), to those.
var avx512Gemm = func() *gemmContext {
	im := desc.ImplByName("avx512")
	ctx := newGemmContext(im, avx512Tiles.packed, avx512Tiles.strided,
		asmPackers(6, 64, asm.PackRows64, asm.PackRowsEdge64, asm.PackCols6, asm.PackT6, asm.PackT64))
	ctx.tailPack = packers{tA: asmPackT(4, asm.PackT4)}
	ctx.narrow = newGemmContext(im.NarrowImpl(), avx512NarrowTiles.packed, avx512NarrowTiles.strided,
		asmPackers(16, 16, asm.PackRows16, asm.PackRowsEdge16, asm.PackCols16, asm.PackT16, asm.PackT16))
	ctx.narrowN = im.Narrow.NR
	ctx.narrow.dot = newDotGemm(im, im.Narrow.NR, avx512DotKernels, asm.GemmPackDotAVX512)
	if cpuid.CPU.VendorID == cpuid.Intel {
		ctx.noOverlap = intelNoOverlap
		ctx.narrow.noOverlap = intelNoOverlap
	}
	return ctx
}()

// asmDotKernel is a dot kernel of gemm_amd64.s (see gen/amd64/gemm_dot.go).
type asmDotKernel func(kc, m int, a *float32, lda int, b, c *float32, ldc int, bias, y *float32, ldy, flags int, p *[4]float32)

// The dot kernels of the amd64 implementations, for n = 1..desc.Impls'
// Dot.MaxN columns.
var (
	avx512DotKernels = []asmDotKernel{
		asm.GemmDot1AVX512, asm.GemmDot2AVX512, asm.GemmDot3AVX512, asm.GemmDot4AVX512,
		asm.GemmDot5AVX512, asm.GemmDot6AVX512, asm.GemmDot7AVX512, asm.GemmDot8AVX512,
		asm.GemmDot9AVX512, asm.GemmDot10AVX512, asm.GemmDot11AVX512, asm.GemmDot12AVX512,
	}
	avx2DotKernels = []asmDotKernel{
		asm.GemmDot1AVX2, asm.GemmDot2AVX2, asm.GemmDot3AVX2, asm.GemmDot4AVX2,
		asm.GemmDot5AVX2, asm.GemmDot6AVX2, asm.GemmDot7AVX2, asm.GemmDot8AVX2,
		asm.GemmDot9AVX2, asm.GemmDot10AVX2, asm.GemmDot11AVX2, asm.GemmDot12AVX2,
	}
)

// newDotGemm returns the dot GEMM of the implementation im from its dot
// kernels ks and packer, wrapped with the bounds checks that keep them
// inside their slices (chunks of im.Lanes k steps), for the context of NR
// nr, or nil if im has none.
func newDotGemm(im *desc.Impl, nr int, ks []asmDotKernel, pack func(dst, src *float32, ld, kc, n int)) *dotGemm {
	if im.Dot == nil {
		return nil
	}
	if len(ks) != im.Dot.MaxN || im.Dot.MaxN > nr {
		// The dot kernels compute all the columns of a call, which the
		// threads split only beyond the NR of the context holding them.
		panic("actfuse: internal error: the " + im.Name + " dot kernels of package asm and desc.Impls disagree")
	}
	chunk := im.Lanes
	kernel := func(n, kc, m int, a []float32, lda int, b, c []float32, ldc int, bias, y []float32, ldy, flags int, p *[4]float32) {
		if m == 0 {
			return
		}
		if kc > 0 {
			_ = a[(m-1)*lda+kc-1]
			_ = b[dotSize(kc, n, chunk)-1]
		}
		_ = c[(m-1)*ldc+n-1]
		if flags&gemmBackward != 0 {
			_ = y[(m-1)*ldy+n-1]
		}
		if flags&gemmBias != 0 {
			_ = bias[n-1]
		}
		ks[n-1](kc, m, ptr(a), lda, ptr(b), ptr(c), ldc, ptr(bias), ptr(y), ldy, flags, p)
	}
	rows := func(dst, b []float32, ldb, kc, n int) {
		_ = dst[dotSize(kc, n, chunk)-1]
		_ = b[(kc-1)*ldb+n-1]
		pack(&dst[0], &b[0], ldb, kc, n)
	}
	return &dotGemm{maxN: im.Dot.MaxN, chunk: chunk, kernel: kernel, rows: rows, l1: float64(l1Size()) * im.Dot.L1Fill}
}

// intelNoOverlap are the activations whose avx512 epilogue runs on the
// stored tile at once on Intel cores instead of during the next tile's
// sweep: all of them. There every zmm operation shares ports 0 and 5 with
// the sweep's FMAs, so the overlap hides nothing and costs its bookkeeping;
// on a Sapphire-Rapids-class Xeon, 256×1024×1024, overhead over identity
// with the overlap and without: on the 12×32 tile (3 alternated rounds)
// sigmoid 6.2 → 4.7%, the scaled sigmoid 4.3 → 3.2%, the scaled tanh
// 8.9 → 4.8%, tanh 2.1 → 2.7%; on the 6×64 tile (2 rounds) ELU 2.7–3.0 →
// 1.8–1.9%, tanh 3.2 → 2.8%. AMD's Zen 4 and Zen 5 keep it for all: their
// activation operations have pipes of their own beside the FMAs (Zen 5,
// 12×32: sigmoid 1.86%).
const intelNoOverlap = 1<<ELU | 1<<Sigmoid | 1<<Tanh | 1<<ScaledSigmoid | 1<<ScaledTanh

// asmPackers wraps the assembly packers of an MR×NR tile (gemm_amd64.s)
// with the bounds checks that keep them inside their slices.
func asmPackers(mr, nr int,
	rows func(dst, src *float32, ld, kc, npan int),
	rowsEdge func(dst, src *float32, ld, kc, w int),
	cols, tA, tB func(dst, src *float32, ld, kc int)) packers {
	return packers{
		rows: func(dst, src []float32, ld, kc, npan int) {
			_ = dst[npan*nr*kc-1]
			_ = src[(kc-1)*ld+npan*nr-1]
			rows(&dst[0], &src[0], ld, kc, npan)
		},
		rowsEdge: func(dst, src []float32, ld, kc, w int) {
			_ = dst[nr*kc-1]
			_ = src[(kc-1)*ld+w-1]
			if w > nr {
				panic("actfuse: internal error: an edge panel wider than NR")
			}
			rowsEdge(&dst[0], &src[0], ld, kc, w)
		},
		cols: func(dst, src []float32, ld, kc int) {
			_ = dst[mr*kc-1]
			_ = src[(kc-1)*ld+mr-1]
			cols(&dst[0], &src[0], ld, kc)
		},
		tA: asmPackT(mr, tA),
		tB: asmPackT(nr, tB),
	}
}

// asmPackT wraps the transposing packer of w rows pack (gemm_amd64.s) with
// the bounds checks that keep it inside its slices.
func asmPackT(w int, pack func(dst, src *float32, ld, kc int)) func(dst, src []float32, ld, kc int) {
	return func(dst, src []float32, ld, kc int) {
		_ = dst[w*kc-1]
		_ = src[(w-1)*ld+kc-1]
		pack(&dst[0], &src[0], ld, kc)
	}
}

// asmKernel is a micro-kernel of gemm_amd64.s (see the contract there).
type asmKernel func(kc, m, nr int, a, b, bsrc *float32, ldb int, c *float32, ldc int, bias, y *float32, ldy, flags int, p *[4]float32)

// amd64Tiles are the micro-kernels of one amd64 implementation: the MR×NR
// tile, its strided variant, and the edge tiles, tallest first, which take
// the last m mod MR rows of a panel when they fit.
type amd64Tiles struct {
	mr, nr   int
	main     asmKernel
	stridedK func(kc, m, nr int, a *float32, lda int, b, c *float32, ldc int, bias, y *float32, ldy, flags int, p *[4]float32)
	edges    []amd64Edge
	// tail is the kernel of the tiles of desc.Tile.Tail rows, on micro-panels
	// of as many rows, for the last tile.TailRows(m) rows of a panel.
	tail asmKernel
	tile desc.Tile // set from desc.Impls by init
}

type amd64Edge struct {
	rows int
	k    asmKernel
}

var (
	avx2Tiles = &amd64Tiles{mr: 6, nr: 16, main: asm.Gemm6x16, stridedK: asm.Gemm6x16S,
		edges: []amd64Edge{{4, asm.Gemm4x16}}}
	avx512Tiles = &amd64Tiles{mr: 6, nr: 64, main: asm.Gemm6x64, stridedK: asm.Gemm6x64S,
		edges: []amd64Edge{{4, asm.Gemm4x64}, {2, asm.Gemm2x64}}, tail: asm.Gemm4x64P4}
	avx512NarrowTiles = &amd64Tiles{mr: 16, nr: 16, main: asm.Gemm16x16, stridedK: asm.Gemm16x16S,
		edges: []amd64Edge{{8, asm.Gemm8x16}}}
)

func init() {
	for _, t := range []struct {
		im *desc.Impl
		t  *amd64Tiles
	}{{desc.ImplByName("avx2"), avx2Tiles}, {desc.ImplByName("avx512"), avx512Tiles}, {desc.ImplByName("avx512").NarrowImpl(), avx512NarrowTiles}} {
		im := t.im
		t.t.tile = im.Tile
		ok := im.MR == t.t.mr && im.NR == t.t.nr && len(im.Edges) == len(t.t.edges) && (im.Tail != 0) == (t.t.tail != nil)
		for i := 0; ok && i < len(im.Edges); i++ {
			ok = im.Edges[i] == t.t.edges[i].rows
		}
		if !ok {
			panic("actfuse: internal error: the " + im.Name + " micro-kernels of package asm and desc.Impls disagree")
		}
	}
}

// packed runs the main kernel on the full tiles and, when the panel ends
// with rows that the tail tiles take (desc.Tile.TailRows) the tail kernel on
// them, or when it ends with rows that an edge tile holds, the smallest
// such edge tile on them (the same operations per element at a fraction of
// the cost).
func (t *amd64Tiles) packed(kc, m, nr int, a []float32, _ int, b, bsrc []float32, ldb int, c []float32, ldc int, bias, y []float32, ldy, flags int, p *[4]float32) {
	t.checkTile(kc, m, nr, b, c, ldc, bias, y, ldy, flags)
	if m > 0 && kc > 0 {
		_ = a[(m+t.mr-1)/t.mr*t.mr*kc-1] // packed micro-panels of MR rows
	}
	if bsrc != nil {
		if flags&gemmTransCopy != 0 {
			_ = bsrc[(t.nr-1)*ldb+kc-1] // NR rows of kc values, kc a multiple of 4
			if kc%4 != 0 {
				panic("actfuse: internal error: transposed panel copy with kc not a multiple of 4")
			}
		} else {
			_ = bsrc[(kc-1)*ldb+t.nr-1]
		}
		_ = b[2*t.nr*kc-1]
	}
	rest := t.tile.LastRows(m)
	edge := t.tail
	if t.tile.TailRows(m) == 0 {
		edge = nil
		for _, e := range t.edges {
			if rest <= e.rows {
				edge = e.k
			}
		}
	}
	if rest == 0 || edge == nil {
		rest = 0
	}
	full := m - rest
	if full > 0 {
		t.main(kc, full, nr, ptr(a), ptr(b), ptr(bsrc), ldb, ptr(c), ldc, ptr(bias), ptr(y), ldy, flags, p)
		bsrc = nil
	}
	if rest > 0 {
		a = a[full*kc:]
		c = c[full*ldc:]
		if y != nil {
			y = y[full*ldy:]
		}
		edge(kc, rest, nr, ptr(a), ptr(b), ptr(bsrc), ldb, ptr(c), ldc, ptr(bias), ptr(y), ldy, flags, p)
	}
}

// strided runs the strided variant: A row-major, unpacked.
func (t *amd64Tiles) strided(kc, m, nr int, a []float32, lda int, b, _ []float32, _ int, c []float32, ldc int, bias, y []float32, ldy, flags int, p *[4]float32) {
	t.checkTile(kc, m, nr, b, c, ldc, bias, y, ldy, flags)
	if m > 0 && kc > 0 {
		_ = a[(m-1)*lda+kc-1] // row-major op(A)
	}
	t.stridedK(kc, m, nr, ptr(a), lda, ptr(b), ptr(c), ldc, ptr(bias), ptr(y), ldy, flags, p)
}

// checkTile makes sure, before an assembly call, that the m×nr block of C
// (and of Y, and the nr bias values, when the flags use them) and a packed
// NR-column B panel of kc steps lie inside their slices: a Go bounds-check
// panic here is what keeps a wrong argument from becoming a wild memory access.
func (t *amd64Tiles) checkTile(kc, m, nr int, b, c []float32, ldc int, bias, y []float32, ldy, flags int) {
	if m == 0 || nr == 0 {
		return
	}
	_ = c[(m-1)*ldc+nr-1]
	if kc > 0 {
		_ = b[t.nr*kc-1]
	}
	if flags&gemmBackward != 0 {
		_ = y[(m-1)*ldy+nr-1]
	}
	if flags&gemmBias != 0 {
		_ = bias[nr-1]
	}
}

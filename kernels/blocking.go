package kernels

import (
	"github.com/actfuse/actfuse/internal/desc"
	"github.com/klauspost/cpuid/v2"
)

// Flags of a micro-kernel call (see the contract in gemm.go).
const (
	gemmAccumulate = desc.FlagAccumulate // add the previous content of C to the tile
	gemmBias       = desc.FlagBias       // add the bias row (forward)
	gemmBackward   = desc.FlagBackward   // multiply by act'(Y) instead of applying act
	gemmTransCopy  = desc.FlagTransCopy  // bsrc is a transposed panel (rows of op(B)ᵀ)
	gemmActShift   = desc.ActShift       // the activation (Func) is flags >> gemmActShift
)

// kernelFunc is a micro-kernel entry: it sweeps the tiles of m rows (MR at a
// time, the last ones in edge or tail tiles) down one column panel of
// nr ≤ NR columns. a is the packed A micro-panels (or, for a
// strided kernel, row-major op(A) with leading dimension lda), b one packed B
// panel. When bsrc is not nil (kernels with packsB), the sweep also copies
// the next panel of op(B) at bsrc (leading dimension ldb; kc×NR row-major,
// or NR rows of kc values with flags&desc.FlagTransCopy) into the packed panel
// that follows b (b[NR·kc:]). bias and y may be nil when flags do not use
// them; p holds the activation's parameters (Activation.Params).
type kernelFunc func(kc, m, nr int, a []float32, lda int, b, bsrc []float32, ldb int, c []float32, ldc int, bias, y []float32, ldy, flags int, p *[4]float32)

// gemmContext is an implementation's GEMM, in the manner of BLIS's
// context (config/haswell/bli_cntx_init_haswell.c): its micro-kernels, their
// register tile and what they do besides multiplying (from desc.Impls), the
// block sizes derived from the caches, and the packers; the one driver,
// blockedGemm, reads it. Every micro-kernel applies every epilogue itself.
type gemmContext struct {
	mr, nr  int
	kernel  kernelFunc // packed A and B
	strided kernelFunc // unpacked row-major A, packed B; nil if the implementation has none
	// packsB reports whether kernel copies the next B panel during a sweep
	// (bsrc), which hides the packing of a row-major B behind the FMAs.
	packsB bool
	pack   packers
	// blocks are the block sizes, and blocksT those of a transposed B
	// (desc.Impl.L1FillT, or blocks).
	blocks, blocksT blockSizes
	// tile is the register tile of desc.Impls; the last tile.TailRows(m)
	// rows of a block of A are packed in micro-panels of tile.Tail rows,
	// with tailPack.
	tile     desc.Tile
	tailPack packers
	// narrow, when not nil, computes the calls whose C has at most
	// narrowN columns (an output layer): a narrower tile wastes fewer
	// lanes on them.
	narrow  *gemmContext
	narrowN int
	// dot, when not nil, computes the calls it takes (dotGemm.takes)
	// instead of the micro-kernels.
	dot *dotGemm
	// noOverlap has bit f set for the activations (Func f) whose stored
	// tiles the micro-kernels activate at once instead of during the next
	// tile's sweep (desc.FlagNoOverlap).
	noOverlap uint64
}

// forCall returns the context that computes the call g.
func (mk *gemmContext) forCall(g *gemmCall) *gemmContext {
	if mk.narrow != nil && g.n <= mk.narrowN {
		return mk.narrow
	}
	return mk
}

// newGemmContext returns the context of the implementation im (desc.Impls)
// with its micro-kernels and packers.
func newGemmContext(im *desc.Impl, kernel, strided kernelFunc, pack packers) *gemmContext {
	if (strided != nil) != im.Strided {
		panic("actfuse: internal error: " + im.Name + ": the strided kernel and desc.Impls disagree")
	}
	mk := &gemmContext{mr: im.MR, nr: im.NR, kernel: kernel, strided: strided, packsB: im.PacksB, pack: pack, tile: im.Tile}
	mk.blocks = cacheBlocks(im, im.L1Fill)
	mk.blocksT = mk.blocks
	if im.L1FillT > 0 {
		mk.blocksT = cacheBlocks(im, im.L1FillT)
	}
	return mk
}

// blockSizes are the cache blocking parameters of the driver: KC steps of k
// per packed panel, MC rows of A per packed block, NC columns of B per packed
// block.
type blockSizes struct{ kc, mc, nc int }

// cacheBlocks derives the block sizes of the implementation im from the
// cache sizes cpuid reports and the fills of desc.Impls: a KC×NR panel of B
// fills L1Fill of L1D (three quarters: the A micro-panel streaming past it
// takes MR/NR of that again, and a longer KC halves the passes over C: at
// 1024³ KC = 384 runs 2–3% of peak faster than KC = 256, and no measured
// shape is slower; avx512's 6×64 panel takes one and a half, from L2, see
// desc.Impls), KC at most desc.Impl.KCMax, or 512; an MC×KC block of A
// L2Fill of L2 (a quarter: the rest holds the B panels streaming through
// and the C tiles), a KC×NC block of B L3Fill of L3 (a quarter: shared by
// the cores). Missing sizes (cpuid reports -1 on some platforms) fall back
// to 32 KiB, 512 KiB and 8 MiB.
func cacheBlocks(im *desc.Impl, l1Fill float64) blockSizes {
	mr, nr := im.MR, im.NR
	l1, l2, l3 := l1Size(), cpuid.CPU.Cache.L2, cpuid.CPU.Cache.L3
	if l2 <= 0 {
		l2 = 512 << 10
	}
	if l3 <= 0 {
		l3 = 8 << 20
	}
	kcMax := 512
	if im.KCMax > 0 {
		kcMax = im.KCMax
	}
	kc := clamp(int(float64(l1)*l1Fill)/(4*nr), 64, kcMax) &^ 7
	mc := clamp(int(float64(l2)*im.L2Fill)/(4*kc), mr, 1024)
	mc -= mc % mr
	nc := clamp(int(float64(l3)*im.L3Fill)/(4*kc), nr, 8192)
	nc -= nc % nr
	return blockSizes{kc, mc, nc}
}

// l1Size is the size of L1D cpuid reports, or 32 KiB where it reports none.
func l1Size() int {
	if l1 := cpuid.CPU.Cache.L1D; l1 > 0 {
		return l1
	}
	return 32 << 10
}

func clamp(v, lo, hi int) int { return max(lo, min(v, hi)) }

// kBlocks returns the number and size of the k blocks: ceil(k/KC) blocks of
// equal size (rounded up to a multiple of align, a power of 2; the last one
// shorter). It depends only on k, KC and align, never on the part of C
// being computed.
func kBlocks(k, kcMax, align int) (count, kc int) {
	if k == 0 {
		return 1, 0
	}
	count = (k + kcMax - 1) / kcMax
	kc = (k + count - 1) / count
	kc = (kc + align - 1) &^ (align - 1)
	return (k + kc - 1) / kc, kc
}

// gemmBuffers are the packing buffers of one block of a call (gemmJob.bufs).
type gemmBuffers struct {
	params [4]float32 // the activation's parameters (Activation.Params)
	a, b   []float32
	tmpA   []float32 // the last rows of A for a strided kernel, packed as the kernel reads them
}

func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

// run computes the block [i0,i1)×[j0,j1) of the call g with the packing
// buffers buf: the driver of every implementation (the loops are described
// in gemm.go).
func (mk *gemmContext) run(g *gemmCall, buf *gemmBuffers, i0, i1, j0, j1 int) {
	if mk.dot.takes(g) {
		if j0 != 0 || j1 != g.n {
			panic("actfuse: internal error: a dot-product block of fewer than all columns")
		}
		mk.dot.run(g, buf, i0, i1)
		return
	}
	// The last columns of a C wider than narrowN that end in a partial
	// panel of at most narrowN columns go to the narrow tile, which wastes
	// fewer lanes on them (A·Bᵀ at 128×512×784 on the 6×64 avx512 tile:
	// the 16 columns after 12 full panels). The split depends on n only, and
	// the column blocks of the threads end on multiples of NR, so every
	// column is computed alike for every thread count.
	if r := g.n % mk.nr; mk.narrow != nil && r > 0 && r <= mk.narrowN {
		if full := g.n - r; j1 > full {
			if j0 < full {
				mk.runPanels(g, buf, i0, i1, j0, full)
			}
			mk.narrow.runPanels(g, buf, i0, i1, max(j0, full), j1)
			return
		}
	}
	mk.runPanels(g, buf, i0, i1, j0, j1)
}

// runPanels computes the block [i0,i1)×[j0,j1) of the call g with the
// micro-kernels of mk.
func (mk *gemmContext) runPanels(g *gemmCall, buf *gemmBuffers, i0, i1, j0, j1 int) {
	ep := g.ep
	bs := mk.blocks
	if g.transB {
		bs = mk.blocksT
	}
	mr, nr := mk.mr, mk.nr
	nk, kcMax := kBlocks(g.k, bs.kc, 8)

	act := ep.Act
	// The parameters live in the block's buffers: a local passed through
	// the kernel's function value would escape to the heap.
	buf.params = act.Params()
	params := &buf.params
	// The strided kernel avoids packing A where it cannot be amortised: op(A)
	// row-major and few column panels to sweep.
	useStrided := mk.strided != nil && !g.transA && (j1-j0) <= 2*nr

	finalFlags := epilogueFlags(ep, mk.noOverlap)
	var bias []float32

	for jc := j0; jc < j1; jc += bs.nc {
		nc := min(bs.nc, j1-jc)
		npan := (nc + nr - 1) / nr
		if ep.Bias != nil {
			bias = ep.Bias[jc:]
		}
		for q := 0; q < nk; q++ {
			pc := q * kcMax
			kc := min(kcMax, g.k-pc)
			flags := blockFlags(q, nk, ep, finalFlags)
			buf.b = grow(buf.b, max(1, npan*nr*kc))
			// With a kernel that copies B panels during its sweeps, only the
			// first full panel and the edge panel are packed here: the sweep
			// of panel r (first row block) packs panel r+1. A transposed B is
			// copied in 4×4 blocks, so kc must be a multiple of 4 for it.
			nfull := nc / nr
			fusedB := mk.packsB && !useStrided && kc > 0 && nfull > 1 && (!g.transB || kc%4 == 0)
			if fusedB {
				if g.transB {
					flags |= gemmTransCopy
				}
				packB(&mk.pack, buf.b, g.transB, g.b, g.ldb, pc, kc, jc, nr, nr)
				if nfull*nr < nc {
					packB(&mk.pack, buf.b[nfull*nr*kc:], g.transB, g.b, g.ldb, pc, kc, jc+nfull*nr, nc-nfull*nr, nr)
				}
			} else {
				packB(&mk.pack, buf.b, g.transB, g.b, g.ldb, pc, kc, jc, nc, nr)
			}
			if useStrided {
				stridedPanels(mk, buf, g, i0, i1, jc, nc, pc, kc, flags, bias, params)
			} else {
				// Row blocks of nearly equal size (multiples of MR), at most MC.
				nb := (i1 - i0 + bs.mc - 1) / bs.mc
				mcStep := ((i1-i0+nb-1)/nb + mr - 1) / mr * mr
				for ic := i0; ic < i1; ic += mcStep {
					mc := min(mcStep, i1-ic)
					buf.a = grow(buf.a, max(1, (mc+mr-1)/mr*mr*kc))
					mk.packA(buf.a, g, ic, mc, pc, kc)
					for r := 0; r < npan; r++ {
						j := jc + r*nr
						var y []float32
						if ep.Y != nil {
							y = ep.Y[ic*ep.LdY+j:]
						}
						var bb []float32
						if bias != nil {
							bb = bias[r*nr:]
						}
						w := min(nr, nc-r*nr)
						var bsrc []float32
						if fusedB && ic == i0 && r+1 < nfull {
							if g.transB {
								bsrc = g.b[(j+nr)*g.ldb+pc:]
							} else {
								bsrc = g.b[pc*g.ldb+j+nr:]
							}
						}
						mk.kernel(kc, mc, w, buf.a, 0, buf.b[r*nr*kc:], bsrc, g.ldb, g.c[ic*g.ldc+j:], g.ldc, bb, y, ep.LdY, flags, params)
					}
				}
			}
		}
	}
}

// packA packs op(A)[ic:ic+mc, pc:pc+kc] of the call g into dst for the
// micro-kernels: micro-panels of MR rows, and the last tile.TailRows(mc)
// rows in micro-panels of tile.Tail rows.
func (mk *gemmContext) packA(dst []float32, g *gemmCall, ic, mc, pc, kc int) {
	t := mk.tile.TailRows(mc)
	packA(&mk.pack, dst, g.transA, g.a, g.lda, ic, mc-t, pc, kc, mk.mr)
	if t > 0 {
		packA(&mk.tailPack, dst[(mc-t)*kc:], g.transA, g.a, g.lda, ic+mc-t, t, pc, kc, mk.tile.Tail)
	}
}

// blockFlags returns the flags of k block q of nk: accumulate after the
// first block (or into C, with ep.Accumulate), and the final flags on the
// last.
func blockFlags(q, nk int, ep *Epilogue, final int) int {
	flags := 0
	if q > 0 || ep.Accumulate {
		flags = gemmAccumulate
	}
	if q == nk-1 {
		flags |= final
	}
	return flags
}

// epilogueFlags returns the flags of the last k block of a call with the
// epilogue ep: its activation, backward or bias, and desc.FlagNoOverlap
// where noOverlap has the activation's bit.
func epilogueFlags(ep *Epilogue, noOverlap uint64) int {
	f := int(ep.Act.Func) << gemmActShift
	if noOverlap&(1<<ep.Act.Func) != 0 {
		f |= desc.FlagNoOverlap
	}
	if ep.Y != nil {
		f |= gemmBackward
	} else if ep.Bias != nil {
		f |= gemmBias
	}
	return f
}

// stridedPanels runs the strided kernel on the rows [i0,i1) for every column
// panel of the packed B block; the last rows that fill no MR-row tile (or,
// with a tail, the last TailRows) go through a small packed copy of A and
// the packed kernel.
func stridedPanels(mk *gemmContext, buf *gemmBuffers, g *gemmCall, i0, i1, jc, nc, pc, kc, flags int, bias []float32, params *[4]float32) {
	ep := g.ep
	mr, nr := mk.mr, mk.nr
	npan := (nc + nr - 1) / nr
	rest := mk.tile.LastRows(i1 - i0)
	mFull := i1 - i0 - rest
	if rest > 0 {
		buf.tmpA = grow(buf.tmpA, max(1, (rest+mr-1)/mr*mr*kc))
		mk.packA(buf.tmpA, g, i0+mFull, rest, pc, kc)
	}
	for r := 0; r < npan; r++ {
		j := jc + r*nr
		w := min(nr, nc-r*nr)
		var bb []float32
		if bias != nil {
			bb = bias[r*nr:]
		}
		bp := buf.b[r*nr*kc:]
		if mFull > 0 {
			var y []float32
			if ep.Y != nil {
				y = ep.Y[i0*ep.LdY+j:]
			}
			mk.strided(kc, mFull, w, g.a[i0*g.lda+pc:], g.lda, bp, nil, 0, g.c[i0*g.ldc+j:], g.ldc, bb, y, ep.LdY, flags, params)
		}
		if rest > 0 {
			i := i0 + mFull
			var y []float32
			if ep.Y != nil {
				y = ep.Y[i*ep.LdY+j:]
			}
			mk.kernel(kc, rest, w, buf.tmpA, 0, bp, nil, 0, g.c[i*g.ldc+j:], g.ldc, bb, y, ep.LdY, flags, params)
		}
	}
}

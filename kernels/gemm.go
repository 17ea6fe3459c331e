package kernels

import "github.com/actfuse/actfuse/fallback"

// GEMM structure
//
// Gemm splits C into at most Threads() blocks (see pool.go), on multiples
// of the implementation's register tile, and the driver of blocking.go
// computes each block around the implementation's register-blocked
// micro-kernel, described by its gemmContext (BLIS's cntx): every
// implementation, the generic one included, runs this driver.
//
//	for jc over n in steps of NC:             (B panel, L3)
//	  for pc over k in steps of KC:           (k blocks of equal size)
//	    pack op(B)[pc:pc+kc, jc:jc+nc] into panels of NR columns (see packsB)
//	    for ic over m in steps of MC:         (A block, L2)
//	      pack op(A)[ic:ic+mc, pc:pc+kc] into micro-panels of MR rows
//	      for jr over the NR-column panels:   (one micro-kernel call per panel)
//	        micro-kernel: every MR-row tile of the column panel
//
// Micro-kernel contract (the fields of gemmContext):
//
//   - MR×NR is the register tile (desc.Impls: AVX-512 6×64 and, for a C of
//     at most 16 columns, 16×16; AVX2 6×16; NEON 8×12; the Go kernel of the
//     generic implementation 2×4). Any MR ≤ 16 and NR ≤ 64 work with the
//     driver. (A context may instead hand a C of very few columns to dot
//     kernels, which vectorise along k and have their own packing and
//     contract: gemm_dot.go.)
//   - Packed A: ceil(mc/MR) micro-panels, each kc steps of MR consecutive
//     values: panel q holds op(A)[ic+q·MR+i, pc+p] at index q·MR·kc + p·MR + i,
//     rows beyond mc are zero. Where the tile has a Tail (desc.Tile), the
//     last TailRows(mc) rows are in micro-panels of Tail rows instead, after
//     the MR-row ones, and the kernel computes them with its tail tiles.
//   - Packed B: ceil(nc/NR) panels, each kc steps of NR consecutive values:
//     panel r holds op(B)[pc+p, jc+r·NR+j] at index r·NR·kc + p·NR + j, columns
//     beyond nc are zero.
//   - One call, kernel(kc, m, nr, a, lda, b, bsrc, ldb, c, ldc, bias, y, ldy,
//     flags, p), sweeps ceil(m/MR) tiles down one column panel (or, with a
//     tail, the tail tiles on their micro-panels for the last TailRows(m)
//     rows): tile t uses the A micro-panel t (a advances by MR·kc per
//     tile) and the same B
//     panel b; its
//     C tile starts at c[t·MR·ldc] (and Y at y[t·MR·ldy]). It forms
//     Z = Σ_p a·b over kc steps in increasing p, each step one fused
//     multiply-add per element, starting from zero (so the result does not
//     depend on where the tile lies, which makes any partition of C give the
//     same bits). Then, in registers (or on the tile stored in C, before
//     the kernel returns):
//     flags&gemmAccumulate: Z += C;
//     flags&gemmBackward:   C = Z ⊙ act'(Y);
//     otherwise:            C = act(Z [+ bias]) (bias added when flags&gemmBias),
//     with act = Func(flags>>desc.ActShift) and p its parameters
//     (Activation.Params); an AVX-512 kernel may run act on a stored tile
//     during the next tile's sweep, unless flags&desc.FlagNoOverlap. Only the
//     first nr ≤ NR columns, and in the last tile the first m-t·MR rows, of C,
//     Y and bias are read or written.
//   - packsB: the kernel accepts bsrc, the next NR-column panel of op(B)
//     with leading dimension ldb, and copies it, during the sweep, into the
//     packed panel that follows b (a piece per few k steps, hidden behind
//     the FMAs): kc rows of NR values of a row-major B, or, with
//     flags&gemmTransCopy, NR rows of kc values of a transposed one (kc a
//     multiple of 4). The driver then packs beforehand only the first and
//     the edge panel (all of a transposed B whose kc is not a multiple of
//     4). Kernels without packsB get bsrc = nil.
//   - strided, when not nil, is the same kernel reading A unpacked from a
//     row-major op(A) with leading dimension lda (row i of the tile at
//     a[i·lda:]); it is used where packing A cannot be amortised (few column
//     panels). It reads only rows below m, and m must be a multiple of MR.
//   - pack holds optional assembly packing loops (see packers); the Go loops
//     of pack.go handle the rest, so a new kernel works without any.
//
// The k loop is cut into blocks of equal size that depend only on k and
// on whether B is transposed (see kBlocks, blocksT; in the dot kernels on k
// and n), and all variants of a kernel perform the same operations in the
// same order, so every element of C is bitwise the same whatever the
// thread count, the block sizes MC and NC, or the path taken. (A·B and
// A·Bᵀ of the same matrices may differ in the last bits.)

// gemmCall holds the checked arguments of one Gemm call.
type gemmCall struct {
	transA, transB bool
	m, n, k        int
	a              []float32
	lda            int
	b              []float32
	ldb            int
	c              []float32
	ldc            int
	ep             *Epilogue
}

// Gemm computes C = act(op(A)·op(B) + bias), or the backward form
// C = (op(A)·op(B)) ⊙ act'(Y), as the epilogue ep says (see Epilogue). All
// matrices are row-major with leading dimensions lda, ldb, ldc; op(A) is m×k
// (A is stored k×m when transA), op(B) is k×n (B is stored n×k when transB),
// C is m×n. C must not overlap A, B, the bias or Y. Large products run on up
// to Threads() goroutines (see SetThreads); the result is bitwise identical
// for every thread count.
func Gemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, ep *Epilogue) {
	if ep == nil {
		ep = &noEpilogue
	}
	fallback.CheckGemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, ep)
	if m == 0 || n == 0 {
		return
	}
	// The call's state comes from a pool, so that Gemm does not allocate.
	job := jobPool.Get()
	job.g = gemmCall{transA, transB, m, n, k, a, lda, b, ldb, c, ldc, ep}
	parallelGemm(active.Load(), job)
	job.g = gemmCall{} // drop the references to the caller's slices
	jobPool.Put(job)
}

// noEpilogue is the epilogue of a Gemm call with ep == nil; never modified.
var noEpilogue Epilogue

// BackwardBias computes dz = dy ⊙ f'(y) for m×n matrices (y is the saved
// forward output of the activation act) and, when db is not nil, the bias
// gradient db[j] = Σ_i dz[i,j]. dz may be dy itself.
func BackwardBias(act Activation, m, n int, dy []float32, lddy int, y []float32, ldy int, dz []float32, lddz int, db []float32) {
	fallback.CheckBackwardBias(act, m, n, dy, lddy, y, ldy, dz, lddz, db)
	if f := active.Load().backwardBias; f != nil {
		f(act, m, n, dy, lddy, y, ldy, dz, lddz, db)
		return
	}
	fallback.BackwardBias(act, m, n, dy, lddy, y, ldy, dz, lddz, db)
}

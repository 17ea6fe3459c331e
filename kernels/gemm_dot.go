package kernels

import "math"

// dotKernelFunc computes the m×n block C = epilogue(A·B) of one k block of
// kc steps as dot products (desc.DotTile): A row-major with leading
// dimension lda, b one k block of B packed by dotGemm.pack, the flags and p as
// for a micro-kernel (gemm.go).
type dotKernelFunc func(n, kc, m int, a []float32, lda int, b, c []float32, ldc int, bias, y []float32, ldy, flags int, p *[4]float32)

// dotGemm is the GEMM of the products whose C has at most maxN columns and
// whose op(A) is row-major (desc.DotTile): every element a dot product along
// k, so that no vector lane idles, where a tile row computes n of its
// lanes. The k loop is cut in blocks of whole chunks (a block of
// packed B fills l1 of L1D while the rows of A stream past it), which
// depend on k and n only, and each block covers all n columns: the result
// is bitwise the same for every split of the rows over threads.
type dotGemm struct {
	maxN   int
	chunk  int // k steps of a chunk of packed B: the lanes of a vector
	kernel dotKernelFunc
	// rows packs a k block of a row-major B; nil where the Go loop does.
	rows func(dst, b []float32, ldb, kc, n int)
	l1   float64 // bytes of L1D a k block of packed B fills
}

// takes reports whether d computes the call g: beyond 8 columns only from
// k = dotMinK on; below it the tile wastes few enough lanes for the dot
// kernels' final additions to cost more than the lanes it idles
// (Sapphire-Rapids-class Xeon, 128×n×k, GFLOP/s of the tile against the dot
// kernels: avx512, the narrow 16×16 tile, n = 10, k = 64 97 / 91, k = 96
// 102 / 107, k = 128 103 / 118, k = 512 106 / 146; n = 12, k = 96 122 /
// 117; n = 4, k = 96 41 / 78; avx2, the 6×16 tile, n = 10, k = 128 72 /
// 85, k = 512 73 / 99; n = 12, k = 128 86 / 91; n = 8, k = 128 57 / 86;
// avx2 below k = 128 not measured).
func (d *dotGemm) takes(g *gemmCall) bool {
	return d != nil && g.n <= d.maxN && !g.transA && (g.n <= 8 || g.k >= dotMinK)
}

// dotMinK is the shortest k the dot kernels take a C of more than 8
// columns for.
const dotMinK = 128

// dotSize returns the number of values of kc k steps of n columns packed
// in chunks of chunk steps.
func dotSize(kc, n, chunk int) int { return (kc + chunk - 1) / chunk * chunk * n }

// run computes the rows [i0,i1) of the call g, all its columns, with the
// packing buffers buf.
func (d *dotGemm) run(g *gemmCall, buf *gemmBuffers, i0, i1 int) {
	ep, n := g.ep, g.n
	nk, kcMax := kBlocks(g.k, max(64, int(d.l1)/(4*n))&^(d.chunk-1), d.chunk)
	buf.params = ep.Act.Params()
	finalFlags := epilogueFlags(ep, 0)
	var y []float32
	if ep.Y != nil {
		y = ep.Y[i0*ep.LdY:]
	}
	for q := 0; q < nk; q++ {
		pc := q * kcMax
		kc := min(kcMax, g.k-pc)
		flags := blockFlags(q, nk, ep, finalFlags)
		buf.b = grow(buf.b, max(1, dotSize(kc, n, d.chunk)))
		d.pack(buf.b, g, pc, kc)
		var a []float32
		if kc > 0 {
			a = g.a[i0*g.lda+pc:]
		}
		d.kernel(n, kc, i1-i0, a, g.lda, buf.b, g.c[i0*g.ldc:], g.ldc, ep.Bias, y, ep.LdY, flags, &buf.params)
	}
}

// pack packs the k steps [pc, pc+kc) of op(B) into dst in the layout of
// desc.DotTile, chunks of d.chunk steps.
func (d *dotGemm) pack(dst []float32, g *gemmCall, pc, kc int) {
	n, ldb, c := g.n, g.ldb, d.chunk
	chunks := (kc + c - 1) / c
	dst = dst[:dotSize(kc, n, c)]
	if kc == 0 {
		return
	}
	if g.transB {
		// Column j of op(B) is row j of B: copies of c values.
		for q := 0; q < chunks; q++ {
			p0 := pc + q*c
			w := min(c, pc+kc-p0)
			for j := 0; j < n; j++ {
				o := dst[(q*n+j)*c : (q*n+j+1)*c]
				clear(o[copy(o, g.b[j*ldb+p0:j*ldb+p0+w]):])
			}
		}
		return
	}
	if d.rows != nil && ldb <= math.MaxInt32/c { // the packer's 32-bit row offsets
		d.rows(dst, g.b[pc*ldb:], ldb, kc, n)
		return
	}
	clear(dst)
	for p := 0; p < kc; p++ {
		row := g.b[(pc+p)*ldb : (pc+p)*ldb+n]
		o := dst[(p/c*n)*c+p%c:]
		for j, v := range row {
			o[j*c] = v
		}
	}
}

package fallback

import "github.com/actfuse/actfuse/internal/scratch"

// Gemm computes C = act(op(A)·op(B) + bias), or its backward form, as
// described by the epilogue ep (see Epilogue); a nil ep is the zero Epilogue
// (C = op(A)·op(B)). All matrices are row-major; op(A) is m×k (A is stored
// k×m when transA), op(B) is k×n (B is stored n×k when transB), C is m×n with
// leading dimension ldc. Only C[i·ldc+j] for i < m, j < n is written: the
// columns from n to ldc of each row are left alone. C must not overlap A, B,
// Bias or Y. Gemm panics on inconsistent arguments (see CheckGemm).
//
// Numerics: each element is Z = Σ_p op(A)[i,p]·op(B)[p,j] summed in float32
// in increasing p starting from zero, then Z + C when Accumulate, then
// + Bias[j], then the activation; in the backward form (Z [+ C]) is
// multiplied by act'(Y). Each product is rounded before its addition, except
// where the compiler fuses the two into one fused multiply-add, as it does on
// arm64 and on amd64 with GOAMD64=v3 (where Gemm then runs about 1.8 times
// as fast). The activation and its derivative are those of Forward and
// Backward, applied in place to each finished row segment of C, so the
// epilogue makes no per-element indirect call.
//
// Determinism: the value of C[i,j] depends only on row i of op(A), column j
// of op(B), k and the epilogue — not on m, n, on the position of the element
// in C, nor on which block of a larger product the call computes. Every tile,
// interior or edge, goes through the same register kernel over zero-padded
// panels with the same fixed order of operations. Package kernels relies on
// this: it splits C into blocks computed concurrently and gets bitwise the
// same result for any number of threads.
//
// Structure: op(B) is packed into panels of 4 columns (up to 512 columns at
// a time) and op(A) into micro-panels of 2 rows (up to 64 rows at a time,
// fewer for a large k), whatever their layout, so the transposes cost
// nothing in the inner loop. A register-blocked kernel computes each 2×4
// tile over the whole k in eight local accumulators; it needs so little
// bandwidth (half a byte of A from L2 per flop, the B panel staying in L1)
// that no split of k is needed, which keeps the summation order sequential.
// Without SIMD the kernel is bound by the scalar floating-point units: one
// multiplication and one addition per multiply-add.
func Gemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, ep *Epilogue) {
	if ep == nil {
		ep = &Epilogue{}
	}
	CheckGemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, ep)
	if m == 0 || n == 0 {
		return
	}
	// op(A)[i,p] = a[i·ars + p·acs], op(B)[p,j] = b[p·brs + j·bcs].
	ars, acs := lda, 1
	if transA {
		ars, acs = 1, lda
	}
	brs, bcs := ldb, 1
	if transB {
		brs, bcs = 1, ldb
	}
	chunks := (k + gemmKU - 1) / gemmKU
	pad := chunks*gemmKU - k
	// Consecutive panels lie chunks+1 chunks apart, not a multiple of 4 KiB,
	// so that packing, which writes to many panels at once, does not pile
	// them into one set of the L1 cache.
	stride := chunks + 1
	mc, nc := gemmBlocks(chunks)
	buf := getGemmBuf(mc/gemmMR*stride, (nc+gemmNR-1)/gemmNR*stride)
	defer gemmBufs.Put(buf)

	plain := !ep.Accumulate && (ep.Bias == nil || ep.Y != nil)
	var t [gemmMR * gemmNR]float32
	for jc := 0; jc < n; jc += nc {
		ncb := min(nc, n-jc)
		np := (ncb + gemmNR - 1) / gemmNR
		bp := buf.b[:np*stride]
		packB(bp, stride, chunks, b, brs, bcs, k, pad, jc, ncb)
		for ic := 0; ic < m; ic += mc {
			mcb := min(mc, m-ic)
			mp := (mcb + gemmMR - 1) / gemmMR
			ap := buf.a[:mp*stride]
			packA(ap, stride, chunks, a, ars, acs, k, pad, ic, mcb)
			for q := range np {
				bq := bp[q*stride:][:chunks]
				j0 := jc + q*gemmNR
				cols := min(gemmNR, n-j0)
				for r := range mp {
					gemmKernel(ap[r*stride:][:chunks], bq, &t)
					i0 := ic + r*gemmMR
					if rows := min(gemmMR, m-i0); plain && rows == gemmMR && cols == gemmNR {
						// The common case: a whole tile (gemmMR = 2 rows)
						// stored as it is.
						*(*[gemmNR]float32)(c[i0*ldc+j0:]) = [gemmNR]float32(t[:gemmNR])
						*(*[gemmNR]float32)(c[(i0+1)*ldc+j0:]) = [gemmNR]float32(t[gemmNR:])
					} else {
						storeTile(&t, rows, cols, c[i0*ldc+j0:], ldc, j0, ep)
					}
				}
			}
			gemmEpilogue(ic, mcb, jc, ncb, c, ldc, ep)
		}
	}
}

// Register tile and blocking of the pure-Go GEMM.
const (
	gemmMR = 2 // rows of the register tile
	gemmNR = 4 // columns of the register tile
	gemmKU = 8 // k steps per chunk, the unrolling of the kernel loop

	gemmMC = 64  // rows of op(A) packed at a time, at most
	gemmNC = 512 // columns of op(B) packed at a time, at most

	gemmABlockFloats = 32 << 10  // target size of the packed A block (128 KiB, L2)
	gemmBBlockFloats = 256 << 10 // target size of the packed B block (1 MiB, L2/L3)
)

// aChunk holds gemmKU consecutive k steps of a packed A micro-panel: element
// [u·gemmMR + r] is op(A)[i0+r, p] for step s = p + pad = chunk·gemmKU + u.
type aChunk [gemmMR * gemmKU]float32

// bChunk holds gemmKU consecutive k steps of a packed B panel: element
// [u·gemmNR + j] is op(B)[p, j0+j] for step s = p + pad.
type bChunk [gemmNR * gemmKU]float32

// gemmBlocks returns the rows of op(A) and the columns of op(B) packed at a
// time for a k of chunks·gemmKU steps: as many as fit the block targets,
// within [gemmMR, gemmMC] and [gemmNR, gemmNC], multiples of the tile.
func gemmBlocks(chunks int) (mc, nc int) {
	kp := max(1, chunks*gemmKU)
	mc = min(gemmMC, max(gemmMR, gemmABlockFloats/kp/gemmMR*gemmMR))
	nc = min(gemmNC, max(gemmNR, gemmBBlockFloats/kp/gemmNR*gemmNR))
	return mc, nc
}

// gemmBuf holds the packing buffers of one Gemm call.
type gemmBuf struct {
	a []aChunk
	b []bChunk
}

// gemmBufs recycles packing buffers; Gemm may run on many goroutines at once.
var gemmBufs scratch.List[gemmBuf]

func getGemmBuf(na, nb int) *gemmBuf {
	buf := gemmBufs.Get()
	if cap(buf.a) < na {
		buf.a = make([]aChunk, na)
	}
	if cap(buf.b) < nb {
		buf.b = make([]bChunk, nb)
	}
	buf.a, buf.b = buf.a[:cap(buf.a)], buf.b[:cap(buf.b)]
	return buf
}

// packA packs rows i0..i0+rows-1 of op(A), op(A)[i,p] = a[i·rs + p·cs],
// into ceil(rows/gemmMR) micro-panels of chunks chunks each, stride chunks
// apart in dst, k+pad = chunks·gemmKU steps. The first pad steps and the
// rows beyond the last are zero, so they add nothing (and, being zero in
// both packed operands, no NaN) to a tile. The fast paths assume gemmMR = 2.
func packA(dst []aChunk, stride, chunks int, a []float32, rs, cs, k, pad, i0, rows int) {
	if k == 0 {
		return
	}
	np := (rows + gemmMR - 1) / gemmMR
	if pad > 0 || rows%gemmMR != 0 {
		clear(dst[:(np-1)*stride+chunks])
	}
	if cs != 1 {
		// Columns of op(A) are contiguous (rs == 1): fill every micro-panel
		// from each row of A in turn.
		for p := range k {
			src := a[p*cs+i0:][:rows]
			s := p + pad
			c, o := s/gemmKU, s%gemmKU*gemmMR
			for q := range np {
				d := dst[q*stride+c][o:][:gemmMR]
				if r := q * gemmMR; r+gemmMR <= rows {
					*(*[gemmMR]float32)(d) = [gemmMR]float32(src[r:])
				} else {
					copy(d, src[r:])
				}
			}
		}
		return
	}
	// Rows of op(A) are contiguous.
	for q := range np {
		pan := dst[q*stride:][:chunks]
		r0 := i0 + q*gemmMR
		if pad == 0 && r0+gemmMR <= i0+rows {
			// Whole chunks of both rows: no index arithmetic per value.
			x, y := a[r0*rs:][:k], a[(r0+1)*rs:][:k]
			for c := range pan {
				xc, yc, d := (*[gemmKU]float32)(x[c*gemmKU:]), (*[gemmKU]float32)(y[c*gemmKU:]), &pan[c]
				for u := range gemmKU {
					d[u*gemmMR], d[u*gemmMR+1] = xc[u], yc[u]
				}
			}
			continue
		}
		for r := range min(gemmMR, i0+rows-r0) {
			for p, v := range a[(r0+r)*rs:][:k] {
				s := p + pad
				pan[s/gemmKU][s%gemmKU*gemmMR+r] = v
			}
		}
	}
}

// packB packs columns j0..j0+cols-1 of op(B), op(B)[p,j] = b[p·rs + j·cs],
// into ceil(cols/gemmNR) panels of chunks chunks each, stride chunks apart in
// dst, k+pad = chunks·gemmKU steps. The first pad steps and the columns
// beyond the last are zero.
func packB(dst []bChunk, stride, chunks int, b []float32, rs, cs, k, pad, j0, cols int) {
	if k == 0 {
		return
	}
	np := (cols + gemmNR - 1) / gemmNR
	if pad > 0 || cols%gemmNR != 0 {
		clear(dst[:(np-1)*stride+chunks])
	}
	if cs == 1 {
		// Rows of op(B) are contiguous: fill every panel from each row in
		// turn, reading B once, in order.
		for p := range k {
			src := b[p*rs+j0:][:cols]
			s := p + pad
			c, o := s/gemmKU, s%gemmKU*gemmNR
			for q := range np {
				d := dst[q*stride+c][o:][:gemmNR]
				if j := q * gemmNR; j+gemmNR <= cols {
					*(*[gemmNR]float32)(d) = [gemmNR]float32(src[j:])
				} else {
					copy(d, src[j:])
				}
			}
		}
		return
	}
	// Columns of op(B) are contiguous (rs == 1).
	for q := range np {
		pan := dst[q*stride:][:chunks]
		for jj := range min(gemmNR, cols-q*gemmNR) {
			src := b[(j0+q*gemmNR+jj)*cs:][:k]
			if pad == 0 {
				for c := range pan {
					sc, d := (*[gemmKU]float32)(src[c*gemmKU:]), &pan[c]
					for u := range gemmKU {
						d[u*gemmNR+jj] = sc[u]
					}
				}
				continue
			}
			for p, v := range src {
				s := p + pad
				pan[s/gemmKU][s%gemmKU*gemmNR+jj] = v
			}
		}
	}
}

// storeTile writes the first rows×cols values of the tile t to C (c starts
// at the tile's corner, j0 is its first column in C), adding the previous C
// when accumulating and the bias in the forward form: C = (Z [+ C]) [+ bias].
func storeTile(t *[gemmMR * gemmNR]float32, rows, cols int, c []float32, ldc, j0 int, ep *Epilogue) {
	var bias []float32
	if ep.Y == nil && ep.Bias != nil {
		bias = ep.Bias[j0:][:cols]
	}
	for r := range rows {
		dst := c[r*ldc:][:cols]
		z := t[r*gemmNR:][:cols]
		switch {
		case ep.Accumulate && bias != nil:
			for j := range dst {
				dst[j] = z[j] + dst[j] + bias[j]
			}
		case ep.Accumulate:
			for j := range dst {
				dst[j] = z[j] + dst[j]
			}
		case bias != nil:
			for j := range dst {
				dst[j] = z[j] + bias[j]
			}
		default:
			copy(dst, z)
		}
	}
}

// gemmEpilogue applies the activation (forward) or its derivative (backward)
// to the finished block of rows [i0, i0+rows) and columns [j0, j0+cols) of C,
// one row segment at a time, in place. Identity needs nothing in either
// form: its derivative is 1 and multiplying by 1 is exact.
func gemmEpilogue(i0, rows, j0, cols int, c []float32, ldc int, ep *Epilogue) {
	if ep.Act.Func == Identity {
		return
	}
	for i := i0; i < i0+rows; i++ {
		seg := c[i*ldc+j0:][:cols]
		if ep.Y != nil {
			Backward(ep.Act, seg, seg, ep.Y[i*ep.LdY+j0:][:cols])
		} else {
			Forward(ep.Act, seg, seg)
		}
	}
}

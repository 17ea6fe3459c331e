//go:build !purego

package kernels

import (
	"github.com/actfuse/actfuse/internal/desc"
	"github.com/actfuse/actfuse/kernels/asm"
)

// avx2Gemm is the GEMM of the avx2 implementation: the 6×16 AVX2+FMA
// micro-kernel (12 ymm accumulators) with its fused epilogue, the 4×16
// edge tile and the strided variant (gemm_amd64.s), and the assembly
// packers; see the contract in gemm.go.
var avx2Gemm = newGemmContext(desc.ImplByName("avx2"), avx2Packed, avx2Strided, packers{
	rows: func(dst, src []float32, ld, kc, npan int) {
		_ = dst[npan*16*kc-1]
		_ = src[(kc-1)*ld+npan*16-1]
		asm.PackRows16(&dst[0], &src[0], ld, kc, npan)
	},
	rowsEdge: func(dst, src []float32, ld, kc, w int) {
		_ = dst[16*kc-1]
		_ = src[(kc-1)*ld+w-1]
		asm.PackRowsEdge16(&dst[0], &src[0], ld, kc, w)
	},
	cols6: func(dst, src []float32, ld, kc int) {
		_ = dst[6*kc-1]
		_ = src[(kc-1)*ld+5]
		asm.PackCols6(&dst[0], &src[0], ld, kc)
	},
	tA: func(dst, src []float32, ld, kc int) {
		_ = dst[6*kc-1]
		_ = src[5*ld+kc-1]
		asm.PackT6(&dst[0], &src[0], ld, kc)
	},
	tB: func(dst, src []float32, ld, kc int) {
		_ = dst[16*kc-1]
		_ = src[15*ld+kc-1]
		asm.PackT16(&dst[0], &src[0], ld, kc)
	},
})

// avx2Packed runs Gemm6x16 on the full 6-row tiles and, when the panel ends
// with 1 to 4 rows, Gemm4x16 on them (8 accumulators, two thirds of the cost
// of a 6-row tile, the same operations per element).
func avx2Packed(kc, m, nr int, a []float32, _ int, b, bsrc []float32, ldb int, c []float32, ldc int, bias, y []float32, ldy, flags int, p *[4]float32) {
	checkTile(kc, m, nr, b, c, ldc, bias, y, ldy, flags)
	if m > 0 && kc > 0 {
		_ = a[(m+5)/6*6*kc-1] // packed micro-panels of 6 rows
	}
	if bsrc != nil {
		if flags&gemmTransCopy != 0 {
			_ = bsrc[15*ldb+kc-1] // 16 rows of kc values, kc a multiple of 4
			if kc%4 != 0 {
				panic("actfuse: internal error: transposed panel copy with kc not a multiple of 4")
			}
		} else {
			_ = bsrc[(kc-1)*ldb+15]
		}
		_ = b[32*kc-1]
	}
	full, rest := m, m%6
	if rest > 4 {
		rest = 0
	}
	full -= rest
	if full > 0 {
		asm.Gemm6x16(kc, full, nr, ptr(a), ptr(b), ptr(bsrc), ldb, ptr(c), ldc, ptr(bias), ptr(y), ldy, flags, p)
		bsrc = nil
	}
	if rest > 0 {
		a = a[full*kc:]
		c = c[full*ldc:]
		if y != nil {
			y = y[full*ldy:]
		}
		asm.Gemm4x16(kc, rest, nr, ptr(a), ptr(b), ptr(bsrc), ldb, ptr(c), ldc, ptr(bias), ptr(y), ldy, flags, p)
	}
}

func avx2Strided(kc, m, nr int, a []float32, lda int, b, _ []float32, _ int, c []float32, ldc int, bias, y []float32, ldy, flags int, p *[4]float32) {
	checkTile(kc, m, nr, b, c, ldc, bias, y, ldy, flags)
	if m > 0 && kc > 0 {
		_ = a[(m-1)*lda+kc-1] // row-major op(A)
	}
	asm.Gemm6x16S(kc, m, nr, ptr(a), lda, ptr(b), ptr(c), ldc, ptr(bias), ptr(y), ldy, flags, p)
}

// checkTile makes sure, before an assembly call, that the m×nr block of C
// (and of Y, and the nr bias values, when the flags use them) and a packed
// 16-column B panel of kc steps lie inside their slices: a Go bounds-check
// panic here is what keeps a wrong argument from becoming a wild memory access.
func checkTile(kc, m, nr int, b, c []float32, ldc int, bias, y []float32, ldy, flags int) {
	if m == 0 || nr == 0 {
		return
	}
	_ = c[(m-1)*ldc+nr-1]
	if kc > 0 {
		_ = b[16*kc-1]
	}
	if flags&gemmBackward != 0 {
		_ = y[(m-1)*ldy+nr-1]
	}
	if flags&gemmBias != 0 {
		_ = bias[nr-1]
	}
}

//go:build !purego

package kernels

import (
	"github.com/actfuse/actfuse/internal/desc"
	"github.com/actfuse/actfuse/kernels/asm"
)

// neonGemm is the GEMM of the neon implementation: the 8×12 NEON
// micro-kernel (24 accumulator registers) with its fused epilogue; see the
// contract in gemm.go. Packing is done in Go, and the block sizes come
// from the defaults of cacheBlocks (cpuid reports no cache sizes on arm64).
var neonGemm = newGemmContext(desc.ImplByName("neon"), neonPacked, nil, packers{})

// neonPacked runs the micro-kernel over the ceil(m/8) tiles of one column
// panel of nr <= 12 columns. Full tiles (8 rows, 12 columns) go straight to
// the assembly; a partial tile goes through an 8×12 copy of its C, Y and
// bias, so the assembly never reads or writes outside the matrices.
//
// The kernel does not pack B itself (packsB is false), so bsrc is always nil.
func neonPacked(kc, m, nr int, a []float32, _ int, b, _ []float32, _ int, c []float32, ldc int, bias, y []float32, ldy, flags int, p *[4]float32) {
	full := 0
	if nr == 12 {
		full = m / 8
	}
	if full > 0 {
		// The last row of the last full tile ends at column 11.
		_ = c[(full*8-1)*ldc+11]
		if kc > 0 {
			_ = a[full*8*kc-1]
			_ = b[12*kc-1]
		}
		if flags&gemmBackward != 0 {
			_ = y[(full*8-1)*ldy+11]
		}
		if flags&gemmBias != 0 {
			_ = bias[11]
		}
		asm.Gemm8x12(kc, full, ptr(a), ptr(b), ptr(c), ldc, ptr(bias), ptr(y), ldy, flags, p)
	}
	for t := full; t*8 < m; t++ {
		rows := min(8, m-t*8)
		var tc, ty [8 * 12]float32
		var tb [12]float32
		cs := c[t*8*ldc:]
		if flags&gemmAccumulate != 0 {
			for i := 0; i < rows; i++ {
				copy(tc[i*12:i*12+nr], cs[i*ldc:i*ldc+nr])
			}
		}
		var yp *float32
		if flags&gemmBackward != 0 {
			ys := y[t*8*ldy:]
			for i := 0; i < rows; i++ {
				copy(ty[i*12:i*12+nr], ys[i*ldy:i*ldy+nr])
			}
			yp = &ty[0]
		}
		var bp *float32
		if flags&gemmBias != 0 {
			copy(tb[:nr], bias[:nr])
			bp = &tb[0]
		}
		if kc > 0 {
			_ = a[(t+1)*8*kc-1]
			_ = b[12*kc-1]
		}
		asm.Gemm8x12(kc, 1, ptr(a[t*8*kc:]), ptr(b), &tc[0], 12, bp, yp, 12, flags, p)
		for i := 0; i < rows; i++ {
			copy(cs[i*ldc:i*ldc+nr], tc[i*12:i*12+nr])
		}
	}
}

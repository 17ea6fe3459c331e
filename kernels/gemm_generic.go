package kernels

import (
	"github.com/actfuse/actfuse/fallback"
	"github.com/actfuse/actfuse/internal/desc"
)

// genericContext is the GEMM of the generic implementation: the driver of
// blocking.go around a micro-kernel in Go, with the packing loops of
// pack.go.
var genericContext = newGemmContext(desc.ImplByName("generic"), genericKernel, nil, packers{})

// The register tile of genericKernel, as desc.Impls says.
const (
	genericMR = 2
	genericNR = 4
)

func init() {
	if im := desc.ImplByName("generic"); im.MR != genericMR || im.NR != genericNR {
		panic("actfuse: internal error: the Go micro-kernel is written for 2×4, desc.Impls says otherwise")
	}
}

// genericKernel is the micro-kernel of the generic implementation (see the
// contract in gemm.go): a 2×4 register tile, eight accumulators, which is
// what scalar code keeps in registers beside its operands; each step is a
// multiplication and an addition (fused into one where the compiler fuses
// them, as on arm64). The epilogue applies the activation or its
// derivative to each row of a finished tile with package fallback.
func genericKernel(kc, m, nr int, a []float32, _ int, b, _ []float32, _ int, c []float32, ldc int, bias, y []float32, ldy, flags int, p *[4]float32) {
	act := fallback.FromParams(Func(flags>>gemmActShift), *p)
	b = b[:genericNR*kc]
	for t := 0; t*genericMR < m; t++ {
		tile := genericTile(kc, a[t*genericMR*kc:][:genericMR*kc], b)
		for i := 0; i < min(genericMR, m-t*genericMR); i++ {
			r := t*genericMR + i
			z := tile[i][:nr]
			row := c[r*ldc:][:nr]
			if flags&gemmAccumulate != 0 {
				for j := range z {
					z[j] += row[j]
				}
			}
			switch {
			case flags&gemmBackward != 0:
				fallback.Backward(act, row, z, y[r*ldy:][:nr])
			case flags&gemmBias != 0:
				for j := range z {
					z[j] += bias[j]
				}
				fallback.Forward(act, row, z)
			default:
				fallback.Forward(act, row, z)
			}
		}
	}
}

// genericTile returns Σ_p a_p·b_p over the kc steps of a packed A
// micro-panel (2 values a step) and a packed B panel (4 values a step).
// Eight steps, written out, make one iteration, read through array
// pointers: the body is one basic block without bounds checks, and the
// compiler keeps the eight accumulators and the operands in registers.
func genericTile(kc int, a, b []float32) (t [genericMR][genericNR]float32) {
	var c00, c01, c02, c03, c10, c11, c12, c13 float32
	q := 0
	for ; q+8 <= kc; q += 8 {
		ap := (*[16]float32)(a[2*q:])
		bp := (*[32]float32)(b[4*q:])
		a0, a1 := ap[0], ap[1]
		b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		a0, a1 = ap[2], ap[3]
		b0, b1, b2, b3 = bp[4], bp[5], bp[6], bp[7]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		a0, a1 = ap[4], ap[5]
		b0, b1, b2, b3 = bp[8], bp[9], bp[10], bp[11]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		a0, a1 = ap[6], ap[7]
		b0, b1, b2, b3 = bp[12], bp[13], bp[14], bp[15]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		a0, a1 = ap[8], ap[9]
		b0, b1, b2, b3 = bp[16], bp[17], bp[18], bp[19]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		a0, a1 = ap[10], ap[11]
		b0, b1, b2, b3 = bp[20], bp[21], bp[22], bp[23]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		a0, a1 = ap[12], ap[13]
		b0, b1, b2, b3 = bp[24], bp[25], bp[26], bp[27]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		a0, a1 = ap[14], ap[15]
		b0, b1, b2, b3 = bp[28], bp[29], bp[30], bp[31]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
	}
	for ; q < kc; q++ {
		ap := (*[2]float32)(a[2*q:])
		bp := (*[4]float32)(b[4*q:])
		a0, a1 := ap[0], ap[1]
		c00 += a0 * bp[0]
		c01 += a0 * bp[1]
		c02 += a0 * bp[2]
		c03 += a0 * bp[3]
		c10 += a1 * bp[0]
		c11 += a1 * bp[1]
		c12 += a1 * bp[2]
		c13 += a1 * bp[3]
	}
	return [genericMR][genericNR]float32{{c00, c01, c02, c03}, {c10, c11, c12, c13}}
}

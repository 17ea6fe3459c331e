//go:build !purego

package kernels

import (
	"math/rand/v2"
	"testing"
)

// guard is the value around the packed panels, which must survive.
const guard = float32(-7.25e30)

// TestAVX2PackT checks the transposing packers, including columns beyond a
// multiple of 8, against the definition.
func TestAVX2PackT(t *testing.T) {
	if Use("avx2") != nil {
		t.Skip("no AVX2+FMA")
	}
	defer Use(ISA())
	r := rand.New(rand.NewPCG(7, 8))
	for _, w := range []int{6, 16} {
		for kc := 0; kc < 40; kc++ {
			ld := kc + 3
			src := randSlice(r, w*ld)
			dst := make([]float32, w*kc+8)
			for i := range dst {
				dst[i] = guard
			}
			fast := avx2Gemm.pack.tA
			if w == 16 {
				fast = avx2Gemm.pack.tB
			}
			packTransposed(fast, dst, src, ld, 0, w, 0, kc, w)
			for p := 0; p < kc; p++ {
				for i := 0; i < w; i++ {
					if dst[p*w+i] != src[i*ld+p] {
						t.Fatalf("w=%d kc=%d: dst[%d*%d+%d] = %v, want %v", w, kc, p, w, i, dst[p*w+i], src[i*ld+p])
					}
				}
			}
			for i := w * kc; i < len(dst); i++ {
				if dst[i] != guard {
					t.Fatalf("w=%d kc=%d: guard dst[%d] overwritten", w, kc, i)
				}
			}
		}
	}
}

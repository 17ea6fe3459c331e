//go:build !purego

package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestAVX2GemmSmallBlocks runs the AVX2 driver with tiny cache blocks, so that
// every loop of blockedGemm (several NC, KC and MC blocks, B packed by the
// kernel during the first row block and reused by the others, edge panels)
// runs on small shapes, and checks the results against the float64 reference.
func TestAVX2GemmSmallBlocks(t *testing.T) {
	if Use("avx2") != nil {
		t.Skip("no AVX2+FMA")
	}
	defer Use(ISA())
	saved, savedPacksB := avx2Blocks, avx2Kernel.packsB
	defer func() { avx2Blocks, avx2Kernel.packsB = saved, savedPacksB }()
	r := rand.New(rand.NewPCG(5, 6))
	for i, bs := range []blockSizes{{8, 6, 16}, {16, 12, 32}, {24, 18, 48}, {8, 6, 16}, {16, 12, 32}} {
		avx2Blocks = bs
		avx2Kernel.packsB = i < 3 // B panels copied by the kernel during the sweeps
		for _, s := range [][3]int{{13, 40, 33}, {30, 70, 29}, {25, 17, 100}, {6, 32, 9}, {10, 24, 40}, {9, 40, 17}, {16, 9, 20}, {4, 40, 24}, {2, 70, 32}} {
			for _, act := range testActs {
				for mode := 0; mode < 4; mode++ {
					tA, tB := mode&1 != 0, mode&2 != 0
					bias, acc, bwd := r.IntN(2) == 0, r.IntN(2) == 0, r.IntN(3) == 0
					t.Run(fmt.Sprintf("%v/packsB=%v/%dx%dx%d/%v/tA=%v/tB=%v", bs, avx2Kernel.packsB, s[0], s[1], s[2], act, tA, tB), func(t *testing.T) {
						gemmCase(t, r, tA, tB, s[0], s[1], s[2], act, bias, acc, bwd)
					})
				}
			}
		}
	}
}

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
			fast := avx2Kernel.pack.tA
			if w == 16 {
				fast = avx2Kernel.pack.tB
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

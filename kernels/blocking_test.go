package kernels

import (
	"math/rand/v2"
	"testing"

	"github.com/actfuse/actfuse/internal/desc"
	"github.com/actfuse/actfuse/internal/ref"
)

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

// TestGemmSmallBlocks runs the driver of every implementation with tiny
// cache blocks, so that every loop of run (several NC, KC and MC blocks, B
// packed by the kernel during the first row block and reused by the others,
// edge panels, the strided path) runs on small shapes, and checks the
// results against the float64 reference on shapes around those blocks.
func TestGemmSmallBlocks(t *testing.T) {
	defer Use(ISA())
	for _, im := range impls {
		if err := Use(im.name); err != nil {
			t.Fatal(err)
		}
		// The implementation's context, then its narrow one on every
		// shape (narrowN raised), so that the narrow tile also sweeps
		// several panels and copies B during its sweeps.
		type pass struct {
			name string
			ctx  *gemmContext
		}
		passes := []pass{{im.name, im.gemm}}
		if im.gemm.narrow != nil {
			passes = append(passes, pass{im.name + " narrow", im.gemm.narrow})
		}
		for _, ps := range passes {
			ctx := ps.ctx
			savedN := im.gemm.narrowN
			if ctx != im.gemm {
				im.gemm.narrowN = 1 << 30
			}
			saved, savedT, savedPacksB := ctx.blocks, ctx.blocksT, ctx.packsB
			r := rand.New(rand.NewPCG(5, 6))
			for i, f := range [][3]int{{1, 1, 1}, {2, 2, 2}, {3, 3, 3}, {1, 1, 1}, {2, 2, 2}} {
				ctx.blocks = blockSizes{kc: 8 * f[0], mc: ctx.mr * f[1], nc: ctx.nr * f[2]}
				ctx.blocksT = ctx.blocks
				ctx.packsB = savedPacksB && i < 3 // B panels copied by the kernel during the sweeps
				for _, s := range [][3]int{{13, 40, 33}, {30, 70, 29}, {25, 17, 100}, {6, 32, 9}, {10, 24, 40}, {9, 40, 17}, {16, 9, 20}, {4, 40, 24}, {2, 70, 32}, {45, 14, 23}} {
					for j, act := range ref.GemmActivations {
						mode := (i + j) % 4
						tc := ref.GemmCase{TransA: mode&1 != 0, TransB: mode&2 != 0, M: s[0], N: s[1], K: s[2], PadA: j % 3, PadB: i % 2, PadC: 1,
							Act: act, HasBias: r.IntN(2) == 0, Accumulate: r.IntN(2) == 0, Backward: r.IntN(3) == 0}
						if err := tc.Run(r, Gemm); err != nil {
							t.Errorf("%s, blocks %+v, packsB %v: %v", ps.name, ctx.blocks, ctx.packsB, err)
						}
					}
				}
			}
			ctx.blocks, ctx.blocksT, ctx.packsB = saved, savedT, savedPacksB
			im.gemm.narrowN = savedN
		}
	}
}

// TestKBlocks checks that the k blocks cover k exactly, in blocks of a
// multiple of the alignment, at most KC rounded up to it.
func TestKBlocks(t *testing.T) {
	for _, align := range []int{8, 16} {
		for k := 0; k < 2000; k++ {
			n, kc := kBlocks(k, 256, align)
			if k == 0 {
				if n != 1 || kc != 0 {
					t.Fatalf("k=0: %d blocks of %d", n, kc)
				}
				continue
			}
			if kc > 256+align-1 || kc%align != 0 || (n-1)*kc >= k || n*kc < k {
				t.Fatalf("k=%d align=%d: %d blocks of %d", k, align, n, kc)
			}
		}
	}
}

// TestCacheBlocks checks the block sizes of every implementation of
// desc.Impls: multiples of the tile, KC a multiple of 8 within KCMax, and a B block wide
// enough to amortise packing A (the defaults apply where cpuid reports no
// cache sizes).
func TestCacheBlocks(t *testing.T) {
	for i := range desc.Impls {
		im := &desc.Impls[i]
		for _, fill := range []float64{im.L1Fill, im.L1FillT} {
			if fill == 0 {
				continue
			}
			bs := cacheBlocks(im, fill)
			if bs.kc < 64 || bs.kc%8 != 0 || bs.mc < im.MR || bs.mc%im.MR != 0 || bs.nc < 256 || bs.nc%im.NR != 0 {
				t.Errorf("cacheBlocks(%s, %v) = %+v", im.Name, fill, bs)
			}
			if im.KCMax != 0 && (im.KCMax < 64 || bs.kc > im.KCMax) {
				t.Errorf("cacheBlocks(%s, %v): KC %d, KCMax %d (0, or at least 64 and never exceeded)", im.Name, fill, bs.kc, im.KCMax)
			}
		}
	}
}

// TestGemmAllocs checks that Gemm allocates nothing once warm, on one thread
// and on several, under every implementation, with an activation that has
// a parameter.
func TestGemmAllocs(t *testing.T) {
	defer SetThreads(0)
	defer Use(ISA())
	r := rand.New(rand.NewPCG(9, 9))
	a, b, c := randSlice(r, 256*256), randSlice(r, 256*256), make([]float32, 256*256)
	ep := &Epilogue{Act: Activation{Func: ELU, Alpha: 0.5}, Bias: randSlice(r, 256)}
	for _, im := range impls {
		if err := Use(im.name); err != nil {
			t.Fatal(err)
		}
		for _, th := range []int{1, 2} {
			SetThreads(th)
			for _, n := range []int{8, 128, 256} { // 128³: a shared call (sharedGemm)
				runs := 5
				if n == 128 {
					// Warm: each block's buffers (gemmJob.bufs) grow
					// to the largest packing it has done, and which
					// goroutine computes which block of a shared call
					// depends on when the helper arrives.
					for range 20 {
						Gemm(false, false, n, n, n, a, n, b, n, c, n, ep)
					}
					runs = 20
				}
				got := testing.AllocsPerRun(runs, func() { Gemm(false, false, n, n, n, a, n, b, n, c, n, ep) })
				if got != 0 {
					t.Errorf("%s, threads=%d, %d³: %v allocations per call", im.name, th, n, got)
				}
			}
		}
	}
}

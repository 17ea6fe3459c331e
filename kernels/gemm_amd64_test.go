//go:build !purego

package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"golang.org/x/sys/cpu"
)

// guard is the value around the packed panels, which must survive.
const guard = float32(-7.25e30)

// TestAsmPackers checks the assembly packers of every amd64 context against
// their definitions, for every panel depth up to 40 (the transposing ones
// beyond a multiple of 8 through packTransposed) and every edge width, with
// guard values after the destination and around the source's rows.
func TestAsmPackers(t *testing.T) {
	if !cpu.X86.HasAVX2 {
		t.Skip("no AVX2: the packers cannot run on this CPU")
	}
	r := rand.New(rand.NewPCG(7, 8))
	for _, ctx := range []struct {
		name string
		mk   *gemmContext
	}{{"avx2", avx2Gemm}, {"avx512", avx512Gemm}} {
		mr, nr, pk := ctx.mk.mr, ctx.mk.nr, &ctx.mk.pack
		// check runs pack into a guarded destination of n values and
		// compares each with want(i).
		check := func(what string, n int, pack func(dst []float32), want func(i int) float32) {
			t.Helper()
			dst := make([]float32, n+16)
			for i := range dst {
				dst[i] = guard
			}
			pack(dst[:n:n])
			for i := 0; i < n; i++ {
				if dst[i] != want(i) {
					t.Fatalf("%s %s: dst[%d] = %v, want %v", ctx.name, what, i, dst[i], want(i))
				}
			}
			for i := n; i < len(dst); i++ {
				if dst[i] != guard {
					t.Fatalf("%s %s: guard dst[%d] overwritten", ctx.name, what, i)
				}
			}
		}
		for kc := 1; kc <= 40; kc++ {
			const npan = 3
			ld := npan*nr + 5
			src := randSlice(r, kc*ld)
			check(fmt.Sprintf("rows kc=%d", kc), npan*nr*kc, func(d []float32) { pk.rows(d, src, ld, kc, npan) },
				func(i int) float32 {
					q, rest := i/(nr*kc), i%(nr*kc)
					p, j := rest/nr, rest%nr
					return src[p*ld+q*nr+j]
				})
			for w := 1; w <= nr; w++ {
				// The last row ends at column w: a read beyond it panics
				// in the bounds check or faults under the guard.
				s := src[:(kc-1)*ld+w]
				check(fmt.Sprintf("rowsEdge kc=%d w=%d", kc, w), nr*kc, func(d []float32) { pk.rowsEdge(d, s, ld, kc, w) },
					func(i int) float32 {
						p, j := i/nr, i%nr
						if j >= w {
							return 0
						}
						return s[p*ld+j]
					})
			}
			check(fmt.Sprintf("cols kc=%d", kc), mr*kc, func(d []float32) { pk.cols(d, src, ld, kc) },
				func(i int) float32 { return src[(i/mr)*ld+i%mr] })
			widths := []int{mr, nr}
			if tl := ctx.mk.tile.Tail; tl > 0 {
				widths = append(widths, tl)
			}
			for _, w := range widths {
				fast := pk.tA
				switch w {
				case nr:
					fast = pk.tB
				case ctx.mk.tile.Tail:
					fast = ctx.mk.tailPack.tA
				}
				lt := kc + 3
				st := randSlice(r, w*lt)
				check(fmt.Sprintf("transposed w=%d kc=%d", w, kc), w*kc, func(d []float32) { packTransposed(fast, d, st, lt, 0, w, 0, kc, w) },
					func(i int) float32 { return st[(i%w)*lt+i/w] })
			}
		}
	}
}

// TestGemmNoOverlap checks that the avx512 epilogue gives the same bits
// whether it activates a stored tile during the next tile's sweep or at
// once (desc.FlagNoOverlap, chosen per activation and machine class): for
// every activation, on shapes with several tiles per sweep and a k block
// long enough for the overlap, with a bias, on both the main and the
// narrow context.
func TestGemmNoOverlap(t *testing.T) {
	if !cpu.X86.HasAVX512F || Use("avx512") != nil {
		t.Skip("no avx512 implementation on this CPU: the overlapped epilogue is not tested")
	}
	defer Use(ISA())
	saved, savedNarrow := avx512Gemm.noOverlap, avx512Gemm.narrow.noOverlap
	defer func() { avx512Gemm.noOverlap, avx512Gemm.narrow.noOverlap = saved, savedNarrow }()
	r := rand.New(rand.NewPCG(11, 12))
	for _, s := range [][3]int{{61, 200, 70}, {100, 130, 13}, {14, 200, 70}} { // 14 rows: the tail tiles
		m, k, n := s[0], s[1], s[2]
		a, b, bias := randSlice(r, m*k), randSlice(r, k*n), randSlice(r, n)
		for _, act := range append(benchActivations, Activation{Func: ScaledTanh, Gain: 1.3, Slope: 0.8}) {
			var got [2][]float32
			for i, mask := range []uint64{0, ^uint64(0)} {
				avx512Gemm.noOverlap, avx512Gemm.narrow.noOverlap = mask, mask
				got[i] = make([]float32, m*n)
				Gemm(false, false, m, n, k, a, k, b, n, got[i], n, &Epilogue{Bias: bias, Act: act})
			}
			for i := range got[0] {
				if math.Float32bits(got[0][i]) != math.Float32bits(got[1][i]) {
					t.Fatalf("%dx%dx%d %v: C[%d] = %v overlapped, %v at once", m, k, n, act, i, got[0][i], got[1][i])
				}
			}
		}
	}
}

// TestAsmPackDot checks the packers of the amd64 dot kernels against their
// definition, for every depth up to 40 (whole chunks and a last one cut
// short) and every n up to the widest kernel's, with guard values after the
// destination; the source ends at the block's last value. The Go loop
// that packs where a packer cannot (a leading dimension beyond 2^31 over
// the chunk) runs on the same cases.
func TestAsmPackDot(t *testing.T) {
	for _, c := range []struct {
		name string
		ok   bool
		d    *dotGemm
	}{{"avx2", cpu.X86.HasAVX2, avx2Gemm.dot}, {"avx512", cpu.X86.HasAVX512F, avx512Gemm.narrow.dot}} {
		if !c.ok {
			t.Logf("SKIP %s: its dot kernels' packer cannot run on this CPU", c.name)
			continue
		}
		d := c.d
		goLoop := &dotGemm{maxN: d.maxN, chunk: d.chunk}
		r := rand.New(rand.NewPCG(9, 10))
		for n := 1; n <= d.maxN; n++ {
			for kc := 1; kc <= 40; kc++ {
				ld := n + 3
				src := randSlice(r, kc*ld)[:(kc-1)*ld+n]
				size := dotSize(kc, n, d.chunk)
				for _, which := range []string{"asm", "go"} {
					dst := make([]float32, size+16)
					for i := range dst {
						dst[i] = guard
					}
					if which == "asm" {
						d.rows(dst[:size:size], src, ld, kc, n)
					} else {
						goLoop.pack(dst[:size:size], &gemmCall{n: n, b: src, ldb: ld}, 0, kc)
					}
					for i := 0; i < size; i++ {
						q, j, l := i/(d.chunk*n), i/d.chunk%n, i%d.chunk
						want := float32(0)
						if p := q*d.chunk + l; p < kc {
							want = src[p*ld+j]
						}
						if dst[i] != want {
							t.Fatalf("%s %s n=%d kc=%d: dst[%d] = %v, want %v", c.name, which, n, kc, i, dst[i], want)
						}
					}
					for i := size; i < len(dst); i++ {
						if dst[i] != guard {
							t.Fatalf("%s %s n=%d kc=%d: guard dst[%d] overwritten", c.name, which, n, kc, i)
						}
					}
				}
			}
		}
	}
}

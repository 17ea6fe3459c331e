package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/actfuse/actfuse/fallback"
	"github.com/actfuse/actfuse/internal/ref"
)

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

const guard = float32(-7.25e30)

// gemmCase runs one randomized Gemm on the active implementation and checks
// it against the float64 reference (internal/ref) and the guards around C.
func gemmCase(t *testing.T, r *rand.Rand, transA, transB bool, m, n, k int, act Activation, bias, acc, bwd bool) {
	t.Helper()
	pad := r.IntN(3)
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	lda, ldb, ldc := max(1, ac)+pad, max(1, bc)+r.IntN(3), n+r.IntN(3)
	a := randSlice(r, max(0, (ar-1)*lda+ac))
	b := randSlice(r, max(0, (br-1)*ldb+bc))
	csz := max(0, (m-1)*ldc+n)
	cbuf := make([]float32, csz+32)
	for i := range cbuf {
		cbuf[i] = guard
	}
	c := cbuf[16 : 16+csz]
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			c[i*ldc+j] = float32(r.NormFloat64())
		}
	}
	c0 := append([]float32(nil), c...)
	ep := &Epilogue{Act: act, Accumulate: acc}
	if bwd {
		ep.LdY = n + 1
		ep.Y = make([]float32, max(0, (m-1)*ep.LdY+n))
		fwd := ref.Forward(act)
		for i := range ep.Y {
			ep.Y[i] = float32(fwd(r.NormFloat64()))
		}
	} else if bias {
		ep.Bias = randSlice(r, n)
	}
	want := ref.Gemm(transA, transB, m, n, k, a, lda, b, ldb, c0, ldc, ep)
	Gemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, ep)
	for i := range cbuf[:16] {
		if cbuf[i] != guard || cbuf[16+csz+i] != guard {
			t.Fatalf("%s %dx%dx%d: guard overwritten", act, m, n, k)
		}
	}
	if i, j, got, w, bound, ok := want.Check(c, ldc); !ok {
		t.Fatalf("%s tA=%v tB=%v %dx%dx%d bias=%v acc=%v bwd=%v: C[%d,%d] = %g, want %g (bound %g)",
			act, transA, transB, m, n, k, bias, acc, bwd, i, j, got, w, bound)
	}
	for i := 0; i < m; i++ {
		for j := n; j < ldc && i*ldc+j < len(c); j++ {
			if c[i*ldc+j] != c0[i*ldc+j] {
				t.Fatalf("%dx%dx%d: padding C[%d,%d] changed", m, n, k, i, j)
			}
		}
	}
}

var testActs = []Activation{
	{Func: Identity}, {Func: ReLU}, {Func: LeakyReLU, Alpha: 0.1}, {Func: ELU, Alpha: 1},
	{Func: Sigmoid}, {Func: Tanh},
}

// TestBlockedGemm checks every implementation on shapes around the tile and
// block sizes, with every epilogue, against a float64 reference.
func TestBlockedGemm(t *testing.T) {
	defer Use(ISA())
	shapes := [][3]int{{1, 1, 1}, {6, 16, 4}, {7, 17, 5}, {5, 15, 0}, {13, 33, 9}, {128, 10, 70},
		{30, 70, 300}, {61, 35, 530}, {19, 129, 257}}
	for _, name := range Implementations() {
		if err := Use(name); err != nil {
			t.Fatal(err)
		}
		r := rand.New(rand.NewPCG(1, 2))
		for _, s := range shapes {
			for _, act := range testActs {
				for mode := 0; mode < 8; mode++ {
					tA, tB := mode&1 != 0, mode&2 != 0
					bias, acc, bwd := mode&4 != 0, r.IntN(2) == 0, r.IntN(3) == 0
					t.Run(fmt.Sprintf("%s/%dx%dx%d/%v/tA=%v/tB=%v", name, s[0], s[1], s[2], act, tA, tB), func(t *testing.T) {
						gemmCase(t, r, tA, tB, s[0], s[1], s[2], act, bias, acc, bwd)
					})
				}
			}
		}
	}
}

// TestGemmThreadsBitwise checks that the result is bitwise the same for every
// thread count.
func TestGemmThreadsBitwise(t *testing.T) {
	defer SetThreads(0)
	r := rand.New(rand.NewPCG(3, 4))
	for _, s := range [][3]int{{200, 300, 100}, {300, 100, 200}, {97, 500, 77}} {
		m, n, k := s[0], s[1], s[2]
		a, b := randSlice(r, m*k), randSlice(r, k*n)
		ep := &Epilogue{Act: Activation{Func: Sigmoid}, Bias: randSlice(r, n)}
		var ref []float32
		for th := 1; th <= 4; th++ {
			SetThreads(th)
			c := make([]float32, m*n)
			Gemm(false, false, m, n, k, a, k, b, n, c, n, ep)
			if ref == nil {
				ref = c
				continue
			}
			for i := range c {
				if math.Float32bits(c[i]) != math.Float32bits(ref[i]) {
					t.Fatalf("%v threads: C[%d] = %v, 1 thread gave %v", th, i, c[i], ref[i])
				}
			}
		}
	}
}

// TestKBlocks checks that the k blocks cover k exactly.
func TestKBlocks(t *testing.T) {
	for k := 0; k < 2000; k++ {
		n, kc := kBlocks(k, 256)
		if k == 0 {
			if n != 1 || kc != 0 {
				t.Fatalf("k=0: %d blocks of %d", n, kc)
			}
			continue
		}
		if kc > 256+7 || (n-1)*kc >= k || n*kc < k {
			t.Fatalf("k=%d: %d blocks of %d", k, n, kc)
		}
	}
}

var _ = fallback.Gemm

// TestCacheBlocks checks the block sizes for both tile shapes: multiples of
// the tile, KC a multiple of 8, and a B block wide enough to amortise packing
// A (the defaults apply where cpuid reports no cache sizes).
func TestCacheBlocks(t *testing.T) {
	for _, tile := range [][2]int{{6, 16}, {8, 12}} {
		bs := cacheBlocks(tile[0], tile[1])
		if bs.kc < 64 || bs.kc%8 != 0 || bs.mc < tile[0] || bs.mc%tile[0] != 0 || bs.nc < 256 || bs.nc%tile[1] != 0 {
			t.Errorf("cacheBlocks(%d, %d) = %+v", tile[0], tile[1], bs)
		}
	}
}

// TestGemmAllocs checks that Gemm allocates nothing once warm, on one thread
// and on several.
func TestGemmAllocs(t *testing.T) {
	defer SetThreads(0)
	r := rand.New(rand.NewPCG(9, 9))
	a, b, c := randSlice(r, 256*256), randSlice(r, 256*256), make([]float32, 256*256)
	ep := &Epilogue{Act: Activation{Func: ReLU}, Bias: randSlice(r, 256)}
	for _, th := range []int{1, 2} {
		SetThreads(th)
		for _, n := range []int{8, 256} {
			got := testing.AllocsPerRun(10, func() { Gemm(false, false, n, n, n, a, n, b, n, c, n, ep) })
			if got != 0 {
				t.Errorf("threads=%d, %d³: %v allocations per call", th, n, got)
			}
		}
	}
}

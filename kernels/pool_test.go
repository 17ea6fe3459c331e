package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// TestSharedGemmBitwise checks that products small enough to be shared
// with awake workers (sharedGemm) take that path on several threads and
// give the bits of one thread, for every implementation, shape class and
// transpose.
func TestSharedGemmBitwise(t *testing.T) {
	defer SetThreads(0)
	defer Use(ISA())
	r := rand.New(rand.NewPCG(31, 32))
	// 1–8 MFLOP: below the split of parallelGemm, at or above minSharedFlops.
	shapes := []struct{ m, n, k int }{{128, 10, 512}, {100, 37, 300}, {40, 260, 97}, {300, 300, 6}}
	for _, im := range impls {
		if err := Use(im.name); err != nil {
			t.Fatal(err)
		}
		for i, s := range shapes {
			tA, tB := i&1 != 0, i&2 != 0
			lda, ldb := s.k+1, s.n+3
			if tA {
				lda = s.m + 2
			}
			if tB {
				ldb = s.k + 1
			}
			a, b := randSlice(r, lda*max(s.m, s.k)), randSlice(r, ldb*max(s.n, s.k))
			ep := &Epilogue{Act: Activation{Func: Sigmoid}, Bias: randSlice(r, s.n)}
			c0 := randSlice(r, s.m*s.n)
			run := func() []float32 {
				c := append([]float32(nil), c0...)
				Gemm(tA, tB, s.m, s.n, s.k, a, lda, b, ldb, c, s.n, ep)
				return c
			}
			SetThreads(1)
			want := run()
			for _, th := range []int{2, 3, 4} {
				SetThreads(th)
				// The call is shared when it comes within spinWait of
				// the last: a descheduled test (an emulator, a loaded
				// host) may miss that, so it tries a few times.
				var got []float32
				shared := false
				for try := 0; try < 10 && !shared; try++ {
					job := jobPool.Get()
					gen := job.gen
					job.g = gemmCall{tA, tB, s.m, s.n, s.k, a, lda, b, ldb, append([]float32(nil), c0...), s.n, ep}
					lastGemm.Store(time.Now().UnixNano()) // workers are (about to be) awake
					parallelGemm(im, job)
					got, shared = job.g.c, job.gen != gen
					job.g = gemmCall{}
					jobPool.Put(job)
				}
				if !shared {
					t.Errorf("%s %v tA=%v tB=%v, %d threads: not shared", im.name, s, tA, tB, th)
				}
				for j := range want {
					if math.Float32bits(got[j]) != math.Float32bits(want[j]) {
						t.Errorf("%s %v tA=%v tB=%v, %d threads: C[%d] = %g, 1 thread: %g", im.name, s, tA, tB, th, j, got[j], want[j])
						break
					}
				}
				if got := run(); !sameBits(got, want) {
					t.Errorf("%s %v, %d threads: Gemm differs from 1 thread", im.name, s, th)
				}
			}
		}
	}
}

func sameBits(a, b []float32) bool {
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// TestSharedGemmLateHelper checks that a helper arriving after its call has
// ended, when the job serves a later call or none, computes nothing.
func TestSharedGemmLateHelper(t *testing.T) {
	job := &gemmJob{}
	job.gen = 7
	job.claim.Store(uint64(7)<<32 | 3<<16) // 3 blocks, none claimed
	job.claimBlocks(6)                     // the previous call's helper
	if s := job.claim.Load(); uint16(s) != 0 || job.done.Load() != 0 {
		t.Fatalf("a helper of generation 6 claimed blocks of generation 7: claim %#x, done %d", s, job.done.Load())
	}
	job.claim.Store(uint64(7)<<32 | 3<<16 | 3) // every block claimed
	job.claimBlocks(7)                         // job.ctx is nil: running a block would panic
	if job.done.Load() != 0 {
		t.Fatal("a helper ran a block when none was left")
	}
}

// TestSharedGemmPanic checks that a panic in a block of a shared call
// reaches the caller, whichever goroutine computed the block.
func TestSharedGemmPanic(t *testing.T) {
	defer SetThreads(0)
	SetThreads(2)
	const m, n, k = 64, 64, 128 // 1 MFLOP: a shared call
	a, b, c := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
	boom := boomImpl(c, n/2, "boom: block of a shared call")
	job := jobPool.Get()
	job.g = gemmCall{m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, c: c, ldc: n, ep: &noEpilogue}
	shared := false
	for try := 0; try < 10 && !shared; try++ { // see TestSharedGemmBitwise
		gen := job.gen
		lastGemm.Store(time.Now().UnixNano())
		mustPanic(t, "boom: block of a shared call", func() { parallelGemm(boom, job) })
		shared = job.gen != gen
		if job.panicked != nil {
			t.Fatal("the recorded panic was not cleared")
		}
	}
	if !shared {
		t.Fatal("the call was not shared")
	}
}

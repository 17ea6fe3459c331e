package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/actfuse/actfuse/fallback"
)

// updateOps are the update functions with fixed hyper-parameters, applied
// to the slices w, v, m, g (m is used by Adam only); ref is the fallback.
var updateOps = []struct {
	name     string
	run, ref func(s [4][]float32) bool
}{
	{"momentum",
		func(s [4][]float32) bool { return MomentumUpdate(s[0], s[1], 0.05, 0.9, 1e-4) },
		func(s [4][]float32) bool { return fallback.MomentumUpdate(s[0], s[1], 0.05, 0.9, 1e-4) }},
	{"sgd",
		func(s [4][]float32) bool { return SGDUpdate(s[0], nil, s[3], 0.05, 0, 1e-4, false) },
		func(s [4][]float32) bool { return fallback.SGDUpdate(s[0], nil, s[3], 0.05, 0, 1e-4, false) }},
	{"sgd-momentum",
		func(s [4][]float32) bool { return SGDUpdate(s[0], s[1], s[3], 0.05, 0.9, 1e-4, false) },
		func(s [4][]float32) bool { return fallback.SGDUpdate(s[0], s[1], s[3], 0.05, 0.9, 1e-4, false) }},
	{"nesterov",
		func(s [4][]float32) bool { return SGDUpdate(s[0], s[1], s[3], 0.05, 0.9, 1e-4, true) },
		func(s [4][]float32) bool { return fallback.SGDUpdate(s[0], s[1], s[3], 0.05, 0.9, 1e-4, true) }},
	{"adam",
		func(s [4][]float32) bool { return AdamUpdate(s[0], s[2], s[1], s[3], 1e-3, 0.9, 0.999, 1e-8, 1e-4) },
		func(s [4][]float32) bool {
			return fallback.AdamUpdate(s[0], s[2], s[1], s[3], 1e-3, 0.9, 0.999, 1e-8, 1e-4)
		}},
}

// sameFloats reports whether a and b hold the same bits, any NaN matching
// any NaN.
func sameFloats(a, b []float32) bool {
	return slices.EqualFunc(a, b, func(x, y float32) bool {
		return x != x && y != y || math.Float32bits(x) == math.Float32bits(y)
	})
}

// TestUpdateThreads checks that the update functions, which split large
// slices over the worker goroutines, give the bits of the fallback on one
// goroutine with 1, 2, 3 and 7 threads, and report finiteness as the AND
// of their chunks: a non-finite weight in the first or the last chunk only
// makes every split report false.
func TestUpdateThreads(t *testing.T) {
	defer SetThreads(0)
	const n = 7*minUpdateChunk + 1001
	rng := rand.New(rand.NewPCG(21, 21))
	var in [4][]float32
	for k := range in {
		in[k] = make([]float32, n)
		for i := range in[k] {
			in[k][i] = float32(rng.NormFloat64())
		}
	}
	for i := range in[1] {
		in[1][i] = float32(math.Abs(float64(in[1][i]))) // Adam's second moment is not negative
	}
	prev := ISA()
	defer Use(prev) //nolint:errcheck // prev was active
	for _, impl := range Implementations() {
		if err := Use(impl); err != nil {
			t.Fatal(err)
		}
		for _, op := range updateOps {
			for _, bad := range []int{-1, 5, n - 3} {
				src := in
				if bad >= 0 {
					src[0] = slices.Clone(in[0])
					src[0][bad] = float32(math.Inf(1))
				}
				var want [4][]float32
				for k := range want {
					want[k] = slices.Clone(src[k])
				}
				wantOK := op.ref(want)
				if wantOK != (bad < 0) {
					t.Fatalf("%s: the fallback reports finite = %v with a non-finite weight at %d", op.name, wantOK, bad)
				}
				for _, th := range []int{1, 2, 3, 7} {
					SetThreads(th)
					if got := updateParts(n); got != th {
						t.Fatalf("threads=%d: the update is split into %d parts", th, got)
					}
					var got [4][]float32
					for k := range got {
						got[k] = slices.Clone(src[k])
					}
					ok := op.run(got)
					what := fmt.Sprintf("%s/%s threads=%d non-finite at %d", impl, op.name, th, bad)
					if ok != wantOK {
						t.Errorf("%s: finite = %v, want %v", what, ok, wantOK)
					}
					for k := range got {
						if !sameFloats(got[k], want[k]) {
							t.Errorf("%s: slice %d differs from the fallback on one goroutine", what, k)
						}
					}
				}
			}
		}
	}
}

// TestUpdateSplitSmall checks that small updates stay on one goroutine
// whatever the thread count.
func TestUpdateSplitSmall(t *testing.T) {
	defer SetThreads(0)
	SetThreads(8)
	for _, c := range []struct{ n, parts int }{{0, 0}, {1000, 0}, {2*minUpdateChunk - 1, 1}, {2 * minUpdateChunk, 2}, {100 * minUpdateChunk, 8}} {
		if got := updateParts(c.n); got != c.parts {
			t.Errorf("updateParts(%d) with 8 threads = %d, want %d", c.n, got, c.parts)
		}
	}
}

// TestUpdateAllocs checks that a split update allocates nothing once warm.
func TestUpdateAllocs(t *testing.T) {
	defer SetThreads(0)
	const n = 3*minUpdateChunk + 5
	s := [4][]float32{make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)}
	for _, th := range []int{1, 3} {
		SetThreads(th)
		for _, op := range updateOps {
			op.run(s)
			if got := testing.AllocsPerRun(10, func() { op.run(s) }); got != 0 {
				t.Errorf("%s, threads=%d: %v allocations per call", op.name, th, got)
			}
		}
	}
}

package fallback_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/actfuse/actfuse/fallback"
)

// TestBackwardBias checks dz against Backward row by row (bit for bit), db
// against the documented float32 row-order sum (bit for bit) and against the
// float64 column sums within the stated bound, with leading dimensions
// larger than n and guard values in the gaps.
func TestBackwardBias(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	guard := math.Float32frombits(0x7fa11111)
	shapes := [][2]int{{0, 0}, {0, 5}, {5, 0}, {1, 1}, {3, 7}, {17, 33}, {64, 1100}, {2, 2100}}
	for _, a := range append(append([]fallback.Activation{}, approxActs...), exactActs...) {
		for _, sh := range shapes {
			m, n := sh[0], sh[1]
			lddy, ldy, lddz := max(1, n+rng.IntN(3)), n+1, n+rng.IntN(2)+1
			dy := randMatrix(rng, m, n, lddy, 1)
			y := randMatrix(rng, m, n, ldy, 1)
			fallback.Forward(a, y, y)
			dz := make([]float32, max(0, (m-1)*lddz+n)+1)
			for i := range dz {
				dz[i] = guard
			}
			db := make([]float32, n+1)
			db[n] = guard
			for i := range n {
				db[i] = guard // must be overwritten
			}
			fallback.BackwardBias(a, m, n, dy, lddy, y, ldy, dz, lddz, db)

			row := make([]float32, n)
			sum32 := make([]float32, n)
			sum64 := make([]float64, n)
			abs64 := make([]float64, n)
			for i := range m {
				fallback.Backward(a, row, dy[i*lddy:i*lddy+n], y[i*ldy:i*ldy+n])
				for j := range n {
					if got := dz[i*lddz+j]; !sameBits(got, row[j]) {
						t.Fatalf("%v %d×%d: dz[%d,%d] = %g, Backward gives %g", a, m, n, i, j, got, row[j])
					}
					sum32[j] += row[j]
					sum64[j] += float64(row[j])
					abs64[j] += math.Abs(float64(row[j]))
				}
				for j := n; j < lddz && i*lddz+j < len(dz); j++ {
					if math.Float32bits(dz[i*lddz+j]) != math.Float32bits(guard) {
						t.Fatalf("%v %d×%d: gap dz[%d] overwritten", a, m, n, i*lddz+j)
					}
				}
			}
			if math.Float32bits(dz[len(dz)-1]) != math.Float32bits(guard) || math.Float32bits(db[n]) != math.Float32bits(guard) {
				t.Fatalf("%v %d×%d: guard after dz or db overwritten", a, m, n)
			}
			for j := range n {
				if !sameBits(db[j], sum32[j]) && !(db[j] == 0 && sum32[j] == 0) {
					t.Fatalf("%v %d×%d: db[%d] = %g, row-order float32 sum %g", a, m, n, j, db[j], sum32[j])
				}
				bound := float64(max(m-1, 0))*0x1p-24*abs64[j] + 1e-45
				if d := math.Abs(float64(db[j]) - sum64[j]); d > bound {
					t.Fatalf("%v %d×%d: db[%d] = %g, float64 sum %g, error %g > bound %g", a, m, n, j, db[j], sum64[j], d, bound)
				}
			}
		}
	}
}

// TestBackwardBiasInPlace checks dz == dy and db == nil.
func TestBackwardBiasInPlace(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	a := fallback.Activation{Func: fallback.Tanh}
	const m, n = 9, 13
	dy := randMatrix(rng, m, n, n, 1)
	y := randMatrix(rng, m, n, n, 1)
	fallback.Forward(a, y, y)
	want := make([]float32, m*n)
	fallback.Backward(a, want, dy, y)
	fallback.BackwardBias(a, m, n, dy, n, y, n, dy, n, nil)
	for i := range want {
		if !sameBits(dy[i], want[i]) {
			t.Fatalf("in place: dz[%d] = %g, want %g", i, dy[i], want[i])
		}
	}
}

func randMatrix(rng *rand.Rand, m, n, ld int, scale float64) []float32 {
	s := make([]float32, max(0, (m-1)*ld+n))
	if m == 0 {
		s = s[:0]
	}
	for i := range s {
		s[i] = float32(rng.NormFloat64() * scale)
	}
	return s
}

func BenchmarkBackwardBias(b *testing.B) {
	rng := rand.New(rand.NewPCG(15, 16))
	const m, n = 256, 512
	dy := randMatrix(rng, m, n, n, 1)
	y := randMatrix(rng, m, n, n, 1)
	dz := make([]float32, m*n)
	db := make([]float32, n)
	for _, a := range []fallback.Activation{{Func: fallback.ReLU}, {Func: fallback.Sigmoid}, {Func: fallback.Tanh}} {
		b.Run(a.String(), func(b *testing.B) {
			for b.Loop() {
				fallback.BackwardBias(a, m, n, dy, n, y, n, dz, n, db)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*m*n), "ns/elem")
		})
	}
}

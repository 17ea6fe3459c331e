package kernels_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/actfuse/actfuse/fallback"
	"github.com/actfuse/actfuse/internal/ref"
	"github.com/actfuse/actfuse/kernels"
)

// TestBackwardBias checks BackwardBias on shapes with tails in both
// dimensions (one of 2^16 elements or more, from which the amd64 kernels
// prefetch) and leading dimensions larger than n: dz within the Backward
// tolerance of the float64 reference, the gaps between rows and the values
// after dz and db untouched, and db[j] within m·2^-24·Σ|dz| of the float64
// column sum of the dz it returned, and dz and db bit for bit those of the
// fallback. It also checks dz == dy and db == nil.
func TestBackwardBias(t *testing.T) {
	shapes := [][2]int{{0, 0}, {0, 9}, {9, 0}, {1, 1}, {1, 17}, {3, 5}, {7, 8}, {5, 31}, {13, 33}, {2, 70}, {64, 100}, {3, 1100}, {300, 230}}
	eachImpl(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(4, 4))
		for _, a := range testActs {
			for _, sh := range shapes {
				m, n := sh[0], sh[1]
				lddy, ldy, lddz := max(1, n+rng.IntN(4)), max(1, n+rng.IntN(4)), max(1, n+1+rng.IntN(4))
				what := fmt.Sprintf("%v BackwardBias %d×%d lddy=%d ldy=%d lddz=%d", a, m, n, lddy, ldy, lddz)
				size := func(ld int) int { return max(0, (m-1)*ld+n) }
				dy, y := backwardInputs(rng, a, size(max(lddy, ldy)))
				dy, y = dy[:size(lddy)], y[:size(ldy)]
				dzBuf := make([]float32, size(lddz)+8)
				for i := range dzBuf {
					dzBuf[i] = guard
				}
				dz := dzBuf[:size(lddz)]
				dbBuf := make([]float32, n+8)
				for i := range dbBuf {
					dbBuf[i] = guard
				}
				db := dbBuf[:n]
				kernels.BackwardBias(a, m, n, dy, lddy, y, ldy, dz, lddz, db)
				for i, v := range dzBuf {
					inside := i < len(dz) && i%lddz < n
					if !inside && math.Float32bits(v) != guardBits {
						t.Fatalf("%s: dz[%d] outside the matrix overwritten with %g", what, i, v)
					}
				}
				for i := n; i < len(dbBuf); i++ {
					if math.Float32bits(dbBuf[i]) != guardBits {
						t.Fatalf("%s: db guard %d overwritten", what, i)
					}
				}
				for j := range n {
					sum, abs := 0.0, 0.0
					for i := range m {
						d := dz[i*lddz+j]
						if ok, want := backwardOK(a, dy[i*lddy+j], y[i*ldy+j], d); !ok {
							t.Fatalf("%s: dz[%d,%d] = %g, want %g (%.2f ULP)", what, i, j, d, want, ref.ULP(d, want))
						}
						sum += float64(d)
						abs += math.Abs(float64(d))
					}
					bound := float64(m)*0x1p-24*abs + 0x1p-149
					got := float64(db[j])
					if math.IsNaN(sum) || math.IsInf(sum, 0) || math.IsInf(abs, 0) {
						if !(math.IsNaN(got) && math.IsNaN(sum)) && got != sum && !math.IsInf(abs, 0) {
							t.Fatalf("%s: db[%d] = %g, want %g", what, j, got, sum)
						}
						continue
					}
					if math.IsInf(got, 0) && abs >= math.MaxFloat32 {
						continue // a float32 partial sum may overflow
					}
					if math.Abs(got-sum) > bound {
						t.Fatalf("%s: db[%d] = %g, column sum %g, error %g > %g", what, j, got, sum, math.Abs(got-sum), bound)
					}
				}
				// Bit for bit the fallback, whose db sums the rows in order.
				specDz, specDb := make([]float32, len(dz)), make([]float32, n)
				fallback.BackwardBias(a, m, n, dy, lddy, y, ldy, specDz, lddz, specDb)
				for i := range m {
					for j := range n {
						if !sameBits(dz[i*lddz+j], specDz[i*lddz+j]) {
							t.Fatalf("%s: dz[%d,%d] = %g, the fallback gives %g", what, i, j, dz[i*lddz+j], specDz[i*lddz+j])
						}
					}
				}
				for j := range n {
					if !sameBits(db[j], specDb[j]) {
						t.Fatalf("%s: db[%d] = %g, the fallback gives %g", what, j, db[j], specDb[j])
					}
				}
				// dz == dy, db == nil: the same dz.
				dy2 := append([]float32(nil), dy...)
				kernels.BackwardBias(a, m, n, dy2, lddy, y, ldy, dy2, lddy, nil)
				for i := range m {
					for j := range n {
						if !sameBits(dy2[i*lddy+j], dz[i*lddz+j]) {
							t.Fatalf("%s in place: dz[%d,%d] = %g, want %g", what, i, j, dy2[i*lddy+j], dz[i*lddz+j])
						}
					}
				}
			}
		}
	})
}

package actfuseblas_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/actfuse/actfuse/actfuseblas"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/gonum"
)

// BenchmarkGemm times blas32.Gemm (C = op(A)·op(B), alpha = 1, beta = 0)
// with Implementation and with gonum's own implementation in one run, at
// 512³ and on the GEMMs of a 784→512→512 MLP with a batch of 128: the
// forward products of both hidden layers, the weight gradient Xᵀ·dZ and the
// input gradient dZ·Wᵀ. Shapes are M×K×N.
func BenchmarkGemm(b *testing.B) {
	shapes := []struct {
		name    string
		tA, tB  blas.Transpose
		m, k, n int
	}{
		{"512x512x512", blas.NoTrans, blas.NoTrans, 512, 512, 512},
		{"128x784x512", blas.NoTrans, blas.NoTrans, 128, 784, 512},
		{"128x512x512", blas.NoTrans, blas.NoTrans, 128, 512, 512},
		{"784x128x512_AT", blas.Trans, blas.NoTrans, 784, 128, 512},
		{"128x512x784_BT", blas.NoTrans, blas.Trans, 128, 512, 784},
	}
	impls := []struct {
		name string
		impl blas.Float32
	}{
		{"actfuse", actfuseblas.Implementation{}},
		{"gonum", gonum.Implementation{}},
	}
	prev := blas32.Implementation()
	defer blas32.Use(prev)
	r := rand.New(rand.NewPCG(1, 2))
	for _, s := range shapes {
		a := blas32.General{Rows: s.m, Cols: s.k, Stride: s.k, Data: randSlice(r, s.m*s.k)}
		if s.tA != blas.NoTrans {
			a = blas32.General{Rows: s.k, Cols: s.m, Stride: s.m, Data: a.Data}
		}
		bm := blas32.General{Rows: s.k, Cols: s.n, Stride: s.n, Data: randSlice(r, s.k*s.n)}
		if s.tB != blas.NoTrans {
			bm = blas32.General{Rows: s.n, Cols: s.k, Stride: s.k, Data: bm.Data}
		}
		c := blas32.General{Rows: s.m, Cols: s.n, Stride: s.n, Data: make([]float32, s.m*s.n)}
		flops := 2 * float64(s.m) * float64(s.n) * float64(s.k)
		for _, im := range impls {
			b.Run(fmt.Sprintf("%s/%s", s.name, im.name), func(b *testing.B) {
				blas32.Use(im.impl)
				b.ReportAllocs()
				for b.Loop() {
					blas32.Gemm(s.tA, s.tB, 1, a, bm, 0, c)
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// randSlice returns n random values in [-1, 1).
func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = 2*r.Float32() - 1
	}
	return s
}

package actfuseblas_test

import (
	"fmt"

	"github.com/actfuse/actfuse/actfuseblas"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// One line makes every blas32.Gemm of the program, and every float32 matrix
// product built on it, run on actfuse's kernels. Here C = 2·A·Bᵀ + C, with B
// stored transposed.
func Example() {
	blas32.Use(actfuseblas.Implementation{})

	a := blas32.General{Rows: 2, Cols: 3, Stride: 3, Data: []float32{
		1, 2, 3,
		4, 5, 6,
	}}
	b := blas32.General{Rows: 2, Cols: 3, Stride: 3, Data: []float32{
		1, 0, -1,
		0.5, 0.5, 0.5,
	}}
	c := blas32.General{Rows: 2, Cols: 2, Stride: 2, Data: []float32{
		10, 20,
		30, 40,
	}}
	blas32.Gemm(blas.NoTrans, blas.Trans, 2, a, b, 1, c)
	fmt.Println(c.Data)
	// Output: [6 26 26 55]
}

package actfuseblas

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// Implementation is a BLAS implementation for gonum's blas32 (and blas64,
// cblas64, cblas128) packages: Sgemm runs on kernels.Gemm, every other
// routine is gonum's own, through the embedded gonum.Implementation. The
// zero value is ready to use, and one value may serve any number of
// goroutines at once.
type Implementation struct {
	gonum.Implementation
}

// The interfaces that blas32.Use, blas64.Use, cblas64.Use and cblas128.Use
// take; together they are the BLAS interface of Gorgonia's gorgonia.Use.
var (
	_ blas.Float32    = Implementation{}
	_ blas.Float64    = Implementation{}
	_ blas.Complex64  = Implementation{}
	_ blas.Complex128 = Implementation{}
)

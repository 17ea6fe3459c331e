package actfuseblas_test

import (
	"github.com/actfuse/actfuse/actfuseblas"
	"gonum.org/v1/gonum/blas"
)

// gorgoniaBLAS is the interface that Gorgonia's gorgonia.Use takes (type
// BLAS in gorgonia.org/gorgonia, blas.go).
type gorgoniaBLAS interface {
	blas.Float32
	blas.Float64
	blas.Complex64
	blas.Complex128
}

var _ gorgoniaBLAS = actfuseblas.Implementation{}

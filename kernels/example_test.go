package kernels_test

import (
	"fmt"

	"github.com/actfuse/actfuse/kernels"
)

// A dense layer forward pass, Y = relu(X·W + b), in one fused call: the bias
// and the activation run while each tile of the product is still in registers.
func ExampleGemm() {
	const batch, in, out = 2, 3, 2
	x := []float32{
		1, 2, 3,
		-1, -2, -3,
	}
	w := []float32{
		0.5, -1,
		0.5, -1,
		0.5, -1,
	}
	b := []float32{0.25, 0.5}
	y := make([]float32, batch*out)
	kernels.Gemm(false, false, batch, out, in, x, in, w, out, y, out,
		&kernels.Epilogue{Bias: b, Act: kernels.Activation{Func: kernels.ReLU}})
	fmt.Println(y)
	// Output: [3.25 0 0 6.5]
}

// The backward pass of the same layer: dZ = dY ⊙ relu'(Y) and the bias
// gradient (column sums of dZ) in one call, then the weight gradient
// dW = Xᵀ·dZ as a GEMM with a transposed first operand.
func ExampleBackwardBias() {
	const batch, in, out = 2, 3, 2
	x := []float32{1, 2, 3, -1, -2, -3}
	y := []float32{3.25, 0, 0, 6.5} // saved forward output
	dy := []float32{1, 1, 1, 1}
	dz := make([]float32, batch*out)
	db := make([]float32, out)
	relu := kernels.Activation{Func: kernels.ReLU}
	kernels.BackwardBias(relu, batch, out, dy, out, y, out, dz, out, db)
	dw := make([]float32, in*out)
	kernels.Gemm(true, false, in, out, batch, x, in, dz, out, dw, out, nil)
	fmt.Println(dz, db, dw)
	// Output: [1 0 0 1] [1 1] [1 -1 2 -2 3 -3]
}

// Activations run elementwise on whole slices, in place if wanted; the
// backward pass needs only the saved output.
func ExampleForward() {
	x := []float32{-2, -0.5, 0, 0.5, 2}
	y := make([]float32, len(x))
	kernels.Forward(kernels.Activation{Func: kernels.LeakyReLU, Alpha: 0.1}, y, x)
	fmt.Println(y)
	// Output: [-0.2 -0.05 0 0.5 2]
}

// ISA reports the implementation in use; Use switches, for example to compare
// against the pure-Go path in one process.
func ExampleUse() {
	native := kernels.ISA()
	if err := kernels.Use("generic"); err != nil {
		panic(err)
	}
	fmt.Println(kernels.ISA())
	if err := kernels.Use(native); err != nil {
		panic(err)
	}
	// Output: generic
}

// One step of SGD with momentum for a weight matrix: the weight-gradient Gemm
// accumulates g = Xᵀ·dZ into v, which holds μ times the previous velocity, and
// MomentumUpdate moves the weights and leaves μ times the new velocity in v
// for the next step. No separate gradient buffer is needed.
func ExampleMomentumUpdate() {
	const batch, in, out = 2, 2, 1
	const lr, mu, wd = 0.1, 0.9, 0
	x := []float32{1, 2, 3, 4} // batch×in
	dz := []float32{0.5, -0.5} // batch×out
	w := []float32{1, -1}      // in×out
	v := []float32{0.2, 0}     // μ·v_old
	kernels.Gemm(true, false, in, out, batch, x, in, dz, out, v, out, &kernels.Epilogue{Accumulate: true})
	fmt.Printf("v + g = %.3g\n", v) // g = Xᵀ·dZ = [-1, -1]
	finite := kernels.MomentumUpdate(w, v, lr, mu, wd)
	fmt.Printf("w = %.3g, v = %.3g, finite: %v\n", w, v, finite)
	// Output:
	// v + g = [-0.8 -1]
	// w = [1.08 -0.9], v = [-0.72 -0.9], finite: true
}

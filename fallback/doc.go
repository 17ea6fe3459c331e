// Package fallback is the pure-Go reference implementation of every actfuse
// kernel, and therefore its specification.
//
// Each kernel in package kernels has a twin here: the activations forward and
// backward (Forward, Backward), maxout (MaxoutForward, MaxoutBackward), the
// fused matrix multiply C = act(op(A)·op(B) + bias) with its backward epilogue
// (Gemm), and the activation-derivative pass fused with the bias gradient
// (BackwardBias). The assembly kernels are tested against these functions and
// against float64 references; platforms without SIMD kernels, and builds with
// the purego tag, run them directly.
//
// The activations and the optimizer updates are the programs of
// internal/desc, which the assembly kernels run too, operation for
// operation: programs_gen.go, written by gen/generic, evaluates them (ops.go
// holds the operations Go has no operator for, among them the float32 fused
// multiply-add), so every implementation computes them bit for bit alike.
package fallback

//go:generate go -C ../gen run ./generic -out ../fallback/programs_gen.go

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
// The code is written for speed as far as plain Go allows: cache-blocked loops,
// no per-element indirect calls, and a float32 exponential of its own (Exp) that
// meets the accuracy targets of the exp-based activations.
package fallback

// Package kernels is the public API of actfuse: SIMD activation kernels and a
// float32 matrix multiply with the bias and the activation fused into its
// epilogue, dispatched once at start-up to the best implementation the CPU
// supports.
//
// Implementations: "avx512" (AVX512F/DQ/BW/VL, amd64), "avx2" (AVX2+FMA,
// amd64), "neon" (ASIMD, arm64) and "generic" (package fallback, pure Go,
// every platform). ISA reports the one in use, Implementations lists those
// this machine can run, best first, and Use switches. ACTFUSE_MAX_ISA=avx2
// (MaxISAEnv) caps the choice at start-up. Setting ACTFUSE_GENERIC=1 before
// start-up, building with the purego tag, or calling Use("generic") forces
// the generic path.
//
// Matrices are row-major float32 slices with a leading dimension, as in BLAS.
// A call with inconsistent shapes panics with a message that names the
// argument and the sizes. Large products and large optimizer updates run on
// up to Threads() goroutines of a persistent pool (SetThreads changes the
// number); results are deterministic: bitwise identical for every thread
// count.
//
// The optimizer updates change parameters in place and report whether every
// new weight is finite: MomentumUpdate for a velocity the weight-gradient
// Gemm has accumulated into (no gradient buffer), SGDUpdate (plain,
// classical or Nesterov momentum) and AdamUpdate from a gradient buffer.
//
// PeakGFLOPS measures this core's fused multiply-add peak with an assembly
// loop of independent FMAs, so that benchmarks can report GEMM speed as a
// fraction of what the machine can do, measured in the same run.
package kernels

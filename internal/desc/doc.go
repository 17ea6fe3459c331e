// Package desc is the description of actfuse's kernels, each fact written
// once: the activation functions (Func, Funcs), the algorithm of each one as
// a Program of lane-wise float32 operations with its constants and
// polynomial coefficients (math.go), the optimizer updates (Updates), the
// GEMM micro-kernel flags and each implementation's registers, tile and
// blocking inputs (Impls).
//
// Package fallback evaluates the programs: that is the specification, and
// what platforms without assembly run. The generators in gen/ lower the
// same programs to AVX2 and NEON assembly, operation for operation, so
// every implementation computes every activation and update bit for bit
// alike (NaN payloads aside). Adding an activation is an entry in Funcs and
// `go generate ./...`; see docs/ARCHITECTURE.md.
package desc

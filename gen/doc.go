// Package gen documents the generators that write the assembly in
// kernels/asm. They run at `go generate ./...` time only and are never
// imported by the library:
//
//   - gen/amd64: AVX2+FMA kernels, built with avo (github.com/mmcloughlin/avo).
//   - gen/arm64: NEON kernels, built with the arm64 emitter of this tree,
//     which writes the float instructions the Go assembler lacks as WORD
//     directives with the mnemonic in a comment.
//
// Each kernel's Go twin in package fallback is its specification.
package gen

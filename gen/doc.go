// Package gen documents the generators that write the assembly in
// kernels/asm. They form a module of their own (gen/go.mod), so that avo and
// golang.org/x/tools are requirements of the generators only, never of a
// program that imports actfuse. They run at `go generate ./...` time (the
// generate directives in kernels/asm/doc.go and fallback/doc.go use
// go -C gen) and are never imported by the library:
//
//   - gen/generic: the pure-Go kernels of package fallback (programs_gen.go).
//   - gen/amd64: AVX2+FMA kernels, built with avo (github.com/mmcloughlin/avo).
//   - gen/arm64: NEON kernels, built with the arm64 emitter of this tree,
//     which writes the float instructions the Go assembler lacks as WORD
//     directives with the mnemonic in a comment.
//
// Each kernel's Go twin in package fallback is its specification.
package gen

//go:build !purego

package kernels

import "github.com/actfuse/actfuse/fallback"

// neonImpl wires the NEON assembly of package asm into the dispatch table;
// kernels without an assembly version yet use package fallback.
func neonImpl() *impl {
	return &impl{
		name:     "neon",
		forward:  fallback.Forward,
		backward: fallback.Backward,
		gemm:     neonGemm,
	}
}

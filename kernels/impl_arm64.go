//go:build !purego

package kernels

import "github.com/actfuse/actfuse/kernels/asm"

// archImpls returns the NEON implementation (ASIMD is the arm64 baseline).
func archImpls() []*impl { return []*impl{simdImpl("neon", &asm.NEON, neonGemm)} }

//go:build !purego

package kernels

import "github.com/actfuse/actfuse/kernels/asm"

// archImpls returns the NEON implementation (ASIMD is the arm64 baseline).
func archImpls() []*impl {
	im := simdImpl("neon", &asm.NEON, neonGemm)
	im.peak = probe{asm.FMAPeakNEON, 24 * 8} // 24 independent 4-lane FMLA
	return []*impl{im}
}

//go:build !purego

package kernels

import "github.com/actfuse/actfuse/kernels/asm"

// clockProbe is the probe of ClockGHz: ClockProbe returns the cycles it ran.
var clockProbe = asm.ClockProbe

// archImpls returns the NEON implementation (ASIMD is the arm64 baseline).
func archImpls() []*impl {
	im := simdImpl("neon", &asm.NEON, neonGemm)
	im.peak = probe{run: asm.FMAPeakNEON, flops: 24 * 8} // 24 independent 4-lane FMLA
	return []*impl{im}
}

//go:build !purego

package kernels

import (
	"github.com/actfuse/actfuse/kernels/asm"
	"github.com/klauspost/cpuid/v2"
)

// clockProbe is the probe of ClockGHz: ClockProbe returns the cycles it ran.
var clockProbe = asm.ClockProbe

// archImpls returns the implementations the CPU can run, best first:
// avx512 (AVX512F, DQ, BW and VL, which cpuid reports only when the OS saves
// the zmm and opmask state) and avx2 (AVX2 and FMA). The avx512
// implementation runs its elementwise and optimizer kernels on zmm
// registers and its GEMM on the 6×64 zmm micro-kernel.
func archImpls() []*impl {
	var ims []*impl
	if cpuid.CPU.Supports(cpuid.AVX512F, cpuid.AVX512DQ, cpuid.AVX512BW, cpuid.AVX512VL, cpuid.FMA3, cpuid.AVX2, cpuid.BMI2) {
		im := simdImpl("avx512", &asm.AVX512, avx512Gemm)
		im.peak = probe{run: asm.FMAPeakAVX512, flops: 12 * 32, clock: asm.FMAClockAVX512, div: asm.DivPeakAVX512, divs: 8, lanes: 16}
		ims = append(ims, im)
	}
	if cpuid.CPU.Supports(cpuid.AVX2, cpuid.FMA3) {
		im := simdImpl("avx2", &asm.AVX2, avx2Gemm)
		im.peak = probe{run: asm.FMAPeakAVX2, flops: 12 * 16, clock: asm.FMAClockAVX2, div: asm.DivPeakAVX2, divs: 8, lanes: 8}
		ims = append(ims, im)
	}
	return ims
}

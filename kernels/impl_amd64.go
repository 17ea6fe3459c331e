//go:build !purego

package kernels

import (
	"github.com/actfuse/actfuse/kernels/asm"
	"github.com/klauspost/cpuid/v2"
)

// archImpls returns the AVX2+FMA implementation when the CPU has it.
func archImpls() []*impl {
	if !cpuid.CPU.Supports(cpuid.AVX2, cpuid.FMA3) {
		return nil
	}
	return []*impl{simdImpl("avx2", &asm.AVX2, avx2Gemm)}
}

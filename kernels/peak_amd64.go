//go:build !purego

package kernels

import (
	"github.com/actfuse/actfuse/kernels/asm"
	"github.com/klauspost/cpuid/v2"
)

// peakFlopsPerIter is the number of flops of one iteration of asm.FMAPeak.
const peakFlopsPerIter = 12 * 16

func havePeakProbe() bool { return cpuid.CPU.Supports(cpuid.AVX2, cpuid.FMA3) }

func fmaPeak(n int) { asm.FMAPeak(n) }

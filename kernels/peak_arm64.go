//go:build !purego

package kernels

import "github.com/actfuse/actfuse/kernels/asm"

// peakFlopsPerIter is the number of flops of one iteration of asm.FMAPeak:
// 24 independent 4-lane FMLA.
const peakFlopsPerIter = 24 * 8

// havePeakProbe reports true: ASIMD, and so FMLA, is the arm64 baseline.
func havePeakProbe() bool { return true }

func fmaPeak(n int) { asm.FMAPeak(n) }

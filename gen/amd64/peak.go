package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// peakChains is the number of independent FMA dependency chains of the peak
// probe: enough to cover the FMA latency times the FMA ports of any AVX2 core
// (4 cycles × 2 ports on Skylake and Zen 3).
const peakChains = 12

// genPeak emits FMAPeak, a loop of independent 8-wide FMAs that runs at the
// core's FMA throughput: peakChains·16 flops per iteration.
func genPeak() {
	TEXT("FMAPeak", NOSPLIT, "func(n int)")
	Doc("FMAPeak runs n iterations of 12 independent 8-wide fused multiply-adds",
		"(192 flops per iteration), a probe of the core's peak FMA throughput.")
	n := Load(Param("n"), GP64())
	acc := make([]VecVirtual, peakChains)
	for i := range acc {
		acc[i] = YMM()
		VXORPS(acc[i], acc[i], acc[i])
	}
	x, y := YMM(), YMM()
	VXORPS(x, x, x)
	VXORPS(y, y, y)
	TESTQ(n, n)
	JLE(LabelRef("FMAPeak_done"))
	Label("FMAPeak_loop")
	for i := range acc {
		VFMADD231PS(x, y, acc[i])
	}
	DECQ(n)
	JNZ(LabelRef("FMAPeak_loop"))
	Label("FMAPeak_done")
	VZEROUPPER()
	RET()
}

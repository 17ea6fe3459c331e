package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
)

// peakChains is the number of independent FMA dependency chains of the peak
// probes: enough to cover the FMA latency times the FMA ports of any core
// (4 cycles × 2 ports on Skylake, Zen 3 and Zen 4, Sapphire Rapids).
const peakChains = 12

// genPeak emits FMAPeak<ISA>, a loop of independent fused multiply-adds on
// full vectors of s that runs at the core's FMA throughput for that width:
// peakChains·2·lanes flops per iteration.
func genPeak(s *isa) {
	name := "FMAPeak" + s.suffix
	TEXT(name, NOSPLIT, "func(n int)")
	Doc(fmt.Sprintf("%s runs n iterations of %d independent %d-wide fused multiply-adds", name, peakChains, s.lanes()),
		fmt.Sprintf("(%d flops per iteration), a probe of the core's peak FMA throughput on %s.", peakChains*2*s.lanes(), s.name))
	n := Load(Param("n"), GP64())
	acc := s.vecs(peakChains)
	for i := range acc {
		VXORPS(acc[i], acc[i], acc[i])
	}
	x, y := s.vec(), s.vec()
	VXORPS(x, x, x)
	VXORPS(y, y, y)
	TESTQ(n, n)
	JLE(LabelRef(name + "_done"))
	Label(name + "_loop")
	for i := range acc {
		VFMADD231PS(x, y, acc[i])
	}
	DECQ(n)
	JNZ(LabelRef(name + "_loop"))
	Label(name + "_done")
	VZEROUPPER()
	RET()
}

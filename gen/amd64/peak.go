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

// clockChain is the number of dependent additions per iteration of the
// clock probe.
const clockChain = 64

// genClock emits ClockProbe, a chain of dependent register additions: one
// per cycle on every x86 core, so that its time gives the core clock. The
// addend is a register, not an immediate: Golden Cove and later cores fold
// chains of additions of small immediates at rename, several per cycle.
func genClock() {
	TEXT("ClockProbe", NOSPLIT, "func(n int) int")
	Doc(fmt.Sprintf("ClockProbe runs n iterations of %d dependent register additions, one", clockChain),
		fmt.Sprintf("cycle each, and returns their sum (%d·n): a probe of the core clock.", clockChain))
	n := Load(Param("n"), GP64())
	acc, one := GP64(), GP64()
	XORQ(acc, acc)
	MOVQ(U32(1), one)
	TESTQ(n, n)
	JLE(LabelRef("clock_done"))
	Label("clock_loop")
	for range clockChain {
		ADDQ(one, acc)
	}
	DECQ(n)
	JNZ(LabelRef("clock_loop"))
	Label("clock_done")
	Store(acc, ReturnIndex(0))
	RET()
}

// fmaClockAccs, fmaClockFMAs and fmaClockChain are the accumulators, the
// fused multiply-adds (two per accumulator) and the dependent additions of
// one iteration of the loaded clock probe: the chain takes longer than the
// FMAs even on a core with one FMA port of the width, so the loop runs at
// one iteration per fmaClockChain cycles.
const fmaClockAccs, fmaClockFMAs, fmaClockChain = 12, 24, 32

// genFMAClock emits FMAClock<ISA>: the clock probe of genClock with
// fused multiply-adds on full vectors of s beside its chain, which gives the
// clock of a core that is running vector code of that width.
func genFMAClock(s *isa) {
	name := "FMAClock" + s.suffix
	TEXT(name, NOSPLIT, "func(n int) int")
	Doc(fmt.Sprintf("%s runs n iterations of %d dependent register additions beside %d", name, fmaClockChain, fmaClockFMAs),
		fmt.Sprintf("%d-wide fused multiply-adds and returns the additions' sum (%d·n):", s.lanes(), fmaClockChain),
		fmt.Sprintf("a probe of the core clock under %s load.", s.name))
	n := Load(Param("n"), GP64())
	acc, one := GP64(), GP64()
	XORQ(acc, acc)
	MOVQ(U32(1), one)
	vs := s.vecs(fmaClockAccs)
	for i := range vs {
		VXORPS(vs[i], vs[i], vs[i])
	}
	x := s.vec()
	VXORPS(x, x, x)
	TESTQ(n, n)
	JLE(LabelRef(name + "_done"))
	Label(name + "_loop")
	for i := range fmaClockChain {
		ADDQ(one, acc)
		if i < fmaClockFMAs {
			VFMADD231PS(x, x, vs[i%len(vs)])
		}
	}
	DECQ(n)
	JNZ(LabelRef(name + "_loop"))
	Label(name + "_done")
	VZEROUPPER()
	Store(acc, ReturnIndex(0))
	RET()
}

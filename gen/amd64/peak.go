package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
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
	probeLoop(name, n, func() {
		for i := range acc {
			VFMADD231PS(x, y, acc[i])
		}
	})
	VZEROUPPER()
	RET()
}

// divChains is the number of independent divisions per iteration of the
// divider probe: more than the divider holds at once (its latency over its
// throughput, 11/5 for ymm and 17/10 for zmm on Intel cores).
const divChains = 8

// genDivPeak emits DivPeak<ISA>, a loop of independent VDIVPS on full
// vectors of s, which runs at the divider's throughput for that width: the
// bound of sigmoid's and tanh's divisions.
func genDivPeak(s *isa) {
	name := "DivPeak" + s.suffix
	TEXT(name, NOSPLIT, "func(n int)")
	Doc(fmt.Sprintf("%s runs n iterations of %d independent %d-wide divisions, a probe", name, divChains, s.lanes()),
		fmt.Sprintf("of the divider's throughput on %s.", s.name))
	n := Load(Param("n"), GP64())
	one, x := GP32(), s.vec()
	MOVL(U32(0x3f800000), one) // 1
	VMOVD(one, x.AsX())
	VBROADCASTSS(x.AsX(), x)
	y := s.vec()
	VADDPS(x, x, y) // 2
	q := s.vecs(divChains)
	probeLoop(name, n, func() {
		for i := range q {
			VDIVPS(y, x, q[i])
		}
	})
	VZEROUPPER()
	RET()
}

// clockChain is the number of dependent additions per iteration of the
// clock probe; fmaClockAccs, fmaClockFMAs and fmaClockChain are the
// accumulators, the fused multiply-adds (two per accumulator) and the
// additions of one iteration of the loaded probe. Its chain takes longer
// than its FMAs even on a core with one FMA port of the width, so both
// loops run at one iteration per chain of cycles.
const (
	clockChain                                = 64
	fmaClockAccs, fmaClockFMAs, fmaClockChain = 12, 24, 32
)

// genClock emits a probe of the core clock: a chain of dependent register
// additions, one per cycle on every x86 core, alone (ClockProbe, s nil) or
// beside fused multiply-adds on full vectors of s (FMAClock<ISA>), which
// gives the clock of a core running vector code of that width. The addend
// is a register, not an immediate: Golden Cove and later cores fold chains
// of additions of small immediates at rename, several per cycle.
func genClock(s *isa) {
	name, chain, fmas := "ClockProbe", clockChain, 0
	if s != nil {
		name, chain, fmas = "FMAClock"+s.suffix, fmaClockChain, fmaClockFMAs
	}
	TEXT(name, NOSPLIT, "func(n int) int")
	if s == nil {
		Doc(fmt.Sprintf("%s runs n iterations of %d dependent register additions, one", name, chain),
			fmt.Sprintf("cycle each, and returns their sum (%d·n): a probe of the core clock.", chain))
	} else {
		Doc(fmt.Sprintf("%s runs n iterations of %d dependent register additions beside %d", name, chain, fmas),
			fmt.Sprintf("%d-wide fused multiply-adds and returns the additions' sum (%d·n):", s.lanes(), chain),
			fmt.Sprintf("a probe of the core clock under %s load.", s.name))
	}
	n := Load(Param("n"), GP64())
	acc, one := GP64(), GP64()
	XORQ(acc, acc)
	MOVQ(U32(1), one)
	var vs []reg.VecVirtual
	var x reg.VecVirtual
	if s != nil {
		vs = s.vecs(fmaClockAccs)
		for i := range vs {
			VXORPS(vs[i], vs[i], vs[i])
		}
		x = s.vec()
		VXORPS(x, x, x)
	}
	probeLoop(name, n, func() {
		for i := range chain {
			ADDQ(one, acc)
			if i < fmas {
				VFMADD231PS(x, x, vs[i%len(vs)])
			}
		}
	})
	if s != nil {
		VZEROUPPER()
	}
	Store(acc, ReturnIndex(0))
	RET()
}

// probeLoop emits the loop of a probe: body n times (none for n <= 0),
// ending at the label name_done.
func probeLoop(name string, n reg.Register, body func()) {
	TESTQ(n, n)
	JLE(LabelRef(name + "_done"))
	Label(name + "_loop")
	body()
	DECQ(n)
	JNZ(LabelRef(name + "_loop"))
	Label(name + "_done")
}

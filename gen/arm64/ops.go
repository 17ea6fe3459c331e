package main

import (
	"fmt"
	"math"

	. "github.com/actfuse/actfuse/gen/arm64/neon"
	"github.com/actfuse/actfuse/internal/desc"
)

// G is a group of SIMD registers holding the same quantity for each of the
// unrolled vectors of a loop body. A group of one register used with a wider
// group broadcasts: constants are groups of one.
type G []VReg

func (g G) at(i int) Vec { return g[i%len(g)].S4() }

// first returns the group restricted to its first n registers (constants,
// of length one, are returned whole).
func (g G) first(n int) G {
	if len(g) <= 1 {
		return g
	}
	return g[:n]
}

// The operations below apply one instruction to every register of d; the
// operands are in Go order, sources first.

func fadd(m, n, d G)   { each(d, func(i int) { VFADD(m.at(i), n.at(i), d.at(i)) }) }
func addInt(m, n, d G) { each(d, func(i int) { VADD(m.at(i), n.at(i), d.at(i)) }) }
func fsub(m, n, d G)   { each(d, func(i int) { VFSUB(m.at(i), n.at(i), d.at(i)) }) }
func fmul(m, n, d G)   { each(d, func(i int) { VFMUL(m.at(i), n.at(i), d.at(i)) }) }
func fdiv(m, n, d G)   { each(d, func(i int) { VFDIV(m.at(i), n.at(i), d.at(i)) }) }
func fmla(m, n, d G)   { each(d, func(i int) { VFMLA(m.at(i), n.at(i), d.at(i)) }) }
func fmls(m, n, d G)   { each(d, func(i int) { VFMLS(m.at(i), n.at(i), d.at(i)) }) }
func fcmeq(m, n, d G)  { each(d, func(i int) { VFCMEQ(m.at(i), n.at(i), d.at(i)) }) }
func bic(m, n, d G)    { each(d, func(i int) { VBIC(m.at(i).B16(), n.at(i).B16(), d.at(i).B16()) }) }

// bit sets d = where the mask m is set, n, elsewhere d.
func bit(m, n, d G) { each(d, func(i int) { VBIT(m.at(i).B16(), n.at(i).B16(), d.at(i).B16()) }) }
func fcmgt(m, n, d G) {
	each(d, func(i int) { VFCMGT(m.at(i), n.at(i), d.at(i)) })
}
func fmlaL(l Lane, n, d G) { each(d, func(i int) { VFMLAE(l, n.at(i), d.at(i)) }) }
func fmlsL(l Lane, n, d G) { each(d, func(i int) { VFMLSE(l, n.at(i), d.at(i)) }) }
func dupL(l Lane, d G)     { each(d, func(i int) { VDUPLane(l, d.at(i)) }) }
func mov(n, d G)           { each(d, func(i int) { VMOV(n.at(i).Reg, d[i]) }) }
func and(m, n, d G)        { each(d, func(i int) { VAND(m.at(i).B16(), n.at(i).B16(), d.at(i).B16()) }) }
func orr(m, n, d G)        { each(d, func(i int) { VORR(m.at(i).B16(), n.at(i).B16(), d.at(i).B16()) }) }

// bsl sets d = where d's mask bits are set, n, elsewhere m.
func bsl(m, n, d G) { each(d, func(i int) { VBSL(m.at(i).B16(), n.at(i).B16(), d.at(i).B16()) }) }
func shl(s int, n, d G) {
	each(d, func(i int) { VSHL(s, n.at(i), d.at(i)) })
}

func each(d G, f func(i int)) {
	for i := range d {
		f(i)
	}
}

// regs hands out SIMD registers for one function: data registers from V0
// upward, constants from V31 downward.
type regs struct {
	next, top int
	consts    []constant
	lanes     map[uint32]Lane
	full      map[uint32]G
	tables    map[[desc.LookupSize]uint32]VReg
	laneReg   VReg
	laneN     int
}

type constant struct {
	bits uint32
	reg  VReg
	lane int // -1 for a broadcast constant
}

func newRegs() *regs {
	return &regs{top: 31, lanes: map[uint32]Lane{}, full: map[uint32]G{}, tables: map[[desc.LookupSize]uint32]VReg{}, laneN: 4}
}

// group allocates n consecutive data registers.
func (r *regs) group(n int) G {
	g := make(G, n)
	for i := range g {
		g[i] = VReg(r.next)
		r.next++
	}
	if r.next > r.top+1 {
		panic(fmt.Sprintf("arm64: out of SIMD registers (%d data, %d constants)", r.next, 31-r.top))
	}
	return g
}

// groups allocates k groups of n registers each.
func (r *regs) groups(k, n int) []G {
	gs := make([]G, k)
	for i := range gs {
		gs[i] = r.group(n)
	}
	return gs
}

func (r *regs) constReg() VReg {
	v := VReg(r.top)
	r.top--
	if r.next > r.top+1 {
		panic("arm64: out of SIMD registers for constants")
	}
	return v
}

// full returns a register holding the float32 with bits b in every lane.
func (r *regs) full32(b uint32) G {
	if g, ok := r.full[b]; ok {
		return g
	}
	g := G{r.constReg()}
	r.full[b] = g
	r.consts = append(r.consts, constant{b, g[0], -1})
	return g
}

// table returns the first of two consecutive constant registers holding
// the words of the Lookup table t in order, for TBL.
func (r *regs) table(t [desc.LookupSize]uint32) VReg {
	if v, ok := r.tables[t]; ok {
		return v
	}
	r.constReg()
	v := r.constReg() // the lower of the two
	for i, w := range t {
		r.consts = append(r.consts, constant{w, v + VReg(i/4), i % 4})
	}
	r.tables[t] = v
	return v
}

// lane returns a lane of a constant register holding the float32 v; the
// by-element instructions (FMLA, FMLS, FMUL) and VDUP read it, so four
// scalar constants share one register.
func (r *regs) lane(v float32) Lane {
	b := math.Float32bits(v)
	if l, ok := r.lanes[b]; ok {
		return l
	}
	if r.laneN == 4 {
		r.laneReg = r.constReg()
		r.laneN = 0
	}
	l := r.laneReg.S(r.laneN)
	r.laneN++
	r.lanes[b] = l
	r.consts = append(r.consts, constant{b, l.Reg, l.Index})
	return l
}

// loadConsts emits the code that fills the constant registers, using the
// general register tmp.
func (r *regs) loadConsts(tmp Reg) {
	if len(r.consts) == 0 {
		return
	}
	Comment("Constants.")
	for _, c := range r.consts {
		if c.bits == 0 && c.lane < 0 {
			VEORZero(c.reg)
			continue
		}
		MOVWConst(c.bits, tmp)
		if c.lane < 0 {
			VDUP(tmp, c.reg.S4())
		} else {
			VMOVRegToLane(tmp, c.reg.S(c.lane))
		}
	}
}

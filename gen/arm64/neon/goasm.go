package neon

import (
	"fmt"
	"strings"
)

// Instructions the Go arm64 assembler knows, emitted as Go assembly text.

func vecList(vs []Vec) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = v.goString()
	}
	return "[" + strings.Join(s, ", ") + "]"
}

// VLD1 loads 1-4 consecutive registers from (base).
func VLD1(base Reg, vs ...Vec) { emit("VLD1 (%v), %s", base, vecList(vs)) }

// VLD1P loads 1-4 consecutive registers from (base) and advances base past
// them.
func VLD1P(base Reg, vs ...Vec) {
	emit("VLD1.P %d(%v), %s", 16*len(vs), base, vecList(vs))
}

// VST1 stores 1-4 consecutive registers to (base).
func VST1(base Reg, vs ...Vec) { emit("VST1 %s, (%v)", vecList(vs), base) }

// VST1P stores 1-4 consecutive registers to (base) and advances base past
// them.
func VST1P(base Reg, vs ...Vec) {
	emit("VST1.P %s, %d(%v)", vecList(vs), 16*len(vs), base)
}

// VDUP broadcasts the low 32 bits of r to every lane of d.
func VDUP(r Reg, d Vec) { emit("VDUP %v, %s", r, d.goString()) }

// VDUPLane broadcasts the lane l to every lane of d.
func VDUPLane(l Lane, d Vec) { emit("VDUP V%d.S[%d], %s", l.Reg, l.Index, d.goString()) }

// VMOVLaneToReg copies the 32-bit lane l to the low half of r (upper zeroed).
func VMOVLaneToReg(l Lane, r Reg) { emit("VMOV V%d.S[%d], %v", l.Reg, l.Index, r) }

// VORR emits d = n OR m.
func VORR(m, n, d Vec) { emit("VORR %s, %s, %s", m.goString(), n.goString(), d.goString()) }

// VAND emits d = n AND m.
func VAND(m, n, d Vec) { emit("VAND %s, %s, %s", m.goString(), n.goString(), d.goString()) }

// VEOR emits d = n XOR m.
func VEOR(m, n, d Vec) { emit("VEOR %s, %s, %s", m.goString(), n.goString(), d.goString()) }

// VBSL emits the bitwise select d = (d AND n) OR (NOT d AND m): where the
// mask in d is set take n, elsewhere m.
func VBSL(m, n, d Vec) { emit("VBSL %s, %s, %s", m.goString(), n.goString(), d.goString()) }

// VBIT emits the bitwise insert-if-true d = (n AND m) OR (d AND NOT m): where
// the mask m is set take n, elsewhere keep d.
func VBIT(m, n, d Vec) { emit("VBIT %s, %s, %s", m.goString(), n.goString(), d.goString()) }

// VBIF emits the bitwise insert-if-false d = (n AND NOT m) OR (d AND m):
// where the mask m is clear take n, elsewhere keep d.
func VBIF(m, n, d Vec) { emit("VBIF %s, %s, %s", m.goString(), n.goString(), d.goString()) }

// VMOV copies n to d (all 128 bits).
func VMOV(n, d VReg) { VORR(n.B16(), n.B16(), d.B16()) }

// VFMLA emits the fused multiply-add d += n · m.
func VFMLA(m, n, d Vec) { emit("VFMLA %s, %s, %s", m.goString(), n.goString(), d.goString()) }

// VFMLS emits the fused multiply-subtract d -= n · m.
func VFMLS(m, n, d Vec) { emit("VFMLS %s, %s, %s", m.goString(), n.goString(), d.goString()) }

// VADD emits the integer lane addition d = n + m.
func VADD(m, n, d Vec) { emit("VADD %s, %s, %s", m.goString(), n.goString(), d.goString()) }

// VSUB emits the integer lane subtraction d = n - m.
func VSUB(m, n, d Vec) { emit("VSUB %s, %s, %s", m.goString(), n.goString(), d.goString()) }

// VSHL emits the integer lane shift left d = n << shift.
func VSHL(shift int, n, d Vec) { emit("VSHL $%d, %s, %s", shift, n.goString(), d.goString()) }

// VSLI emits the shift left and insert d = n << shift | d & (1<<shift - 1)
// on each lane.
func VSLI(shift int, n, d Vec) { emit("VSLI $%d, %s, %s", shift, n.goString(), d.goString()) }

// VTBL2 emits the table lookup of the bytes of m in the 32 bytes of the
// registers t and t+1: d's byte i is byte m[i] of the table, 0 for an index
// beyond it.
func VTBL2(m Vec, t VReg, d Vec) {
	emit("VTBL %s, [%s, %s], %s", m.goString(), t.B16().goString(), (t + 1).B16().goString(), d.goString())
}

// VUSHR emits the integer lane logical shift right d = n >> shift.
func VUSHR(shift int, n, d Vec) { emit("VUSHR $%d, %s, %s", shift, n.goString(), d.goString()) }

// VEORZero sets every bit of v to zero.
func VEORZero(v VReg) { VEOR(v.B16(), v.B16(), v.B16()) }

// FMOVSLoad loads one float32 from (base) into lane 0 of f, zeroing the other
// lanes.
func FMOVSLoad(base Reg, f FReg) { emit("FMOVS (%v), %v", base, f) }

// FMOVSLoadP loads one float32 from (base) into lane 0 of f, zeroing the
// other lanes, and advances base by 4.
func FMOVSLoadP(base Reg, f FReg) { emit("FMOVS.P 4(%v), %v", base, f) }

// FMOVSStore stores lane 0 of f to (base).
func FMOVSStore(f FReg, base Reg) { emit("FMOVS %v, (%v)", f, base) }

// FMOVSStoreP stores lane 0 of f to (base) and advances base by 4.
func FMOVSStoreP(f FReg, base Reg) { emit("FMOVS.P %v, 4(%v)", f, base) }

// Load loads an argument into r (MOVD for 8-byte arguments, MOVWU for 4-byte
// ones).
func Load(m Mem, r Reg) {
	switch m.size {
	case 8:
		emit("MOVD %v, %v", m, r)
	case 4:
		emit("MOVWU %v, %v", m, r)
	case 1:
		emit("MOVBU %v, %v", m, r)
	default:
		panic(fmt.Sprintf("neon: Load: operand %v has size %d", m, m.size))
	}
}

// MOVD emits the 64-bit move or load src → r (src a Reg or a Mem).
func MOVD(src any, r Reg) { emit("MOVD %v, %v", src, r) }

// MOVWConst loads the 32-bit constant c into r.
func MOVWConst(c uint32, r Reg) { emit("MOVW $0x%08x, %v", c, r) }

// MOVDConst loads the 64-bit constant c into r.
func MOVDConst(c int64, r Reg) { emit("MOVD $%d, %v", c, r) }

// ADDConst emits r += c.
func ADDConst(c int, r Reg) { emit("ADD $%d, %v", c, r) }

// ADD emits d = n + m.
func ADD(m, n, d Reg) { emit("ADD %v, %v, %v", m, n, d) }

// ADDShift emits d = n + m<<shift.
func ADDShift(m Reg, shift int, n, d Reg) { emit("ADD %v<<%d, %v, %v", m, shift, n, d) }

// SUBConst emits r -= c.
func SUBConst(c int, r Reg) { emit("SUB $%d, %v", c, r) }

// SUBSConst emits r -= c and sets the flags.
func SUBSConst(c int, r Reg) { emit("SUBS $%d, %v", c, r) }

// LSLConst emits d = n << c.
func LSLConst(c int, n, d Reg) { emit("LSL $%d, %v, %v", c, n, d) }

// CMPConst compares r with c.
func CMPConst(c int, r Reg) { emit("CMP $%d, %v", c, r) }

// CMP compares n with m (flags of n - m).
func CMP(m, n Reg) { emit("CMP %v, %v", m, n) }

// CBZ branches to l when r is zero.
func CBZ(r Reg, l Label) { emit("CBZ %v, %s", r, l) }

// CBNZ branches to l when r is not zero.
func CBNZ(r Reg, l Label) { emit("CBNZ %v, %s", r, l) }

// BLT branches to l when the last comparison was signed less-than.
func BLT(l Label) { emit("BLT %s", l) }

// BGE branches to l when the last comparison was signed greater-or-equal.
func BGE(l Label) { emit("BGE %s", l) }

// BGT branches to l when the last comparison was signed greater-than.
func BGT(l Label) { emit("BGT %s", l) }

// BNE branches to l when the last comparison was not equal.
func BNE(l Label) { emit("BNE %s", l) }

// BEQ branches to l when the last comparison was equal.
func BEQ(l Label) { emit("BEQ %s", l) }

// JMP branches to l.
func JMP(l Label) { emit("JMP %s", l) }

// RET returns from the function.
func RET() { emit("RET") }

// VMOVRegToLane copies the low 32 bits of r into the lane l.
func VMOVRegToLane(r Reg, l Lane) { emit("VMOV %v, V%d.S[%d]", r, l.Reg, l.Index) }

// VLD1LaneP loads one float32 from (base) into the lane l, keeping the other
// lanes, and advances base by 4.
func VLD1LaneP(base Reg, l Lane) { emit("VLD1.P 4(%v), V%d.S[%d]", base, l.Reg, l.Index) }

// ADDReg emits d = n + m.
func ADDReg(m, n, d Reg) { emit("ADD %v, %v, %v", m, n, d) }

// MOVDReg copies n to d.
func MOVDReg(n, d Reg) { emit("MOVD %v, %v", n, d) }

// TBZ branches to l when bit b of r is zero.
func TBZ(b int, r Reg, l Label) { emit("TBZ $%d, %v, %s", b, r, l) }

// TBNZ branches to l when bit b of r is set.
func TBNZ(b int, r Reg, l Label) { emit("TBNZ $%d, %v, %s", b, r, l) }

// LSRConst emits d = n >> c (logical).
func LSRConst(c int, n, d Reg) { emit("LSR $%d, %v, %v", c, n, d) }

// Store stores r to an argument or result (MOVD for 8-byte ones, MOVW for
// 4-byte ones, MOVB for a bool or byte).
func Store(r Reg, m Mem) {
	switch m.size {
	case 8:
		emit("MOVD %v, %v", r, m)
	case 4:
		emit("MOVW %v, %v", r, m)
	case 1:
		emit("MOVB %v, %v", r, m)
	default:
		panic(fmt.Sprintf("neon: Store: operand %v has size %d", m, m.size))
	}
}

// MOVWULoadP loads the 32-bit word at (base), zero-extended, into r and
// advances base by 4.
func MOVWULoadP(base Reg, r Reg) { emit("MOVWU.P 4(%v), %v", base, r) }

// BHS branches to l when the last comparison was unsigned higher-or-same.
func BHS(l Label) { emit("BHS %s", l) }

// BLO branches to l when the last comparison was unsigned lower.
func BLO(l Label) { emit("BLO %s", l) }

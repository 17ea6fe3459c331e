package neon

import "fmt"

// Inst is one instruction emitted as a WORD: its 32-bit encoding and its GNU
// assembler spelling.
type Inst struct {
	Enc uint32
	GNU string
}

// Form is one instruction form the emitter writes as a WORD, with sample
// instances for the encoding test.
type Form struct {
	Name    string
	Samples func() []Inst
}

// Forms lists every instruction form emitted as a WORD.
func Forms() []Form { return forms }

var forms []Form

func addForm(name string, samples func() []Inst) { forms = append(forms, Form{name, samples}) }

// sampleRegs are register triples that exercise every bit of the Rd, Rn and
// Rm fields.
var sampleRegs = [][3]VReg{{V0, V0, V0}, {V1, V2, V3}, {V31, V30, V29}, {V16, V8, V4}, {V5, V21, V10}, {V27, V13, V19}}

// floatArr checks that v has a 32-bit float arrangement.
func floatArr(op string, vs ...Vec) Arrangement {
	for _, v := range vs {
		if v.Arr != S4 && v.Arr != S2 {
			panic(fmt.Sprintf("neon: %s: arrangement %s is not 4s or 2s", op, v.Arr.goName()))
		}
		if v.Arr != vs[0].Arr {
			panic(fmt.Sprintf("neon: %s: mixed arrangements", op))
		}
	}
	return vs[0].Arr
}

// byteArr checks that v has a byte arrangement.
func byteArr(op string, vs ...Vec) Arrangement {
	for _, v := range vs {
		if v.Arr != B16 && v.Arr != B8 {
			panic(fmt.Sprintf("neon: %s: arrangement %s is not 16b or 8b", op, v.Arr.goName()))
		}
		if v.Arr != vs[0].Arr {
			panic(fmt.Sprintf("neon: %s: mixed arrangements", op))
		}
	}
	return vs[0].Arr
}

// three-register forms: base | Q<<30 | Rm<<16 | Rn<<5 | Rd; the GNU operand
// order is Vd, Vn, Vm.
func threeReg(mn string, base uint32, arrOK func(string, ...Vec) Arrangement) func(m, n, d Vec) Inst {
	return func(m, n, d Vec) Inst {
		a := arrOK(mn, m, n, d)
		return Inst{
			Enc: base | a.q()<<30 | uint32(m.Reg)<<16 | uint32(n.Reg)<<5 | uint32(d.Reg),
			GNU: fmt.Sprintf("%s %s, %s, %s", mn, d.gnuString(), n.gnuString(), m.gnuString()),
		}
	}
}

// two-register forms: base | Q<<30 | Rn<<5 | Rd.
func twoReg(mn, suffix string, base uint32) func(n, d Vec) Inst {
	return func(n, d Vec) Inst {
		a := floatArr(mn, n, d)
		return Inst{
			Enc: base | a.q()<<30 | uint32(n.Reg)<<5 | uint32(d.Reg),
			GNU: fmt.Sprintf("%s %s, %s%s", mn, d.gnuString(), n.gnuString(), suffix),
		}
	}
}

func threeSamples(enc func(m, n, d Vec) Inst, arrs ...Arrangement) func() []Inst {
	return func() []Inst {
		var out []Inst
		for _, a := range arrs {
			for _, r := range sampleRegs {
				out = append(out, enc(Vec{r[2], a}, Vec{r[1], a}, Vec{r[0], a}))
			}
		}
		return out
	}
}

func twoSamples(enc func(n, d Vec) Inst) func() []Inst {
	return func() []Inst {
		var out []Inst
		for _, a := range []Arrangement{S4, S2} {
			for _, r := range sampleRegs {
				out = append(out, enc(Vec{r[1], a}, Vec{r[0], a}))
			}
		}
		return out
	}
}

// Encoders of the three-register floating-point forms (Advanced SIMD three
// same, single precision: 0 Q U 01110 a 0 1 Rm opcode 1 Rn Rd).
var (
	encFADD   = threeReg("fadd", 0x0e20d400, floatArr)
	encFSUB   = threeReg("fsub", 0x0ea0d400, floatArr)
	encFMUL   = threeReg("fmul", 0x2e20dc00, floatArr)
	encFDIV   = threeReg("fdiv", 0x2e20fc00, floatArr)
	encFMAX   = threeReg("fmax", 0x0e20f400, floatArr)
	encFMIN   = threeReg("fmin", 0x0ea0f400, floatArr)
	encFMAXNM = threeReg("fmaxnm", 0x0e20c400, floatArr)
	encFMINNM = threeReg("fminnm", 0x0ea0c400, floatArr)
	encFCMEQ  = threeReg("fcmeq", 0x0e20e400, floatArr)
	encFCMGE  = threeReg("fcmge", 0x2e20e400, floatArr)
	encFCMGT  = threeReg("fcmgt", 0x2ea0e400, floatArr)
	encFRECPS = threeReg("frecps", 0x0e20fc00, floatArr)
	encFMAXP  = threeReg("fmaxp", 0x2e20f400, floatArr)
	encFADDP  = threeReg("faddp", 0x2e20d400, floatArr)
	encBIC    = threeReg("bic", 0x0e601c00, byteArr)
)

// Encoders of the two-register forms (Advanced SIMD two-register
// miscellaneous, single precision: 0 Q U 01110 a 0 10000 opcode 10 Rn Rd).
var (
	encFABS    = twoReg("fabs", "", 0x0ea0f800)
	encFNEG    = twoReg("fneg", "", 0x2ea0f800)
	encFRINTN  = twoReg("frintn", "", 0x0e218800)
	encFRINTM  = twoReg("frintm", "", 0x0e219800)
	encFCVTZS  = twoReg("fcvtzs", "", 0x0ea1b800)
	encFCVTNS  = twoReg("fcvtns", "", 0x0e21a800)
	encSCVTF   = twoReg("scvtf", "", 0x0e21d800)
	encFRECPE  = twoReg("frecpe", "", 0x0ea1d800)
	encFSQRT   = twoReg("fsqrt", "", 0x2ea1f800)
	encFCMGT0  = twoReg("fcmgt", ", #0.0", 0x0ea0c800)
	encFCMGE0  = twoReg("fcmge", ", #0.0", 0x2ea0c800)
	encFCMEQ0  = twoReg("fcmeq", ", #0.0", 0x0ea0d800)
	encFCMLE0  = twoReg("fcmle", ", #0.0", 0x2ea0d800)
	encFCMLT0  = twoReg("fcmlt", ", #0.0", 0x0ea0e800)
	encFMAXV4S = func(n VReg, d FReg) Inst {
		return Inst{
			Enc: 0x6e30f800 | uint32(n)<<5 | uint32(d),
			GNU: fmt.Sprintf("fmaxv s%d, v%d.4s", d, n),
		}
	}
)

// encSSHR encodes SSHR Vd.4S, Vn.4S, #shift (1 <= shift <= 32): shift right
// arithmetic, 0 Q 0 011110 immh:immb 00000 1 Rn Rd with immh:immb = 64-shift.
func encSSHR(shift int, n, d Vec) Inst {
	a := floatArr("sshr", n, d)
	if shift < 1 || shift > 32 {
		panic(fmt.Sprintf("neon: sshr: shift %d out of 1..32", shift))
	}
	return Inst{
		Enc: 0x0f000400 | a.q()<<30 | uint32(64-shift)<<16 | uint32(n.Reg)<<5 | uint32(d.Reg),
		GNU: fmt.Sprintf("sshr %s, %s, #%d", d.gnuString(), n.gnuString(), shift),
	}
}

// byElement encodes the by-element forms on 32-bit lanes:
// 0 Q 0 01111 1 0 L M Rm opcode H 0 Rn Rd, with the lane index H:L and the
// full register number M:Rm.
func byElement(mn string, base uint32) func(m Lane, n, d Vec) Inst {
	return func(m Lane, n, d Vec) Inst {
		a := floatArr(mn, n, d)
		if m.Index < 0 || m.Index > 3 {
			panic(fmt.Sprintf("neon: %s: lane %d out of 0..3", mn, m.Index))
		}
		h, l := uint32(m.Index>>1), uint32(m.Index&1)
		return Inst{
			Enc: base | a.q()<<30 | l<<21 | uint32(m.Reg)<<16 | h<<11 | uint32(n.Reg)<<5 | uint32(d.Reg),
			GNU: fmt.Sprintf("%s %s, %s, v%d.s[%d]", mn, d.gnuString(), n.gnuString(), m.Reg, m.Index),
		}
	}
}

var (
	encFMLAe = byElement("fmla", 0x0f801000)
	encFMLSe = byElement("fmls", 0x0f805000)
	encFMULe = byElement("fmul", 0x0f809000)
)

func init() {
	for _, f := range []struct {
		name string
		enc  func(m, n, d Vec) Inst
	}{
		{"FADD", encFADD}, {"FSUB", encFSUB}, {"FMUL", encFMUL}, {"FDIV", encFDIV},
		{"FMAX", encFMAX}, {"FMIN", encFMIN}, {"FMAXNM", encFMAXNM}, {"FMINNM", encFMINNM},
		{"FCMEQ", encFCMEQ}, {"FCMGE", encFCMGE},
		{"FCMGT", encFCMGT}, {"FRECPS", encFRECPS}, {"FMAXP", encFMAXP}, {"FADDP", encFADDP},
	} {
		addForm(f.name, threeSamples(f.enc, S4, S2))
	}
	addForm("BIC", threeSamples(encBIC, B16, B8))
	for _, f := range []struct {
		name string
		enc  func(n, d Vec) Inst
	}{
		{"FABS", encFABS}, {"FNEG", encFNEG}, {"FRINTN", encFRINTN}, {"FRINTM", encFRINTM},
		{"FCVTZS", encFCVTZS}, {"FCVTNS", encFCVTNS}, {"SCVTF", encSCVTF}, {"FRECPE", encFRECPE},
		{"FSQRT", encFSQRT}, {"FCMGT #0", encFCMGT0}, {"FCMGE #0", encFCMGE0},
		{"FCMEQ #0", encFCMEQ0}, {"FCMLE #0", encFCMLE0}, {"FCMLT #0", encFCMLT0},
	} {
		addForm(f.name, twoSamples(f.enc))
	}
	addForm("FMAXV", func() []Inst {
		var out []Inst
		for _, r := range sampleRegs {
			out = append(out, encFMAXV4S(r[1], FReg(r[0])))
		}
		return out
	})
	addForm("SSHR", func() []Inst {
		var out []Inst
		for i, r := range sampleRegs {
			for _, a := range []Arrangement{S4, S2} {
				for _, sh := range []int{1, 23, 31, 32, 1 + i*5} {
					out = append(out, encSSHR(sh, Vec{r[1], a}, Vec{r[0], a}))
				}
			}
		}
		return out
	})
	for _, f := range []struct {
		name string
		enc  func(m Lane, n, d Vec) Inst
	}{
		{"FMLA (element)", encFMLAe}, {"FMLS (element)", encFMLSe}, {"FMUL (element)", encFMULe},
	} {
		addForm(f.name, func() []Inst {
			var out []Inst
			for i, r := range sampleRegs {
				for _, a := range []Arrangement{S4, S2} {
					for _, lane := range []int{0, 1, 2, 3, i & 3} {
						out = append(out, f.enc(Lane{r[2], lane}, Vec{r[1], a}, Vec{r[0], a}))
					}
				}
			}
			return out
		})
	}
}

// The floating-point vector instructions the Go assembler lacks, emitted as
// WORDs. Operands are in Go order: VFSUB(m, n, d) computes d = n - m.

// VFADD emits FADD: d = n + m.
func VFADD(m, n, d Vec) { word(encFADD(m, n, d)) }

// VFSUB emits FSUB: d = n - m.
func VFSUB(m, n, d Vec) { word(encFSUB(m, n, d)) }

// VFMUL emits FMUL: d = n · m.
func VFMUL(m, n, d Vec) { word(encFMUL(m, n, d)) }

// VFDIV emits FDIV: d = n / m.
func VFDIV(m, n, d Vec) { word(encFDIV(m, n, d)) }

// VFMAX emits FMAX: d = max(n, m), NaN if either is NaN.
func VFMAX(m, n, d Vec) { word(encFMAX(m, n, d)) }

// VFMIN emits FMIN: d = min(n, m), NaN if either is NaN.
func VFMIN(m, n, d Vec) { word(encFMIN(m, n, d)) }

// VFMAXNM emits FMAXNM: d = maxNum(n, m), the number where one is a quiet NaN.
func VFMAXNM(m, n, d Vec) { word(encFMAXNM(m, n, d)) }

// VFMINNM emits FMINNM: d = minNum(n, m), the number where one is a quiet NaN.
func VFMINNM(m, n, d Vec) { word(encFMINNM(m, n, d)) }

// VFCMEQ emits FCMEQ: d = all ones where n == m.
func VFCMEQ(m, n, d Vec) { word(encFCMEQ(m, n, d)) }

// VFCMGE emits FCMGE: d = all ones where n >= m.
func VFCMGE(m, n, d Vec) { word(encFCMGE(m, n, d)) }

// VFCMGT emits FCMGT: d = all ones where n > m.
func VFCMGT(m, n, d Vec) { word(encFCMGT(m, n, d)) }

// VFRECPS emits FRECPS: d = 2 - n·m (Newton step for a reciprocal).
func VFRECPS(m, n, d Vec) { word(encFRECPS(m, n, d)) }

// VFMAXP emits FMAXP: pairwise maximum of the concatenation n:m.
func VFMAXP(m, n, d Vec) { word(encFMAXP(m, n, d)) }

// VFADDP emits FADDP: pairwise sums of the concatenation n:m.
func VFADDP(m, n, d Vec) { word(encFADDP(m, n, d)) }

// VBIC emits BIC: d = n AND NOT m.
func VBIC(m, n, d Vec) { word(encBIC(m, n, d)) }

// VFABS emits FABS: d = |n|.
func VFABS(n, d Vec) { word(encFABS(n, d)) }

// VFNEG emits FNEG: d = -n.
func VFNEG(n, d Vec) { word(encFNEG(n, d)) }

// VFRINTN emits FRINTN: d = n rounded to the nearest integer, ties to even.
func VFRINTN(n, d Vec) { word(encFRINTN(n, d)) }

// VFRINTM emits FRINTM: d = floor(n).
func VFRINTM(n, d Vec) { word(encFRINTM(n, d)) }

// VFCVTZS emits FCVTZS: d = int32(n), rounded toward zero, saturated.
func VFCVTZS(n, d Vec) { word(encFCVTZS(n, d)) }

// VFCVTNS emits FCVTNS: d = int32(n), rounded to nearest even, saturated.
func VFCVTNS(n, d Vec) { word(encFCVTNS(n, d)) }

// VSCVTF emits SCVTF: d = float32(int32 n).
func VSCVTF(n, d Vec) { word(encSCVTF(n, d)) }

// VFRECPE emits FRECPE: d ≈ 1/n (8-bit estimate).
func VFRECPE(n, d Vec) { word(encFRECPE(n, d)) }

// VFSQRT emits FSQRT: d = sqrt(n).
func VFSQRT(n, d Vec) { word(encFSQRT(n, d)) }

// VFCMGT0 emits FCMGT #0.0: d = all ones where n > 0.
func VFCMGT0(n, d Vec) { word(encFCMGT0(n, d)) }

// VFCMGE0 emits FCMGE #0.0: d = all ones where n >= 0.
func VFCMGE0(n, d Vec) { word(encFCMGE0(n, d)) }

// VFCMEQ0 emits FCMEQ #0.0: d = all ones where n == 0.
func VFCMEQ0(n, d Vec) { word(encFCMEQ0(n, d)) }

// VFCMLE0 emits FCMLE #0.0: d = all ones where n <= 0.
func VFCMLE0(n, d Vec) { word(encFCMLE0(n, d)) }

// VFCMLT0 emits FCMLT #0.0: d = all ones where n < 0.
func VFCMLT0(n, d Vec) { word(encFCMLT0(n, d)) }

// VFMAXV emits FMAXV: the scalar d = max of the four lanes of n.
func VFMAXV(n VReg, d FReg) { word(encFMAXV4S(n, d)) }

// VSSHR emits SSHR: d = n >> shift, arithmetic, on 32-bit lanes.
func VSSHR(shift int, n, d Vec) { word(encSSHR(shift, n, d)) }

// VFMLAE emits FMLA by element: d += n · m (m one lane, broadcast).
func VFMLAE(m Lane, n, d Vec) { word(encFMLAe(m, n, d)) }

// VFMLSE emits FMLS by element: d -= n · m (m one lane, broadcast).
func VFMLSE(m Lane, n, d Vec) { word(encFMLSe(m, n, d)) }

// VFMULE emits FMUL by element: d = n · m (m one lane, broadcast).
func VFMULE(m Lane, n, d Vec) { word(encFMULe(m, n, d)) }

// Package neon is a small arm64 assembly emitter for the NEON (ASIMD)
// kernels of actfuse, modelled on avo's build package: a kernel generator
// opens a function with TEXT and its Go signature, loads its parameters by
// name, and calls one Go function per instruction.
//
// Operands are written in the Go assembler's order (sources first, the
// destination last; for three-register forms Vm, Vn, Vd), so a kernel
// generator reads the same as its Go assembly. Instructions the Go arm64
// assembler knows are emitted as Go assembly text; the floating-point vector
// instructions it lacks (FADD, FMUL, FDIV, FMAX, FCMGT, FRINTN, FCVTZS, SCVTF,
// FRECPE, ...) are emitted as a WORD directive holding the instruction's
// encoding, followed by its GNU mnemonic in a comment. The WORD forms are
// listed by Forms, so that a test can check every encoding against GNU as.
//
// Only arithmetic is ever emitted as a WORD: the stack pointer and the frame
// pointer are never touched, so the unwind tables the Go assembler builds stay
// valid. Functions are leaf functions with a fixed frame of size 0.
package neon

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"os"
	"strings"
)

// Arrangement is the lane layout of a vector operand.
type Arrangement uint8

// The arrangements the emitter supports.
const (
	S4  Arrangement = iota // four 32-bit lanes (128 bits)
	S2                     // two 32-bit lanes (64 bits)
	B16                    // sixteen bytes (128 bits), for bitwise operations
	B8                     // eight bytes (64 bits)
)

func (a Arrangement) goName() string  { return [...]string{"S4", "S2", "B16", "B8"}[a] }
func (a Arrangement) gnuName() string { return [...]string{"4s", "2s", "16b", "8b"}[a] }

// q returns the Q bit (1 for 128-bit arrangements).
func (a Arrangement) q() uint32 {
	if a == S4 || a == B16 {
		return 1
	}
	return 0
}

// VReg is one of the 32 SIMD registers V0-V31.
type VReg uint8

// The SIMD registers.
const (
	V0 VReg = iota
	V1
	V2
	V3
	V4
	V5
	V6
	V7
	V8
	V9
	V10
	V11
	V12
	V13
	V14
	V15
	V16
	V17
	V18
	V19
	V20
	V21
	V22
	V23
	V24
	V25
	V26
	V27
	V28
	V29
	V30
	V31
)

// Vec is a SIMD register with an arrangement, such as V3.S4.
type Vec struct {
	Reg VReg
	Arr Arrangement
}

// S4 returns v with four 32-bit lanes.
func (v VReg) S4() Vec { return Vec{v, S4} }

// S2 returns v with two 32-bit lanes.
func (v VReg) S2() Vec { return Vec{v, S2} }

// B16 returns v as sixteen bytes.
func (v VReg) B16() Vec { return Vec{v, B16} }

// S returns the 32-bit lane i of v, as used by the by-element forms.
func (v VReg) S(i int) Lane { return Lane{v, i} }

// F returns the scalar single-precision view Fn of v (lane 0).
func (v VReg) F() FReg { return FReg(v) }

// B16 returns the same register viewed as sixteen bytes.
func (v Vec) B16() Vec { return Vec{v.Reg, B16} }

func (v Vec) goString() string  { return fmt.Sprintf("V%d.%s", v.Reg, v.Arr.goName()) }
func (v Vec) gnuString() string { return fmt.Sprintf("v%d.%s", v.Reg, v.Arr.gnuName()) }

// Lane is one 32-bit lane of a SIMD register, such as V3.S[1].
type Lane struct {
	Reg   VReg
	Index int
}

// FReg is the scalar single-precision view F0-F31 of a SIMD register.
type FReg uint8

// String returns the Go assembler name, F0-F31.
func (f FReg) String() string { return fmt.Sprintf("F%d", f) }

// Reg is a general-purpose register. Kernels use R0-R17 only: R18 is the
// platform register, R26-R30 belong to the runtime and the assembler.
type Reg uint8

// The general-purpose registers available to kernels.
const (
	R0 Reg = iota
	R1
	R2
	R3
	R4
	R5
	R6
	R7
	R8
	R9
	R10
	R11
	R12
	R13
	R14
	R15
	R16
	R17
)

// String returns the Go assembler name, R0-R30.
func (r Reg) String() string { return fmt.Sprintf("R%d", r) }

// Mem is a memory operand: a base register and an offset, or a named
// argument of the function (name+offset(FP)).
type Mem struct {
	text string
	size int // bytes, for arguments
}

// Ptr returns the memory operand off(base).
func Ptr(base Reg, off int) Mem {
	if off == 0 {
		return Mem{text: fmt.Sprintf("(%v)", base)}
	}
	return Mem{text: fmt.Sprintf("%d(%v)", off, base)}
}

// String returns the operand as the Go assembler writes it.
func (m Mem) String() string { return m.text }

// Label is a branch target inside a function.
type Label string

// param is one argument of a function, from its Go signature.
type param struct {
	name   string
	typ    string
	offset int
	size   int
}

// Param is a named argument of the current function. For a slice, Base, Len
// and Cap give its three words; for a scalar, the Param itself is the operand.
type Param struct {
	p param
}

// Base returns the data pointer of a slice argument.
func (p Param) Base() Mem { return p.word("base", 0) }

// Len returns the length of a slice argument.
func (p Param) Len() Mem { return p.word("len", 8) }

// Cap returns the capacity of a slice argument.
func (p Param) Cap() Mem { return p.word("cap", 16) }

func (p Param) word(part string, off int) Mem {
	if !strings.HasPrefix(p.p.typ, "[]") {
		panic(fmt.Sprintf("neon: %s is %s, not a slice", p.p.name, p.p.typ))
	}
	return Mem{text: fmt.Sprintf("%s_%s+%d(FP)", p.p.name, part, p.p.offset+off), size: 8}
}

// Mem returns a scalar argument as a memory operand.
func (p Param) Mem() Mem {
	if strings.HasPrefix(p.p.typ, "[]") {
		panic(fmt.Sprintf("neon: %s is a slice: use Base, Len or Cap", p.p.name))
	}
	return Mem{text: fmt.Sprintf("%s+%d(FP)", p.p.name, p.p.offset), size: p.p.size}
}

// function is one TEXT block being written.
type function struct {
	name    string
	sig     string
	doc     []string
	params  []param
	argSize int
	body    bytes.Buffer
	labels  map[Label]bool
}

// File collects functions and writes them as one assembly file and its Go
// declarations.
type File struct {
	funcs []*function
	cur   *function
}

var file = &File{}

// Reset discards every function emitted so far, to start a new file.
func Reset() { file = &File{} }

// TEXT starts the function name with the Go signature sig, written as a
// function type ("func(dst, x []float32, alpha float32)"). The function is a
// NOSPLIT leaf with a frame of size 0 and no results.
func TEXT(name, sig string) {
	params, size := parseSig(name, sig)
	f := &function{name: name, sig: sig, params: params, argSize: size, labels: map[Label]bool{}}
	file.funcs = append(file.funcs, f)
	file.cur = f
}

// Doc sets the doc comment of the current function (one string per line).
func Doc(lines ...string) { file.cur.doc = lines }

// GetParam returns the argument called name of the current function.
func GetParam(name string) Param {
	for _, p := range file.cur.params {
		if p.name == name {
			return Param{p}
		}
	}
	panic(fmt.Sprintf("neon: %s has no parameter %q", file.cur.name, name))
}

// Comment emits a comment line.
func Comment(format string, args ...any) {
	b := file.cur.body.Bytes()
	last := b[bytes.LastIndexByte(b[:max(0, len(b)-1)], '\n')+1:]
	if len(b) > 0 && !bytes.HasSuffix(b, []byte(":\n")) && !bytes.HasPrefix(last, []byte("\t// ")) {
		file.cur.body.WriteString("\n")
	}
	fmt.Fprintf(&file.cur.body, "\t// %s\n", fmt.Sprintf(format, args...))
}

// Emit writes one line of Go assembly to the current function.
func emit(format string, args ...any) {
	fmt.Fprintf(&file.cur.body, "\t"+format+"\n", args...)
}

// word emits the 32-bit encoding enc with the GNU mnemonic gnu as comment.
func word(in Inst) {
	emit("WORD $0x%08x // %s", in.Enc, in.GNU)
}

// DefineLabel places the label l at the current position.
func DefineLabel(l Label) {
	if file.cur.labels[l] {
		panic(fmt.Sprintf("neon: %s: label %s defined twice", file.cur.name, l))
	}
	file.cur.labels[l] = true
	fmt.Fprintf(&file.cur.body, "\n%s:\n", l)
}

// parseSig parses a function type and lays out its arguments as the Go ABI0
// does on arm64: each argument aligned to its own alignment, in order; the
// results follow, starting at the next multiple of 8. An unnamed result is
// called "ret", as go vet's asmdecl check expects.
func parseSig(name, sig string) ([]param, int) {
	e, err := parser.ParseExpr(sig)
	if err != nil {
		panic(fmt.Sprintf("neon: %s: bad signature %q: %v", name, sig, err))
	}
	ft, ok := e.(*ast.FuncType)
	if !ok {
		panic(fmt.Sprintf("neon: %s: signature %q is not a function type", name, sig))
	}
	var ps []param
	off := 0
	layout := func(fields *ast.FieldList, unnamed string) {
		if fields == nil {
			return
		}
		for _, field := range fields.List {
			typ := exprString(field.Type)
			size, align := typeSize(typ)
			names := field.Names
			if len(names) == 0 {
				names = []*ast.Ident{{Name: unnamed}}
			}
			for _, n := range names {
				off = (off + align - 1) / align * align
				ps = append(ps, param{name: n.Name, typ: typ, offset: off, size: size})
				off += size
			}
		}
	}
	layout(ft.Params, "")
	if ft.Results != nil && len(ft.Results.List) > 0 {
		if len(ft.Results.List) > 1 || len(ft.Results.List[0].Names) > 1 {
			panic(fmt.Sprintf("neon: %s: at most one result is supported", name))
		}
		off = (off + 7) &^ 7
		layout(ft.Results, "ret")
	}
	return ps, off
}

func exprString(e ast.Expr) string {
	switch t := e.(type) {
	case *ast.Ident:
		return t.Name
	case *ast.ArrayType:
		if t.Len == nil {
			return "[]" + exprString(t.Elt)
		}
		if n, ok := t.Len.(*ast.BasicLit); ok {
			return "[" + n.Value + "]" + exprString(t.Elt)
		}
	case *ast.StarExpr:
		return "*" + exprString(t.X)
	}
	panic(fmt.Sprintf("neon: unsupported parameter type %T", e))
}

func typeSize(typ string) (size, align int) {
	switch {
	case strings.HasPrefix(typ, "[]"):
		return 24, 8
	case strings.HasPrefix(typ, "*"):
		return 8, 8
	}
	switch typ {
	case "int", "int64", "uint64", "uintptr":
		return 8, 8
	case "int32", "uint32", "float32":
		return 4, 4
	case "bool", "uint8", "int8":
		return 1, 1
	}
	panic("neon: unsupported parameter type " + typ)
}

// Generate writes the functions emitted since the last Reset to the assembly
// file asmPath and their Go declarations to goPath, in package pkg. cmd is
// the command recorded in the "Code generated" headers.
func Generate(asmPath, goPath, pkg, cmd string) error {
	var s, g bytes.Buffer
	header := fmt.Sprintf("// Code generated by command: %s DO NOT EDIT.\n\n", cmd)
	s.WriteString(header)
	s.WriteString("//go:build !purego\n\n#include \"textflag.h\"\n")
	g.WriteString(header)
	fmt.Fprintf(&g, "//go:build !purego\n\npackage %s\n", pkg)
	for _, f := range file.funcs {
		fmt.Fprintf(&s, "\n// func %s%s\n", f.name, strings.TrimPrefix(f.sig, "func"))
		fmt.Fprintf(&s, "TEXT ·%s(SB), NOSPLIT, $0-%d\n", f.name, f.argSize)
		s.Write(f.body.Bytes())
		g.WriteString("\n")
		for _, l := range f.doc {
			if l == "" {
				g.WriteString("//\n")
			} else {
				fmt.Fprintf(&g, "// %s\n", l)
			}
		}
		if len(f.doc) > 0 {
			g.WriteString("//\n")
		}
		fmt.Fprintf(&g, "//go:noescape\nfunc %s%s\n", f.name, strings.TrimPrefix(f.sig, "func"))
	}
	if err := os.WriteFile(asmPath, s.Bytes(), 0o644); err != nil {
		return fmt.Errorf("neon: writing assembly: %w", err)
	}
	if err := os.WriteFile(goPath, g.Bytes(), 0o644); err != nil {
		return fmt.Errorf("neon: writing declarations: %w", err)
	}
	return nil
}

// Capture runs f and returns the assembly it emits instead of adding it to
// the current function; Raw adds such text later. Generators use it to emit
// a loop body before the set-up code that the body's constants require.
func Capture(f func()) string {
	saved := file.cur.body
	file.cur.body = bytes.Buffer{}
	f()
	text := file.cur.body.String()
	file.cur.body = saved
	return text
}

// Raw adds assembly text returned by Capture to the current function.
func Raw(text string) { file.cur.body.WriteString(text) }

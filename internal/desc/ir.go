package desc

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// A Program is a straight-line computation on float32 lanes: every lane of
// the inputs goes through the same operations, independently of the other
// lanes. Package fallback evaluates programs as the specification; the
// generators in gen/ lower each operation to one instruction (or a short
// fixed sequence) of their ISA. Programs describe the activations forward
// and backward and the optimizer updates.
//
// Values are in static single assignment form: each operation defines one
// value, numbered by its position in Ops, and reads only values defined
// before it. Nothing is shared or reused implicitly: a program that needs
// a value twice keeps it (it stays live) or computes it again (a second
// operation), and lowerings must not merge equal operations, because what
// is live decides the registers a kernel needs.
type Program struct {
	Name   string   // kernel name stem: "Sigmoid", "MomentumUpdate"
	Algo   string   // the algorithm in XNNPACK's naming ("rr2_lut8_p4_div"); "" for the exact functions
	Inputs []string // the input streams, in order: "x"; "dy", "y"; "w", "v", "g"
	Params []string // scalar parameters broadcast to every lane, in order
	Ops    []Op
	Out    []Value // the results, one per output stream
	// Tables are the tables Lookup and ScaleLookup read, LookupSize words
	// each.
	Tables [][LookupSize]uint32
}

// LookupSize is the number of words of a Lookup table: one AVX2 register
// (VPERMPS), half an AVX-512 one (the table twice), two NEON ones (TBL).
const LookupSize = 8

// A Value is the result of an operation: the index of the operation in
// Program.Ops.
type Value int32

// An Op is one operation of a program.
type Op struct {
	Kind Kind
	Args [3]Value // the operands; how many are used depends on Kind
	// Imm is the index of the input or parameter (Input, Param), the bit
	// pattern of a constant (Const), the shift count (Shl), or the index of
	// the table in Program.Tables (Lookup, ScaleLookup).
	Imm uint32
	// Note is a comment for the generated code; "" for none.
	Note string
}

// Kind is the operation of an Op. Every arithmetic operation is IEEE 754
// binary32 with rounding to nearest even, without flushing subnormal
// numbers; on a NaN operand any NaN may result (payloads and signs of NaNs
// are not part of the semantics).
type Kind uint8

// The operations. Arguments are named a, b, c (Args[0], Args[1], Args[2]).
const (
	Input Kind = iota // the input stream Imm
	Param             // the parameter Imm, the same in every lane
	Const             // the constant whose bits are Imm

	Add  // a + b
	Sub  // a - b
	Mul  // a · b
	Div  // a / b
	Sqrt // √a, correctly rounded
	FMA  // a·b + c with one rounding
	FNMA // c - a·b with one rounding

	// Min is a < b ? a : b and Max is a > b ? a : b, for b not a NaN. For a
	// quiet NaN a they give b; for a signaling NaN a the result is not
	// specified (arm64 lowers them to FMINNM and FMAXNM). b may be a NaN only
	// where a is one too, and the result is then a NaN. b must not be the
	// zero of the sign that would be chosen against the other zero: Min's b
	// may be -0 but not +0, Max's b may be +0 but not -0, unless a is never
	// the zero of the other sign.
	Min
	Max
	// MaxNegAbs is Max(-|a|, b) for b < 0, by Max's rules (a quiet NaN a
	// gives b): one VRANGEPS on AVX-512 (tanh's clamped -|x|).
	MaxNegAbs

	And    // a & b on the bit patterns
	Or     // a | b
	Xor    // a ^ b
	AndNot // a &^ b
	Shl    // the bits of a shifted left by Imm (integer lanes)
	AddInt // the bits of a plus the bits of b, modulo 2^32 (integer lanes)
	Lookup // the word of table Imm at index bits(a) mod LookupSize
	// ScaleLookup is T[j]·2^floor(b), T the table Imm and j = bits(a) mod
	// LookupSize, for a and b with bits(a) ≡ LookupSize·b (mod 2^12), as
	// over the magic ExpMagicLut, and a normal result (else any value may
	// result): the 2^(j/8)·2^n of tanh's table-driven exp core. AVX-512
	// lowers it to VPERMPS and VSCALEFPS; the other lowerings to
	// (T[j] - j<<20) + (bits(a) << 20) on the integer lanes, which is the
	// same number there, one operation more. A program must keep b at
	// least -126 on every lane, also those it drops: VSCALEFPS's
	// subnormal results cost the x86 cores a microcode assist.
	ScaleLookup

	// Comparisons give masks, which only Select reads. They are ordered:
	// false where an operand is NaN.
	Less      // a < b
	LessEq    // a <= b
	Greater   // a > b
	GreaterEq // a >= b
	Equal     // a == b
	SignMask  // the sign bit of a is set (negative numbers, -0, NaNs with the sign bit)

	Select // a ? b : c, a a mask
	numKinds
)

var kindNames = [numKinds]string{
	"Input", "Param", "Const", "Add", "Sub", "Mul", "Div", "Sqrt", "FMA", "FNMA",
	"Min", "Max", "MaxNegAbs", "And", "Or", "Xor", "AndNot", "Shl", "AddInt", "Lookup", "ScaleLookup",
	"Less", "LessEq", "Greater", "GreaterEq", "Equal", "SignMask", "Select",
}

func (k Kind) String() string {
	if k < numKinds {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Arity returns the number of operands of k.
func (k Kind) Arity() int {
	switch k {
	case Input, Param, Const:
		return 0
	case Sqrt, Shl, Lookup, SignMask:
		return 1
	case FMA, FNMA, Select:
		return 3
	}
	return 2
}

// IsMask reports whether k yields a mask (a comparison or SignMask).
func (k Kind) IsMask() bool { return k >= Less && k <= SignMask }

// Float returns the float32 value of the constant op.
func (op Op) Float() float32 { return math.Float32frombits(op.Imm) }

// LastUse returns, for every value of p, the index of the last operation
// that reads it (len(p.Ops) for the results, -1 for values never read).
// Lowerings use it to free registers and to pick the destructive operand of
// an instruction.
func (p *Program) LastUse() []int {
	last := make([]int, len(p.Ops))
	for i := range last {
		last[i] = -1
	}
	for i, op := range p.Ops {
		for _, a := range op.Args[:op.Kind.Arity()] {
			last[a] = i
		}
	}
	for _, v := range p.Out {
		last[v] = len(p.Ops)
	}
	return last
}

// MaxLive returns the largest number of non-constant values live at once
// (defined and still to be read): the vector registers one lane group of
// the program needs, apart from its constants and parameters. An operation
// may write the register of an operand it reads last, so the values live
// across it are those live before it, or after it with its result.
func (p *Program) MaxLive() int {
	last := p.LastUse()
	live, most := 0, 0
	for i, op := range p.Ops {
		most = max(most, live)
		for j, a := range op.Args[:op.Kind.Arity()] {
			if last[a] == i && !dupArg(op, j) && !constant(p.Ops[a].Kind) {
				live--
			}
		}
		if !constant(op.Kind) && last[i] >= 0 {
			live++
		}
		most = max(most, live)
	}
	return most
}

// UsedParams returns the number of parameters the program reads, and
// whether it reads each one: a forward and a backward program share their
// function's parameter list, and each may leave some of it unread.
func (p *Program) UsedParams() (n int, used []bool) {
	last := p.LastUse()
	used = make([]bool, len(p.Params))
	for i, op := range p.Ops {
		if op.Kind == Param && last[i] >= 0 {
			used[op.Imm] = true
			n++
		}
	}
	return n, used
}

func constant(k Kind) bool { return k == Const || k == Param }

// dupArg reports whether operand j of op repeats an earlier operand.
func dupArg(op Op, j int) bool {
	for k := 0; k < j; k++ {
		if op.Args[k] == op.Args[j] {
			return true
		}
	}
	return false
}

// Consts returns the distinct constants of p, as bit patterns, in order of
// first use.
func (p *Program) Consts() []uint32 {
	var cs []uint32
	seen := map[uint32]bool{}
	for _, op := range p.Ops {
		if op.Kind == Const && !seen[op.Imm] {
			seen[op.Imm] = true
			cs = append(cs, op.Imm)
		}
	}
	return cs
}

// Title returns the program's name and its algorithm's, if any:
// "Sigmoid rr2_lut8_p4_div", "LeakyReLU".
func (p *Program) Title() string { return strings.TrimSpace(p.Name + " " + p.Algo) }

// String lists the program one operation a line, for tests and debugging.
func (p *Program) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s(%s; %s)\n", p.Title(), strings.Join(p.Inputs, ", "), strings.Join(p.Params, ", "))
	for i, op := range p.Ops {
		fmt.Fprintf(&b, "  v%d = %v", i, op.Kind)
		switch op.Kind {
		case Input:
			fmt.Fprintf(&b, " %s", p.Inputs[op.Imm])
		case Param:
			fmt.Fprintf(&b, " %s", p.Params[op.Imm])
		case Const:
			fmt.Fprintf(&b, " %#08x (%g)", op.Imm, op.Float())
		case Shl:
			fmt.Fprintf(&b, " v%d, %d", op.Args[0], op.Imm)
		case Lookup:
			fmt.Fprintf(&b, " table%d[v%d]", op.Imm, op.Args[0])
		case ScaleLookup:
			fmt.Fprintf(&b, " table%d[v%d], v%d", op.Imm, op.Args[0], op.Args[1])
		default:
			for j, a := range op.Args[:op.Kind.Arity()] {
				if j > 0 {
					b.WriteString(",")
				}
				fmt.Fprintf(&b, " v%d", a)
			}
		}
		if op.Note != "" {
			fmt.Fprintf(&b, "  // %s", op.Note)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "  return %v\n", p.Out)
	for i, t := range p.Tables {
		fmt.Fprintf(&b, "  table%d %#08x\n", i, t)
	}
	return b.String()
}

// A Builder writes a program; its methods append one operation each and
// return its value. Constants and inputs may be asked for more than once:
// each is defined once.
type Builder struct {
	p      *Program
	consts map[uint32]Value
	note   string
}

// NewBuilder starts the program name (algorithm algo) with the given input
// streams and parameters; In and P return their values.
func NewBuilder(name, algo string, inputs, params []string) *Builder {
	b := &Builder{p: &Program{Name: name, Algo: algo, Inputs: inputs, Params: params}, consts: map[uint32]Value{}}
	for i := range inputs {
		b.op(Op{Kind: Input, Imm: uint32(i)})
	}
	for i := range params {
		b.op(Op{Kind: Param, Imm: uint32(i)})
	}
	return b
}

// In returns the input stream i.
func (b *Builder) In(i int) Value { return Value(i) }

// P returns the parameter i.
func (b *Builder) P(i int) Value { return Value(len(b.p.Inputs) + i) }

// Return ends the program with the given results and returns it.
func (b *Builder) Return(out ...Value) *Program {
	b.p.Out = out
	p := b.p
	b.p = nil
	return p
}

// Note attaches a comment to the next operation.
func (b *Builder) Note(s string) { b.note = s }

func (b *Builder) op(op Op) Value {
	for _, a := range op.Args[:op.Kind.Arity()] {
		if int(a) < 0 || int(a) >= len(b.p.Ops) {
			panic(fmt.Sprintf("desc: %s: %v reads undefined value v%d", b.p.Name, op.Kind, a))
		}
		if want := op.Kind == Select && a == op.Args[0]; want != b.p.Ops[a].Kind.IsMask() {
			panic(fmt.Sprintf("desc: %s: %v: operand v%d is a mask where a number is wanted or the reverse", b.p.Name, op.Kind, a))
		}
	}
	op.Note, b.note = b.note, ""
	b.p.Ops = append(b.p.Ops, op)
	return Value(len(b.p.Ops) - 1)
}

// Bits returns the constant with the bit pattern u.
func (b *Builder) Bits(u uint32) Value {
	if v, ok := b.consts[u]; ok {
		return v
	}
	v := b.op(Op{Kind: Const, Imm: u})
	b.consts[u] = v
	return v
}

// F returns the float32 constant f.
func (b *Builder) F(f float32) Value { return b.Bits(math.Float32bits(f)) }

func (b *Builder) op2(k Kind, x, y Value) Value    { return b.op(Op{Kind: k, Args: [3]Value{x, y}}) }
func (b *Builder) op3(k Kind, x, y, z Value) Value { return b.op(Op{Kind: k, Args: [3]Value{x, y, z}}) }

// Add returns x + y.
func (b *Builder) Add(x, y Value) Value { return b.op2(Add, x, y) }

// Sub returns x - y.
func (b *Builder) Sub(x, y Value) Value { return b.op2(Sub, x, y) }

// Mul returns x · y.
func (b *Builder) Mul(x, y Value) Value { return b.op2(Mul, x, y) }

// Div returns x / y.
func (b *Builder) Div(x, y Value) Value { return b.op2(Div, x, y) }

// Sqrt returns √x.
func (b *Builder) Sqrt(x Value) Value { return b.op(Op{Kind: Sqrt, Args: [3]Value{x}}) }

// FMA returns x·y + z, rounded once.
func (b *Builder) FMA(x, y, z Value) Value { return b.op3(FMA, x, y, z) }

// FNMA returns z - x·y, rounded once.
func (b *Builder) FNMA(x, y, z Value) Value { return b.op3(FNMA, x, y, z) }

// Min returns x < y ? x : y (see the Min operation for NaN and zeros).
func (b *Builder) Min(x, y Value) Value { return b.op2(Min, x, y) }

// Max returns x > y ? x : y (see the Max operation for NaN and zeros).
func (b *Builder) Max(x, y Value) Value { return b.op2(Max, x, y) }

// MaxNegAbs returns max(-|x|, y) for y < 0 (see the MaxNegAbs operation).
func (b *Builder) MaxNegAbs(x, y Value) Value { return b.op2(MaxNegAbs, x, y) }

// And returns the bitwise x & y.
func (b *Builder) And(x, y Value) Value { return b.op2(And, x, y) }

// Or returns the bitwise x | y.
func (b *Builder) Or(x, y Value) Value { return b.op2(Or, x, y) }

// Xor returns the bitwise x ^ y.
func (b *Builder) Xor(x, y Value) Value { return b.op2(Xor, x, y) }

// AndNot returns the bitwise x &^ y.
func (b *Builder) AndNot(x, y Value) Value { return b.op2(AndNot, x, y) }

// Shl returns the bits of x shifted left by n.
func (b *Builder) Shl(x Value, n uint32) Value { return b.op(Op{Kind: Shl, Args: [3]Value{x}, Imm: n}) }

// AddInt returns the bits of x plus the bits of y, modulo 2^32.
func (b *Builder) AddInt(x, y Value) Value { return b.op2(AddInt, x, y) }

// Lookup returns the word of table t at index bits(x) mod LookupSize.
func (b *Builder) Lookup(x Value, t [LookupSize]uint32) Value {
	return b.op(Op{Kind: Lookup, Args: [3]Value{x}, Imm: b.table(t)})
}

// ScaleLookup returns the word of table t at index bits(x) mod LookupSize
// times 2^floor(y) (see the ScaleLookup operation for what x and y must
// satisfy).
func (b *Builder) ScaleLookup(x, y Value, t [LookupSize]uint32) Value {
	return b.op(Op{Kind: ScaleLookup, Args: [3]Value{x, y}, Imm: b.table(t)})
}

// table returns the index of t in the program's tables, adding it if new.
func (b *Builder) table(t [LookupSize]uint32) uint32 {
	i := slices.Index(b.p.Tables, t)
	if i < 0 {
		i = len(b.p.Tables)
		b.p.Tables = append(b.p.Tables, t)
	}
	return uint32(i)
}

// OffsetTable returns T[j] - j<<20 for the table t: the table that the
// lowerings without a scaling instruction add bits(a) << 20 to for a
// ScaleLookup, which puts j<<20 back and n into the exponent field.
func OffsetTable(t [LookupSize]uint32) [LookupSize]uint32 {
	for j := range t {
		t[j] -= uint32(j) << 20
	}
	return t
}

// Less returns the mask x < y.
func (b *Builder) Less(x, y Value) Value { return b.op2(Less, x, y) }

// LessEq returns the mask x <= y.
func (b *Builder) LessEq(x, y Value) Value { return b.op2(LessEq, x, y) }

// Greater returns the mask x > y.
func (b *Builder) Greater(x, y Value) Value { return b.op2(Greater, x, y) }

// GreaterEq returns the mask x >= y.
func (b *Builder) GreaterEq(x, y Value) Value { return b.op2(GreaterEq, x, y) }

// Equal returns the mask x == y.
func (b *Builder) Equal(x, y Value) Value { return b.op2(Equal, x, y) }

// SignMask returns the mask of the lanes whose sign bit is set.
func (b *Builder) SignMask(x Value) Value { return b.op(Op{Kind: SignMask, Args: [3]Value{x}}) }

// Select returns mask ? x : y.
func (b *Builder) Select(mask, x, y Value) Value { return b.op3(Select, mask, x, y) }

// Horner returns c[0]·t^(n-1) + ... + c[n-1] evaluated with n-1 fused
// multiply-adds, highest degree first.
func Horner(b *Builder, t Value, c []uint32) Value {
	q := b.FMA(b.Bits(c[0]), t, b.Bits(c[1]))
	for _, ci := range c[2:] {
		q = b.FMA(q, t, b.Bits(ci))
	}
	return q
}

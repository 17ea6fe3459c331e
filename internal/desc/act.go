package desc

import (
	"fmt"
	"math"
)

// Func identifies an activation function. Its value is also the activation
// field of a GEMM micro-kernel's flags (see Flags).
type Func uint8

// The activation functions. Their derivatives are all expressed through the
// output y = f(x), so a backward pass needs only the saved output.
const (
	Identity  Func = iota // f(x) = x
	ReLU                  // f(x) = max(x, 0); f'(y) = 1 if y > 0, else 0
	LeakyReLU             // f(x) = x if x > 0, else alpha·x; f'(y) = 1 if y > 0, else alpha
	ELU                   // f(x) = x if x > 0, else alpha·(exp(x)-1); f'(y) = 1 if y > 0, else y + alpha
	Sigmoid               // f(x) = 1/(1+exp(-x)); f'(y) = y·(1-y)
	Tanh                  // f(x) = tanh(x); f'(y) = (1-y)·(1+y)
	// ScaledSigmoid is the sigmoid with a slope: f(x) = 1/(1+exp(-slope·x));
	// f'(y) = slope·y·(1-y).
	ScaledSigmoid
	// ScaledTanh is f(x) = gain·tanh(slope·x);
	// f'(y) = (slope/gain)·(gain-y)·(gain+y).
	ScaledTanh
	NumFuncs // number of activation functions
)

// StreamMin is the smallest call (elements) whose elementwise forward and
// backward kernels on amd64 store their output with non-temporal stores
// (VMOVNTPS), where the output is aligned to a vector, as every Go
// allocation of that size is: they write it past the caches without first
// reading it in, so that beyond the caches a streaming loop moves two
// thirds of the bytes, but a consumer reads the output back from memory.
// ReLU forward on a Zen 4 guest (32 MiB L3), ns/element with ordinary and
// with non-temporal stores, 5 alternated rounds: 1M elements 0.119 and
// 0.160, 2M 0.206 and 0.161, 4M 0.545 and 0.172, 16M 0.629 and 0.276. The
// loops of the pipelined programs (sigmoid, tanh and the scaled forms
// forward on AVX-512), bound by their operations, keep ordinary stores.
const StreamMin = 1 << 21

// FuncDesc describes one activation function.
type FuncDesc struct {
	Name string // lower-case name, as Func.String and ParseFunc spell it
	Stem string // the stem of its kernels' names: "LeakyReLU" gives LeakyReLUForward
	// Params are the parameters its programs take, by their names in
	// package fallback's Activation ("alpha", "gain", "slope"), or values
	// derived from those ("2gain" = 2·gain, "slope/gain"), which the
	// programs take precomputed.
	Params []string
	// Forward computes y = f(x) from the input "x"; Deriv computes
	// dz = dy·f'(y) from the inputs "dy" and "y". Identity has neither: its
	// kernels are copies.
	Forward, Deriv *Program
	// Variants compute Forward's results in fewer operations for some
	// parameters; the assembly kernels run the first that applies.
	Variants []Variant
}

// A Variant is a program that gives its function's Forward results, bit for
// bit (NaN payloads aside), wherever the parameter Params[Param] lies in
// (Above, AtMost]. Its kernels are named after Stem, as a FuncDesc's; the
// switches that call the forward kernels by Func test the range at each call.
// Package fallback, the specification, evaluates Forward only, so the kernel
// tests compare each variant with Forward itself.
type Variant struct {
	Stem          string
	Param         int
	Above, AtMost float32
	Forward       *Program
}

// Cond returns the Go condition under which v applies, on the parameter
// array named p: "p[0] > 0 && p[0] <= 1".
func (v Variant) Cond(p string) string {
	return fmt.Sprintf("%s[%d] > %v && %s[%d] <= %v", p, v.Param, v.Above, p, v.Param, v.AtMost)
}

// Forwards returns the forward kernels of d to emit: d itself, then, for
// each variant, d with the variant's Stem and Forward. It is empty if d has
// no Forward (Identity).
func (d FuncDesc) Forwards() []FuncDesc {
	if d.Forward == nil {
		return nil
	}
	fs := []FuncDesc{d}
	for _, v := range d.Variants {
		e := d
		e.Stem, e.Forward, e.Variants = v.Stem, v.Forward, nil
		fs = append(fs, e)
	}
	return fs
}

// Funcs describes every activation function, indexed by Func.
var Funcs = [NumFuncs]FuncDesc{
	Identity: {Name: "identity", Stem: "Identity"},
	ReLU:     {Name: "relu", Stem: "ReLU", Forward: relu(), Deriv: reluDeriv()},
	LeakyReLU: {Name: "leakyrelu", Stem: "LeakyReLU", Params: alphaParam, Forward: leakyReLU(), Deriv: leakyReLUDeriv(),
		Variants: []Variant{{Stem: "LeakyReLUMax", Param: 0, Above: 0, AtMost: 1, Forward: leakyReLUMax()}}},
	ELU: {Name: "elu", Stem: "ELU", Params: alphaParam, Forward: elu(forward("ELU", "rr1_p6_expm1", alphaParam)), Deriv: eluDeriv(),
		Variants: []Variant{{Stem: "ELUOne", Param: 0, Above: 0x1.fffffep-1, AtMost: 1, Forward: eluOne(forward("ELUOne", "rr1_p6_expm1", alphaParam))}}},
	Sigmoid: {Name: "sigmoid", Stem: "Sigmoid", Forward: sigmoid(forward("Sigmoid", "rr2_lut8_p4_div", nil)), Deriv: sigmoidDeriv()},
	Tanh:    {Name: "tanh", Stem: "Tanh", Forward: tanh(forward("Tanh", "p11_rr1_lut8_p3_div", nil)), Deriv: tanhDeriv()},
	ScaledSigmoid: {Name: "scaledsigmoid", Stem: "ScaledSigmoid", Params: slopeParam,
		Forward: scaledSigmoid(forward("ScaledSigmoid", "rr2_lut8_p4_div", slopeParam)), Deriv: scaledSigmoidDeriv()},
	ScaledTanh: {Name: "scaledtanh", Stem: "ScaledTanh", Params: gainSlopeParams,
		Forward: scaledTanh(forward("ScaledTanh", "p11_rr1_lut8_p4_div", gainSlopeParams)), Deriv: scaledTanhDeriv()},
}

var (
	alphaParam      = []string{"alpha"}
	slopeParam      = []string{"slope"}
	gainSlopeParams = []string{"gain", "slope", "2gain", "slope/gain"}
)

// String returns the lower-case name of f, as used by ParseFunc.
func (f Func) String() string {
	if f < NumFuncs {
		return Funcs[f].Name
	}
	return fmt.Sprintf("Func(%d)", uint8(f))
}

// ParseFunc returns the Func whose String is name.
func ParseFunc(name string) (Func, error) {
	names := make([]string, NumFuncs)
	for i, d := range Funcs {
		if d.Name == name {
			return Func(i), nil
		}
		names[i] = d.Name
	}
	return 0, fmt.Errorf("actfuse: unknown activation %q (want one of %v)", name, names)
}

func forward(stem, algo string, params []string) *Builder {
	return NewBuilder(stem, algo, []string{"x"}, params)
}

func deriv(stem string, params []string) *Builder {
	return NewBuilder(stem, "", []string{"dy", "y"}, params)
}

// relu is x < 0 ? +0 : x: NaN and -0 pass through.
func relu() *Program {
	b := forward("ReLU", "", nil)
	x, zero := b.In(0), b.F(0)
	return b.Return(b.Select(b.Less(x, zero), zero, x))
}

// leakyReLU is x < 0 ? alpha·x : x. With alpha = 0, alpha·(-Inf) is NaN
// where the limit -0 is wanted: min(alpha·x, -0) turns that NaN into -0 and
// leaves every other product of a negative x (which is <= 0) as it is.
func leakyReLU() *Program {
	b := forward("LeakyReLU", "", alphaParam)
	x, alpha := b.In(0), b.P(0)
	p := b.Min(b.Mul(x, alpha), b.F(negZero))
	return b.Return(b.Select(b.Less(x, b.F(0)), p, x))
}

var negZero = float32(math.Copysign(0, -1))

// leakyReLUMax is max(alpha·x, x), LeakyReLU for 0 < alpha <= 1 in two
// operations instead of four: for x < 0, alpha·x >= x; for x > 0,
// alpha·x <= x; for ±0 and ±Inf, alpha·x is x; and a NaN x gives a NaN
// alpha·x, so Max's rules hold (its operands are never zeros of opposite
// signs, and b = x is a NaN only where a is).
func leakyReLUMax() *Program {
	b := forward("LeakyReLUMax", "", alphaParam)
	x, alpha := b.In(0), b.P(0)
	return b.Return(b.Max(b.Mul(x, alpha), x))
}

// The derivatives, from the saved output y, multiplied into dy. Each f'(y)
// is formed in float32 and the product dy·f'(y) rounded once.

func reluDeriv() *Program {
	b := deriv("ReLU", nil)
	dy, y := b.In(0), b.In(1)
	d := b.Select(b.Greater(y, b.F(0)), b.F(1), b.F(0))
	return b.Return(b.Mul(dy, d))
}

func leakyReLUDeriv() *Program {
	b := deriv("LeakyReLU", alphaParam)
	dy, y, alpha := b.In(0), b.In(1), b.P(0)
	d := b.Select(b.Greater(y, b.F(0)), b.F(1), alpha)
	return b.Return(b.Mul(dy, d))
}

func eluDeriv() *Program {
	b := deriv("ELU", alphaParam)
	dy, y, alpha := b.In(0), b.In(1), b.P(0)
	d := b.Select(b.Greater(y, b.F(0)), b.F(1), b.Add(y, alpha))
	return b.Return(b.Mul(dy, d))
}

func sigmoidDeriv() *Program {
	b := deriv("Sigmoid", nil)
	dy, y := b.In(0), b.In(1)
	return b.Return(b.Mul(dy, b.Mul(b.Sub(b.F(1), y), y)))
}

func scaledSigmoidDeriv() *Program {
	b := deriv("ScaledSigmoid", slopeParam)
	dy, y, slope := b.In(0), b.In(1), b.P(0)
	return b.Return(b.Mul(dy, b.Mul(b.Mul(b.Sub(b.F(1), y), y), slope)))
}

func scaledTanhDeriv() *Program {
	b := deriv("ScaledTanh", gainSlopeParams)
	dy, y, gain, ratio := b.In(0), b.In(1), b.P(0), b.P(3)
	return b.Return(b.Mul(dy, b.Mul(b.Mul(b.Sub(gain, y), b.Add(gain, y)), ratio)))
}

func tanhDeriv() *Program {
	b := deriv("Tanh", nil)
	dy, y := b.In(0), b.In(1)
	one := b.F(1)
	return b.Return(b.Mul(dy, b.Mul(b.Sub(one, y), b.Add(one, y))))
}

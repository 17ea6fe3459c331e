package fallback

import (
	"cmp"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/actfuse/actfuse/internal/desc"
)

// Func identifies an activation function (see the constants).
type Func = desc.Func

// The activation functions. Their derivatives are all expressed through the
// output y = f(x), so a backward pass needs only the saved output:
//
//	Identity   f(x) = x
//	ReLU       f(x) = max(x, 0);                 f'(y) = 1 if y > 0, else 0
//	LeakyReLU  f(x) = x if x > 0, else alpha·x;  f'(y) = 1 if y > 0, else alpha
//	ELU        f(x) = x if x > 0, else alpha·(exp(x)-1); f'(y) = 1 if y > 0, else y + alpha
//	Sigmoid    f(x) = 1/(1+exp(-x));             f'(y) = y·(1-y)
//	Tanh       f(x) = tanh(x);                   f'(y) = (1-y)·(1+y)
//	ScaledSigmoid  f(x) = 1/(1+exp(-slope·x));    f'(y) = slope·y·(1-y)
//	ScaledTanh     f(x) = gain·tanh(slope·x);     f'(y) = (slope/gain)·(gain-y)·(gain+y)
const (
	Identity  = desc.Identity
	ReLU      = desc.ReLU
	LeakyReLU = desc.LeakyReLU
	ELU       = desc.ELU
	Sigmoid   = desc.Sigmoid
	Tanh      = desc.Tanh
	// ScaledSigmoid is the sigmoid with a slope (a temperature): a slope
	// below 1 widens its linear region.
	ScaledSigmoid = desc.ScaledSigmoid
	// ScaledTanh is tanh with a gain and a slope; by default LeCun's
	// 1.7159·tanh(2x/3) from "Efficient BackProp" (1998), for which
	// f(±1) = ±1 and unit-variance inputs stay where the gradient is large.
	ScaledTanh = desc.ScaledTanh
	NumFuncs   = desc.NumFuncs // number of activation functions
)

// The default coefficients of the scaled forms, which a zero Gain or Slope
// stands for.
const (
	LeCunGain  = 1.7159    // ScaledTanh's default gain
	LeCunSlope = 2.0 / 3.0 // ScaledTanh's default slope (rounded to float32)
	// SigmoidSlope is ScaledSigmoid's default slope: the plain sigmoid's.
	SigmoidSlope = 1
)

// ParseFunc returns the Func whose String is name.
func ParseFunc(name string) (Func, error) { return desc.ParseFunc(name) }

// Activation is an activation function together with its parameters.
type Activation struct {
	Func Func
	// Alpha is the slope of LeakyReLU for x <= 0 and the saturation value of
	// ELU (ELU(-Inf) = -Alpha). Both require Alpha >= 0 so that the sign of
	// the output tells the side of the input. Other functions ignore it.
	Alpha float32
	// Gain (ScaledTanh) and Slope (ScaledTanh, ScaledSigmoid) are the
	// coefficients of the scaled forms: finite and positive, and zero for
	// the defaults (LeCunGain and LeCunSlope, SigmoidSlope). Other
	// functions ignore them.
	Gain, Slope float32
}

// LeCunTanh is LeCun's scaled tanh, 1.7159·tanh(2x/3).
var LeCunTanh = Activation{Func: ScaledTanh, Gain: LeCunGain, Slope: LeCunSlope}

// field returns the field of a behind the parameter name of internal/desc
// (FuncDesc.Params), or nil for a derived parameter.
func (a *Activation) field(name string) *float32 {
	switch name {
	case "alpha":
		return &a.Alpha
	case "gain":
		return &a.Gain
	case "slope":
		return &a.Slope
	case "2gain", "slope/gain":
		return nil
	}
	panic(fmt.Sprintf("actfuse: internal error: activation parameter %q", name))
}

// param returns the value of the parameter name of a, defaults and
// derived values included.
func (a Activation) param(name string) float32 {
	switch name {
	case "alpha":
		return a.Alpha
	case "gain":
		return cmp.Or(a.Gain, LeCunGain)
	case "slope":
		if a.Func == ScaledSigmoid {
			return cmp.Or(a.Slope, SigmoidSlope)
		}
		return cmp.Or(a.Slope, LeCunSlope)
	case "2gain":
		return 2 * a.param("gain")
	case "slope/gain":
		return a.param("slope") / a.param("gain")
	}
	panic(fmt.Sprintf("actfuse: internal error: activation parameter %q", name))
}

// Params returns the values of the parameters a's function takes, in the
// order its kernels take them (the rest are zero): Alpha for LeakyReLU and
// ELU; the slope for ScaledSigmoid; the gain, the slope, twice the gain and
// slope/gain for ScaledTanh (zero coefficients replaced by the defaults);
// nothing for the others.
func (a Activation) Params() [4]float32 {
	p0, p1, p2, p3 := a.ParamValues()
	return [4]float32{p0, p1, p2, p3}
}

// ParamValues returns the four values of Params. Go passes them in
// registers, where an array goes through memory: a 16-byte copy of an array
// just written one float at a time waits for those stores to retire (the
// load cannot be forwarded from them), which cost a LeakyReLU Forward of 16
// elements 7 of its 16.5 ns on a Sapphire-Rapids-class Xeon.
func (a Activation) ParamValues() (p0, p1, p2, p3 float32) {
	switch paramShapes[a.Func] {
	case alphaOnly:
		return a.Alpha, 0, 0, 0
	case named:
		return paramsByName(&a)
	}
	return 0, 0, 0, 0
}

// paramsByName is ParamValues for any function, by the names of its
// parameters.
func paramsByName(a *Activation) (p0, p1, p2, p3 float32) {
	var p [4]float32
	for i, name := range desc.Funcs[a.Func].Params {
		p[i] = a.param(name)
	}
	return p[0], p[1], p[2], p[3]
}

// paramShape classifies the parameter lists of desc.Funcs for the fast
// paths of ParamValues and Validate, which every kernel call
// takes: reading the parameters by name cost LeakyReLU's Forward 9 of its
// 20 ns a call (16 elements, avx512).
type paramShape uint8

const (
	notAFunc  paramShape = iota // not a function
	noParams                    // no parameter
	alphaOnly                   // Alpha alone
	named                       // any other list: by name
)

// paramShapes is the shape of each function's parameters, indexed by any
// byte so that a Func never needs a bounds check.
var paramShapes = func() (s [256]paramShape) {
	for f, d := range desc.Funcs {
		switch {
		case len(d.Params) == 0:
			s[f] = noParams
		case len(d.Params) == 1 && d.Params[0] == "alpha":
			s[f] = alphaOnly
		default:
			s[f] = named
		}
	}
	return s
}()

// FromParams returns the Activation of f whose Params are p.
func FromParams(f Func, p [4]float32) Activation {
	a := Activation{Func: f}
	for i, name := range desc.Funcs[f].Params {
		if fp := a.field(name); fp != nil {
			*fp = p[i]
		}
	}
	return a
}

// String returns the function name, with its parameters for the functions
// that take them: "elu(1)", "scaledtanh(1.7159,0.6666667)".
func (a Activation) String() string {
	if a.Func >= NumFuncs {
		return a.Func.String()
	}
	var ps []string
	for _, name := range desc.Funcs[a.Func].Params {
		if a.field(name) != nil {
			ps = append(ps, strconv.FormatFloat(float64(a.param(name)), 'g', -1, 32))
		}
	}
	if len(ps) == 0 {
		return a.Func.String()
	}
	return fmt.Sprintf("%v(%s)", a.Func, strings.Join(ps, ","))
}

// Epilogue describes what Gemm does with the product Z = op(A)·op(B) of a tile
// before it stores it to C.
//
// Forward (Y == nil):  C = act(Z [+ C] [+ bias])
// Backward (Y != nil): C = (Z [+ C]) ⊙ act'(Y)
//
// where [+ C] applies when Accumulate is set, bias is broadcast over rows
// (C[i,j] gets Bias[j]) and act'(Y) is the derivative of Act expressed through
// the saved forward output Y (see Func). In the backward form Bias must be nil.
type Epilogue struct {
	Bias       []float32  // nil, or at least n values added to every row
	Act        Activation // the activation (forward) or whose derivative is applied (backward)
	Accumulate bool       // add the previous content of C to the product
	Y          []float32  // saved forward output, m×n with leading dimension LdY; nil for forward
	LdY        int        // leading dimension of Y
}

// CheckGemm panics with a message naming the offending argument unless the
// arguments describe a valid Gemm call. Gemm and every kernel implementation
// call it, so that all implementations reject the same inputs.
func CheckGemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, ep *Epilogue) {
	if m < 0 {
		panic(fmt.Sprintf("actfuse: Gemm: m = %d < 0", m))
	}
	if n < 0 {
		panic(fmt.Sprintf("actfuse: Gemm: n = %d < 0", n))
	}
	if k < 0 {
		panic(fmt.Sprintf("actfuse: Gemm: k = %d < 0", k))
	}
	CheckActivation("Gemm", ep.Act)
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	checkMatrix("Gemm", "a", "lda", ar, ac, a, lda)
	checkMatrix("Gemm", "b", "ldb", br, bc, b, ldb)
	checkMatrix("Gemm", "c", "ldc", m, n, c, ldc)
	if ep.Y != nil {
		if ep.Bias != nil {
			panic("actfuse: Gemm: backward epilogue (Y != nil) with a bias")
		}
		checkMatrix("Gemm", "Y", "LdY", m, n, ep.Y, ep.LdY)
	}
	if ep.Bias != nil && len(ep.Bias) < n {
		panic(fmt.Sprintf("actfuse: Gemm: len(Bias) = %d < n = %d", len(ep.Bias), n))
	}
}

// CheckBackwardBias panics with a message naming the offending argument unless
// the arguments describe a valid BackwardBias call.
func CheckBackwardBias(act Activation, m, n int, dy []float32, lddy int, y []float32, ldy int, dz []float32, lddz int, db []float32) {
	if m < 0 {
		panic(fmt.Sprintf("actfuse: BackwardBias: m = %d < 0", m))
	}
	if n < 0 {
		panic(fmt.Sprintf("actfuse: BackwardBias: n = %d < 0", n))
	}
	CheckActivation("BackwardBias", act)
	checkMatrix("BackwardBias", "dy", "lddy", m, n, dy, lddy)
	checkMatrix("BackwardBias", "y", "ldy", m, n, y, ldy)
	checkMatrix("BackwardBias", "dz", "lddz", m, n, dz, lddz)
	if db != nil && len(db) < n {
		panic(fmt.Sprintf("actfuse: BackwardBias: len(db) = %d < n = %d", len(db), n))
	}
}

// checkMatrix checks that s holds a rows×cols row-major matrix with leading
// dimension ld.
func checkMatrix(fn, name, ldName string, rows, cols int, s []float32, ld int) {
	if ld < max(1, cols) {
		panic(fmt.Sprintf("actfuse: %s: %s = %d < max(1, %d) (columns of %s)", fn, ldName, ld, cols, name))
	}
	if rows == 0 || cols == 0 {
		return
	}
	// (rows-1)·ld + cols must not overflow: a wrapped size would let a huge
	// leading dimension through to the kernels.
	if rows > 1 && ld > (math.MaxInt-cols)/(rows-1) {
		panic(fmt.Sprintf("actfuse: %s: %s = %d is too large for a %d×%d matrix %s (len %d)", fn, ldName, ld, rows, cols, name, len(s)))
	}
	if need := (rows-1)*ld + cols; len(s) < need {
		panic(fmt.Sprintf("actfuse: %s: len(%s) = %d < %d for a %d×%d matrix with %s = %d", fn, name, len(s), need, rows, cols, ldName, ld))
	}
}

// CheckActivation panics with the error of a.Validate, prefixed by fn
// (the entry point), unless a is valid.
func CheckActivation(fn string, a Activation) {
	if !a.validFast() {
		checkActivationByName(fn, &a)
	}
}

// checkActivationByName is CheckActivation for the activations validFast
// does not pass.
func checkActivationByName(fn string, a *Activation) {
	if err := a.validateByName(); err != nil {
		panic(fmt.Sprintf("actfuse: %s: %v", fn, err))
	}
}

// Validate reports whether a names a known function with valid parameters:
// LeakyReLU and ELU need a finite Alpha >= 0 (their derivatives are read
// from the sign of the output, which a negative Alpha would flip); the
// scaled forms a finite, positive Gain and Slope (zero for the default),
// with a finite 2·Gain and Slope/Gain.
func (a Activation) Validate() error {
	if a.validFast() {
		return nil
	}
	return a.validateByName()
}

// validFast reports whether a is valid by its paramShape alone: a function
// without parameters, or one of Alpha alone with a valid Alpha. It is false
// for the others, valid or not: validateByName decides.
func (a Activation) validFast() bool {
	s := paramShapes[a.Func]
	return s == noParams || s == alphaOnly && a.Alpha >= 0 && a.Alpha <= math.MaxFloat32
}

// validateByName is Validate for any function, by the names of its
// parameters.
func (a Activation) validateByName() error {
	if a.Func >= NumFuncs {
		return fmt.Errorf("unknown activation %v", a.Func)
	}
	for _, name := range desc.Funcs[a.Func].Params {
		v := a.param(name)
		switch name {
		case "alpha":
			if !(v >= 0) || math.IsInf(float64(v), 1) {
				return fmt.Errorf("%v needs a finite Alpha >= 0, have %v", a.Func, v)
			}
		case "gain", "slope":
			if !(v > 0) || math.IsInf(float64(v), 1) {
				return fmt.Errorf("%v needs a finite, positive %s (0 for the default), have %v", a.Func, cases(name), *a.field(name))
			}
		default:
			if !(v > 0) || math.IsInf(float64(v), 1) {
				return fmt.Errorf("%v: %s = %v is not a finite, positive float32", a, name, v)
			}
		}
	}
	return nil
}

// cases returns the field name of the parameter name: "gain" gives "Gain".
func cases(name string) string { return strings.ToUpper(name[:1]) + name[1:] }

// CheckUnary panics unless dst and x have the same length.
func CheckUnary(fn string, dst, x []float32) {
	if len(dst) != len(x) {
		panic(fmt.Sprintf("actfuse: %s: len(dst) = %d != len(x) = %d", fn, len(dst), len(x)))
	}
}

// CheckBinary panics unless dx, dy and y have the same length.
func CheckBinary(fn string, dx, dy, y []float32) {
	if len(dy) != len(dx) {
		panic(fmt.Sprintf("actfuse: %s: len(dy) = %d != len(dx) = %d", fn, len(dy), len(dx)))
	}
	if len(y) != len(dx) {
		panic(fmt.Sprintf("actfuse: %s: len(y) = %d != len(dx) = %d", fn, len(y), len(dx)))
	}
}

// CheckMaxout panics unless the arguments describe a valid maxout call over
// len(dst) groups of k values.
func CheckMaxout(fn string, k int, dst []float32, argmax []int32, x []float32) {
	if k < 1 {
		panic(fmt.Sprintf("actfuse: %s: k = %d < 1", fn, k))
	}
	if len(argmax) != len(dst) {
		panic(fmt.Sprintf("actfuse: %s: len(argmax) = %d != len(dst) = %d", fn, len(argmax), len(dst)))
	}
	if len(x) != len(dst)*k {
		panic(fmt.Sprintf("actfuse: %s: len(x) = %d != len(dst)·k = %d·%d", fn, len(x), len(dst), k))
	}
}

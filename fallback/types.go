package fallback

import (
	"fmt"
	"math"

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
const (
	Identity  = desc.Identity
	ReLU      = desc.ReLU
	LeakyReLU = desc.LeakyReLU
	ELU       = desc.ELU
	Sigmoid   = desc.Sigmoid
	Tanh      = desc.Tanh
	NumFuncs  = desc.NumFuncs // number of activation functions
)

// ParseFunc returns the Func whose String is name.
func ParseFunc(name string) (Func, error) { return desc.ParseFunc(name) }

// Activation is an activation function together with its parameter.
type Activation struct {
	Func Func
	// Alpha is the slope of LeakyReLU for x <= 0 and the saturation value of
	// ELU (ELU(-Inf) = -Alpha). Both require Alpha >= 0 so that the sign of
	// the output tells the side of the input. Other functions ignore it.
	Alpha float32
}

// field returns the field of a behind the parameter name of internal/desc
// (FuncDesc.Params).
func (a *Activation) field(name string) *float32 {
	switch name {
	case "alpha":
		return &a.Alpha
	}
	panic(fmt.Sprintf("actfuse: internal error: activation parameter %q", name))
}

// param returns the parameter name of a.
func (a Activation) param(name string) float32 { return *a.field(name) }

// Params returns the values of the parameters a's function takes, in the
// order its kernels take them (the rest are zero): Alpha for LeakyReLU and
// ELU, nothing for the others.
func (a Activation) Params() (p [4]float32) {
	for i, name := range desc.Funcs[a.Func].Params {
		p[i] = a.param(name)
	}
	return p
}

// FromParams returns the Activation of f whose Params are p.
func FromParams(f Func, p [4]float32) Activation {
	a := Activation{Func: f}
	for i, name := range desc.Funcs[f].Params {
		*a.field(name) = p[i]
	}
	return a
}

// String returns the function name, with Alpha for the functions that use it.
func (a Activation) String() string {
	if a.Func < NumFuncs && len(desc.Funcs[a.Func].Params) > 0 {
		return fmt.Sprintf("%v(%g)", a.Func, a.Alpha)
	}
	return a.Func.String()
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

// CheckActivation panics unless a names a known function with a valid
// parameter: LeakyReLU and ELU need a finite Alpha >= 0 (their derivatives are
// read from the sign of the output, which a negative Alpha would flip).
func CheckActivation(fn string, a Activation) {
	if a.Func >= NumFuncs {
		panic(fmt.Sprintf("actfuse: %s: unknown activation %v", fn, a.Func))
	}
	for _, name := range desc.Funcs[a.Func].Params {
		if v := a.param(name); name == "alpha" && (!(v >= 0) || math.IsInf(float64(v), 1)) {
			panic(fmt.Sprintf("actfuse: %s: %v needs a finite Alpha >= 0, have %v", fn, a.Func, v))
		}
	}
}

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

package ref

import (
	"math"

	"github.com/actfuse/actfuse/fallback"
)

// Exp is the float64 reference of e^x.
func Exp(x float64) float64 { return math.Exp(x) }

// Sigmoid is the float64 reference of 1/(1+e^-x), evaluated without overflow
// (e^x/(1+e^x) for x < 0).
func Sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// Tanh is the float64 reference of tanh(x).
func Tanh(x float64) float64 { return math.Tanh(x) }

// ELU is the float64 reference of x >= 0 ? x : alpha·(e^x - 1), with e^x - 1
// from math.Expm1 (no cancellation). ELU(-0) = -0.
func ELU(alpha, x float64) float64 {
	if x >= 0 {
		return x
	}
	return alpha * math.Expm1(x)
}

// ReLU is the reference of x < 0 ? +0 : x (ReLU(-0) = -0, ReLU(NaN) = NaN).
func ReLU(x float64) float64 {
	if x < 0 {
		return 0
	}
	return x
}

// LeakyReLU is the reference of x < 0 ? alpha·x : x, with the limit -0 for
// alpha = 0 and x = -Inf. For float32 alpha and x, float32(LeakyReLU(alpha, x))
// is the correctly rounded float32 result (the float64 product is exact).
func LeakyReLU(alpha, x float64) float64 {
	if x < 0 {
		if alpha == 0 {
			return math.Copysign(0, -1)
		}
		return alpha * x
	}
	return x
}

// Forward returns the float64 reference of the activation a as a function of
// x, in the form Sweep takes.
func Forward(a fallback.Activation) func(x float64) float64 {
	alpha := float64(a.Alpha)
	switch a.Func {
	case fallback.ReLU:
		return ReLU
	case fallback.LeakyReLU:
		return func(x float64) float64 { return LeakyReLU(alpha, x) }
	case fallback.ELU:
		return func(x float64) float64 { return ELU(alpha, x) }
	case fallback.Sigmoid:
		return Sigmoid
	case fallback.Tanh:
		return Tanh
	case fallback.ScaledSigmoid:
		slope := float64(a.Params()[0])
		return func(x float64) float64 { return Sigmoid(slope * x) }
	case fallback.ScaledTanh:
		p := a.Params()
		gain, slope := float64(p[0]), float64(p[1])
		return func(x float64) float64 { return gain * math.Tanh(slope*x) }
	}
	return func(x float64) float64 { return x }
}

// Derivative returns the float64 value of f'(y) for the activation a as a
// function of its output y (see fallback.Func): ReLU y > 0 ? 1 : 0, LeakyReLU
// y > 0 ? 1 : alpha, ELU y > 0 ? 1 : y + alpha, Sigmoid y·(1-y), Tanh
// (1-y)·(1+y), ScaledSigmoid slope·y·(1-y), ScaledTanh
// (slope/gain)·(gain-y)·(gain+y), Identity 1.
func Derivative(a fallback.Activation, y float64) float64 {
	alpha := float64(a.Alpha)
	switch a.Func {
	case fallback.ReLU:
		if y > 0 {
			return 1
		}
		return 0
	case fallback.LeakyReLU:
		if y > 0 {
			return 1
		}
		return alpha
	case fallback.ELU:
		if y > 0 {
			return 1
		}
		return y + alpha
	case fallback.Sigmoid:
		return y * (1 - y)
	case fallback.Tanh:
		return (1 - y) * (1 + y)
	case fallback.ScaledSigmoid:
		return float64(a.Params()[0]) * y * (1 - y)
	case fallback.ScaledTanh:
		p := a.Params()
		gain, slope := float64(p[0]), float64(p[1])
		return slope / gain * (gain - y) * (gain + y)
	}
	return 1
}

// Backward returns the float64 reference of dy·f'(y) for the activation a.
func Backward(a fallback.Activation, dy, y float64) float64 {
	if a.Func == fallback.Identity {
		return dy
	}
	return dy * Derivative(a, y)
}

// IsExact reports whether the float32 kernels of a must match the reference
// exactly (Identity, ReLU, LeakyReLU) rather than within an ULP tolerance.
func IsExact(f fallback.Func) bool {
	return f == fallback.Identity || f == fallback.ReLU || f == fallback.LeakyReLU
}

// Maxout is the specification of one maxout group g: the first NaN if there
// is one, else the first maximum, with its index in the group.
func Maxout(g []float32) (float32, int32) {
	for j, v := range g {
		if v != v {
			return v, int32(j)
		}
	}
	best := 0
	for j, v := range g {
		if v > g[best] {
			best = j
		}
	}
	return g[best], int32(best)
}

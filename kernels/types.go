package kernels

import "github.com/actfuse/actfuse/fallback"

// Func identifies an activation function; see the constants.
type Func = fallback.Func

// The activation functions (see fallback.Func for their definitions and
// derivatives).
const (
	Identity  = fallback.Identity
	ReLU      = fallback.ReLU
	LeakyReLU = fallback.LeakyReLU
	ELU       = fallback.ELU
	Sigmoid   = fallback.Sigmoid
	Tanh      = fallback.Tanh
	// ScaledSigmoid is 1/(1+exp(-Slope·x)): a Slope below 1 widens the
	// sigmoid's linear region.
	ScaledSigmoid = fallback.ScaledSigmoid
	// ScaledTanh is Gain·tanh(Slope·x), by default LeCun's 1.7159·tanh(2x/3).
	ScaledTanh = fallback.ScaledTanh
)

// The default coefficients of the scaled forms (a zero Gain or Slope).
const (
	LeCunGain    = fallback.LeCunGain
	LeCunSlope   = fallback.LeCunSlope
	SigmoidSlope = fallback.SigmoidSlope
)

// Activation is an activation function with its parameters: Alpha
// (LeakyReLU slope, ELU saturation), Gain and Slope (the scaled forms).
type Activation = fallback.Activation

// LeCunTanh is LeCun's scaled tanh, 1.7159·tanh(2x/3) ("Efficient
// BackProp", 1998): f(±1) = ±1, and the second derivative is largest there.
var LeCunTanh = fallback.LeCunTanh

// Epilogue says what Gemm does with each tile of the product before storing
// it: bias, activation, accumulation, or the backward derivative. See
// fallback.Epilogue.
type Epilogue = fallback.Epilogue

// ParseFunc returns the activation function called name ("relu", "sigmoid", ...).
func ParseFunc(name string) (Func, error) { return fallback.ParseFunc(name) }

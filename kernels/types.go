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
)

// Activation is an activation function with its parameter Alpha (LeakyReLU
// slope, ELU saturation).
type Activation = fallback.Activation

// Epilogue says what Gemm does with each tile of the product before storing
// it: bias, activation, accumulation, or the backward derivative. See
// fallback.Epilogue.
type Epilogue = fallback.Epilogue

// ParseFunc returns the activation function called name ("relu", "sigmoid", ...).
func ParseFunc(name string) (Func, error) { return fallback.ParseFunc(name) }

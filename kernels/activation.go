package kernels

import "github.com/actfuse/actfuse/fallback"

// Forward computes dst[i] = f(x[i]) for the activation a. dst and x must have
// the same length; dst may be x itself but must not otherwise overlap it.
func Forward(a Activation, dst, x []float32) {
	fallback.CheckUnary("Forward", dst, x)
	checkFunc("Forward", a)
	active.Load().forward(a, dst, x)
}

// Backward computes dx[i] = dy[i]·f'(y[i]) where y = f(x) is the output saved
// by Forward. The three slices must have the same length; dx may be dy or y.
func Backward(a Activation, dx, dy, y []float32) {
	fallback.CheckBinary("Backward", dx, dy, y)
	checkFunc("Backward", a)
	active.Load().backward(a, dx, dy, y)
}

// MaxoutForward computes, for each of the len(dst) groups of k consecutive
// values of x, dst[i] = max(x[i·k : i·k+k]) and argmax[i] = the index within
// the group of the first maximum (see fallback.MaxoutForward).
func MaxoutForward(k int, dst []float32, argmax []int32, x []float32) {
	fallback.CheckMaxout("MaxoutForward", k, dst, argmax, x)
	if f := active.Load().maxoutForward; f != nil {
		f(k, dst, argmax, x)
		return
	}
	fallback.MaxoutForward(k, dst, argmax, x)
}

// MaxoutBackward routes dy[i] to the winner of group i: dx[i·k+argmax[i]] =
// dy[i], and zero elsewhere. It panics if an argmax is outside [0, k).
func MaxoutBackward(k int, dx, dy []float32, argmax []int32) {
	fallback.CheckMaxout("MaxoutBackward", k, dy, argmax, dx)
	if f := active.Load().maxoutBackward; f != nil {
		f(k, dx, dy, argmax)
		return
	}
	fallback.MaxoutBackward(k, dx, dy, argmax)
}

func checkFunc(fn string, a Activation) { fallback.CheckActivation(fn, a) }

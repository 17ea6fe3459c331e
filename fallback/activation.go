package fallback

import "math"

// PLACEHOLDER bodies: replaced by the real float32 implementation.

// Forward computes dst[i] = f(x[i]) for the activation a. dst and x must have
// the same length; dst may be x itself (in-place), but must not otherwise overlap it.
func Forward(a Activation, dst, x []float32) {
	CheckUnary("Forward", dst, x)
	for i, v := range x {
		dst[i] = float32(ref(a, float64(v)))
	}
}

func ref(a Activation, x float64) float64 {
	switch a.Func {
	case ReLU:
		return math.Max(x, 0)
	case Sigmoid:
		return 1 / (1 + math.Exp(-x))
	case Tanh:
		return math.Tanh(x)
	case ELU:
		if x > 0 {
			return x
		}
		return float64(a.Alpha) * math.Expm1(x)
	case LeakyReLU:
		if x > 0 {
			return x
		}
		return float64(a.Alpha) * x
	}
	return x
}

// Backward computes dx[i] = dy[i]·f'(y[i]), the derivative of the activation
// a expressed through its output y = f(x). dx, dy and y must have the same
// length; dx may be dy or y itself.
func Backward(a Activation, dx, dy, y []float32) {
	CheckBinary("Backward", dx, dy, y)
	for i := range dx {
		dx[i] = dy[i] * deriv(a, y[i])
	}
}

func deriv(a Activation, y float32) float32 {
	switch a.Func {
	case ReLU:
		if y > 0 {
			return 1
		}
		return 0
	case LeakyReLU:
		if y > 0 {
			return 1
		}
		return a.Alpha
	case ELU:
		if y > 0 {
			return 1
		}
		return y + a.Alpha
	case Sigmoid:
		return y * (1 - y)
	case Tanh:
		return (1 - y) * (1 + y)
	}
	return 1
}

// MaxoutForward computes, for each of the len(dst) groups of k consecutive
// values of x, dst[i] = max(x[i·k : i·k+k]) and argmax[i] = the index within
// the group of the first maximum.
func MaxoutForward(k int, dst []float32, argmax []int32, x []float32) {
	CheckMaxout("MaxoutForward", k, dst, argmax, x)
	for i := range dst {
		g := x[i*k : i*k+k]
		best := 0
		for j := 1; j < k; j++ {
			if g[j] > g[best] {
				best = j
			}
		}
		dst[i], argmax[i] = g[best], int32(best)
	}
}

// MaxoutBackward routes each dy[i] to the input that won its group:
// dx[i·k+argmax[i]] = dy[i], and every other dx is zero.
func MaxoutBackward(k int, dx, dy []float32, argmax []int32) {
	CheckMaxout("MaxoutBackward", k, dy, argmax, dx)
	clear(dx)
	for i, d := range dy {
		dx[i*k+int(argmax[i])] = d
	}
}

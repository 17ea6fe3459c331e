package bench

import (
	"math"

	"github.com/actfuse/actfuse/kernels"
)

// naiveForward is the loop a Go programmer writes without a library: one
// float64 math call per element, e.g. 1/(1+math.Exp(-x)) for the sigmoid.
func naiveForward(a kernels.Activation, dst, x []float32) {
	dst = dst[:len(x)]
	alpha := float64(a.Alpha)
	switch a.Func {
	case kernels.Identity:
		copy(dst, x)
	case kernels.ReLU:
		for i, v := range x {
			dst[i] = float32(math.Max(float64(v), 0))
		}
	case kernels.LeakyReLU:
		for i, v := range x {
			f := float64(v)
			if f <= 0 {
				f *= alpha
			}
			dst[i] = float32(f)
		}
	case kernels.ELU:
		for i, v := range x {
			f := float64(v)
			if f <= 0 {
				f = alpha * (math.Exp(f) - 1)
			}
			dst[i] = float32(f)
		}
	case kernels.Sigmoid:
		for i, v := range x {
			dst[i] = float32(1 / (1 + math.Exp(-float64(v))))
		}
	case kernels.Tanh:
		for i, v := range x {
			dst[i] = float32(math.Tanh(float64(v)))
		}
	default:
		panic("bench: naiveForward: unknown activation " + a.String())
	}
}

// naiveBackward computes dx = dy·f'(y) from the saved output y, written
// plainly in float32.
func naiveBackward(a kernels.Activation, dx, dy, y []float32) {
	dx = dx[:len(y)]
	dy = dy[:len(y)]
	switch a.Func {
	case kernels.Identity:
		copy(dx, dy)
	case kernels.ReLU:
		for i, v := range y {
			if v > 0 {
				dx[i] = dy[i]
			} else {
				dx[i] = 0
			}
		}
	case kernels.LeakyReLU:
		for i, v := range y {
			if v > 0 {
				dx[i] = dy[i]
			} else {
				dx[i] = dy[i] * a.Alpha
			}
		}
	case kernels.ELU:
		for i, v := range y {
			if v > 0 {
				dx[i] = dy[i]
			} else {
				dx[i] = dy[i] * (v + a.Alpha)
			}
		}
	case kernels.Sigmoid:
		for i, v := range y {
			dx[i] = dy[i] * v * (1 - v)
		}
	case kernels.Tanh:
		for i, v := range y {
			dx[i] = dy[i] * (1 - v*v)
		}
	default:
		panic("bench: naiveBackward: unknown activation " + a.String())
	}
}

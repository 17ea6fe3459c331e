package fallback

import "fmt"

// Forward computes dst[i] = f(x[i]) for the activation a. dst and x must have
// the same length; dst may be x itself (in-place), but must not otherwise
// overlap it.
//
// Each function is the program of internal/desc evaluated as written there
// (one rounding per operation), which every kernel of every ISA reproduces
// bit for bit. Special values, for every function: a NaN input gives a NaN;
// ±Inf and ±0 give the mathematical limits; denormal inputs are ordinary
// inputs.
//
//   - Identity copies x bit for bit.
//   - ReLU is x < 0 ? +0 : x, exactly: ReLU(NaN) = NaN and ReLU(-0) = -0.
//   - LeakyReLU is x < 0 ? Alpha·x : x, the float32 product correctly rounded
//     (so LeakyReLU(-0) = -0); with Alpha = 0, LeakyReLU(-Inf) = -0, the
//     limit, not the NaN of 0·(-Inf).
//   - ELU is x >= 0 ? x : Alpha·expm1(x), with expm1 computed without
//     cancellation near 0; ELU(-Inf) = -Alpha, ELU(±0) = ±0.
//   - Sigmoid is 1/(1+e^-x), computed from e = e^-|x| as e/(1+e) for x < 0
//     and 1/(1+e) for x >= 0, so no step overflows; results below 2^-126
//     (x < -87.3365) are flushed to +0. Sigmoid(-Inf) = 0, Sigmoid(+Inf) = 1,
//     Sigmoid(±0) = 0.5.
//   - Tanh is x + x³·P(x²) for |x| < 0.625 (no cancellation) and
//     1 - 2·e/(1+e), e = e^(-2|x|), with the sign of x beyond; it saturates
//     to ±1 from |x| ≈ 9.01 on. Tanh(±0) = ±0, Tanh(±Inf) = ±1.
//
// The worst errors, measured over all 2^32 inputs against float64
// references (go test ./kernels -run TestAccuracyExhaustive -exhaustive),
// are in the README; the target is 2 ULP.
func Forward(a Activation, dst, x []float32) {
	CheckUnary("Forward", dst, x)
	CheckActivation("Forward", a)
	if a.Func == Identity {
		copy(dst, x)
		return
	}
	p := a.Params()
	forwardKernel(a.Func, dst, x, &p)
}

// Backward computes dx[i] = dy[i]·f'(y[i]), the derivative of the activation
// a expressed through its output y = f(x). dx, dy and y must have the same
// length; dx may be dy or y itself.
//
// f'(y) is formed in float32 as documented on Func (Sigmoid y·(1-y), Tanh
// (1-y)·(1+y), ELU y + Alpha for y <= 0) and multiplied by dy as an IEEE
// product: a NaN or infinite dy gives NaN where f'(y) = 0. Identity copies dy.
func Backward(a Activation, dx, dy, y []float32) {
	CheckBinary("Backward", dx, dy, y)
	CheckActivation("Backward", a)
	backwardRow(a, dx, dy, y)
}

// backwardRow is Backward without the checks: len(dy), len(y) >= len(dx).
func backwardRow(a Activation, dx, dy, y []float32) {
	if a.Func == Identity {
		copy(dx, dy[:len(dx)])
		return
	}
	p := a.Params()
	backwardKernel(a.Func, dx, dy, y, &p)
}

// MaxoutForward computes, for each of the len(dst) groups of k consecutive
// values of x, dst[i] = max(x[i·k : i·k+k]) and argmax[i] = the index within
// the group of the winner.
//
// Ties go to the first maximum (so of -0 and +0 the first one wins), and a
// NaN wins over every number: a group that holds a NaN gives the first NaN
// and its index, so a NaN is never hidden.
func MaxoutForward(k int, dst []float32, argmax []int32, x []float32) {
	CheckMaxout("MaxoutForward", k, dst, argmax, x)
	argmax = argmax[:len(dst)]
	for i := range dst {
		g := x[i*k : i*k+k]
		best, bi := g[0], 0
		if best == best {
			for j := 1; j < len(g); j++ {
				v := g[j]
				if v > best {
					best, bi = v, j
				} else if v != v {
					best, bi = v, j
					break
				}
			}
		}
		dst[i], argmax[i] = best, int32(bi)
	}
}

// MaxoutBackward routes each dy[i] to the input that won its group:
// dx[i·k+argmax[i]] = dy[i], and every other dx is zero. It panics if an
// argmax is outside [0, k).
func MaxoutBackward(k int, dx, dy []float32, argmax []int32) {
	CheckMaxout("MaxoutBackward", k, dy, argmax, dx)
	argmax = argmax[:len(dy)]
	clear(dx)
	for i, d := range dy {
		j := argmax[i]
		if j < 0 || int(j) >= k {
			panic(fmt.Sprintf("actfuse: MaxoutBackward: argmax[%d] = %d outside [0, k = %d)", i, j, k))
		}
		dx[i*k+int(j)] = d
	}
}

package fallback

import (
	"fmt"
	"math"
)

// Forward computes dst[i] = f(x[i]) for the activation a. dst and x must have
// the same length; dst may be x itself (in-place), but must not otherwise
// overlap it.
//
// Special values, for every function: a NaN input gives a NaN; ±Inf and ±0
// give the mathematical limits; denormal inputs are ordinary inputs.
//
//   - Identity copies x bit for bit.
//   - ReLU is x < 0 ? +0 : x, exactly: ReLU(NaN) = NaN and ReLU(-0) = -0
//     (the sign of a zero input is kept, as a max(0, x) that returns its
//     second operand on equality and on NaN does).
//   - LeakyReLU is x < 0 ? Alpha·x : x, the float32 product correctly rounded
//     (so LeakyReLU(-0) = -0); with Alpha = 0, LeakyReLU(-Inf) = -0, the
//     limit, not the NaN of 0·(-Inf).
//   - ELU is x >= 0 ? x : Alpha·expm1(x), with expm1 computed without
//     cancellation near 0; ELU(-Inf) = -Alpha, ELU(±0) = ±0. At most 0.83 ULP
//     from the exact value for Alpha = 1 (worst x = -0.2803708); other
//     Alphas add the rounding of the product (1.37 ULP measured for 0.3 and
//     0.7 on strided sweeps).
//   - Sigmoid is 1/(1+e^-x), computed from e = e^-|x| as e/(1+e) and
//     reflected as 1 - e/(1+e) for x > 0, so no step overflows. At most 1.16
//     ULP (worst x = -16.229752); results below 2^-126 (x < -87.3365) are
//     flushed to +0.
//     Sigmoid(-Inf) = 0, Sigmoid(+Inf) = 1, Sigmoid(±0) = 0.5.
//   - Tanh is x + x³·Q(x²) (a minimax polynomial, no cancellation) for
//     |x| < 0.5625 and 1 - 2·e/(1+e), e = e^(-2|x|), with the sign of x
//     beyond; it saturates to ±1 from |x| ≈ 9.01 on. At most 0.81 ULP
//     (worst x = 0.5402119); Tanh(±0) = ±0, Tanh(±Inf) = ±1.
//
// The ULP bounds are measured over all 2^32 inputs against float64 references
// (package internal/ref; the command is in kernels/accuracy_test.go:
// go test ./kernels -run TestAccuracyExhaustive -exhaustive -timeout 2h);
// the target is 2 ULP.
func Forward(a Activation, dst, x []float32) {
	CheckUnary("Forward", dst, x)
	CheckActivation("Forward", a)
	dst = dst[:len(x)]
	switch a.Func {
	case Identity:
		copy(dst, x)
	case ReLU:
		for i, v := range x {
			b := math.Float32bits(v)
			if isNeg(b) {
				b = 0
			}
			dst[i] = math.Float32frombits(b)
		}
	case LeakyReLU:
		alpha := a.Alpha
		if alpha == 0 {
			for i, v := range x {
				b := math.Float32bits(v)
				if isNeg(b) {
					b = signBit // -0, also for -Inf
				}
				dst[i] = math.Float32frombits(b)
			}
			return
		}
		for i, v := range x {
			b, p := math.Float32bits(v), math.Float32bits(v*alpha)
			if isNeg(b) {
				b = p
			}
			dst[i] = math.Float32frombits(b)
		}
	case ELU:
		alpha := a.Alpha
		for i, v := range x {
			// Both sides are computed and one is selected: no branch on
			// the sign of the data.
			b, e := math.Float32bits(v), math.Float32bits(alpha*expm1Neg(-abs32(v)))
			if isNeg(b) || b > infBits|signBit {
				b = e // x < 0, or NaN
			}
			dst[i] = math.Float32frombits(b)
		}
	case Sigmoid:
		for i, v := range x {
			dst[i] = sigmoid(v)
		}
	case Tanh:
		for i, v := range x {
			dst[i] = tanh(v)
		}
	default:
		panic(fmt.Sprintf("actfuse: Forward: unknown activation %v", a.Func))
	}
}

// Bit patterns and branch-free selections on them: Go compiles an if that
// assigns an integer to a conditional move, so the loops do not branch on
// the sign of the data.
const (
	signBit = 0x80000000
	infBits = 0x7f800000
	oneBits = 0x3f800000 // 1.0
)

// isNeg reports whether the float32 with bits b is < 0 (negative, not -0,
// not NaN).
func isNeg(b uint32) bool { return b-(signBit+1) < infBits }

// isPos reports whether the float32 with bits b is > 0 (not +0, not NaN).
func isPos(b uint32) bool { return b-1 < infBits }

// abs32 returns |x|.
func abs32(x float32) float32 { return math.Float32frombits(math.Float32bits(x) &^ signBit) }

// sigmoid returns 1/(1+e^-x); see Forward.
func sigmoid(x float32) float32 {
	z := -abs32(x)
	var q, c float32 // e^z/(1+e^z) ≈ q + c; 0 below sigmoidNegMin
	if !(z < sigmoidNegMin) {
		q, c = sigmoidNeg(z)
	}
	// x > 0: 1 - (q + c), with u = 1 - q rounded and (1 - u) - q its exact
	// error; otherwise q + c.
	u := 1 - q
	pos := math.Float32bits(u + (((1 - u) - q) - c))
	y := math.Float32bits(q + c)
	if isPos(math.Float32bits(x)) {
		y = pos
	}
	return math.Float32frombits(y)
}

// tanhPolyMax is where tanh switches from the polynomial to the exp form:
// above it tanh(x) > 0.5 and 1 - 2e/(1+e) has no harmful cancellation.
const tanhPolyMax = 0.5625

// tanh coefficients: tanh(x) = x + x³·Q(x²) on |x| <= 0.5625, Q of degree 4,
// the minimax fit for the relative error of tanh made by ref.Minimax:
//
//	ref.Minimax(func(u float64) float64 { x := math.Sqrt(u); return (math.Tanh(x) - x) / (u * x) },
//		func(u float64) float64 { x := math.Sqrt(u); return u * x / math.Tanh(x) },
//		0, 0.5625*0.5625, 4)
//
// Fit error 2^-29.5; with the float32 coefficients below 2^-28.7.
const (
	tanhC3  = -0x1.555548p-2 // -0.333333135
	tanhC5  = 0x1.110c72p-3  // 0.133324519
	tanhC7  = -0x1.b90946p-5 // -0.0538374297
	tanhC9  = 0x1.582fbp-6   // 0.0210074633
	tanhC11 = -0x1.95001cp-8 // -0.00617981609
)

// tanh returns tanh(x); see Forward.
func tanh(x float32) float32 {
	// Both forms are computed and one selected, without a branch.
	a := abs32(x)
	u := a * a
	poly := a + a*(u*(tanhC3+u*(tanhC5+u*(tanhC7+u*(tanhC9+u*tanhC11)))))
	z := max(-2*a, -20) // -2a is exact; tanh(10) rounds to 1
	q, c := sigmoidNeg(z)
	// tanh(a) = 1 - 2(q + c), with 1 - 2q split by Fast2Sum (2q <= 0.5).
	q2 := 2 * q
	v := 1 - q2
	y := math.Float32bits(v + (((1 - v) - q2) - 2*c))
	if ab := math.Float32bits(a); ab < math.Float32bits(tanhPolyMax) {
		y = math.Float32bits(poly)
	}
	// The sign is applied last so that tanh(-0) = -0.
	return math.Float32frombits(y | math.Float32bits(x)&signBit)
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
	if a.Func >= NumFuncs {
		panic(fmt.Sprintf("actfuse: Backward: unknown activation %v", a.Func))
	}
	backwardRow(a, dx, dy, y)
}

// backwardRow is Backward without the checks: len(dy), len(y) >= len(dx).
func backwardRow(a Activation, dx, dy, y []float32) {
	dy = dy[:len(dx)]
	y = y[:len(dx)]
	switch a.Func {
	case Identity:
		copy(dx, dy)
	// The derivatives select on the bits of y (isPos is y > 0), which the
	// compiler turns into conditional moves: a branch on the sign of y
	// would be mispredicted half the time on real activations.
	case ReLU:
		for i, v := range y {
			var d uint32 // +0
			if isPos(math.Float32bits(v)) {
				d = oneBits
			}
			dx[i] = dy[i] * math.Float32frombits(d)
		}
	case LeakyReLU:
		alpha := math.Float32bits(a.Alpha)
		for i, v := range y {
			d := alpha
			if isPos(math.Float32bits(v)) {
				d = oneBits
			}
			dx[i] = dy[i] * math.Float32frombits(d)
		}
	case ELU:
		alpha := a.Alpha
		for i, v := range y {
			d := math.Float32bits(v + alpha)
			if isPos(math.Float32bits(v)) {
				d = oneBits
			}
			dx[i] = dy[i] * math.Float32frombits(d)
		}
	case Sigmoid:
		for i, v := range y {
			dx[i] = dy[i] * float32(v*(1-v))
		}
	case Tanh:
		for i, v := range y {
			dx[i] = dy[i] * float32((1-v)*(1+v))
		}
	}
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

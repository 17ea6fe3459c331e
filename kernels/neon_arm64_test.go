//go:build !purego

package kernels

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/actfuse/actfuse/fallback"
)

var neonSweepStride = flag.Int("neon.stride", 4099, "stride of the sweep over float32 bit patterns in TestNEONAccuracySweep (1 = exhaustive)")

// neonRef is the float64 reference of an activation.
func neonRef(a Activation, x float64) float64 {
	switch a.Func {
	case ReLU:
		if x < 0 {
			return 0
		}
		return x
	case LeakyReLU:
		if x < 0 {
			if a.Alpha == 0 {
				return math.Copysign(0, -1)
			}
			return float64(a.Alpha) * x
		}
		return x
	case ELU:
		if x >= 0 || math.IsNaN(x) {
			return x
		}
		return float64(a.Alpha) * math.Expm1(x)
	case Sigmoid:
		return 1 / (1 + math.Exp(-x))
	case Tanh:
		return math.Tanh(x)
	}
	return x
}

// ulpErr returns the error of got against the exact value ref in units of
// the float32 spacing at ref, and whether ref is in the range where the
// accuracy target applies (a normal float32, or zero).
func ulpErr(got float32, ref float64) (float64, bool) {
	if math.IsNaN(ref) {
		if got != got {
			return 0, true
		}
		return math.Inf(1), true
	}
	if r32 := float32(ref); math.IsInf(float64(r32), 0) {
		if got == r32 {
			return 0, true
		}
		return math.Inf(1), true
	}
	if math.IsInf(ref, 0) || ref == 0 {
		if float64(got) == ref {
			return 0, true
		}
		return math.Inf(1), true
	}
	if math.Abs(ref) < 0x1p-126 {
		return 0, false
	}
	_, e := math.Frexp(math.Abs(ref)) // |ref| in [2^(e-1), 2^e)
	ulp := math.Ldexp(1, e-1-23)
	return math.Abs(float64(got)-ref) / ulp, true
}

// neonForwardKernels lists the forward NEON kernels with the largest error
// allowed where the exact result is a normal float.
func neonForwardKernels() []struct {
	act    Activation
	maxULP float64
	run    func(dst, x []float32)
} {
	type k = struct {
		act    Activation
		maxULP float64
		run    func(dst, x []float32)
	}
	var ks []k
	for _, a := range []Activation{{Func: ReLU}, {Func: LeakyReLU, Alpha: 0.01}, {Func: LeakyReLU, Alpha: 3}, {Func: LeakyReLU, Alpha: 0}, {Func: ELU, Alpha: 1}, {Func: ELU, Alpha: 0.3}, {Func: Sigmoid}, {Func: Tanh}} {
		tol := 2.0
		if a.Func == ReLU || a.Func == LeakyReLU {
			tol = 0.5 // one rounding at most (alpha·x)
		}
		ks = append(ks, k{a, tol, func(dst, x []float32) { simdForward(a, dst, x) }})
	}
	return ks
}

func specials() []float32 {
	inf := float32(math.Inf(1))
	nan := float32(math.NaN())
	return []float32{0, float32(math.Copysign(0, -1)), 1, -1, inf, -inf, nan, -nan,
		math.Float32frombits(1), math.Float32frombits(0x80000001), math.Float32frombits(0x007fffff),
		math.Float32frombits(0x807fffff), 0x1p-126, -0x1p-126, math.MaxFloat32, -math.MaxFloat32,
		0.75, -0.75, 0.7499999, -0.7499999, 1e-20, -1e-20, 9, -9, 9.1, 17.5, -17.5, -17.6, -87.3, -87.4,
		-87.9, -88, -88.8, -89, -103, -104, -150, 88, 89, 100, 0.3465, -0.3466, 1e-3, -1e-3}
}

func TestNEONForwardSpecials(t *testing.T) {
	for _, k := range neonForwardKernels() {
		x := specials()
		dst := make([]float32, len(x))
		k.run(dst, x)
		for i, v := range x {
			ref := neonRef(k.act, float64(v))
			e, ok := ulpErr(dst[i], ref)
			if ok && e > k.maxULP {
				t.Errorf("%v(%g [%#08x]) = %g [%#08x], want %g (%.2f ulp)", k.act, v, math.Float32bits(v), dst[i], math.Float32bits(dst[i]), ref, e)
			}
			if !ok && !flushOK(dst[i], ref) {
				t.Errorf("%v(%g) = %g, want 0 or a value between 0 and %g", k.act, v, dst[i], ref)
			}
		}
		// Signed zeros: the result keeps the sign the float64 reference gives.
		for _, z := range []float32{0, float32(math.Copysign(0, -1))} {
			d := []float32{7}
			k.run(d, []float32{z})
			ref := neonRef(k.act, float64(z))
			if k.act.Func != Sigmoid && math.Signbit(float64(d[0])) != math.Signbit(ref) {
				t.Errorf("%v(%g) = %g, want %g", k.act, z, d[0], ref)
			}
		}
	}
}

// TestNEONAccuracySweep compares every forward kernel with the float64
// reference on a strided sweep over all float32 bit patterns (-neon.stride=1
// is exhaustive) and reports the largest error seen.
func TestNEONAccuracySweep(t *testing.T) {
	stride := uint64(*neonSweepStride)
	if testing.Short() {
		stride *= 16
	}
	const chunk = 1 << 16
	x := make([]float32, 0, chunk)
	dst := make([]float32, chunk)
	for _, k := range neonForwardKernels() {
		worst, worstX, n := 0.0, float32(0), 0
		flush := func() {
			d := dst[:len(x)]
			k.run(d, x)
			for i, v := range x {
				ref := neonRef(k.act, float64(v))
				e, ok := ulpErr(d[i], ref)
				if !ok {
					if !flushOK(d[i], ref) {
						t.Errorf("%v(%g) = %g, want 0 or a value between 0 and %g", k.act, v, d[i], ref)
					}
					continue
				}
				if e > worst {
					worst, worstX = e, v
				}
				n++
			}
			x = x[:0]
		}
		for b := uint64(0); b < 1<<32; b += stride {
			x = append(x, math.Float32frombits(uint32(b)))
			if len(x) == chunk {
				flush()
			}
		}
		flush()
		t.Logf("%-16v max %.3f ulp at x = %g (%d inputs, stride %d)", k.act, worst, worstX, n, stride)
		if worst > k.maxULP {
			t.Errorf("%v: max error %.3f ulp at x = %g [%#08x], want <= %g", k.act, worst, worstX, math.Float32bits(worstX), k.maxULP)
		}
	}
}

// flushOK reports whether got is acceptable for an exact result ref below
// the smallest normal float32: zero, or a value of the sign of ref at most
// a few subnormal steps beyond it (never NaN, never of the wrong sign).
func flushOK(got float32, ref float64) bool {
	if got == 0 {
		return true
	}
	return float64(got)*ref > 0 && math.Abs(float64(got)) <= math.Abs(ref)+0x1p-147
}

// asmMaxout is the NEON maxout kernel as wired into the neon implementation.
var asmMaxout = neonImpl().maxoutForward

const neonGuard = float32(-1234.5)

// TestNEONTailsAndGuards runs every elementwise kernel on every length 0..70
// at every offset 0..3 with neonGuard values around the output, against the
// fallback (backward kernels bitwise, forward ones within the tolerance).
func TestNEONTailsAndGuards(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	acts := []Activation{{Func: Identity}, {Func: ReLU}, {Func: LeakyReLU, Alpha: 0.1}, {Func: ELU, Alpha: 1.5}, {Func: Sigmoid}, {Func: Tanh}}
	for n := 0; n <= 70; n++ {
		for off := 0; off < 4; off++ {
			x := make([]float32, n+off+4)
			dy := make([]float32, n+off+4)
			for i := range x {
				x[i] = float32(rng.NormFloat64() * 4)
				dy[i] = float32(rng.NormFloat64())
			}
			for _, a := range acts {
				xs := x[off : off+n]
				y := make([]float32, n)
				fallback.Forward(a, y, xs)
				out := make([]float32, n+off+4)
				for i := range out {
					out[i] = neonGuard
				}
				simdForward(a, out[off:off+n], xs)
				checkGuards(t, fmt.Sprintf("forward %v n=%d off=%d", a, n, off), out, off, n)
				for i := range y {
					if e, _ := ulpErr(out[off+i], neonRef(a, float64(xs[i]))); e > 2 {
						t.Fatalf("forward %v n=%d off=%d: [%d] = %g, want %g", a, n, off, i, out[off+i], y[i])
					}
				}
				// Backward, bitwise against the fallback.
				want := make([]float32, n)
				fallback.Backward(a, want, dy[off:off+n], y)
				for i := range out {
					out[i] = neonGuard
				}
				simdBackward(a, out[off:off+n], dy[off:off+n], y)
				checkGuards(t, fmt.Sprintf("backward %v n=%d off=%d", a, n, off), out, off, n)
				for i := range want {
					if math.Float32bits(out[off+i]) != math.Float32bits(want[i]) {
						t.Fatalf("backward %v n=%d off=%d: [%d] = %g, want %g", a, n, off, i, out[off+i], want[i])
					}
				}
			}
		}
	}
}

func TestNEONInPlace(t *testing.T) {
	for _, a := range []Activation{{Func: ReLU}, {Func: LeakyReLU, Alpha: 0.2}, {Func: ELU, Alpha: 1}, {Func: Sigmoid}, {Func: Tanh}} {
		x := make([]float32, 37)
		for i := range x {
			x[i] = float32(i)/4 - 4.5
		}
		want := make([]float32, len(x))
		simdForward(a, want, x)
		simdForward(a, x, x)
		for i := range x {
			if x[i] != want[i] {
				t.Errorf("%v in place: [%d] = %g, want %g", a, i, x[i], want[i])
			}
		}
		dy := make([]float32, len(x))
		for i := range dy {
			dy[i] = float32(i) - 3
		}
		wantB := make([]float32, len(x))
		simdBackward(a, wantB, dy, x)
		simdBackward(a, dy, dy, x)
		for i := range dy {
			if dy[i] != wantB[i] {
				t.Errorf("%v backward in place: [%d] = %g, want %g", a, i, dy[i], wantB[i])
			}
		}
	}
}

func checkGuards(t *testing.T, what string, out []float32, off, n int) {
	t.Helper()
	for i, v := range out {
		if (i < off || i >= off+n) && v != neonGuard {
			t.Fatalf("%s: guard at %d overwritten with %g", what, i, v)
		}
	}
}

// TestNEONBackwardBias compares the NEON BackwardBias with the fallback, bit
// for bit (both add the rows of dz to db in row order), on random shapes and
// leading dimensions, with guards around dz and db, with and without db, and
// in place (dz = dy).
func TestNEONBackwardBias(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	acts := []Activation{{Func: Identity}, {Func: ReLU}, {Func: LeakyReLU, Alpha: 0.1}, {Func: ELU, Alpha: 1.5}, {Func: Sigmoid}, {Func: Tanh}}
	for trial := 0; trial < 300; trial++ {
		m, n := rng.IntN(7), rng.IntN(40)
		if trial%10 == 0 {
			m, n = rng.IntN(40), rng.IntN(300)
		}
		ld := max(1, n) + rng.IntN(5)
		a := acts[trial%len(acts)]
		size := max(0, (m-1)*ld+n)
		if m == 0 || n == 0 {
			size = 0
		}
		dy := make([]float32, size)
		x := make([]float32, size)
		for i := range dy {
			dy[i] = float32(rng.NormFloat64())
			x[i] = float32(rng.NormFloat64() * 3)
		}
		y := make([]float32, size)
		fallback.Forward(a, y, x)
		withDb := trial%3 != 0
		inPlace := trial%5 == 0
		wantDz := make([]float32, size)
		var wantDb []float32
		if withDb {
			wantDb = make([]float32, n)
		}
		fallback.BackwardBias(a, m, n, dy, ld, y, ld, wantDz, ld, wantDb)
		dz := make([]float32, size+8)
		for i := range dz {
			dz[i] = neonGuard
		}
		dzs := dz[4 : 4+size]
		dyIn := dy
		if inPlace {
			copy(dzs, dy)
			dyIn = dzs
		}
		var db, dbs []float32
		if withDb {
			db = make([]float32, n+8)
			for i := range db {
				db[i] = neonGuard
			}
			dbs = db[4 : 4+n]
		}
		simdBackwardBias(a, m, n, dyIn, ld, y, ld, dzs, ld, dbs)
		what := fmt.Sprintf("%v m=%d n=%d ld=%d db=%v inplace=%v", a, m, n, ld, withDb, inPlace)
		for i := 0; i < 4; i++ {
			if dz[i] != neonGuard || dz[len(dz)-1-i] != neonGuard {
				t.Fatalf("%s: guard around dz overwritten", what)
			}
		}
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				if got, want := dzs[i*ld+j], wantDz[i*ld+j]; math.Float32bits(got) != math.Float32bits(want) {
					t.Fatalf("%s: dz[%d,%d] = %g, want %g", what, i, j, got, want)
				}
			}
		}
		if withDb {
			checkGuards(t, what+" db", db, 4, n)
			for j := range n {
				if math.Float32bits(dbs[j]) != math.Float32bits(wantDb[j]) {
					t.Fatalf("%s: db[%d] = %g, want %g", what, j, dbs[j], wantDb[j])
				}
			}
		}
	}
}

// TestNEONMaxoutForward compares the NEON maxout with the fallback bit for
// bit on groups with ties, signed zeros and NaNs, for k = 1..9 and every
// group count 0..13, with guards around both outputs.
func TestNEONMaxoutForward(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	pool := []float32{0, float32(math.Copysign(0, -1)), 1, -1, 2, float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))}
	for k := 1; k <= 9; k++ {
		for groups := 0; groups <= 13; groups++ {
			for trial := 0; trial < 4; trial++ {
				x := make([]float32, k*groups)
				for i := range x {
					if trial < 2 {
						x[i] = pool[rng.IntN(len(pool))]
					} else {
						x[i] = float32(rng.NormFloat64())
					}
				}
				want := make([]float32, groups)
				wantArg := make([]int32, groups)
				fallback.MaxoutForward(k, want, wantArg, x)
				dst := make([]float32, groups+8)
				arg := make([]int32, groups+8)
				for i := range dst {
					dst[i] = neonGuard
					arg[i] = -7
				}
				asmMaxout(k, dst[4:4+groups], arg[4:4+groups], x)
				checkGuards(t, "maxout dst", dst, 4, groups)
				for i := range arg {
					if (i < 4 || i >= 4+groups) && arg[i] != -7 {
						t.Fatalf("k=%d groups=%d: argmax guard at %d overwritten", k, groups, i)
					}
				}
				for i := range want {
					if math.Float32bits(dst[4+i]) != math.Float32bits(want[i]) || arg[4+i] != wantArg[i] {
						t.Fatalf("k=%d groups=%d group %d %v: got %g@%d, want %g@%d", k, groups, i, x[i*k:i*k+k], dst[4+i], arg[4+i], want[i], wantArg[i])
					}
				}
			}
		}
	}
}

// TestNEONMaxoutBackward compares the NEON maxout backward with the fallback
// for k = 1..9 and group counts 0..13, with guards around dx, and checks
// that an argmax outside [0, k) panics naming it.
func TestNEONMaxoutBackward(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	back := neonImpl().maxoutBackward
	for k := 1; k <= 9; k++ {
		for groups := 0; groups <= 13; groups++ {
			dy := make([]float32, groups)
			arg := make([]int32, groups)
			for i := range dy {
				dy[i] = float32(rng.NormFloat64())
				arg[i] = int32(rng.IntN(k))
			}
			want := make([]float32, k*groups)
			fallback.MaxoutBackward(k, want, dy, arg)
			dx := make([]float32, k*groups+8)
			for i := range dx {
				dx[i] = neonGuard
			}
			back(k, dx[4:4+k*groups], dy, arg)
			checkGuards(t, fmt.Sprintf("maxout backward k=%d groups=%d", k, groups), dx, 4, k*groups)
			for i, w := range want {
				if dx[4+i] != w {
					t.Fatalf("k=%d groups=%d: dx[%d] = %g, want %g", k, groups, i, dx[4+i], w)
				}
			}
			if groups > 0 {
				for _, badJ := range []int32{-1, int32(k), 1 << 30} {
					bad := append([]int32(nil), arg...)
					bad[groups-1] = badJ
					func() {
						defer func() {
							msg := fmt.Sprint(recover())
							wantMsg := fmt.Sprintf("argmax[%d] = %d outside", groups-1, badJ)
							if !strings.Contains(msg, wantMsg) {
								t.Errorf("k=%d groups=%d argmax %d: panic %q, want one containing %q", k, groups, badJ, msg, wantMsg)
							}
						}()
						back(k, dx[4:4+k*groups], dy, bad)
					}()
				}
			}
		}
	}
}

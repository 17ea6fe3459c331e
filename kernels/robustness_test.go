package kernels

import (
	"unsafe"

	"math"
	"strings"
	"testing"

	"github.com/actfuse/actfuse/internal/desc"
)

// mustPanic runs f and fails unless it panics with a message containing want.
func mustPanic(t *testing.T, want string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Fatalf("no panic, want one mentioning %q", want)
		}
		if msg, _ := r.(string); !strings.Contains(msg, want) {
			t.Fatalf("panic %v, want one mentioning %q", r, want)
		}
	}()
	f()
}

// TestGemmHugeLeadingDimension checks that a leading dimension whose size
// computation would overflow is rejected before any kernel runs.
func TestGemmHugeLeadingDimension(t *testing.T) {
	defer Use(ISA())
	for _, name := range Implementations() {
		if err := Use(name); err != nil {
			t.Fatal(err)
		}
		a, b, c := make([]float32, 5), make([]float32, 16), make([]float32, 96)
		huge := math.MaxInt/5 + 2 // 5·huge wraps around
		mustPanic(t, "lda", func() { Gemm(false, false, 6, 16, 1, a, huge, b, 16, c, 16, nil) })
		mustPanic(t, "ldc", func() { Gemm(false, false, 6, 16, 1, make([]float32, 6), 1, b, 16, c, huge, nil) })
	}
}

// TestGemmZeroKSplit checks k = 0 (C = act(bias), or C kept when
// accumulating) on a product large enough to be split across threads, with
// empty A and B.
func TestGemmZeroKSplit(t *testing.T) {
	defer Use(ISA())
	defer SetThreads(0)
	SetThreads(2)
	const m, n = 1 << 18, 16
	bias := make([]float32, n)
	for j := range bias {
		bias[j] = float32(j) - 7.5
	}
	c := make([]float32, m*n)
	for _, name := range Implementations() {
		if err := Use(name); err != nil {
			t.Fatal(err)
		}
		for _, tA := range []bool{false, true} {
			lda := 1
			if tA {
				lda = m
			}
			Gemm(tA, false, m, n, 0, nil, lda, nil, n, c, n, &Epilogue{Bias: bias, Act: Activation{Func: ReLU}})
			for i := 0; i < m; i += 4099 {
				for j := 0; j < n; j++ {
					if want := max(bias[j], 0); c[i*n+j] != want {
						t.Fatalf("%s tA=%v: C[%d,%d] = %v, want %v", name, tA, i, j, c[i*n+j], want)
					}
				}
			}
		}
	}
}

// TestActivationAlphaChecked checks that LeakyReLU and ELU reject a negative
// or non-finite Alpha on every entry point instead of computing wrong
// derivatives.
func TestActivationAlphaChecked(t *testing.T) {
	x := make([]float32, 4)
	for _, f := range []Func{LeakyReLU, ELU} {
		for _, alpha := range []float32{-1, float32(math.NaN()), float32(math.Inf(1))} {
			a := Activation{Func: f, Alpha: alpha}
			mustPanic(t, "Alpha", func() { Forward(a, x, x) })
			mustPanic(t, "Alpha", func() { Backward(a, x, x, x) })
			mustPanic(t, "Alpha", func() { BackwardBias(a, 2, 2, x, 2, x, 2, x, 2, nil) })
			mustPanic(t, "Alpha", func() { Gemm(false, false, 2, 2, 2, x, 2, x, 2, x, 2, &Epilogue{Act: a}) })
		}
	}
	Forward(Activation{Func: LeakyReLU, Alpha: 0}, x, x) // zero is valid
}

// TestActivationCoefficientsChecked checks that the scaled forms reject a
// negative or non-finite Gain or Slope, and coefficients whose derived
// values (2·Gain, Slope/Gain) overflow, on every entry point; zero stands
// for the default.
func TestActivationCoefficientsChecked(t *testing.T) {
	x := make([]float32, 4)
	bad := []float32{-1, float32(math.NaN()), float32(math.Inf(1))}
	var acts []Activation
	for _, v := range bad {
		acts = append(acts,
			Activation{Func: ScaledSigmoid, Slope: v},
			Activation{Func: ScaledTanh, Gain: v},
			Activation{Func: ScaledTanh, Slope: v})
	}
	acts = append(acts, Activation{Func: ScaledTanh, Gain: 3e38}, Activation{Func: ScaledTanh, Gain: 1e-30, Slope: 1e10})
	for _, a := range acts {
		mustPanic(t, "positive", func() { Forward(a, x, x) })
		mustPanic(t, "positive", func() { Backward(a, x, x, x) })
		mustPanic(t, "positive", func() { BackwardBias(a, 2, 2, x, 2, x, 2, x, 2, nil) })
		mustPanic(t, "positive", func() { Gemm(false, false, 2, 2, 2, x, 2, x, 2, x, 2, &Epilogue{Act: a}) })
	}
	Forward(Activation{Func: ScaledTanh}, x, x) // zero: LeCun's coefficients
	Forward(Activation{Func: ScaledSigmoid}, x, x)
}

// TestWorkerPanicReachesCaller checks that a panic inside a worker goroutine
// is re-raised in the goroutine that called Gemm, where it can be recovered.
func TestWorkerPanicReachesCaller(t *testing.T) {
	defer SetThreads(0)
	SetThreads(2)
	const m, n, k = 512, 512, 512
	a, b, c := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
	// The kernel panics in the right half of C, which the split by columns
	// gives to the worker.
	boom := boomImpl(c, n/2, "boom: block computed by a worker")
	job := jobPool.Get()
	job.g = gemmCall{m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, c: c, ldc: n, ep: &noEpilogue}
	mustPanic(t, "boom: block computed by a worker", func() { parallelGemm(boom, job) })
	if job.panicked != nil {
		t.Fatal("the recorded panic was not cleared")
	}
}

// boomImpl returns an implementation whose 4×4 micro-kernel panics with msg
// on the tiles of C (row-major, starting at c[0]) from column col on.
func boomImpl(c []float32, col int, msg string) *impl {
	base := uintptr(unsafe.Pointer(&c[0]))
	kernel := func(kc, mm, nr int, _ []float32, _ int, _, _ []float32, _ int, cc []float32, ldc int, _, _ []float32, _, _ int, _ *[4]float32) {
		if j := (uintptr(unsafe.Pointer(&cc[0])) - base) / 4 % uintptr(ldc); j >= uintptr(col) {
			panic(msg)
		}
	}
	return &impl{name: "boom", gemm: newGemmContext(&desc.Impl{Name: "boom", Tile: desc.Tile{MR: 4, NR: 4}, L1Fill: 0.75, L2Fill: 0.25, L3Fill: 0.25}, kernel, nil, packers{})}
}

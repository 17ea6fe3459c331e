package bench

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/actfuse/actfuse/kernels"
)

// Shape is a GEMM problem C(m×n) = op(A)(m×k)·op(B)(k×n).
type Shape struct {
	M, K, N        int    // op(A) is M×K, op(B) is K×N
	TransA, TransB bool   // A stored K×M, B stored N×K
	Name           string // e.g. "square", "mlp hidden"
}

// String writes the shape as MxKxN, with ᵀ marks for transposed operands.
func (s Shape) String() string {
	str := fmt.Sprintf("%dx%dx%d", s.M, s.K, s.N)
	if s.TransA {
		str += "/At"
	}
	if s.TransB {
		str += "/Bt"
	}
	return str
}

// ParseShape parses "MxKxN", optionally followed by "/At" and/or "/Bt".
func ParseShape(str string) (Shape, error) {
	parts := strings.Split(str, "/")
	dims := strings.Split(parts[0], "x")
	if len(dims) != 3 {
		return Shape{}, fmt.Errorf("shape %q: want MxKxN", str)
	}
	var v [3]int
	for i, d := range dims {
		n, err := strconv.Atoi(d)
		if err != nil || n < 1 {
			return Shape{}, fmt.Errorf("shape %q: %q is not a positive integer", str, d)
		}
		v[i] = n
	}
	s := Shape{M: v[0], K: v[1], N: v[2], Name: "custom"}
	for _, p := range parts[1:] {
		switch p {
		case "At":
			s.TransA = true
		case "Bt":
			s.TransB = true
		default:
			return Shape{}, fmt.Errorf("shape %q: unknown suffix %q (want At or Bt)", str, p)
		}
	}
	return s, nil
}

// DefaultShapes returns square sizes and the layer shapes of a 784→512→512→10
// MLP with batch 128, forward and backward.
func DefaultShapes() []Shape {
	return []Shape{
		{M: 256, K: 256, N: 256, Name: "square"},
		{M: 512, K: 512, N: 512, Name: "square"},
		{M: 1024, K: 1024, N: 1024, Name: "square"},
		{M: 128, K: 784, N: 512, Name: "mlp layer 1"},
		{M: 128, K: 512, N: 512, Name: "mlp layer 2"},
		{M: 128, K: 512, N: 10, Name: "mlp output"},
		{M: 784, K: 128, N: 512, TransA: true, Name: "mlp dW"},
		{M: 128, K: 512, N: 784, TransB: true, Name: "mlp dX"},
	}
}

// GemmConfig selects what the gemm suite measures.
type GemmConfig struct {
	Shapes []Shape              // nil: DefaultShapes
	Acts   []kernels.Activation // nil: identity, relu, elu, sigmoid, tanh
	Peak   time.Duration        // duration of the peak probe; 0: 200 ms
	// MinTime is the least duration of one timed sample; 0 means the
	// larger of Options.MinTime and 10 ms, long enough for samples of
	// whole GEMM calls to average over scheduling on a busy machine.
	MinTime time.Duration
}

// Gemm measures the fused C = act(A·B + bias) in GFLOP/s (2mnk flops per
// call) and in percent of the FMA peak measured in the same run (times the
// thread count), against the unfused form (Gemm with the bias, then a
// separate kernels.Forward pass over C), for every shape, activation,
// thread count and implementation of o, timed interleaved per shape and
// thread count. Backward-shaped problems (transposed operands) are measured
// with the identity activation only.
func Gemm(o Options, c GemmConfig) []*Table {
	o.Defaults()
	if c.Shapes == nil {
		c.Shapes = DefaultShapes()
	}
	if c.Acts == nil {
		c.Acts = []kernels.Activation{
			{Func: kernels.Identity}, {Func: kernels.ReLU}, {Func: kernels.ELU, Alpha: 1},
			{Func: kernels.Sigmoid}, {Func: kernels.Tanh},
		}
	}
	if c.Peak <= 0 {
		c.Peak = 200 * time.Millisecond
	}
	if c.MinTime > 0 {
		o.MinTime = c.MinTime
	} else {
		o.MinTime = max(o.MinTime, 10*time.Millisecond)
	}
	p := o.progress()
	p.Start("gemm peak probe", 1)
	var peaks map[string]Peak
	var widest Peak
	o.labels("gemm", "peak", func() { peaks, widest = MeasurePeaks(c.Peak, o.Impls) })
	p.Step()
	p.Done()
	peakT := &Table{
		Name:  "Peak",
		Title: "FMA peak of one core, measured in this run, per implementation (at its vector width)",
		Columns: []Column{
			{Name: "probe", Label: true},
			{Name: "GFLOP/s", Unit: "GFLOP/s"},
		},
	}
	seen := map[string]bool{}
	for _, im := range append(append([]string{}, o.Impls...), widest.Impl) {
		pk, ok := peaks[im]
		if im == widest.Impl {
			pk, ok = widest, true
		}
		if !ok || seen[pk.Probe] {
			continue
		}
		seen[pk.Probe] = true
		probe := Str(pk.Probe)
		probe.Bench = "scalar-go"
		if pk.SIMD {
			probe.Bench = "simd-" + roleOf(pk.Impl)
		}
		peakT.Add(probe, Num(pk.GFLOPS))
	}
	if !widest.SIMD {
		peakT.Notes = append(peakT.Notes, "no SIMD peak probe in this build: %peak below is relative to scalar Go code")
	} else {
		peakT.Notes = append(peakT.Notes, fmt.Sprintf("widest: %s, %.1f GFLOP/s; %%peak below is against the peak of the row's implementation, %%widest against this one", widest.Impl, widest.GFLOPS))
	}

	t := &Table{
		Name:  "Gemm",
		Title: "GEMM C = act(A·B + bias): GFLOP/s fused and unfused (GEMM, then a Forward pass), % of the measured peak of the implementation and of the widest (per core × threads)",
		Columns: []Column{
			{Name: "shape", Label: true},
			{Name: "act", Label: true},
			{Name: "threads", Label: true},
			{Name: "impl", Label: true},
			{Name: "GFLOP/s", Unit: "GFLOP/s"},
			{Name: "%peak", Unit: "%peak", Prec: 1},
			{Name: "%widest", Unit: "%widest", Prec: 1},
			{Name: "unfused GFLOP/s", Unit: "unfused-GFLOP/s"},
			{Name: "fused gain", Unit: "x-unfused", NoBench: true, Prec: 2},
			{Name: "samples", Unit: "samples", Int: true},
		},
		Pivot: "impl",
	}
	var threads []int
	for _, n := range o.Threads {
		if setThreads(n) {
			threads = append(threads, n)
		} else {
			t.Notes = append(t.Notes, fmt.Sprintf("%d threads: the kernels in this build do not support setting the thread count; measured 1 only", n))
		}
	}
	defer setThreads(0)
	rng := rand.New(rand.NewPCG(o.Seed, 0x6e33))
	p.Start("gemm", len(c.Shapes)*len(threads))
	var noise noiseWatch
	defer p.Done()
	for _, s := range c.Shapes {
		a := randSlice(rng, s.M*s.K)
		b := randSlice(rng, s.K*s.N)
		bias := randSlice(rng, s.N)
		lda, ldb := s.K, s.N
		if s.TransA {
			lda = s.M
		}
		if s.TransB {
			ldb = s.K
		}
		acts := c.Acts
		if s.TransA || s.TransB {
			acts = []kernels.Activation{{Func: kernels.Identity}}
		}
		for _, th := range threads {
			type key struct {
				impl  string
				act   int
				fused bool
			}
			var vs []variant
			var keys []key
			for _, impl := range o.Impls {
				for ai, act := range acts {
					cf := make([]float32, s.M*s.N)
					ep := &kernels.Epilogue{Bias: bias, Act: act}
					name := fmt.Sprintf("gemm/%s/%s/%s/t%d", s, act.Func, impl, th)
					vs = append(vs, variant{impl: impl, name: name + "/fused", setup: func() { setThreads(th) }, run: func() {
						kernels.Gemm(s.TransA, s.TransB, s.M, s.N, s.K, a, lda, b, ldb, cf, s.N, ep)
					}})
					keys = append(keys, key{impl, ai, true})
					if act.Func == kernels.Identity {
						continue
					}
					cu := make([]float32, s.M*s.N)
					epu := &kernels.Epilogue{Bias: bias}
					vs = append(vs, variant{impl: impl, name: name + "/unfused", setup: func() { setThreads(th) }, run: func() {
						kernels.Gemm(s.TransA, s.TransB, s.M, s.N, s.K, a, lda, b, ldb, cu, s.N, epu)
						kernels.Forward(act, cu, cu)
					}})
					keys = append(keys, key{impl, ai, false})
				}
			}
			ts := o.timeVariants("gemm", vs)
			res := map[key]timing{}
			for i, k := range keys {
				res[k] = ts[i]
				noise.add(vs[i].name, ts[i])
			}
			flops := 2 * float64(s.M) * float64(s.N) * float64(s.K)
			for _, impl := range o.Impls {
				for ai, act := range acts {
					f := res[key{impl, ai, true}]
					gf := flops / float64(f.median.Nanoseconds())
					unf, gain := Missing(), Missing()
					if u, ok := res[key{impl, ai, false}]; ok {
						unf = Num(flops / float64(u.median.Nanoseconds()))
						gain = Num(float64(u.median) / float64(f.median))
					}
					implC := Str(impl)
					implC.Bench = roleOf(impl)
					gfC := NumSamples(gf, f.each(func(d time.Duration) float64 { return flops / float64(d.Nanoseconds()) }))
					t.Add(Str(s.String()), Str(act.Func.String()), Str(strconv.Itoa(th)), implC,
						gfC, Num(100*gf/(peaks[impl].GFLOPS*float64(th))), Num(100*gf/(widest.GFLOPS*float64(th))),
						unf, gain, Num(float64(f.samples)))
				}
			}
			p.Step()
		}
	}
	noise.note(t)
	return []*Table{peakT, t}
}

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.Float64()*2 - 1)
	}
	return s
}

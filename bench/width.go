package bench

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/actfuse/actfuse/kernels"
)

// WidthConfig tunes Width.
type WidthConfig struct {
	// Idle is the scalar work before each short call, long enough for a
	// core to leave the lower clock of wide vectors (about 2 ms on Xeons
	// since Skylake-SP); 0 means 3 ms.
	Idle time.Duration
	// Short is the number of short calls timed per kernel and
	// implementation; 0 means three times Options.Samples.
	Short int
}

// widthKernel is one kernel family's call in Width.
type widthKernel struct {
	family, call string
	run          func()
}

// Width compares the vector widths of this machine kernel family by
// kernel family: for every SIMD implementation of o (avx512 and avx2 on
// amd64), the time of a call in a long run of calls (the core settled at
// that width's clock), and the time of a short call, one call after
// WidthConfig.Idle of scalar work and a run of the generic kernel that
// brings its data back into cache (as a program that calls a kernel now
// and then sees it, the vector units' wake-up and clock transitions
// included). It also measures the
// core's clock with scalar code and with each implementation's FMAs
// beside it (kernels.ClockGHz, kernels.LoadedClockGHz). The ratios are
// against the narrowest SIMD implementation measured: above 1, the wider
// vectors win.
func Width(o Options, c WidthConfig) []*Table {
	o.Defaults()
	if c.Idle <= 0 {
		c.Idle = 3 * time.Millisecond
	}
	if c.Short <= 0 {
		c.Short = 3 * o.Samples
	}
	var impls []string
	for _, im := range o.Impls {
		if isSIMD(im) {
			impls = append(impls, im)
		}
	}
	clock := &Table{
		Name:  "Clock",
		Title: "core clock in GHz: a chain of dependent additions alone, and beside fused multiply-adds of each implementation's width (24 per 32 cycles)",
		Columns: []Column{
			{Name: "load", Label: true},
			{Name: "GHz", Unit: "GHz", Prec: 2},
		},
	}
	t := &Table{
		Name:  "Width",
		Title: "vector widths per kernel family: ns per call in a long run of calls and for a short call after scalar work, and the speed-up over the narrowest SIMD implementation",
		Columns: []Column{
			{Name: "family", Label: true},
			{Name: "call", Label: true},
			{Name: "impl", Label: true},
			{Name: "long ns", Unit: "ns/call"},
			{Name: "short ns", Unit: "short-ns/call"},
			{Name: "short/long", Unit: "x-long", NoBench: true, Prec: 2},
			{Name: "long gain", Unit: "x-narrowest-long", NoBench: true, Prec: 2},
			{Name: "short gain", Unit: "x-narrowest-short", NoBench: true, Prec: 2},
		},
	}
	restore := kernels.ISA()
	defer kernels.Use(restore) //nolint:errcheck // restoring a name that was active

	p := o.progress()
	var ks []widthKernel
	if len(impls) > 0 {
		ks = widthKernels(o.Seed)
	}
	p.Start("width", 1+len(ks))
	defer p.Done()

	// The clock, each probe in turn, the median of the rounds.
	loads := append([]string{"scalar"}, impls...)
	ghz := make([][]float64, len(loads))
	for r := 0; r < o.Samples; r++ {
		for i, l := range loads {
			o.labels("width", "clock-"+l, func() {
				if l == "scalar" {
					ghz[i] = append(ghz[i], kernels.ClockGHz(20*time.Millisecond))
					return
				}
				use(l)
				ghz[i] = append(ghz[i], kernels.LoadedClockGHz(20*time.Millisecond))
			})
		}
	}
	for i, l := range loads {
		name := "scalar additions"
		if l != "scalar" {
			name = l + " FMAs beside them"
		}
		c := Str(name)
		c.Bench = "scalar"
		if l != "scalar" {
			c.Bench = "fma-" + roleOf(l)
		}
		g := medianF(ghz[i])
		if g == 0 {
			clock.Add(c, Cell{})
			continue
		}
		clock.Add(c, NumSamples(g, ghz[i]))
	}
	clock.Notes = append(clock.Notes, "each the best of 20 ms of runs of about 20 µs, median of the rounds; under an emulator meaningless")
	p.Step()
	switch len(impls) {
	case 0:
		clock.Notes = append(clock.Notes, "no clock probe in this build (purego, or an architecture without one)")
		t.Notes = append(t.Notes, "no SIMD implementation in this build or on this machine: nothing to compare")
		return []*Table{clock, t}
	case 1:
		t.Notes = append(t.Notes, fmt.Sprintf("one SIMD implementation here (%s): its figures have no narrower width to compare with", impls[0]))
	}

	for _, k := range ks {
		vs := make([]variant, len(impls))
		for i, im := range impls {
			vs[i] = variant{impl: im, name: k.family, run: k.run}
		}
		long := o.timeVariants("width", vs)
		short := make([][]time.Duration, len(impls))
		for s := 0; s < c.Short; s++ {
			for j := range impls {
				i := (j + s) % len(impls)
				use(impls[i])
				k.run() // the code in cache
				o.labels("width", k.family+"-short", func() {
					kernels.ClockGHz(c.Idle)
					// The data back in cache by the generic kernel's scalar
					// code, which leaves the vector units idle: what the
					// short call takes beyond the long one is then the
					// vector units' and the clock's.
					use("generic")
					k.run()
					use(impls[i])
					t0 := time.Now()
					k.run()
					short[i] = append(short[i], time.Since(t0))
				})
			}
		}
		shortT := make([]timing, len(impls))
		for i := range impls {
			shortT[i] = summarize(short[i], 1)
		}
		last := len(impls) - 1
		for i, im := range impls {
			implC := Str(im)
			implC.Bench = roleOf(im)
			lm, sm := nanos(long[i].median), nanos(shortT[i].median)
			t.Add(Str(k.family), Str(k.call), implC,
				NumSamples(lm, long[i].each(nanos)),
				NumSamples(sm, shortT[i].each(nanos)),
				Num(sm/lm),
				Num(nanos(long[last].median)/lm),
				Num(nanos(shortT[last].median)/sm))
		}
		p.Step()
	}
	t.Notes = append(t.Notes,
		fmt.Sprintf("long: median per-call time of %d interleaved samples of back-to-back calls; short: median of %d single calls, each after %v of scalar additions and a generic (scalar) call that brings the data into cache", o.Samples, c.Short, c.Idle),
		fmt.Sprintf("gain: the time of %s over the row's, for the same kind of call", impls[len(impls)-1]))
	return []*Table{clock, t}
}

// widthKernels returns one call per kernel family, on inputs of the sizes
// a training step of an MLP uses.
func widthKernels(seed uint64) []widthKernel {
	rng := rand.New(rand.NewPCG(seed, 0x77d7))
	const m, k, n, nOut = 128, 512, 512, 10
	a, b, bias := randSlice(rng, m*k), randSlice(rng, k*n), randSlice(rng, n)
	c := make([]float32, m*n)
	relu := kernels.Activation{Func: kernels.ReLU}
	const nAct = 4096
	x, y, dy, dst := randSlice(rng, nAct), randSlice(rng, nAct), randSlice(rng, nAct), make([]float32, nAct)
	sigmoid := kernels.Activation{Func: kernels.Sigmoid}
	tanh := kernels.Activation{Func: kernels.Tanh}
	const nW = 1 << 16
	w, v := randSlice(rng, nW), randSlice(rng, nW)
	return []widthKernel{
		{"gemm", fmt.Sprintf("%dx%dx%d relu", m, k, n), func() {
			kernels.Gemm(false, false, m, n, k, a, k, b, n, c, n, &kernels.Epilogue{Act: relu, Bias: bias})
		}},
		{"gemm-narrow", fmt.Sprintf("%dx%dx%d", m, k, nOut), func() {
			kernels.Gemm(false, false, m, nOut, k, a, k, b, nOut, c, nOut, &kernels.Epilogue{})
		}},
		{"forward", fmt.Sprintf("sigmoid n=%d", nAct), func() { kernels.Forward(sigmoid, dst, x) }},
		{"forward-light", fmt.Sprintf("relu n=%d", nAct), func() { kernels.Forward(relu, dst, x) }},
		{"backward", fmt.Sprintf("tanh n=%d", nAct), func() { kernels.Backward(tanh, dst, dy, y) }},
		{"update", fmt.Sprintf("momentum n=%d", nW), func() {
			// mu = 1 keeps v as it is and tiny steps keep w finite (and normal)
			// over any number of calls.
			kernels.MomentumUpdate(w, v, 1e-9, 1, 0)
		}},
	}
}

func medianF(s []float64) float64 {
	if len(s) == 0 {
		return 0
	}
	s = slices.Clone(s)
	slices.Sort(s)
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}

func nanos(d time.Duration) float64 { return float64(d.Nanoseconds()) }

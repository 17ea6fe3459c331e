package bench

import (
	"fmt"
	"math"

	"github.com/actfuse/actfuse/internal/ref"
	"github.com/actfuse/actfuse/kernels"
)

// AccuracyConfig selects the inputs of the accuracy suite.
type AccuracyConfig struct {
	Acts []kernels.Activation // nil: Activations
	// Stride is the step between the float32 bit patterns tested; 1 is the
	// exhaustive sweep of all 2^32 inputs (minutes per function and
	// implementation). 0 means 4099.
	Stride uint32
	// Workers is the number of goroutines; 0 means GOMAXPROCS.
	Workers int
}

// Accuracy measures the largest error in ULP of every activation's forward
// kernel for every implementation of o (and the naive loop) against a
// float64 reference, over a strided sweep of float32 bit patterns (every
// pattern with Stride 1), and reports where it occurs. Results below the
// smallest normal float32 may flush to zero (see package internal/ref for the
// measure); NaN inputs must give NaN.
func Accuracy(o Options, c AccuracyConfig) []*Table {
	o.Defaults()
	if c.Acts == nil {
		c.Acts = Activations()
	}
	if c.Stride == 0 {
		c.Stride = 4099
	}
	impls := o.Impls
	if o.Naive {
		impls = append(impls[:len(impls):len(impls)], NaiveName)
	}
	what := fmt.Sprintf("every %d-th float32 bit pattern", c.Stride)
	if c.Stride == 1 {
		what = "all 2^32 float32 inputs"
	}
	t := &Table{
		Name:  "Accuracy",
		Title: "forward accuracy against a float64 reference over " + what + ": max ULP, worst input",
		Columns: []Column{
			{Name: "act", Label: true},
			{Name: "impl", Label: true},
			{Name: "max ULP", Unit: "max-ulp"},
			{Name: ">1 ULP", Unit: "over-1ulp", Int: true},
			{Name: ">2 ULP", Unit: "over-2ulp", Int: true},
			{Name: "inputs", Unit: "inputs", Int: true},
			{Name: "worst x", Label: true, NoBench: true},
			{Name: "got", Label: true, NoBench: true},
			{Name: "want", Label: true, NoBench: true},
		},
		Notes: []string{
			"ULP = |got - want| / spacing of float32 at want; a result flushed to zero where |want| < 2^-126 counts as exact; Inf means a NaN, sign or overflow mismatch",
		},
	}
	restore := kernels.ISA()
	defer kernels.Use(restore) //nolint:errcheck // restoring a name that was active
	p := o.progress()
	p.Start("accuracy", len(c.Acts)*len(impls))
	defer p.Done()
	for _, a := range c.Acts {
		want := ref.Forward(a)
		for _, impl := range impls {
			f := func(dst, x []float32) { kernels.Forward(a, dst, x) }
			if impl == NaiveName {
				f = func(dst, x []float32) { naiveForward(a, dst, x) }
			} else {
				use(impl)
			}
			var r ref.SweepResult
			o.labels("accuracy", fmt.Sprintf("forward/%s/%s", a.Func, impl), func() {
				r = ref.Sweep(f, want, ref.SweepOptions{Stride: c.Stride, Workers: c.Workers})
			})
			implC := Str(impl)
			implC.Bench = roleOf(impl)
			maxULP := Num(r.MaxULP)
			if math.IsInf(r.MaxULP, 1) {
				maxULP = Cell{S: "Inf"}
			}
			t.Add(Str(a.Func.String()), implC, maxULP, Num(float64(r.Over1)), Num(float64(r.Over2)), Num(float64(r.Count)),
				Str(fmt.Sprintf("%.9g (%#08x)", r.Worst, math.Float32bits(r.Worst))),
				Str(fmt.Sprintf("%.9g", r.Got)), Str(fmt.Sprintf("%.9g", r.Want)))
			p.Step()
		}
	}
	return []*Table{t}
}

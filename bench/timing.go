package bench

import (
	"context"
	"fmt"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/actfuse/actfuse/kernels"
)

// Options control what the suites measure and how long they take.
type Options struct {
	// Impls lists the kernel implementations to measure, by name as in
	// kernels.Implementations (see ParseImpls).
	Impls []string
	// Naive adds a naive Go loop (float64 math per element) to the
	// comparisons.
	Naive bool
	// Samples is the number of timed samples per variant; the median is
	// reported. Variants are timed interleaved, one sample of each in turn.
	Samples int
	// MinSamples, when positive and below Samples, lets a group of variants
	// timed together stop after MinSamples rounds or more, as soon as the
	// samples of every variant range over at most 5% of their median: fewer
	// samples where the spread allows, for a shorter run.
	MinSamples int
	// MinTime is the least duration of one sample; a sample repeats the
	// measured call as often as needed to last that long.
	MinTime time.Duration
	// Threads lists thread counts for the suites that use them.
	Threads []int
	// Seed seeds every random input and model.
	Seed uint64
	// Progress receives progress reports; nil for none.
	Progress Progress
	// Ctx carries pprof labels and cancellation; nil means
	// context.Background. When it is done, the training suites (Train,
	// Dead) stop between two training steps and return the tables of what
	// they measured so far, with an error wrapping Ctx.Err().
	Ctx context.Context
}

// Progress receives progress reports from a suite: Start before a phase of
// total steps, Step after each step, Done at its end.
type Progress interface {
	Start(phase string, total int)
	Step()
	Done()
}

// WeightedProgress is a Progress that can be told, when a phase starts, how
// much of the phase's work each step is expected to be, for an estimate of
// the remaining time better than a count of steps gives when steps differ
// (a cost step at a DRAM size takes hundreds of times one at an L1 size).
type WeightedProgress interface {
	Progress
	// StartWeighted starts a phase of len(weights) steps, step i being
	// expected to take a share weights[i]/Σweights of the phase's time.
	StartWeighted(phase string, weights []float64)
}

// startWeighted starts a phase on p with the weights of its steps if p
// takes them, else as a count of steps.
func startWeighted(p Progress, phase string, weights []float64) {
	if wp, ok := p.(WeightedProgress); ok {
		wp.StartWeighted(phase, weights)
		return
	}
	p.Start(phase, len(weights))
}

type nopProgress struct{}

func (nopProgress) Start(string, int) {}
func (nopProgress) Step()             {}
func (nopProgress) Done()             {}

func (o *Options) progress() Progress {
	if o.Progress == nil {
		return nopProgress{}
	}
	return o.Progress
}

func (o *Options) ctx() context.Context {
	if o.Ctx == nil {
		return context.Background()
	}
	return o.Ctx
}

// Defaults fills unset fields: every implementation plus the naive loop,
// 7 samples of at least 2 ms, one thread, seed 1.
func (o *Options) Defaults() {
	if len(o.Impls) == 0 {
		o.Impls = kernels.Implementations()
		o.Naive = true
	}
	if o.Samples <= 0 {
		o.Samples = 7
	}
	if o.MinTime <= 0 {
		o.MinTime = 2 * time.Millisecond
	}
	if len(o.Threads) == 0 {
		o.Threads = []int{1}
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
}

// ParseImpls turns a -impl value into implementation names and whether to
// add the naive Go loop: "native" is the dispatched implementation,
// "generic" the pure-Go fallback, "naive" the naive loop, "all" every
// implementation this machine runs plus the naive loop; a comma-separated
// list combines them, and implementation names (e.g. "avx2") are accepted.
func ParseImpls(s string) (impls []string, naive bool, err error) {
	avail := kernels.Implementations()
	add := func(name string) {
		if !slices.Contains(impls, name) {
			impls = append(impls, name)
		}
	}
	for _, f := range strings.Split(s, ",") {
		switch f = strings.TrimSpace(f); f {
		case "native":
			add(kernels.ISA())
		case "all":
			for _, a := range avail {
				add(a)
			}
			naive = true
		case "naive":
			naive = true
		default:
			if !slices.Contains(avail, f) {
				return nil, false, fmt.Errorf("unknown implementation %q (want native, generic, naive, all or one of %v)", f, avail)
			}
			add(f)
		}
	}
	return impls, naive, nil
}

// roleOf names an implementation by its role, for benchmark names that must
// compare across machines: "native" for the best implementation of this
// machine (the default of package kernels), the others ("avx2" beside
// avx512, "generic", "naive") for themselves.
func roleOf(impl string) string {
	if isSIMD(impl) && impl == kernels.Implementations()[0] {
		return "native"
	}
	return impl
}

// isSIMD reports whether impl is an assembly implementation, not the
// generic Go one or the naive loops.
func isSIMD(impl string) bool { return impl != "generic" && impl != NaiveName }

// NaiveName is the implementation name of the naive Go loops.
const NaiveName = "naive"

// variant is one thing to time: it switches to the kernel implementation
// impl (unless impl is "" or naive) and calls run.
type variant struct {
	impl  string
	name  string // pprof label "kernel"
	setup func() // if not nil, called before each sample (not timed)
	run   func()
}

// sampleBudget is the time the samples of one slow variant may take before
// timeVariants takes fewer of them.
const sampleBudget = time.Second

// timing is the result of timing one variant.
type timing struct {
	median  time.Duration // per call
	min     time.Duration
	samples int
	calls   int             // calls per sample
	all     []time.Duration // per-call time of every sample, in order
	spread  float64         // interquartile range over median; 0 below 4 samples
}

// each returns f of every sample's per-call time.
func (t timing) each(f func(time.Duration) float64) []float64 {
	out := make([]float64, len(t.all))
	for i, d := range t.all {
		out[i] = f(d)
	}
	return out
}

// timeVariants times the variants interleaved: it calibrates each to last
// MinTime per sample, then takes Samples rounds of one sample of each,
// rotating the order, and returns per-call medians. The active kernel
// implementation is restored afterwards.
func (o *Options) timeVariants(experiment string, vs []variant) []timing {
	restore := kernels.ISA()
	defer kernels.Use(restore) //nolint:errcheck // restoring a name that was active
	iters := make([]int, len(vs))
	samples := o.Samples
	for i, v := range vs {
		use(v.impl)
		n := 1
		for {
			d := o.batch(experiment, v, n)
			if d >= o.MinTime || n >= 1<<30 {
				// Calls that take long on their own (DRAM-sized arrays, slow
				// loops) get fewer samples: at least 3, about a second.
				if n == 1 && d > sampleBudget/time.Duration(samples) {
					samples = max(3, min(samples, int(sampleBudget/d)))
				}
				break
			}
			if d <= 0 {
				n *= 16
				continue
			}
			n = max(n+1, min(16*n, int(float64(n)*1.3*float64(o.MinTime)/float64(d))))
		}
		iters[i] = n
	}
	per := make([][]time.Duration, len(vs))
	for s := 0; s < samples; s++ {
		for j := range vs {
			i := (j + s) % len(vs)
			use(vs[i].impl)
			d := o.batch(experiment, vs[i], iters[i])
			per[i] = append(per[i], d/time.Duration(iters[i]))
		}
		if o.MinSamples > 0 && s+1 >= o.MinSamples && s+1 < samples && agree(per) {
			break
		}
	}
	out := make([]timing, len(vs))
	for i := range vs {
		out[i] = summarize(per[i], iters[i])
	}
	return out
}

// summarize returns the timing of the per-call times all (in sample order)
// of samples of calls calls each.
func summarize(all []time.Duration, calls int) timing {
	s := slices.Clone(all)
	slices.Sort(s)
	t := timing{median: median(s), min: s[0], samples: len(s), calls: calls, all: all}
	if len(s) >= 4 && t.median > 0 {
		t.spread = float64(s[3*len(s)/4]-s[len(s)/4]) / float64(t.median)
	}
	return t
}

// agreeSpread is the largest range of a variant's samples, relative to
// their median, at which Options.MinSamples lets timing stop early.
const agreeSpread = 0.05

// agree reports whether the samples of every variant lie within agreeSpread
// of their median.
func agree(per [][]time.Duration) bool {
	for _, p := range per {
		s := slices.Clone(p)
		slices.Sort(s)
		if m := median(s); m <= 0 || float64(s[len(s)-1]-s[0]) > agreeSpread*float64(m) {
			return false
		}
	}
	return true
}

func median(s []time.Duration) time.Duration {
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// batch runs v n times under the pprof labels experiment and kernel and
// returns the elapsed time.
func (o *Options) batch(experiment string, v variant, n int) time.Duration {
	if v.setup != nil {
		v.setup()
	}
	var d time.Duration
	pprof.Do(o.ctx(), pprof.Labels("experiment", experiment, "kernel", v.name), func(context.Context) {
		run := v.run
		t0 := time.Now()
		for range n {
			run()
		}
		d = time.Since(t0)
	})
	return d
}

func use(impl string) {
	if impl == "" || impl == NaiveName {
		return
	}
	if err := kernels.Use(impl); err != nil {
		panic(err) // names come from kernels.Implementations
	}
}

// labels runs f under the pprof labels experiment and kernel.
func (o *Options) labels(experiment, kernel string, f func()) {
	pprof.Do(o.ctx(), pprof.Labels("experiment", experiment, "kernel", kernel), func(context.Context) { f() })
}

// noisySpread is the interquartile range of a variant's samples, relative
// to their median, above which a table says the machine was busy.
const noisySpread = 0.10

// noiseWatch follows the spread of the samples of the variants of one table.
type noiseWatch struct {
	worst float64
	where string
}

// add records the spread of t's samples, where naming the variant.
func (w *noiseWatch) add(where string, t timing) {
	if t.spread > w.worst {
		w.worst, w.where = t.spread, where
	}
}

// note adds a note to t when some variant's samples spread by more than
// noisySpread.
func (w *noiseWatch) note(t *Table) {
	if w.worst > noisySpread {
		t.Notes = append(t.Notes, fmt.Sprintf("noisy: the samples of %s spread by %.0f%% (interquartile range over median); the machine was busy, so trust the ratios within a row group more than absolute times, or rerun with more -samples", w.where, 100*w.worst))
	}
}

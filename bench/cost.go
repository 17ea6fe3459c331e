package bench

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"
	"unsafe"

	"github.com/actfuse/actfuse/kernels"
)

// Activations returns the activations the suites compare, ReLU first so
// that ratios to it have their base.
func Activations() []kernels.Activation {
	return []kernels.Activation{
		{Func: kernels.ReLU},
		{Func: kernels.Identity},
		{Func: kernels.LeakyReLU, Alpha: 0.01},
		{Func: kernels.ELU, Alpha: 1},
		{Func: kernels.Sigmoid},
		{Func: kernels.Tanh},
	}
}

// Size is an array length with the memory level it is meant to reside in.
type Size struct {
	Level string `json:"level"` // "L1", "L2" or "DRAM"
	N     int    `json:"n"`     // elements per array
}

// MachineSizes returns the L1, L2 and DRAM sizes of m (see Machine.Sizes).
func MachineSizes(m Machine) []Size {
	l1, l2, dram := m.Sizes()
	return []Size{{"L1", l1}, {"L2", l2}, {"DRAM", dram}}
}

// CostConfig selects what the cost suite measures.
type CostConfig struct {
	Sizes    []Size               // nil: MachineSizes
	Acts     []kernels.Activation // nil: Activations
	Forward  bool                 // measure the forward kernels
	Backward bool                 // measure the backward kernels
	// Stream measures the machine's streaming bandwidth (copy and sum) at
	// the largest size and reports every kernel's achieved bandwidth there.
	Stream bool
	// MaxN, if positive and Sizes is nil, caps the largest size of
	// MachineSizes (its DRAM size, one array at least as large as the L3)
	// at MaxN elements, so that the run stays short whatever L3 the machine
	// reports (cpuid reports hundreds of MiB on some virtual machines). The
	// tables then say which size was used and whether one array of it is as
	// large as the reported L3.
	MaxN int
}

// QuickMaxN is the MaxN of the quick suite: 8 Mi elements, 32 MiB per
// float32 array, 64 MiB streamed by a forward pass.
const QuickMaxN = 8 << 20

// Bytes per element moved by the kernels: forward reads x and writes y,
// backward reads dy and y and writes dx.
const (
	forwardBytes  = 8
	backwardBytes = 12
)

// Cost measures ns per element of the activation kernels for every
// implementation in o and every size, timed interleaved within each
// (activation, size), with the ratio of each to ReLU's time for the same
// implementation and size.
func Cost(m Machine, o Options, c CostConfig) []*Table {
	o.Defaults()
	var sizeNote string
	if c.Sizes == nil {
		c.Sizes = MachineSizes(m)
		if c.MaxN > 0 {
			c.Sizes, sizeNote = capSizes(m, c.Sizes, c.MaxN)
		}
	}
	if c.Acts == nil {
		c.Acts = Activations()
	}
	if !c.Forward && !c.Backward {
		c.Forward = true
	}
	impls := o.Impls
	if o.Naive {
		impls = append(impls[:len(impls):len(impls)], NaiveName)
	}
	var tables []*Table
	largest := c.Sizes[0]
	for _, s := range c.Sizes {
		if s.N > largest.N {
			largest = s
		}
	}
	var ref *streamRef
	if c.Stream {
		ref = newStreamRef(largest)
	}
	for _, dir := range []string{"forward", "backward"} {
		if dir == "forward" && !c.Forward || dir == "backward" && !c.Backward {
			continue
		}
		tables = append(tables, costTable(&o, dir, impls, c, ref))
	}
	if ref != nil {
		stream, copyGBs := ref.table()
		for _, t := range tables {
			addStreamRows(stream, t, largest, copyGBs)
		}
		tables = append(tables, stream)
	}
	if sizeNote != "" {
		for _, t := range tables {
			t.Notes = append(t.Notes, sizeNote)
		}
	}
	return tables
}

// capSizes returns sizes with every size above maxN replaced by maxN
// (labelled by SizeFor), and a note that says which largest size is used
// and whether one array of it is at least as large as the reported L3, so
// that a pass streams from memory.
func capSizes(m Machine, sizes []Size, maxN int) ([]Size, string) {
	out := slices.Clone(sizes)
	largest, capped := 0, 0
	for i, s := range out {
		if s.N > maxN {
			capped = max(capped, s.N)
			out[i] = SizeFor(m, maxN)
		}
		largest = max(largest, out[i].N)
	}
	l3 := bytesText(m.L3)
	size := fmt.Sprintf("n = %d (%s per array)", largest, bytesText(4*largest))
	switch {
	case capped == 0:
		return out, fmt.Sprintf("largest size %s: one array is at least as large as the reported L3 (%s), so a pass streams from memory", size, l3)
	case 4*largest >= m.L3:
		return out, fmt.Sprintf("largest size capped at %s, down from n = %d, to keep the run short; one array is still at least as large as the reported L3 (%s)", size, capped, l3)
	}
	return out, fmt.Sprintf("largest size capped at %s to keep the run short: it does not exceed the reported L3 (%s), so it may run from that cache; `actbench cost` times n = %d (%s per array), which does",
		size, l3, capped, bytesText(4*capped))
}

// costTable measures the kernels of one direction; at the size of ref, if
// not nil, the copy and sum loops are timed interleaved with the kernels.
func costTable(o *Options, dir string, impls []string, c CostConfig, ref *streamRef) *Table {
	name := "Forward"
	if dir == "backward" {
		name = "Backward"
	}
	samples := fmt.Sprint(o.Samples)
	if o.MinSamples > 0 && o.MinSamples < o.Samples {
		samples = fmt.Sprintf("%d to %d", o.MinSamples, o.Samples)
	}
	t := &Table{
		Name:  name,
		Title: fmt.Sprintf("%s activation kernels: ns per element (median of %s interleaved samples), and ratio to ReLU", dir, samples),
		Columns: []Column{
			{Name: "act", Label: true},
			{Name: "level", Label: true},
			{Name: "n", Label: true, NoBench: true},
			{Name: "impl", Label: true},
			{Name: "ns/elem", Unit: "ns/elem"},
			{Name: "×relu", Unit: "x-relu", NoBench: true, Prec: 2},
			{Name: "samples", Unit: "samples", Int: true},
		},
		Pivot: "impl",
	}
	var weights []float64
	for _, s := range c.Sizes {
		for _, a := range c.Acts {
			weights = append(weights, o.costEstimate(dir, impls, a, s.N, ref != nil && s.N == ref.size.N))
		}
	}
	p := o.progress()
	startWeighted(p, "cost "+dir, weights)
	defer p.Done()
	rng := rand.New(rand.NewPCG(o.Seed, 0xc057))
	var noise noiseWatch
	defer noise.note(t)
	for _, s := range c.Sizes {
		x := make([]float32, s.N)
		for i := range x {
			x[i] = float32(rng.NormFloat64() * 3)
		}
		dy := make([]float32, s.N)
		for i := range dy {
			dy[i] = float32(rng.NormFloat64())
		}
		y := make([]float32, s.N)
		out := make([]float32, s.N)
		reluNs := map[string]float64{}
		for _, a := range c.Acts {
			naiveForward(a, y, x) // saved output for the backward kernels
			vs := make([]variant, len(impls))
			for i, impl := range impls {
				v := variant{impl: impl, name: fmt.Sprintf("%s/%s/%s", dir, a.Func, impl)}
				switch {
				case dir == "forward" && impl == NaiveName:
					v.run = func() { naiveForward(a, out, x) }
				case dir == "forward":
					v.run = func() { kernels.Forward(a, out, x) }
				case impl == NaiveName:
					v.run = func() { naiveBackward(a, out, dy, y) }
				default:
					v.run = func() { kernels.Backward(a, out, dy, y) }
				}
				vs[i] = v
			}
			withRef := ref != nil && s.N == ref.size.N
			if withRef {
				vs = append(vs, ref.variants()...)
			}
			ts := o.timeVariants("cost", vs)
			if withRef {
				ref.copyD = append(ref.copyD, ts[len(impls)].all...)
				ref.sumD = append(ref.sumD, ts[len(impls)+1].all...)
			}
			for i, impl := range impls {
				noise.add(fmt.Sprintf("%v %s n=%d", a.Func, impl, s.N), ts[i])
				ns := float64(ts[i].median) / float64(s.N)
				if a.Func == kernels.ReLU {
					reluNs[impl] = ns
				}
				ratio := Missing()
				if r, ok := reluNs[impl]; ok && r > 0 {
					ratio = Num(ns / r)
				}
				act := Str(a.Func.String())
				impC := Str(impl)
				impC.Bench = roleOf(impl)
				nsC := NumSamples(ns, ts[i].each(func(d time.Duration) float64 { return float64(d) / float64(s.N) }))
				t.Add(act, Str(s.Level), Str(fmt.Sprint(s.N)), impC, nsC, ratio, Num(float64(ts[i].samples)))
			}
			p.Step()
		}
	}
	return t
}

// costEstimate guesses how long, in seconds, timing activation a at n
// elements takes for the implementations impls (and the copy and sum loops
// when stream is set), from per-element rates typical of each kind of loop:
// 1 ns for the SIMD kernels, 20 ns for the exp-based functions forward in
// Go, 3 ns for the other Go loops. Each variant takes its calibration call
// and its samples, each at least MinTime long, fewer samples when they are
// long (as timeVariants does). Progress reports weigh the steps of a cost
// table with it, so that their estimate of the remaining time follows the
// work rather than the count of steps.
func (o *Options) costEstimate(dir string, impls []string, a kernels.Activation, n int, stream bool) float64 {
	budget, minTime := sampleBudget.Seconds(), o.MinTime.Seconds()
	variant := func(ns float64) float64 {
		d := ns * 1e-9 * float64(n)
		samples := float64(o.Samples)
		if d > budget/samples {
			samples = max(3, min(samples, budget/d))
		}
		return (samples + 1) * max(d, minTime)
	}
	var total float64
	for _, impl := range impls {
		ns := 3.0
		switch {
		case isSIMD(impl):
			ns = 1
		case dir == "forward" && (a.Func == kernels.ELU || a.Func == kernels.Sigmoid || a.Func == kernels.Tanh):
			ns = 20
		}
		total += variant(ns)
	}
	if stream {
		total += variant(0.3) + variant(0.2)
	}
	return total
}

// streamRef measures the streaming bandwidth of a plain copy (the builtin
// copy) and a plain sum over arrays of one size, timed interleaved with the
// kernels at that size so that a busy machine affects both alike.
type streamRef struct {
	size        Size
	src, dst    []float32
	words       []uint64
	sink        uint64
	copyD, sumD []time.Duration // per-call time of every sample
}

func newStreamRef(s Size) *streamRef {
	r := &streamRef{size: s, src: make([]float32, s.N), dst: make([]float32, s.N)}
	for i := range r.src {
		r.src[i] = float32(i)
	}
	r.words = unsafe.Slice((*uint64)(unsafe.Pointer(&r.src[0])), s.N/2)
	return r
}

func (r *streamRef) variants() []variant {
	return []variant{
		{name: "stream/copy", run: func() { copy(r.dst, r.src) }},
		{name: "stream/sum", run: func() { r.sink += sumWords(r.words) }},
	}
}

// table returns the stream table with the copy and sum rows, to which
// addStreamRows adds the kernels, and the copy bandwidth.
func (r *streamRef) table() (*Table, float64) {
	s := r.size
	t := &Table{
		Name:  "Stream",
		Title: fmt.Sprintf("bandwidth at n = %d (%s): kernels against a plain copy and a plain sum timed interleaved with them", s.N, s.Level),
		Columns: []Column{
			{Name: "kernel", Label: true},
			{Name: "impl", Label: true},
			{Name: "GB/s", Unit: "GB/s"},
			{Name: "%copy", Unit: "%copy", NoBench: true, Prec: 0},
			{Name: "samples", Unit: "samples", Int: true},
		},
		Notes: []string{
			"bytes counted per element: copy 8 (read+write), sum 4, forward 8 (x in, y out), backward 12 (dy, y in, dx out); write-allocate traffic is not counted",
		},
	}
	gbs := func(bytesPerElem int, ds []time.Duration) (float64, []float64) {
		sorted := slices.Clone(ds)
		slices.Sort(sorted)
		all := make([]float64, len(ds))
		for i, d := range ds {
			all[i] = float64(bytesPerElem) * float64(s.N) / float64(d.Nanoseconds())
		}
		return float64(bytesPerElem) * float64(s.N) / float64(median(sorted).Nanoseconds()), all
	}
	copyGBs, copyAll := gbs(8, r.copyD)
	t.Add(Str("copy"), Str("go"), NumSamples(copyGBs, copyAll), Num(100), Num(float64(len(r.copyD))))
	sum, sumAll := gbs(4, r.sumD)
	t.Add(Str("sum"), Str("go"), NumSamples(sum, sumAll), Num(100*sum/copyGBs), Num(float64(len(r.sumD))))
	return t, copyGBs
}

// sumWords adds the words with four independent accumulators, so that the
// loop is bound by memory rather than by the latency of one add chain.
func sumWords(w []uint64) uint64 {
	var a, b, c, d uint64
	i := 0
	for ; i+4 <= len(w); i += 4 {
		a += w[i]
		b += w[i+1]
		c += w[i+2]
		d += w[i+3]
	}
	for ; i < len(w); i++ {
		a += w[i]
	}
	return a + b + c + d
}

// addStreamRows adds to the stream table the bandwidth of every kernel of
// the cost table t at size s.
func addStreamRows(stream, t *Table, s Size, copyGBs float64) {
	bytes := forwardBytes
	dir := "forward"
	if t.Name == "Backward" {
		bytes, dir = backwardBytes, "backward"
	}
	act, n, impl, ns, smp := t.Col("act"), t.Col("n"), t.Col("impl"), t.Col("ns/elem"), t.Col("samples")
	for _, row := range t.Rows {
		if row[n].S != fmt.Sprint(s.N) || !row[ns].Num {
			continue
		}
		gbs := float64(bytes) / row[ns].F
		stream.Add(Str(dir+" "+row[act].S), row[impl], Num(gbs), Num(100*gbs/copyGBs), row[smp])
	}
}

// SizeFor labels an array length n with the memory level two such arrays
// reside in on machine m: "L1", "L2", "L3" or "DRAM" (one array at least as
// large as the last-level cache, as in Machine.Sizes).
func SizeFor(m Machine, n int) Size {
	b := 8 * n
	switch {
	case b <= m.L1D:
		return Size{"L1", n}
	case b <= m.L2:
		return Size{"L2", n}
	case 4*n < m.L3:
		return Size{"L3", n}
	}
	return Size{"DRAM", n}
}

package ref

import (
	"math"
	"runtime"
	"sync"
	"sync/atomic"
)

// SweepOptions chooses the inputs of Sweep.
type SweepOptions struct {
	// Stride is the step between the float32 bit patterns tested: the
	// inputs are the patterns Start, Start+Stride, Start+2·Stride, ... below
	// 2^32. 1 (or 0) is the exhaustive sweep of all 2^32 patterns; an odd
	// stride (such as 997) visits every exponent and varied mantissas.
	Stride uint32
	// Start is the first bit pattern.
	Start uint32
	// Workers is the number of goroutines; 0 means runtime.GOMAXPROCS(0).
	Workers int
	// Skip, if not nil, excludes the inputs for which it returns true (for
	// example NaNs, or a region a tolerance does not cover).
	Skip func(x float32) bool
}

// SweepResult summarizes a Sweep.
type SweepResult struct {
	Count  int64   // number of inputs compared
	MaxULP float64 // largest ULP error (+Inf for a NaN, sign or overflow mismatch)
	Worst  float32 // an input with the largest error: the lowest bit pattern among ties
	Got    float32 // the result at Worst
	Want   float64 // the reference at Worst
	Over1  int64   // number of inputs with an error above 1 ULP
	Over2  int64   // number of inputs with an error above 2 ULP
}

// chunk is the number of inputs handed to f in one call.
const chunk = 4096

// Sweep measures the float32 kernel f, which must set dst[i] = f(x[i]) for
// every i (it is called with len(dst) == len(x) <= 4096), against the float64
// reference want over the float32 bit patterns chosen by opt, in parallel,
// and returns the largest ULP error (see ULP), where it happens, and how many
// inputs exceed 1 and 2 ULP. The result does not depend on opt.Workers.
//
// The exhaustive sweep (Stride 1) evaluates 2^32 inputs; with math.Exp-based
// references it takes minutes per function on one core.
func Sweep(f func(dst, x []float32), want func(x float64) float64, opt SweepOptions) SweepResult {
	stride := uint64(max(opt.Stride, 1))
	total := (1<<32 - uint64(opt.Start) + stride - 1) / stride // number of patterns
	nchunks := (total + chunk - 1) / chunk
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var next atomic.Uint64
	results := make([]SweepResult, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := &results[w]
			x := make([]float32, chunk)
			dst := make([]float32, chunk)
			for {
				c := next.Add(1) - 1
				if c >= nchunks {
					return
				}
				x = x[:0]
				for i := c * chunk; i < min((c+1)*chunk, total); i++ {
					v := math.Float32frombits(uint32(uint64(opt.Start) + i*stride))
					if opt.Skip != nil && opt.Skip(v) {
						continue
					}
					x = append(x, v)
				}
				d := dst[:len(x)]
				f(d, x)
				for i, v := range x {
					wv := want(float64(v))
					res.add(v, d[i], wv, ULP(d[i], wv))
				}
			}
		}()
	}
	wg.Wait()
	var r SweepResult
	for _, p := range results {
		r.merge(p)
	}
	return r
}

// add records one comparison.
func (r *SweepResult) add(x, got float32, want, e float64) {
	r.Count++
	if e > 1 {
		r.Over1++
		if e > 2 {
			r.Over2++
		}
	}
	if r.Count == 1 || e > r.MaxULP || e == r.MaxULP && math.Float32bits(x) < math.Float32bits(r.Worst) {
		r.MaxULP, r.Worst, r.Got, r.Want = e, x, got, want
	}
}

// merge adds the counts of p to r and keeps the worse maximum.
func (r *SweepResult) merge(p SweepResult) {
	if p.Count == 0 {
		return
	}
	if r.Count == 0 || p.MaxULP > r.MaxULP || p.MaxULP == r.MaxULP && math.Float32bits(p.Worst) < math.Float32bits(r.Worst) {
		r.MaxULP, r.Worst, r.Got, r.Want = p.MaxULP, p.Worst, p.Got, p.Want
	}
	r.Count += p.Count
	r.Over1 += p.Over1
	r.Over2 += p.Over2
}

// Unary adapts a scalar float32 function to the slice form Sweep takes.
func Unary(f func(float32) float32) func(dst, x []float32) {
	return func(dst, x []float32) {
		for i, v := range x {
			dst[i] = f(v)
		}
	}
}

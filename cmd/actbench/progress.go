package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/actfuse/actfuse/bench"
)

// newProgress returns the progress reporter for w: a progress bar when w is
// a terminal, plain lines otherwise, nothing when quiet. Both show an
// estimate of the remaining time, from the share of the phase's work done
// (the steps' weights when the suite gives them, else their count).
func newProgress(w io.Writer, quiet bool) bench.Progress {
	if quiet {
		return nil
	}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return &barProgress{w: w}
	}
	return &lineProgress{w: w}
}

// work follows the share of a phase's work that is done.
type work struct {
	phase       string
	weights     []float64 // per step; nil: every step weighs 1
	total, done int
	totalW      float64
	doneW       float64
	start       time.Time
}

func (k *work) begin(phase string, total int, weights []float64) {
	*k = work{phase: phase, weights: weights, total: total, totalW: float64(total), start: time.Now()}
	if weights != nil {
		k.totalW = 0
		for _, w := range weights {
			k.totalW += w
		}
	}
}

func (k *work) step() {
	if k.weights != nil && k.done < len(k.weights) {
		k.doneW += k.weights[k.done]
	} else {
		k.doneW++
	}
	k.done++
}

// fraction returns the share of the work done, in [0, 1].
func (k *work) fraction() float64 {
	if k.totalW <= 0 {
		return 1
	}
	return min(1, k.doneW/k.totalW)
}

// left estimates the remaining time from the elapsed time and the share of
// the work done; false before any work is done.
func (k *work) left() (time.Duration, bool) {
	f := k.fraction()
	if f <= 0 {
		return 0, false
	}
	el := time.Since(k.start)
	return time.Duration(float64(el) * (1 - f) / f), true
}

// barProgress draws a progress bar per phase: its percentage follows the
// share of the work done, and the bar predicts the remaining time from it.
type barProgress struct {
	w    io.Writer
	bar  *progressbar.ProgressBar
	work work
}

// barSteps is the resolution of a weighted bar.
const barSteps = 1000

func (p *barProgress) Start(phase string, total int) { p.start(phase, total, nil) }

func (p *barProgress) StartWeighted(phase string, weights []float64) {
	p.start(phase, len(weights), weights)
}

func (p *barProgress) start(phase string, total int, weights []float64) {
	p.work.begin(phase, total, weights)
	opts := []progressbar.Option{
		progressbar.OptionSetWriter(p.w),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionThrottle(100 * time.Millisecond),
	}
	if weights == nil {
		p.bar = progressbar.NewOptions(total, append(opts, progressbar.OptionSetDescription(phase), progressbar.OptionShowCount())...)
		return
	}
	// A weighted bar counts thousandths of the work; its description
	// counts the steps.
	p.bar = progressbar.NewOptions(barSteps, append(opts, progressbar.OptionSetDescription(p.describe()))...)
}

func (p *barProgress) describe() string {
	return fmt.Sprintf("%s %d/%d", p.work.phase, p.work.done, p.work.total)
}

func (p *barProgress) Step() {
	if p.bar == nil {
		return
	}
	p.work.step()
	if p.work.weights == nil {
		p.bar.Add(1) //nolint:errcheck // drawing errors on stderr are not actionable
		return
	}
	p.bar.Describe(p.describe())
	p.bar.Set(int(barSteps * p.work.fraction())) //nolint:errcheck // as above
}

func (p *barProgress) Done() {
	if p.bar != nil {
		p.bar.Finish() //nolint:errcheck // as above
		p.bar = nil
	}
}

// lineProgress prints one line per phase start and end, and one line per
// step at most every two seconds, with the estimated remaining time.
type lineProgress struct {
	w    io.Writer
	work work
	last time.Time
}

func (p *lineProgress) Start(phase string, total int) { p.start(phase, total, nil) }

func (p *lineProgress) StartWeighted(phase string, weights []float64) {
	p.start(phase, len(weights), weights)
}

func (p *lineProgress) start(phase string, total int, weights []float64) {
	p.work.begin(phase, total, weights)
	p.last = time.Now()
	fmt.Fprintf(p.w, "actbench: %s: %d steps\n", phase, total)
}

func (p *lineProgress) Step() {
	p.work.step()
	if time.Since(p.last) < 2*time.Second {
		return
	}
	p.last = time.Now()
	fmt.Fprintf(p.w, "actbench: %s: %d/%d", p.work.phase, p.work.done, p.work.total)
	if left, ok := p.work.left(); ok && p.work.done < p.work.total {
		fmt.Fprintf(p.w, ", about %s left", left.Round(time.Second))
	}
	fmt.Fprintln(p.w)
}

func (p *lineProgress) Done() {
	fmt.Fprintf(p.w, "actbench: %s: done in %.1fs\n", p.work.phase, time.Since(p.work.start).Seconds())
}

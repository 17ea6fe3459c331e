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
// a terminal, plain lines otherwise, nothing when quiet.
func newProgress(w io.Writer, quiet bool) bench.Progress {
	if quiet {
		return nil
	}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return &barProgress{w: w}
	}
	return &lineProgress{w: w}
}

// barProgress draws a progress bar per phase.
type barProgress struct {
	w   io.Writer
	bar *progressbar.ProgressBar
}

func (p *barProgress) Start(phase string, total int) {
	p.bar = progressbar.NewOptions(total,
		progressbar.OptionSetWriter(p.w),
		progressbar.OptionSetDescription(phase),
		progressbar.OptionShowCount(),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionThrottle(100*time.Millisecond),
	)
}

func (p *barProgress) Step() {
	if p.bar != nil {
		p.bar.Add(1) //nolint:errcheck // drawing errors on stderr are not actionable
	}
}

func (p *barProgress) Done() {
	if p.bar != nil {
		p.bar.Finish() //nolint:errcheck // as above
		p.bar = nil
	}
}

// lineProgress prints one line per phase start and end, and one line per
// step at most every two seconds.
type lineProgress struct {
	w           io.Writer
	phase       string
	total, done int
	start, last time.Time
}

func (p *lineProgress) Start(phase string, total int) {
	p.phase, p.total, p.done = phase, total, 0
	p.start, p.last = time.Now(), time.Now()
	fmt.Fprintf(p.w, "actbench: %s: %d steps\n", phase, total)
}

func (p *lineProgress) Step() {
	p.done++
	if time.Since(p.last) >= 2*time.Second {
		p.last = time.Now()
		fmt.Fprintf(p.w, "actbench: %s: %d/%d\n", p.phase, p.done, p.total)
	}
}

func (p *lineProgress) Done() {
	fmt.Fprintf(p.w, "actbench: %s: done in %.1fs\n", p.phase, time.Since(p.start).Seconds())
}

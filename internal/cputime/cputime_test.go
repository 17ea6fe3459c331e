package cputime

import (
	"runtime"
	"testing"
)

// TestAdvances checks that both clocks advance while the thread computes.
func TestAdvances(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	p0, okP := Process()
	t0, okT := Thread()
	if !okP || !okT {
		if runtime.GOOS == "linux" {
			t.Fatal("no CPU clock on linux")
		}
		t.Skip("no CPU clocks on " + runtime.GOOS)
	}
	x := 1.0
	for i := 0; i < 20_000_000; i++ {
		x = x*1.0000001 + 1e-9
	}
	p1, _ := Process()
	t1, _ := Thread()
	if p1 <= p0 || t1 <= t0 {
		t.Errorf("process %v -> %v, thread %v -> %v (x = %g)", p0, p1, t0, t1, x)
	}
	if t1-t0 > p1-p0 {
		t.Errorf("the thread's CPU time %v exceeds the process's %v", t1-t0, p1-p0)
	}
}

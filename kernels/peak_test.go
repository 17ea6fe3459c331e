package kernels

import (
	"testing"
	"time"
)

// TestClockProbe checks the cycle counts of the clock probes (they return
// the sum of their additions: 64 per iteration, 32 beside the FMAs of the
// loaded probes) and that ClockGHz and LoadedClockGHz measure something
// wherever the build has a probe. No time is asserted.
func TestClockProbe(t *testing.T) {
	if clockProbe == nil {
		if g := ClockGHz(time.Millisecond); g != 0 {
			t.Fatalf("ClockGHz = %v without a probe, want 0", g)
		}
		t.Skip("this build has no clock probe (purego or another architecture)")
	}
	for _, n := range []int{-3, 0, 1, 2, 1000} {
		want := 64 * max(n, 0)
		if got := clockProbe(n); got != want {
			t.Errorf("ClockProbe(%d) = %d, want %d", n, got, want)
		}
	}
	if g := ClockGHz(time.Millisecond); !(g > 0) {
		t.Errorf("ClockGHz = %v, want a positive clock", g)
	}
	defer Use(ISA())
	for _, name := range Implementations() {
		if err := Use(name); err != nil {
			t.Fatal(err)
		}
		im := active.Load()
		if im.peak.clock == nil {
			if g := LoadedClockGHz(time.Millisecond); g != 0 {
				t.Errorf("%s: LoadedClockGHz = %v without a probe, want 0", name, g)
			}
			continue
		}
		for _, n := range []int{0, 1, 7} {
			// 32 additions per iteration beside the FMAs.
			if got, want := im.peak.clock(n), 32*n; got != want {
				t.Errorf("%s: FMAClock(%d) = %d, want %d", name, n, got, want)
			}
		}
		if g := LoadedClockGHz(time.Millisecond); !(g > 0) {
			t.Errorf("%s: LoadedClockGHz = %v, want a positive clock", name, g)
		}
	}
}

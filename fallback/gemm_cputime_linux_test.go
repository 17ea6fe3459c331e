package fallback_test

import (
	"time"

	"golang.org/x/sys/unix"
)

// processCPUTime returns the CPU time consumed so far by all the threads of
// the process. Unlike the wall clock it does not advance while other
// processes hold the cores; with GOMAXPROCS = 1 it is the time of the one
// thread running Go code (whichever OS thread that is), plus the little the
// runtime spends on the side.
func processCPUTime() (time.Duration, bool) {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_PROCESS_CPUTIME_ID, &ts); err != nil {
		return 0, false
	}
	return time.Duration(ts.Nano()), true
}

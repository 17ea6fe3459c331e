// Package cputime reads the CPU time of the process and of the calling OS
// thread, which, unlike the wall clock, does not advance while other
// processes hold the cores: benchmarks on a shared machine report it beside
// the wall time.
package cputime

import "time"

// Process returns the CPU time consumed so far by all the threads of the
// process; ok is false where the platform does not tell.
func Process() (d time.Duration, ok bool) { return clock(clockProcess) }

// Thread returns the CPU time consumed so far by the calling OS thread (lock
// the goroutine to its thread around a measurement); ok is false where the
// platform does not tell.
func Thread() (d time.Duration, ok bool) { return clock(clockThread) }

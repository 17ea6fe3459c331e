//go:build purego || !(amd64 || arm64)

package kernels

// clockProbe is the probe of ClockGHz: none in this build.
var clockProbe func(n int) int

// archImpls returns no SIMD implementation: this build runs package fallback.
func archImpls() []*impl { return nil }

//go:build !purego

package kernels

// archImpls returns the NEON implementation (ASIMD is the arm64 baseline).
func archImpls() []*impl { return []*impl{neonImpl()} }
